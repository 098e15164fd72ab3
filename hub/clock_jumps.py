"""When the hub takes a jump of the system clock that it holds (hub/clock.py), and what the
dashboard says meanwhile.

A jump is taken once nobody waits and nobody is at a window: no queue's order and no wait
then spans the two times. Never back into a service day that has ended: a step back across
midnight is held until the system's clock reaches the hub's day again, so numbers start
again once per day and a closed day stays closed.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, func, select

from hub.clock import Clock
from hub.db.schema import tickets

CHECK_S = 5.0  # how often the hub looks whether it can take a jump it holds
OPEN = ("waiting", "called")  # tickets whose wait or service a jump would cut


def may_take(conn: Connection, clock: Clock) -> bool:
    """Whether the hub can take the jump it holds now."""
    held = clock.held
    if not held:
        return False
    now = clock.now()
    if clock.service_day(now + held) < clock.service_day(now):
        return False  # back into a day that has ended
    return not conn.scalar(select(func.count()).select_from(tickets)
                           .where(tickets.c.status.in_(OPEN)))


def warning(clock: Clock) -> str | None:
    """The dashboard's words while a jump is held; None when none is."""
    held = clock.held
    if not held:
        return None
    size = abs(held)
    amount = (f"{round(size.total_seconds())}秒" if size < timedelta(minutes=1)
              else f"约{round(size.total_seconds() / 60)}分钟")
    way = "拨快" if held > timedelta() else "拨慢"
    return (f"服务器系统时间被{way}了{amount}：为保证排队顺序和等候时间准确，大厅仍按原来的时间"
            f"（现在{clock.local(clock.now()):%H:%M}）计时，等候和办理中的群众都办完后自动改用"
            "系统时间；请核对服务器时间是否正确")
