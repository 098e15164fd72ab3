"""What the kiosk's pages say, worded in kiosk/ui/texts.py (no window needed)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from kiosk.ui import texts
from kiosk.ui.theme import Theme
from protocol.messages import ServiceInfo, ServiceQueue, Ticket, TicketIssued


def queue(**changes: object) -> ServiceQueue:
    fields: dict[str, object] = {"service": "GA_HJQY", "name": "户口迁移", "prefix": "A",
                                 "waiting": 3, "open_windows": 2, "est_wait_s": 610}
    return ServiceQueue.model_validate(fields | changes)


def issued(est_wait_s: int | None = 250) -> TicketIssued:
    ticket = Ticket(id=5, number="A005", service="GA_HJQY", service_name="户口迁移",
                    department="县公安局", service_day=date(2026, 11, 24),
                    issued_at=datetime(2026, 11, 24, 9, 5), status="pending")
    return TicketIssued(request_id=UUID(int=1), ticket=ticket, waiting_before=3,
                        est_wait_s=est_wait_s)


def test_the_wait_in_people_and_whole_minutes_rounded_up() -> None:
    assert texts.wait_text(queue()) == "前方等待3人，预计11分钟"
    assert texts.wait_text(queue(waiting=0, est_wait_s=0)) == "前方等待0人，预计1分钟"
    assert texts.wait_text(queue(open_windows=0, est_wait_s=None)) == "前方等待3人，暂无开放窗口"
    assert texts.wait_text(None) == "正在获取排队信息…"


def test_why_no_ticket_now_prefers_the_hubs_notice() -> None:
    assert texts.not_issuing_text(queue()) == ""
    closed = queue(issuing="outside_hours", notice="现在不在取号时间，下次取号时间：明天 09:00")
    assert texts.not_issuing_text(closed) == "现在不在取号时间，下次取号时间：明天 09:00"
    assert texts.not_issuing_text(queue(issuing="cap_reached")) == "今日号已取完"
    assert texts.short_wait(queue(issuing="cap_reached")) == "今日号已取完"
    assert texts.short_wait(queue()) == "等待3人"


def test_the_ticket_in_the_words_halls_use() -> None:
    assert texts.issued_text(issued()) == "您已领取A005号，前方等待3人"
    assert texts.issued_wait(issued()) == "预计等待5分钟，请留意叫号"
    assert texts.issued_wait(issued(None)) == "暂无开放窗口，请留意叫号"


def test_time_limits_and_lists() -> None:
    item = ServiceInfo(code="GA_CSDJ", name="出生登记", kind="item", department="GA",
                       prefix="A", conditions=[], materials=["出生医学证明原件"], legal_days=20,
                       promised_days=0, fee="不收费")
    assert texts.time_limits(item) == "即办件：材料齐全当场办结"
    assert texts.time_limits(item.model_copy(update={"promised_days": 5})) == \
        "法定20个工作日，承诺5个工作日办结"
    assert texts.numbered(["居民身份证原件", "居民户口簿原件"]) == \
        "1、居民身份证原件\n2、居民户口簿原件"


def test_elder_mode_enlarges_text_but_not_the_number_or_the_bars() -> None:
    theme = Theme(scale=1.0, elder_scale=1.4)
    body, number, bar = theme.size("body"), theme.size("number"), theme.size("bar")
    theme.elder = True
    assert theme.size("body") == round(body * 1.4)
    assert (theme.size("number"), theme.size("bar")) == (number, bar)


def test_the_banners_say_when_the_hub_is_away_or_its_disk_is_full() -> None:
    assert texts.banners(True, None, True) == []
    assert texts.banners(False, None, True) == [texts.HUB_OFFLINE]
    assert texts.banners(False, "storage_full", True) == [texts.HUB_OFFLINE]  # away says more
    assert texts.banners(True, "storage_full", False) == [texts.STORAGE_FULL, texts.NO_PRINTER]
    assert "暂停取号" in texts.STORAGE_FULL and "导办台" in texts.STORAGE_FULL
    assert set(texts.ALERTS) == {texts.HUB_OFFLINE, texts.STORAGE_FULL}
