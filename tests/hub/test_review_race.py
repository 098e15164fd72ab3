"""一事一评 under pressure, over a real hub, broker, kiosk, window caller and the phone page
served by the hub's own web server: the evaluator and the phone pressed at the same moment,
the same request delivered twice (QoS 1), a button pressed twice, a form sent twice, and
reviews of cases that are not finished. Whatever arrives, a finished case has one review
and one entry for the province; the loser of a race is told the case was reviewed already;
a case that is not finished cannot be reviewed, and the refusal changes nothing.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from uuid import uuid4

import pytest
import requests
from sqlalchemy import func, select

from caller_display.caller_core import CallerCore
from hallsim.broker import Broker
from hub.app import Hub
from hub.db.schema import forward_outbox, review_followups, reviews
from kiosk.core import KioskCore
from protocol import topics
from protocol.errors import ZH, ErrorCode
from protocol.messages import (
    GRADE_ZH,
    AnyReply,
    CaseFinished,
    ErrorReply,
    Grade,
    NoShowRecorded,
    ReviewRecorded,
    SubmitReview,
    TicketCalled,
    TicketIssued,
)
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import RawDevice, eventually
from tests.hub.test_review_on_phone import REVIEW_FORM
from tests.hub.test_ticket_page import WINDOW, take

REVIEWED = ZH[ErrorCode.REVIEW_EXISTS]  # "这次办件已经评价过了，感谢您的参与"
NO_CASE = ZH[ErrorCode.UNKNOWN_CASE]  # "没有找到这次办件，无法评价"
T = TypeVar("T")


@pytest.fixture
def hall(hub: Hub, make_link: LinkFactory, tmp_path: Path) -> tuple[KioskCore, CallerCore]:
    """A kiosk, and window 5 open with its A post signed in."""
    window = caller(make_link, WINDOW)
    assert not isinstance(window.sign_in("S051", "123456"), ErrorReply)
    window.open()
    return kiosk(make_link, tmp_path, hub), window


@pytest.fixture
def evaluator(broker: Broker, hub: Hub) -> Iterator[RawDevice]:
    """A window's evaluator as bare MQTT: it publishes exactly what the test says, when."""
    device = RawDevice(broker, hub.settings.hall_id, DeviceClass.CALLER, "evaluator-5")
    assert device.ready()
    yield device
    device.close()


def call(window: CallerCore) -> TicketCalled:
    """The window calls the ticket just taken (once the kiosk has confirmed it)."""
    def called() -> TicketCalled | None:
        reply = window.call_next()
        return reply if isinstance(reply, TicketCalled) else None
    found: TicketCalled = eventually(called, what="the call")
    return found


def serve(machine: KioskCore, window: CallerCore) -> tuple[TicketIssued, CaseFinished]:
    """One citizen's ticket taken, called and finished at window 5."""
    issued = take(machine)
    call(window)
    done = window.finish()
    assert isinstance(done, CaseFinished)
    assert done.review_url == issued.track_url
    return issued, done


def post_review(issued: TicketIssued, grade: Grade, reason: str | None = None
                ) -> requests.Response:
    """The review form on the ticket's page, sent from a phone."""
    assert issued.track_url is not None
    return requests.post(f"{issued.track_url}/review", timeout=10, allow_redirects=False,
                         data={"grade": grade, **({"reason": reason} if reason else {})})


def page(issued: TicketIssued) -> str:
    assert issued.track_url is not None
    shown = requests.get(issued.track_url, timeout=10)
    assert shown.status_code == 200
    return shown.text


def at_once(*jobs: Callable[[], T]) -> list[T]:
    """Run the jobs in threads released together; their results, in order."""
    go = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(k: int) -> None:
        go.wait()
        try:
            results[k] = jobs[k]()
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors, errors
    return results


def counts(hub: Hub) -> tuple[int, int, int]:
    """(reviews, entries for the province, follow-ups): what a review leaves behind."""
    with hub.engine.connect() as conn:
        kept, entries, followed = (int(conn.scalar(select(func.count()).select_from(t)) or 0)
                                   for t in (reviews, forward_outbox, review_followups))
    return kept, entries, followed


def reviews_by_case(hub: Hub) -> dict[int, list[tuple[str, str, int]]]:
    """{case id: [(grade, channel, review id), …]} from the database."""
    found: dict[int, list[tuple[str, str, int]]] = {}
    with hub.engine.connect() as conn:
        for r in conn.execute(select(reviews.c.case_id, reviews.c.grade, reviews.c.channel,
                                     reviews.c.id).order_by(reviews.c.id)):
            found.setdefault(r.case_id, []).append((r.grade, r.channel, r.id))
    return found


