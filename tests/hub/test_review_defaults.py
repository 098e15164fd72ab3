"""默认评价, where a province has it: a case nobody reviewed within N working days gets the
default grade, marked as the hub's (channel "default"); off by default."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.app import Hub
from hub.db.schema import reviews
from hub.review_defaults import give_default_reviews
from hub.rules import ReviewRules
from hub.settings import HubSettings
from protocol.messages import CaseFinished, TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually
from tests.hub.test_booking import at


def finish_one(hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    assert kiosk(make_link, tmp_path, hub).take_ticket("GA_HJQY").issued is not None
    window = caller(make_link, 5)
    window.sign_in("S051", "123456")
    window.open()
    eventually(lambda: isinstance(window.call_next(), TicketCalled), what="the call")
    assert isinstance(window.finish(), CaseFinished)  # Tuesday 24 November


def sweep(hub: Hub) -> int:
    return hub.consumer.run(lambda conn: give_default_reviews(conn, hub.consumer.ctx,
                                                              hub.clock.now()))


@pytest.fixture
def hub_defaults(hub_settings: HubSettings) -> Iterator[Hub]:
    h = Hub(hub_settings.model_copy(update={"reviews": ReviewRules(
        default_after_working_days=1, default_grade="satisfied")}))
    h.start()
    assert h.consumer.wait_connected(10)
    yield h
    h.stop()


def test_a_case_unreviewed_past_its_working_days_gets_the_default(
        hub_defaults: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    hub = hub_defaults
    finish_one(hub, make_link, tmp_path)
    at(hub, date(2026, 11, 25), "17:00")  # the one working day: still the citizen's
    assert sweep(hub) == 0
    at(hub, date(2026, 11, 26), "09:00")
    assert sweep(hub) == 1
    assert sweep(hub) == 0  # once
    with hub.engine.connect() as conn:
        assert conn.execute(select(reviews.c.grade, reviews.c.channel)).all() == [
            ("satisfied", "default")]


def test_off_by_default(hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    finish_one(hub, make_link, tmp_path)
    at(hub, date(2026, 12, 31), "09:00")
    assert sweep(hub) == 0
