"""A new day: numbers start again at A001, a case in hand is finished, what waited is closed.

Tickets are issued before closing (17:30); the case in hand runs late (延时服务制);
the next morning the hub has closed what was left and numbers start at A001.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.app import Hub
from hub.clock import ShiftedClock
from hub.db.schema import ticket_events, tickets
from hub.settings import HubSettings
from protocol.messages import CaseFinished, TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually

# On SQLite and PostgreSQL (tests/conftest.py): the day's close and the numbers' restart.
pytestmark = pytest.mark.databases


@pytest.fixture
def late_hub(hub_settings: HubSettings) -> Iterator[tuple[Hub, ShiftedClock]]:
    clock = ShiftedClock(hub_settings.timezone, datetime(2026, 11, 24, 17, 25, 0))
    h = Hub(hub_settings, clock=clock)
    h.start()
    assert h.consumer.wait_connected(10)
    yield h, clock
    h.stop()


def test_midnight_restarts_numbers_and_closes_what_was_left(
        late_hub: tuple[Hub, ShiftedClock], make_link: LinkFactory, tmp_path: Path) -> None:
    hub, clock = late_hub
    k = kiosk(make_link, tmp_path, hub)
    a1, a2 = (k.take_ticket("GA_HJQY").issued for _ in range(2))
    assert a1 and a2 and (a1.ticket.number, a2.ticket.number) == ("A001", "A002")
    window = caller(make_link, 5)
    window.open()
    serving = window.call_next()
    assert isinstance(serving, TicketCalled) and serving.ticket.number == "A001"

    refused = k.take_ticket("GA_HJQY")
    clock.set_local(datetime(2026, 11, 24, 23, 59, 50))  # late service: still serving A001
    late = k.take_ticket("GA_HJQY")
    assert late.error is not None
    assert late.error.message == "现在不在取号时间，下次取号时间：明天08:30"
    assert refused.issued is not None  # 17:25 was still inside the hours
    clock.set_local(datetime(2026, 11, 25, 8, 31, 0))  # the next morning, mid-serve

    def closed_a2() -> bool:
        with hub.engine.connect() as conn:
            row = conn.execute(select(tickets.c.status, tickets.c.closed_reason)
                               .where(tickets.c.id == a2.ticket.id)).one()
        return tuple(row) == ("closed", "end_of_day")

    eventually(closed_a2, what="yesterday's waiting ticket closed with its reason")
    fresh = k.take_ticket("GA_HJQY").issued
    assert fresh is not None and fresh.ticket.number == "A001", "numbers start again"
    assert str(fresh.ticket.service_day) == "2026-11-25"
    done = window.finish()  # yesterday's case in hand ends normally
    assert isinstance(done, CaseFinished) and done.ticket.id == a1.ticket.id
    nxt = window.call_next()
    assert isinstance(nxt, TicketCalled) and nxt.ticket.id == fresh.ticket.id, \
        "today's A001, not yesterday's closed A002"
    with hub.engine.connect() as conn:
        history = [r.event for r in conn.execute(
            select(ticket_events).where(ticket_events.c.ticket_id == a2.ticket.id))]
    assert history == ["closed"]
    with hub.engine.connect() as conn:
        left = conn.execute(select(tickets.c.number).where(tickets.c.status == "closed")).all()
    assert [r.number for r in left] == ["A002", "A003"], "both of yesterday's waiting tickets"