def province_entries(hub: Hub) -> dict[int, list[str]]:
    """{case id: [outbox key, …]} of the reviews waiting for the province."""
    found: dict[int, list[str]] = {}
    with hub.engine.connect() as conn:
        for key, payload in conn.execute(select(forward_outbox.c.key, forward_outbox.c.payload)
                                         .order_by(forward_outbox.c.id)):
            if payload["kind"] == "review":
                found.setdefault(payload["case_id"], []).append(key)
    return found


def publish_raw(device: RawDevice, *requests_: SubmitReview) -> None:
    """Publish the requests back to back (QoS 1), before any answer can come."""
    topic = topics.request_topic(device.hall_id, DeviceClass.CALLER, device.device_id,
                                 SubmitReview.ACTION)
    sent = [device.client.publish(topic, r.model_dump_json(), qos=1) for r in requests_]
    for info in sent:
        info.wait_for_publish(timeout=5)


def replies(device: RawDevice, n: int) -> list[AnyReply]:
    return [device.reply(timeout=5) for _ in range(n)]


# ------------------------------------------------------------ the evaluator and the phone


def test_the_evaluator_and_the_phone_at_the_same_moment_leave_one_review(
        hub: Hub, hall: tuple[KioskCore, CallerCore]) -> None:
    machine, window = hall
    reasons = hub.settings.reviews.bad_review_reasons
    served: dict[int, TicketIssued] = {}
    for i in range(20):
        issued, done = serve(machine, window)
        served[done.case.id] = issued
        # each side its own grade, a bad one (with its reason) every other case
        at_window: tuple[Grade, str | None] = \
            ("unsatisfied", reasons[0]) if i % 2 else ("very_satisfied", None)
        on_phone: tuple[Grade, str | None] = \
            ("very_unsatisfied", reasons[1]) if i % 4 in (0, 1) else ("satisfied", None)
        pressed, sent = at_once(lambda: window.review(*at_window),  # noqa: B023
                                lambda: post_review(issued, *on_phone))  # noqa: B023
        assert isinstance(pressed, ReviewRecorded | ErrorReply), pressed
        assert isinstance(sent, requests.Response)
        assert sent.status_code in (303, 400), (sent.status_code, sent.text[:500])
        window_won = isinstance(pressed, ReviewRecorded)
        phone_won = sent.status_code == 303
        assert window_won != phone_won, f"case {done.case.id}: one review, one refusal"
        if window_won:  # the phone's page says why, and shows the window's review
            assert REVIEWED in sent.text and f"您已评价：{GRADE_ZH[at_window[0]]}" in sent.text
        else:
            assert isinstance(pressed, ErrorReply)
            assert (pressed.code, pressed.message) == (ErrorCode.REVIEW_EXISTS, REVIEWED)
            assert sent.headers["Location"].endswith("#review")
        grade = at_window[0] if window_won else on_phone[0]
        shown = page(issued)  # the citizen's phone, opened again afterwards
        assert f"您已评价：{GRADE_ZH[grade]}" in shown and REVIEW_FORM not in shown
        assert reviews_by_case(hub)[done.case.id][0][:2] == \
            (grade, "window" if window_won else "phone")

    kept = reviews_by_case(hub)
    assert sorted(kept) == sorted(served)
    assert all(len(of_case) == 1 for of_case in kept.values()), kept
    entries = province_entries(hub)
    hall_id = hub.settings.hall_id
    assert entries == {case: [f"review:{hall_id}:{rows[0][2]}"] for case, rows in kept.items()}
    with hub.engine.connect() as conn:
        followed = Counter(conn.execute(select(review_followups.c.review_id)).scalars())
    bad = {rows[0][2] for rows in kept.values() if rows[0][0].endswith("unsatisfied")}
    assert followed == dict.fromkeys(bad, 1), "each bad review followed up once"


# ------------------------------------------------------------ duplicates and double presses


