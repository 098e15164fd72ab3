"""好差评 on the citizen's phone: the finished case's review form on the ticket's page, over a
real hub, broker, kiosk and window caller. One case gets one review, whichever of the phone
and the window's evaluator comes first; a refused review changes nothing and says why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from caller_display.caller_core import CallerCore
from hub.app import Hub
from hub.db.schema import reviews
from protocol.errors import ErrorCode
from protocol.messages import CaseFinished, ErrorReply, TicketIssued
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.hub.test_ticket_page import WINDOW, take, token_of

REVIEW_FORM = "请对本次服务做出评价"


def review_rows(hub: Hub) -> list[tuple[Any, ...]]:
    with hub.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(reviews.c.grade, reviews.c.reason, reviews.c.channel, reviews.c.window_number)
            .order_by(reviews.c.id))]


@pytest.fixture
def served(hub: Hub, make_link: LinkFactory, tmp_path: Path
           ) -> tuple[TicketIssued, CaseFinished, CallerCore]:
    """A ticket called and finished at window 5: its case may be reviewed."""
    issued = take(kiosk(make_link, tmp_path, hub))
    window = caller(make_link, WINDOW)
    window.sign_in("S051", "123456")
    window.open()
    window.call_next()
    done = window.finish()
    assert isinstance(done, CaseFinished)
    return issued, done, window


def test_window_screen_gets_the_link_to_review_on_the_phone(
        served: tuple[TicketIssued, CaseFinished, CallerCore]) -> None:
    issued, done, _ = served
    assert done.review_url == issued.track_url  # the ticket's page, where the form now is


def test_a_phone_review_is_kept_once_and_the_evaluator_is_thanked(
        hub: Hub, served: tuple[TicketIssued, CaseFinished, CallerCore]) -> None:
    issued, _, window = served
    client: FlaskClient = hub.web.test_client()
    page = client.get(f"/t/{token_of(issued)}").get_data(as_text=True)
    assert REVIEW_FORM in page and "非常不满意" in page and "等候时间太长" in page

    sent = client.post(f"/t/{token_of(issued)}/review", data={"grade": "satisfied"})
    assert sent.status_code == 303 and sent.headers["Location"].endswith("#review")
    after = client.get(f"/t/{token_of(issued)}").get_data(as_text=True)
    assert "您已评价：满意" in after and REVIEW_FORM not in after
    assert client.get(f"/t/{token_of(issued)}.json").get_json()["review"]["state"] == "done"

    again = client.post(f"/t/{token_of(issued)}/review", data={"grade": "very_satisfied"})
    assert again.status_code == 400
    assert "这次办件已经评价过了" in again.get_data(as_text=True)
    late = window.review("very_satisfied")  # the evaluator, pressed after the phone
    assert isinstance(late, ErrorReply) and late.code == ErrorCode.REVIEW_EXISTS
    assert review_rows(hub) == [("satisfied", None, "phone", WINDOW)]


def test_a_bad_review_needs_its_reason_and_keeps_the_choice(
        hub: Hub, served: tuple[TicketIssued, CaseFinished, CallerCore]) -> None:
    issued, _, _ = served
    client: FlaskClient = hub.web.test_client()
    token = token_of(issued)
    refused = client.post(f"/t/{token}/review", data={"grade": "unsatisfied"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "请选择不满意的原因" in body
    assert 'value="unsatisfied" required checked' in body  # the choice is kept
    for data in ({"grade": "wonderful"}, {}, {"grade": "unsatisfied", "reason": "不在列表"}):
        assert client.post(f"/t/{token}/review", data=data).status_code == 400
    assert review_rows(hub) == []

    kept = client.post(f"/t/{token}/review",
                       data={"grade": "unsatisfied", "reason": "等候时间太长"})
    assert kept.status_code == 303
    assert review_rows(hub) == [("unsatisfied", "等候时间太长", "phone", WINDOW)]


def test_no_form_before_the_case_is_finished_and_none_for_a_forged_token(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    issued = take(kiosk(make_link, tmp_path, hub))
    client: FlaskClient = hub.web.test_client()
    assert REVIEW_FORM not in client.get(f"/t/{token_of(issued)}").get_data(as_text=True)
    early = client.post(f"/t/{token_of(issued)}/review", data={"grade": "satisfied"})
    assert early.status_code == 400 and "没有找到这次办件" in early.get_data(as_text=True)
    forged = token_of(issued)[:-2] + ("AA" if not token_of(issued).endswith("AA") else "BB")
    assert client.post(f"/t/{forged}/review", data={"grade": "satisfied"}).status_code == 404
    assert review_rows(hub) == []
