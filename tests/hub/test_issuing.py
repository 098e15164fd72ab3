"""Issuing hours and caps: outside hours the refusal names the next opening; 调休 days work."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hub.app import Hub
from hub.catalogue import DEFAULT_CATALOGUE, load_catalogue
from hub.issuing import IssuingRules
from hub.settings import HubSettings
from hub.work_calendar import WorkCalendar
from protocol.messages import IssuePriorityTicket
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.e2e.devices import kiosk

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def rules() -> IssuingRules:
    return IssuingRules(load_catalogue(), WorkCalendar())


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)  # type: ignore[misc]


def test_open_in_hours_on_working_days(rules: IssuingRules) -> None:
    assert rules.is_open("GA_HJQY", at(2026, 11, 24, 8, 30))
    assert rules.is_open("GA_HJQY", at(2026, 11, 24, 12, 15)), "午间服务: no lunch break"
    assert not rules.is_open("GA_HJQY", at(2026, 11, 24, 17, 30))
    assert not rules.is_open("GA_HJQY", at(2026, 11, 28, 10, 0)), "an ordinary Saturday"
    assert rules.is_open("GA_HJQY", at(2026, 2, 14, 10, 0)), "a 调休 Saturday is a working day"
    assert not rules.is_open("GA_HJQY", at(2026, 10, 2, 10, 0)), "国庆"


def test_the_refusal_names_the_next_opening(rules: IssuingRules) -> None:
    assert rules.closed_message("GA_HJQY", at(2026, 11, 24, 7, 0)) == \
        "现在不在取号时间，下次取号时间：今天08:30"
    assert rules.closed_message("GA_HJQY", at(2026, 11, 24, 18, 0)) == \
        "现在不在取号时间，下次取号时间：明天08:30"
    assert rules.closed_message("GA_HJQY", at(2026, 11, 27, 18, 0)) == \
        "现在不在取号时间，下次取号时间：11月30日（周一）08:30"
    assert rules.closed_message("GA_HJQY", at(2026, 9, 30, 18, 0)) == \
        "现在不在取号时间，下次取号时间：10月8日（周四）08:30", "after the golden week"


@pytest.fixture
def capped_hub(hub_settings: HubSettings, tmp_path: Path) -> Iterator[Hub]:
    text = DEFAULT_CATALOGUE.read_text().replace(
        'code = "GA_HJQY"\n', 'code = "GA_HJQY"\ndaily_cap = 2\n', 1)
    catalogue = tmp_path / "capped.toml"
    catalogue.write_text(text)
    h = Hub(hub_settings.model_copy(update={"catalogue": catalogue}))
    h.start()
    assert h.consumer.wait_connected(10)
    yield h
    h.stop()


def test_the_daily_cap_stops_kiosks_not_the_guide_desk(capped_hub: Hub, make_link: LinkFactory,
                                                       tmp_path: Path) -> None:
    k = kiosk(make_link, tmp_path, capped_hub)
    assert k.take_ticket("GA_HJQY").issued and k.take_ticket("GA_HJQY").issued
    third = k.take_ticket("GA_HJQY")
    assert third.error is not None
    assert third.error.message == "今日该事项号已发完，可预约其他日期或到导办台咨询"
    assert k.take_ticket("GA_SFZHL").issued, "other items go on"
    guide = make_link(DeviceClass.GUIDE, "guide-desk")
    from uuid import uuid4

    elder = guide.send(IssuePriorityTicket(request_id=uuid4(), service="GA_HJQY",
                                           group="elderly")).wait(5)
    assert elder is not None and elder.ok, "manual service stays (国办发〔2020〕45号)"
