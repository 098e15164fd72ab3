"""Reviews (好差评) from the evaluator at a window: one case, one review (一事一评).

A review is tied to the case and so to its item, window and staff member. The first
review of a case stays; a second one (another press, another channel) is refused with
thanks, and a QoS 1 duplicate of the same request gets the first answer (the
dispatcher). A bad review (不满意, 非常不满意) needs a reason from the hall's list.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, insert, select

from hub.context import HallContext, Outcome
from hub.db.schema import cases, reviews, services, tickets
from protocol.errors import ErrorCode, UserError
from protocol.messages import (
    BAD_GRADES,
    GRADE_STARS,
    GRADE_ZH,
    Request,
    ReviewRecord,
    ReviewRecorded,
    SubmitReview,
)


def on_submit_review(conn: Connection, ctx: HallContext, device_id: str,
                     req: Request) -> Outcome:
    """Keep the citizen's review of the case just finished at this window."""
    assert isinstance(req, SubmitReview)
    case = conn.execute(
        select(cases.c.window_number, cases.c.service_code, cases.c.staff_no, tickets.c.number,
               services.c.name)
        .select_from(cases.join(tickets, tickets.c.id == cases.c.ticket_id)
                     .join(services, services.c.code == cases.c.service_code))
        .where(cases.c.id == req.case_id)).one_or_none()
    if case is None:
        raise UserError(ErrorCode.UNKNOWN_CASE, f"case {req.case_id}")
    window, service, staff_no, number, service_name = case
    if window != req.window:
        raise UserError(ErrorCode.NOT_AT_THIS_WINDOW, f"case {req.case_id} was at {window}")
    if conn.scalar(select(func.count()).where(reviews.c.case_id == req.case_id)):
        raise UserError(ErrorCode.REVIEW_EXISTS, f"case {req.case_id}")
    reason = (req.reason or "").strip() or None
    if req.grade in BAD_GRADES and reason not in ctx.reviews.bad_review_reasons:
        raise UserError(ErrorCode.REVIEW_REASON, f"reason {reason!r}")
    if req.grade not in BAD_GRADES:
        reason = None  # a reason goes with a bad review only
    now = ctx.clock.now()
    review_id = conn.execute(insert(reviews).values(
        case_id=req.case_id, grade=req.grade, stars=GRADE_STARS[req.grade], reason=reason,
        channel="window", window_number=window, service_code=service, staff_no=staff_no,
        created_at=now).returning(reviews.c.id)).scalar_one()
    record = ReviewRecord(id=review_id, case_id=req.case_id, number=number, service=service,
                          service_name=service_name, window=window, staff_no=staff_no,
                          grade=req.grade, grade_name=GRADE_ZH[req.grade],
                          stars=GRADE_STARS[req.grade], reason=reason,
                          created_at=ctx.clock.local(now))
    return Outcome(ReviewRecorded(request_id=req.request_id, review=record))
