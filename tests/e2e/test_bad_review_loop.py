"""Issue 8's whole loop: a citizen presses 非常不满意 at window 5's evaluator; the bad review
shows on the dashboard's 好差评 page with its open follow-up; the department follows it up
to a result with `./hallq admin followups`; the provincial stand-in applies the review and
the result exactly once; and the week's ranking and its Excel file count the bad review
against 县公安局 (one case, one bad review over the 5 % line: 15 + 5 − 2 = 18 points)."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from hub import admin
from hub.app import Hub
from hub.db.schema import forward_outbox, review_followups
from protocol.messages import CaseFinished, ReviewRecorded, TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually, make_account, signed_in
from tests.hub import test_forwarder
from tests.hub.test_forwarder import Province

hub = test_forwarder.hub  # the hub forwarding to the stand-in


@pytest.fixture
def province() -> Iterator[Province]:
    """The stand-in, up from the start (the hub fixture forwards to it)."""
    p = Province()
    p.up()
    yield p
    p.down()


def test_a_bad_review_goes_round_the_whole_loop(
        hub: Hub, province: Province, make_link: LinkFactory, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    make_account(hub.engine)
    web = signed_in(hub.dashboard_url)
    machine = kiosk(make_link, tmp_path, hub)
    window = caller(make_link, 5)
    window.sign_in("S051", "123456")
    window.open()
    assert machine.take_ticket("GA_HJQY").issued is not None
    eventually(lambda: isinstance(window.call_next(), TicketCalled), what="the call")
    assert isinstance(window.finish(), CaseFinished)
    assert isinstance(window.review("very_unsatisfied", "服务态度不好"), ReviewRecorded)

    reviews_page = web.get(f"{hub.dashboard_url}/reviews", timeout=10).text
    for shown in ("待整改（1）", "非常不满意（服务态度不好）", "下一步：回访", "差评 1 条",
                  "整改率 0%"):
        assert shown in reviews_page, shown

    with hub.engine.connect() as conn:
        followup = conn.scalar(select(review_followups.c.id))
    for step, text in (("callback", "已电话回访，群众反映窗口人员语气生硬"),
                       ("investigation", "调取录像属实"), ("handling", "对当事人批评教育"),
                       ("measures", "全员文明用语培训"), ("result", "群众表示认可")):
        assert admin.main(["--url", hub.dashboard_url, "followups", str(followup), step, text,
                           "--who", "县公安局"]) == 0
    capsys.readouterr()
    reviews_page = web.get(f"{hub.dashboard_url}/reviews", timeout=10).text
    assert "待整改（0）" in reviews_page and "整改率 100%" in reviews_page

    def outbox_empty() -> bool:
        with hub.engine.connect() as conn:
            return not conn.scalar(select(func.count())
                                   .where(forward_outbox.c.sent_at.is_(None)))
    eventually(outbox_empty, timeout=10, what="the province to take everything")
    assert sorted(k.split(":")[0] for k in province.received) == ["followup", "review"]
    review = next(v for k, v in province.applied.items() if k.startswith("review:"))
    result = next(v for k, v in province.applied.items() if k.startswith("followup:"))
    assert (review["grade"], review["reason"], review["window"]) == \
        ("very_unsatisfied", "服务态度不好", 5)
    assert result["result"] == "群众表示认可" and result["callback"].startswith("已电话回访")

    ranking = web.get(f"{hub.dashboard_url}/ranking", timeout=10).text
    assert "2026年第48周" in ranking and "县公安局" in ranking
    assert "<strong>98</strong>" in ranking and "100.0% 超5%线" in ranking
    book = load_workbook(BytesIO(web.get(f"{hub.dashboard_url}/ranking/2026-11-23.xlsx",
                                              timeout=10).content))
    row = [c.value for c in book["周通报"][4]]
    assert row[:4] == [1, "县公安局", 20, 18] and row[9] == 98
    details = [c.value for c in book["好差评明细"][4]]
    assert details[:3] == ["县公安局", 1, 1] and details[7] == 1 and details[9] == 1
