"""差评整改: a bad review at the window's evaluator opens a follow-up for the item's
department, due in working days; its steps come in order to a result, or an appeal is
decided; overdue ones are listed; the rates can show 100 %. Driven as managers do, through
`./hallq admin followups` against the running hub."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from caller_display.caller_core import CallerCore
from hub import admin
from hub.app import Hub
from hub.db.schema import review_followups
from hub.followups import overdue, rates
from kiosk.core import KioskCore
from protocol.messages import CaseFinished, ReviewRecorded, TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually, signed_in_client
from tests.hub.test_booking import at

DAY = date(2026, 11, 24)


@pytest.fixture
def counter(hub: Hub, make_link: LinkFactory, tmp_path: Path) -> tuple[KioskCore, CallerCore]:
    """A kiosk, and window 5 open with its A post signed in."""
    window = caller(make_link, 5)
    window.sign_in("S051", "123456")
    window.open()
    return kiosk(make_link, tmp_path, hub), window


def bad_review(window: CallerCore, machine_take: object) -> None:
    """A citizen served at window 5 presses 不满意 (等候时间太长) on the evaluator."""
    eventually(lambda: isinstance(window.call_next(), TicketCalled), what="the call")
    assert isinstance(window.finish(), CaseFinished)
    assert isinstance(window.review("unsatisfied", "等候时间太长"), ReviewRecorded)


def followup(hub: Hub, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = admin.main(["--url", hub.dashboard_url, "followups", *args, "--who", "县公安局"])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_bad_review_is_followed_to_its_result_and_an_appeal_decided(
        hub: Hub, counter: tuple[KioskCore, CallerCore],
        capsys: pytest.CaptureFixture[str]) -> None:
    machine, window = counter
    for _ in range(2):
        assert machine.take_ticket("GA_HJQY").issued is not None
        bad_review(window, machine)
    with hub.engine.connect() as conn:
        rows = conn.execute(select(review_followups.c.id, review_followups.c.department_code,
                                   review_followups.c.deadline)).all()
    assert [(r.department_code, r.deadline) for r in rows] == [("GA", date(2026, 12, 1))] * 2
    first, second = rows[0].id, rows[1].id  # 5 working days: 25, 26, 27, 30 Nov, 1 Dec

    code, out = followup(hub, capsys)
    assert code == 0 and "不满意（等候时间太长） 5号窗口 户口迁移" in out and "下一步：回访" in out
    code, out = followup(hub, capsys, str(first), "result", "已整改")
    assert code == 1 and "请先填写回访" in out  # in order
    for step, text in (("callback", "已电话回访，群众反映上午等候近1小时"),
                       ("investigation", "当日上午仅开1个窗口"), ("handling", "已约谈窗口负责人"),
                       ("measures", "高峰时段增开B岗"), ("result", "群众表示满意")):
        assert followup(hub, capsys, str(first), step, text)[0] == 0

    code, out = followup(hub, capsys, str(second), "appeal", "评价人误按，监控可查")
    assert code == 0
    assert followup(hub, capsys, str(second), "callback", "…")[0] == 1  # while appealed
    assert followup(hub, capsys, str(second), "upheld", "经查监控属实")[0] == 0
    code, out = followup(hub, capsys)
    assert out.strip() == ""  # none open

    with hub.engine.connect() as conn:
        r = rates(conn, datetime(2026, 11, 1), datetime(2026, 12, 1))
        assert overdue(conn, date(2026, 12, 31)) == []
    # Two bad reviews, one appeal upheld: one counts; it has its result: 整改率 100 %.
    assert (r.bad_reviews, r.closed, r.fix_rate) == (1, 1, 1.0)
    assert r.real_name == 0 and r.callback_rate is None  # an anonymous evaluator's review


def test_an_open_follow_up_past_its_deadline_is_overdue(
        hub: Hub, counter: tuple[KioskCore, CallerCore],
        capsys: pytest.CaptureFixture[str]) -> None:
    machine, window = counter
    assert machine.take_ticket("GA_HJQY").issued is not None
    bad_review(window, machine)
    web = signed_in_client(hub)
    page = web.get("/reviews").get_data(as_text=True)
    for shown in ("不满意（等候时间太长）", "5号窗口", "户口迁移", "2026-12-01",
                  "下一步：回访", "窗口评价器", "差评 1 条", "整改率 0%"):
        assert shown in page, shown
    assert "林国庆" not in page and "S051" not in page  # who is reviewed: the window only
    at(hub, date(2026, 12, 1), "17:00")  # the last day: not yet overdue
    assert "已超期" not in followup(hub, capsys)[1]
    at(hub, date(2026, 12, 2), "09:00")
    assert "【已超期】" in followup(hub, capsys)[1]
    assert web.get("/reviews").status_code == 302, "a day later: signed out (idle 30 min)"
    web = signed_in_client(hub, "manager2")
    assert "2026-12-01 已超期" in web.get("/reviews").get_data(as_text=True)
    with hub.engine.connect() as conn:
        assert len(overdue(conn, date(2026, 12, 2))) == 1


def test_a_real_name_bad_review_called_back_shows_100_percent(
        hub: Hub, counter: tuple[KioskCore, CallerCore],
        capsys: pytest.CaptureFixture[str]) -> None:
    machine, window = counter
    issued = machine.take_ticket("GA_HJQY").issued
    assert issued is not None
    eventually(lambda: isinstance(window.call_next(), TicketCalled), what="the call")
    assert isinstance(window.finish(), CaseFinished)
    # Given later by telephone (补充评价): the person is known.
    assert admin.main(["--url", hub.dashboard_url, "reviews", "supplement", DAY.isoformat(),
                       issued.ticket.number, "不满意", "办事效率低"]) == 0
    with hub.engine.connect() as conn:
        entry = conn.scalar(select(review_followups.c.id))
    assert followup(hub, capsys, str(entry), "callback", "已回访")[0] == 0
    with hub.engine.connect() as conn:
        r = rates(conn, datetime(2026, 11, 1), datetime(2026, 12, 1))
    assert (r.real_name, r.called_back, r.callback_rate) == (1, 1, 1.0)
    assert r.fix_rate == 0.0  # called back, not yet fixed
