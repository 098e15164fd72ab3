"""The estimated wait a kiosk shows: people ahead, open windows, today's service time."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from hub.app import Hub
from hub.db.schema import tickets
from hub.wait_estimate import DEFAULT_SERVICE_S, average_service_s, estimate_s
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually


def test_the_estimate_rule() -> None:
    assert estimate_s(ahead=0, open_windows=2, service_s=300) == 0
    assert estimate_s(ahead=3, open_windows=2, service_s=300) == 600  # two rounds of two
    assert estimate_s(ahead=4, open_windows=2, service_s=300) == 600
    assert estimate_s(ahead=3, open_windows=0, service_s=300) is None
    assert average_service_s(2, 100.0) == DEFAULT_SERVICE_S, "too few cases to trust"
    assert average_service_s(3, 100.4) == 100


def test_ticket_and_queue_carry_the_estimate(hub: Hub, make_link: LinkFactory,
                                             tmp_path: Path) -> None:
    k = kiosk(make_link, tmp_path, hub)
    first = k.take_ticket("GA_HJQY").issued
    assert first is not None and first.est_wait_s is None, "no window open: no guess"
    for n in (5, 6):  # both serve 户口迁移
        caller(make_link, n).open()
    issued = [k.take_ticket("GA_HJQY").issued for _ in range(4)]
    assert [i.waiting_before for i in issued if i] == [1, 2, 3, 4]
    assert [i.est_wait_s for i in issued if i] == [
        DEFAULT_SERVICE_S, DEFAULT_SERVICE_S, 2 * DEFAULT_SERVICE_S, 2 * DEFAULT_SERVICE_S]
    # the day's data: three finished cases of 4, 5 and 6 minutes
    with hub.engine.begin() as conn:
        ids = [t.ticket.id for t in issued[:3] if t]
        for tid, secs in zip(ids, (240, 300, 360), strict=True):
            conn.execute(update(tickets).where(tickets.c.id == tid)
                         .values(status="finished", service_seconds=secs))
    later = k.take_ticket("GA_HJQY").issued
    assert later is not None and later.waiting_before == 2  # the first ticket and the fourth
    assert later.est_wait_s == 300
    screen = make_link_queue(make_link)
    def fresh():  # type: ignore[no-untyped-def]
        q = next((s for s in screen() if s.service == "GA_HJQY"), None)
        return q if q is not None and q.waiting == 3 else None

    q = eventually(fresh, what="the queue state of 户口迁移 after the last ticket")
    assert (q.waiting, q.open_windows, q.avg_service_s, q.est_wait_s) == (3, 2, 300, 600)


def make_link_queue(make_link: LinkFactory):  # type: ignore[no-untyped-def]
    """A display link; returns a function giving the services of the latest queue state."""
    from protocol.messages import QueueState
    from protocol.topics import DeviceClass

    latest: list[QueueState] = []
    make_link(DeviceClass.DISPLAY, "screen-q",
              on_state=lambda s, live: latest.append(s) if isinstance(s, QueueState) else None)
    return lambda: latest[-1].services if latest else []


def test_the_queue_says_how_long_the_oldest_has_waited(hub: Hub, make_link: LinkFactory,
                                                       tmp_path: Path) -> None:
    from datetime import timedelta

    from hub.clock import ShiftedClock

    kiosk(make_link, tmp_path, hub).take_ticket("GA_HJQY")
    assert isinstance(hub.clock, ShiftedClock)
    hub.clock.offset += timedelta(minutes=31)
    kiosk(make_link, tmp_path, hub, "kiosk-2").take_ticket("GA_HJQY")  # the queue changes
    screen = make_link_queue(make_link)

    def aged():  # type: ignore[no-untyped-def]
        q = next((s for s in screen() if s.service == "GA_HJQY"), None)
        return q if q is not None and q.waiting == 2 else None

    q = eventually(aged, what="the queue state after the second ticket")
    assert 31 * 60 <= q.longest_wait_s < 32 * 60
