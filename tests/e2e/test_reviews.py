"""一事一评 at the window's evaluator, through the real broker and hub.

One case, one review: a second press, another review of the same case, and a QoS 1
duplicate all leave exactly one; a bad review needs a reason from the hall's list;
the review names the case, item, window and staff member.
"""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from sqlalchemy import func, select

from caller_display.caller_core import CallerCore
from hub.app import Hub
from hub.db.schema import reviews
from protocol.link import State
from protocol.messages import (
    CaseFinished,
    CatalogueState,
    ErrorReply,
    ReviewRecorded,
    SubmitReview,
    TicketCalled,
)
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually

SERVICE, WINDOW = "GA_HJQY", 5


def review_count(hub: Hub) -> int:
    with hub.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(reviews)) or 0


def finished_case(hub: Hub, make_link: LinkFactory, tmp_path: Path) -> tuple[CallerCore, int]:
    """A window that signed in, called and finished one case: (the caller, the case id)."""
    kiosk(make_link, tmp_path, hub).take_ticket(SERVICE)
    window = caller(make_link, WINDOW)
    signed = window.sign_in("S051", "123456")
    assert not isinstance(signed, ErrorReply), signed
    window.open()
    assert isinstance(window.call_next(), TicketCalled)
    done = window.finish()
    assert isinstance(done, CaseFinished)
    return window, done.case.id


def test_a_review_is_kept_with_its_case_item_window_and_staff(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    window, case_id = finished_case(hub, make_link, tmp_path)
    assert window.review_open
    kept = window.review("very_satisfied")
    assert isinstance(kept, ReviewRecorded)
    r = kept.review
    assert (r.case_id, r.number, r.service, r.window, r.staff_no) == \
        (case_id, "A001", SERVICE, WINDOW, "S051")
    assert (r.grade_name, r.stars, r.reason) == ("非常满意", 5, None)
    assert not window.review_open, "one press, one review: the evaluator closes"
    assert window.review("satisfied") is None
    assert review_count(hub) == 1


def test_one_case_one_review_whatever_arrives(hub: Hub, make_link: LinkFactory,
                                             tmp_path: Path) -> None:
    _, case_id = finished_case(hub, make_link, tmp_path)
    evaluator = make_link(DeviceClass.CALLER, "evaluator-5")
    first = SubmitReview(request_id=uuid4(), window=WINDOW, case_id=case_id, grade="satisfied")
    assert isinstance(evaluator.send(first).wait(5), ReviewRecorded)
    again = evaluator.send(first).wait(5)  # a QoS 1 duplicate: the same answer
    assert isinstance(again, ReviewRecorded) and again.review.grade == "satisfied"
    other = evaluator.send(SubmitReview(request_id=uuid4(), window=WINDOW, case_id=case_id,
                                        grade="very_unsatisfied", reason="服务态度不好")).wait(5)
    assert isinstance(other, ErrorReply)
    assert other.message == "这次办件已经评价过了，感谢您的参与"
    assert review_count(hub) == 1


def test_a_bad_review_needs_a_reason_from_the_list(hub: Hub, make_link: LinkFactory,
                                                  tmp_path: Path) -> None:
    _, case_id = finished_case(hub, make_link, tmp_path)
    evaluator = make_link(DeviceClass.CALLER, "evaluator-5")
    for reason in (None, "随便写的"):
        refused = evaluator.send(SubmitReview(request_id=uuid4(), window=WINDOW, case_id=case_id,
                                              grade="unsatisfied", reason=reason)).wait(5)
        assert isinstance(refused, ErrorReply) and refused.message == "请选择不满意的原因"
    assert review_count(hub) == 0, "a refusal changes nothing"
    kept = evaluator.send(SubmitReview(request_id=uuid4(), window=WINDOW, case_id=case_id,
                                       grade="unsatisfied", reason="等候时间太长")).wait(5)
    assert isinstance(kept, ReviewRecorded)
    assert (kept.review.stars, kept.review.reason) == (2, "等候时间太长")
    elsewhere = evaluator.send(SubmitReview(request_id=uuid4(), window=6, case_id=case_id,
                                            grade="satisfied")).wait(5)
    assert isinstance(elsewhere, ErrorReply), "a case is reviewed at its own window"


def test_the_evaluator_gets_the_reasons_from_the_hub(hub: Hub, make_link: LinkFactory) -> None:
    seen: list[CatalogueState] = []

    def on_state(state: State, live: bool) -> None:
        if isinstance(state, CatalogueState):
            seen.append(state)

    make_link(DeviceClass.CALLER, "caller-9", on_state=on_state)
    eventually(lambda: seen, what="the retained catalogue")
    assert seen[-1].review_reasons == list(hub.settings.reviews.bad_review_reasons)
    assert "等候时间太长" in seen[-1].review_reasons