def test_a_qos1_duplicate_and_a_double_press_in_flight_together_leave_one_review(
        hub: Hub, hall: tuple[KioskCore, CallerCore], evaluator: RawDevice) -> None:
    machine, window = hall
    for grade in ("satisfied", "unsatisfied", "very_satisfied"):
        _, done = serve(machine, window)
        reason = hub.settings.reviews.bad_review_reasons[2] if grade == "unsatisfied" else None
        first = SubmitReview(request_id=uuid4(), window=WINDOW, case_id=done.case.id,
                             grade=grade, reason=reason)
        pressed_again = first.model_copy(update={"request_id": uuid4(), "grade": "basic",
                                                 "reason": None})
        # the request, its redelivery, and a second press: all out before any answer
        publish_raw(evaluator, first, first, pressed_again)
        answers = replies(evaluator, 3)
        by_request: dict[str, list[AnyReply]] = {}
        for a in answers:
            by_request.setdefault(str(a.request_id), []).append(a)
        kept = by_request[str(first.request_id)]
        assert len(kept) == 2 and kept[0] == kept[1], "the duplicate gets the first answer"
        assert isinstance(kept[0], ReviewRecorded)
        assert (kept[0].review.case_id, kept[0].review.grade) == (done.case.id, grade)
        [second] = by_request[str(pressed_again.request_id)]
        assert isinstance(second, ErrorReply)
        assert (second.code, second.message) == (ErrorCode.REVIEW_EXISTS, REVIEWED)
        # the window's own evaluator, pressed too, is thanked and changes nothing
        late = window.review("very_unsatisfied", hub.settings.reviews.bad_review_reasons[0])
        assert isinstance(late, ErrorReply) and late.message == REVIEWED
        assert [g for g, _, _ in reviews_by_case(hub)[done.case.id]] == [grade]
        assert province_entries(hub)[done.case.id] == \
            [f"review:{hub.settings.hall_id}:{kept[0].review.id}"]
    assert counts(hub) == (3, 3, 1), "three reviews, three entries, the bad one followed up"


def test_the_phone_form_sent_twice_at_once_leaves_one_review(
        hub: Hub, hall: tuple[KioskCore, CallerCore]) -> None:
    machine, window = hall
    reason = hub.settings.reviews.bad_review_reasons[0]
    for _ in range(5):
        issued, done = serve(machine, window)
        first, second = at_once(lambda: post_review(issued, "unsatisfied", reason),  # noqa: B023
                                lambda: post_review(issued, "unsatisfied", reason))  # noqa: B023
        assert sorted([first.status_code, second.status_code]) == [303, 400]
        refused = first if first.status_code == 400 else second
        assert REVIEWED in refused.text
        assert len(reviews_by_case(hub)[done.case.id]) == 1
        assert len(province_entries(hub)[done.case.id]) == 1
        assert "您已评价：不满意" in page(issued)
    assert counts(hub) == (5, 5, 5)


# ------------------------------------------------------------ cases not finished


def test_no_review_for_a_case_that_is_not_finished(
        hub: Hub, hall: tuple[KioskCore, CallerCore], evaluator: RawDevice) -> None:
    machine, window = hall
    reason = hub.settings.reviews.bad_review_reasons[0]
    _, earlier = serve(machine, window)  # one case finished before: the ids go on from it
    assert isinstance(window.review("satisfied"), ReviewRecorded)
    before = counts(hub)

    missed = take(machine)  # called and not there: 过号, no case at all
    call(window)
    window.recall()
    assert isinstance(window.no_show(), NoShowRecorded)
    late = post_review(missed, "very_unsatisfied", reason)
    assert late.status_code == 400 and NO_CASE in late.text
    assert REVIEW_FORM not in page(missed)

    serving = take(machine)  # called, at the window, not finished
    assert call(window).ticket.number == serving.ticket.number
    assert not window.review_open and window.review("very_unsatisfied", reason) is None
    on_phone = post_review(serving, "very_unsatisfied", reason)
    assert on_phone.status_code == 400 and NO_CASE in on_phone.text
    shown = page(serving)
    assert REVIEW_FORM not in shown and f"请到{WINDOW}号窗口办理" in shown
    # the evaluator naming the case this ticket will be once finished, and one made up
    early = SubmitReview(request_id=uuid4(), window=WINDOW, case_id=earlier.case.id + 1,
                         grade="very_unsatisfied", reason=reason)
    made_up = SubmitReview(request_id=uuid4(), window=WINDOW, case_id=earlier.case.id + 999,
                           grade="very_unsatisfied", reason=reason)
    publish_raw(evaluator, early, made_up)
    for refused in replies(evaluator, 2):
        assert isinstance(refused, ErrorReply), refused
        assert (refused.code, refused.message) == (ErrorCode.UNKNOWN_CASE, NO_CASE)
    assert counts(hub) == before, "a refusal changes nothing"

    done = window.finish()  # now `serving` is finished: the very case the early press named
    assert isinstance(done, CaseFinished) and done.case.id == early.case_id
    publish_raw(evaluator, early)  # that early press, delivered again: still refused
    again = evaluator.reply()
    assert isinstance(again, ErrorReply) and again.code == ErrorCode.UNKNOWN_CASE
    assert counts(hub) == before
    assert REVIEW_FORM in page(serving), "finished: the citizen may review it now, once"
    assert post_review(serving, "satisfied").status_code == 303
    assert reviews_by_case(hub)[done.case.id] == [("satisfied", "phone", before[0] + 1)]
