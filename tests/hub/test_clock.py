"""The hub's clock through steps of the system clock (a system clock the test steps, on
top of the real one), and when the hub takes a jump it holds (hub/clock_jumps.py). The
real thing, libfaketime under the hub's process: tests/faults/test_clock_jumps.py."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hub.app import Hub
from hub.clock import JUMP, Clock, ShiftedClock, system_now
from hub.clock_jumps import may_take, warning
from protocol.messages import CaseFinished, TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually

ZONE = "Asia/Shanghai"


class Stepped:
    """The system clock, moved by `step` as `date -s` or an NTP step would move it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.offset = (start - system_now()) if start else timedelta()

    def step(self, by: timedelta) -> None:
        self.offset += by

    def __call__(self) -> datetime:
        return system_now() + self.offset


def close(a: datetime, b: datetime, within: timedelta = timedelta(seconds=1)) -> bool:
    return abs(a - b) < within


def test_small_steps_are_followed_a_jump_is_held_until_taken() -> None:
    system = Stepped()
    clock = Clock(ZONE, system)
    assert close(clock.now(), system()) and clock.held == timedelta()
    system.step(JUMP / 2)  # slewing, a small correction: followed at once
    assert close(clock.now(), system(), timedelta(milliseconds=50))
    before = clock.now()
    system.step(timedelta(hours=-1))
    held = clock.now()
    assert held >= before and close(held, before), "the hub's time runs on"
    assert close(clock.held + held, system()) and close(clock.held, timedelta(hours=-1), JUMP)
    assert close(clock.take_jump(), timedelta(hours=-1), JUMP)
    assert clock.held == timedelta() and close(clock.now(), system())
    assert clock.take_jump() == timedelta(), "nothing held, nothing taken"


def test_a_shifted_clock_holds_a_jump_of_the_system_clock_too() -> None:
    system = Stepped()
    clock = ShiftedClock(ZONE, datetime(2026, 11, 24, 9, 0))
    clock.system = system
    start = clock.now()
    system.step(timedelta(hours=2))
    assert close(clock.now(), start) and close(clock.held, timedelta(hours=2), JUMP)
    clock.take_jump()
    assert close(clock.now(), start + timedelta(hours=2))
    clock.offset += timedelta(minutes=5)  # the tests' own moves are not jumps
    clock.now()
    assert clock.held == timedelta()


def test_the_dashboard_says_which_way_and_how_much() -> None:
    system = Stepped(datetime(2026, 11, 24, 2, 0))  # 10:00 in the hall
    clock = Clock(ZONE, system)
    assert warning(clock) is None
    system.step(timedelta(minutes=-60))
    clock.now()
    text = warning(clock)
    assert text is not None and text.startswith("服务器系统时间被拨慢了约60分钟")
    assert "（现在10:00）" in text and "都办完后自动改用系统时间" in text
    system.step(timedelta(minutes=60, seconds=30))
    clock.now()
    assert (warning(clock) or "").startswith("服务器系统时间被拨快了30秒")


def test_a_jump_is_taken_once_nobody_waits_or_is_served(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    system = Stepped()
    clock = Clock(ZONE, system)
    machine = kiosk(make_link, tmp_path, hub)
    assert machine.take_ticket("GA_HJQY").issued is not None
    system.step(timedelta(minutes=30))
    clock.now()

    def takes() -> bool:
        with hub.engine.connect() as conn:
            return may_take(conn, clock)
    eventually(lambda: not takes(), what="the ticket in hand: someone waits")
    window = caller(make_link, 5)
    window.sign_in("S051", "123456")
    window.open()
    assert isinstance(window.call_next(), TicketCalled)
    assert not takes(), "someone is at the window"
    assert isinstance(window.finish(), CaseFinished)
    assert takes()
    with hub.engine.connect() as conn:
        assert not may_take(conn, Clock(ZONE)), "nothing held"


def test_never_back_into_a_day_that_has_ended(hub: Hub) -> None:
    system = Stepped(datetime(2026, 11, 24, 16, 10))  # 00:10 in the hall, Wednesday
    clock = Clock(ZONE, system)
    system.step(timedelta(hours=-1))  # Tuesday 23:10
    clock.now()
    with hub.engine.connect() as conn:
        assert not may_take(conn, clock), "Tuesday has ended"
    system.step(timedelta(minutes=55))  # Wednesday 00:05: a step back of 5 minutes
    clock.now()
    with hub.engine.connect() as conn:
        assert may_take(conn, clock)


def test_a_window_follows_the_hub_after_the_hubs_clock_stepped_back(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    """A hub restarted after its system clock was set back an hour sends states an hour
    "older" than the last one the window kept: the window still follows them."""
    clock = hub.clock
    assert isinstance(clock, ShiftedClock)
    clock.offset += timedelta(hours=2)  # 11:00
    window = caller(make_link, 5)
    window.sign_in("S051", "123456")
    window.open()
    eventually(lambda: window.state is not None and window.state.status == "open",
               what="the open window's state")
    clock.offset -= timedelta(hours=1)  # 10:00 again
    assert kiosk(make_link, tmp_path, hub).take_ticket("GA_HJQY").issued is not None
    called = eventually(lambda: isinstance(c := window.call_next(), TicketCalled) and c,
                        what="the call")
    assert window.state is not None and window.state.ticket_id == called.ticket.id
    assert isinstance(window.finish(), CaseFinished), "the window knows whom it serves"
    eventually(lambda: window.state is not None and window.state.status == "open"
               and window.state.ticket_id is None, what="the window free again")
