"""补充评价: a review the citizen gives later by phone or SMS, entered by staff through
`./hallq admin reviews supplement`, within 5 working days of the case's finish: working
day 5 accepted, day 6 refused, counted across 国庆节 and its make-up Saturday."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hub import admin
from hub.app import Hub
from hub.clock import ShiftedClock
from hub.db.schema import audit_log, forward_outbox, reviews
from hub.settings import HubSettings
from protocol.messages import CaseFinished, TicketCalled, TicketIssued
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually

FINISHED = date(2026, 9, 30)  # the eve of 国庆节 (1-7 October off, Saturday 10th worked)


@pytest.fixture
def hub(hub_settings: HubSettings) -> Iterator[Hub]:
    """The hub, started on the morning of 30 September (the screens' states are of then)."""
    h = Hub(hub_settings.model_copy(update={"start_at": datetime(2026, 9, 30, 9, 0)}))
    h.start()
    assert h.consumer.wait_connected(10)
    yield h
    h.stop()


def finished_case(hub: Hub, make_link: LinkFactory, tmp_path: Path) -> str:
    """A 户口迁移 ticket called and finished at window 5 on 30 September; its number."""
    issued = kiosk(make_link, tmp_path, hub).take_ticket("GA_HJQY").issued
    assert isinstance(issued, TicketIssued)
    window = caller(make_link, 5)
    window.sign_in("S051", "123456")
    window.open()
    # the kiosk confirms the printed ticket just after: then it can be called
    eventually(lambda: isinstance(window.call_next(), TicketCalled), what="the call")
    assert isinstance(window.finish(), CaseFinished)
    return issued.ticket.number


def supplement(hub: Hub, number: str, *rest: str) -> int:
    return admin.main(["--url", hub.dashboard_url, "reviews", "supplement",
                       FINISHED.isoformat(), number, *rest, "--who", "王主任"])


def test_working_day_five_is_accepted(hub: Hub, make_link: LinkFactory, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    number = finished_case(hub, make_link, tmp_path)
    assert isinstance(hub.clock, ShiftedClock)
    hub.clock.set_local(datetime(2026, 10, 13, 16, 0))  # 8, 9, 10, 12, 13: day five
    assert supplement(hub, number, "满意", "--channel", "call") == 0
    assert f"已录入补充评价：{number} 满意（5号窗口）" in capsys.readouterr().out
    assert supplement(hub, number, "非常满意", "--channel", "sms") == 1  # one review a case
    assert "已经评价过了" in capsys.readouterr().err
    with hub.engine.connect() as conn:
        assert conn.execute(select(reviews.c.grade, reviews.c.channel)).all() == [
            ("satisfied", "call")]
        assert conn.scalar(select(audit_log.c.action)) == "review.supplement"
        forwarded = conn.scalar(select(forward_outbox.c.payload))
    assert forwarded["channel"] == "call", "the province is told the review came by phone"


def test_working_day_six_is_refused(hub: Hub, make_link: LinkFactory, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    number = finished_case(hub, make_link, tmp_path)
    assert isinstance(hub.clock, ShiftedClock)
    hub.clock.set_local(datetime(2026, 10, 14, 9, 0))  # day six
    assert supplement(hub, number, "不满意", "等候时间太长") == 1
    assert "补充评价期限至10月13日" in capsys.readouterr().err
    with hub.engine.connect() as conn:
        assert conn.scalar(select(reviews.c.id)) is None
