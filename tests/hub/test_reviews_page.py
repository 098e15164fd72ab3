"""好差评 acting on the page: the reviewed department's lead follows its own bad review up
(another department's lead cannot), appeals, and the hall decides; a manager enters a
review given by phone; each with the account's name in the audit log."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from hub.app import Hub
from hub.db.schema import audit_log, review_followups, reviews
from protocol.messages import CaseFinished, ReviewRecorded, TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import csrf_token, eventually, signed_in_client


def post(web: FlaskClient, path: str, **data: str) -> tuple[int, str]:
    token = csrf_token(web.get("/").get_data(as_text=True))
    answer = web.post(path, data={**data, "csrf_token": token})
    page = answer.get_data(as_text=True) if answer.status_code != 303 else \
        web.get(answer.headers["Location"]).get_data(as_text=True)
    return answer.status_code, page


def test_a_bad_review_followed_up_by_its_own_department_and_decided_by_the_hall(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    machine = kiosk(make_link, tmp_path, hub)
    window = caller(make_link, 5)  # 公安户政: 县公安局 (GA)
    window.sign_in("S051", "123456")
    window.open()
    assert machine.take_ticket("GA_HJQY").issued is not None
    eventually(lambda: isinstance(window.call_next(), TicketCalled), what="the call")
    assert isinstance(window.finish(), CaseFinished)
    assert isinstance(window.review("unsatisfied", "办事效率低"), ReviewRecorded)
    with hub.engine.connect() as conn:
        entry = conn.scalar(select(review_followups.c.id))

    other = signed_in_client(hub, "bdc", "department", "BDC")
    assert "办事效率低" not in other.get("/reviews").get_data(as_text=True)  # not its own
    code, page = post(other, f"/reviews/followups/{entry}/callback", text="已回访")
    assert code == 400 and "只能处理本部门的差评整改" in page

    lead = signed_in_client(hub, "li", "department", "GA")
    assert "记录回访" in lead.get("/reviews").get_data(as_text=True)
    code, page = post(lead, f"/reviews/followups/{entry}/result", text="已整改")
    assert code == 400 and "请先填写回访" in page  # in order
    code, page = post(lead, f"/reviews/followups/{entry}/callback", text="已电话回访")
    assert code == 303 and f"整改记录 {entry}：已记录回访" in page and "记录调查核实" in page
    code, page = post(lead, f"/reviews/followups/{entry}/appeal", text="评价人误按，监控可查")
    assert code == 303 and "申诉待裁定" in page
    code, page = post(lead, f"/reviews/followups/{entry}/upheld", text="自己裁定")
    assert code == 403 and "申诉由中心裁定" in page

    manager = signed_in_client(hub, "zhang")
    code, page = post(manager, f"/reviews/followups/{entry}/upheld", text="经查监控属实")
    assert code == 303 and "待整改（0）" in page
    with hub.engine.connect() as conn:
        decision = conn.scalar(select(review_followups.c.appeal_decision))
        log = conn.execute(select(audit_log.c.who, audit_log.c.action)
                           .where(audit_log.c.action.startswith("followup."))).all()
    assert decision == "upheld"
    assert [tuple(r) for r in log] == [("li", "followup.callback"), ("li", "followup.appeal"),
                                       ("zhang", "followup.upheld")]

    book = load_workbook(BytesIO(manager.get("/reviews.xlsx?month=2026-11").data))
    assert book.sheetnames == ["各窗口", "评价明细"]
    listed = [[c.value for c in r] for r in book["评价明细"].iter_rows(min_row=4)]
    assert [r[1:] for r in listed] == [
        ["5号窗口", "户口迁移", "不满意", 2, "办事效率低", "窗口评价器", "申诉成立"]]
    row = [c.value for c in book["各窗口"][4]]
    assert row[0] == "5号窗口 公安户政"
    assert (row[2], row[3]) == (0, 1.0)  # the appeal upheld: not counted, yet it was reviewed
    other_book = load_workbook(BytesIO(other.get("/reviews.xlsx").data))
    assert other_book["评价明细"].max_row == 3  # BDC's lead: none of GA's reviews


def test_a_manager_enters_a_review_given_by_phone(hub: Hub, make_link: LinkFactory,
                                                 tmp_path: Path) -> None:
    issued = kiosk(make_link, tmp_path, hub).take_ticket("GA_HJQY").issued
    assert issued is not None
    window = caller(make_link, 5)
    window.sign_in("S051", "123456")
    window.open()
    eventually(lambda: isinstance(window.call_next(), TicketCalled), what="the call")
    assert isinstance(window.finish(), CaseFinished)
    manager = signed_in_client(hub, "zhang")
    bad = {"day": "2026-11-24", "number": issued.ticket.number, "grade": "unsatisfied",
           "reason": "", "channel": "call"}
    code, page = post(manager, "/reviews/supplement", **bad)
    assert code == 400 and "原因" in page
    code, page = post(manager, "/reviews/supplement", **{**bad, "grade": "satisfied"})
    assert code == 303 and f"已录入 {issued.ticket.number} 的补充评价（满意）" in page
    with hub.engine.connect() as conn:
        assert conn.execute(select(reviews.c.grade, reviews.c.channel)).one() == \
            ("satisfied", "call")
        assert conn.scalar(select(audit_log.c.who).where(
            audit_log.c.action == "review.supplement")) == "zhang"
    viewer = signed_in_client(hub, "zhao", "viewer")
    assert "补充评价（电话、短信）" not in viewer.get("/reviews").get_data(as_text=True)
