"""Reviews (好差评) from the evaluator at a window or the ticket's page on a phone: one case,
one review (一事一评), whichever channel comes first.

A review is tied to the case and so to its item, window and staff member. The first
review of a case stays; a second one (another press, another channel) is refused with
thanks, and a QoS 1 duplicate of the same request gets the first answer (the
dispatcher). A bad review (不满意, 非常不满意) needs a reason from the hall's list.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from sqlalchemy import Connection, func, insert, select

from hub import audit, city_sync
from hub.context import HallContext, Outcome
from hub.db.schema import cases, reviews, services, tickets
from hub.followups import open_followup
from hub.forwarder import enqueue
from protocol.errors import ErrorCode, UserError
from protocol.messages import (
    BAD_GRADES,
    GRADE_STARS,
    GRADE_ZH,
    Grade,
    Request,
    ReviewRecord,
    ReviewRecorded,
    SubmitReview,
)

# the evaluator, the ticket's page on a phone, staff entering a review given later by a
# phone call or an SMS (补充评价), and the hub's default review where a province has one
Channel = Literal["window", "phone", "call", "sms", "default"]


def on_submit_review(conn: Connection, ctx: HallContext, device_id: str,
                     req: Request) -> Outcome:
    """Keep the citizen's review of the case just finished at this window."""
    assert isinstance(req, SubmitReview)
    record = record_review(conn, ctx, req.case_id, req.grade, req.reason, "window", req.window)
    return Outcome(ReviewRecorded(request_id=req.request_id, review=record))


def review_on_phone(conn: Connection, ctx: HallContext, ticket_id: int, grade: Grade,
                    reason: str | None) -> ReviewRecord:
    """The review of a ticket's case from its page on the citizen's phone."""
    case_id = conn.scalar(select(cases.c.id).where(cases.c.ticket_id == ticket_id)
                          .order_by(cases.c.finished_at.desc()).limit(1))
    if case_id is None:
        raise UserError(ErrorCode.UNKNOWN_CASE, f"ticket {ticket_id} has no finished case")
    return record_review(conn, ctx, case_id, grade, reason, "phone")


def supplementary_review(conn: Connection, ctx: HallContext, day: date, number: str,
                         grade: Grade, reason: str | None, channel: Literal["call", "sms"],
                         who: str) -> ReviewRecord:
    """补充评价: a review the citizen gave by phone or SMS, entered by staff (`who`, into
    the audit log) for the case of ticket `number` of `day`, within
    `supplement_working_days` working days of its finish."""
    row = conn.execute(select(cases.c.id, cases.c.finished_at)
                       .select_from(cases.join(tickets, tickets.c.id == cases.c.ticket_id))
                       .where(tickets.c.service_day == day, tickets.c.number == number)
                       .order_by(cases.c.finished_at.desc()).limit(1)).one_or_none()
    if row is None:
        raise UserError(ErrorCode.UNKNOWN_CASE, f"{day} {number}")
    finished = ctx.clock.local(row.finished_at).date()
    last = ctx.calendar.add_working_days(finished, ctx.reviews.supplement_working_days)
    today = ctx.clock.service_day()
    if today > last:
        raise UserError(ErrorCode.REVIEW_TOO_LATE, f"{day} {number}: until {last}",
                        f"该办件{finished.month}月{finished.day}日办结，补充评价期限至"
                        f"{last.month}月{last.day}日，已超过期限")
    record = record_review(conn, ctx, row.id, grade, reason, channel)
    audit.record(conn, ctx.clock.now(), who, "review.supplement", f"{day} {number}", None,
                 {"grade": grade, "channel": channel}, reason)
    return record


def review_of_ticket(conn: Connection, ticket_id: int) -> tuple[bool, Grade | None]:
    """(a case of the ticket is finished, its review's grade or None) for the ticket page."""
    row = conn.execute(select(cases.c.id, reviews.c.grade)
                       .select_from(cases.outerjoin(reviews, reviews.c.case_id == cases.c.id))
                       .where(cases.c.ticket_id == ticket_id)
                       .order_by(cases.c.finished_at.desc()).limit(1)).one_or_none()
    if row is None:
        return False, None
    return True, row.grade


def record_review(conn: Connection, ctx: HallContext, case_id: int, grade: Grade,
                  reason: str | None, channel: Channel, window: int | None = None
                  ) -> ReviewRecord:
    """Keep one review of a case, tied to its item, window and staff member; refused with
    nothing changed if the case is unknown, at another window, reviewed already, or a bad
    review has no reason from the hall's list."""
    case = conn.execute(
        select(cases.c.window_number, cases.c.service_code, cases.c.staff_no, tickets.c.number,
               services.c.name)
        .select_from(cases.join(tickets, tickets.c.id == cases.c.ticket_id)
                     .join(services, services.c.code == cases.c.service_code))
        .where(cases.c.id == case_id)).one_or_none()
    if case is None:
        raise UserError(ErrorCode.UNKNOWN_CASE, f"case {case_id}")
    at, service, staff_no, number, service_name = case
    if window is not None and at != window:
        raise UserError(ErrorCode.NOT_AT_THIS_WINDOW, f"case {case_id} was at {at}")
    if conn.scalar(select(func.count()).where(reviews.c.case_id == case_id)):
        raise UserError(ErrorCode.REVIEW_EXISTS, f"case {case_id}")
    reason = (reason or "").strip() or None
    if grade in BAD_GRADES and reason not in ctx.reviews.bad_review_reasons:
        raise UserError(ErrorCode.REVIEW_REASON, f"reason {reason!r}")
    if grade not in BAD_GRADES:
        reason = None  # a reason goes with a bad review only
    now = ctx.clock.now()
    review_id = conn.execute(insert(reviews).values(
        case_id=case_id, grade=grade, stars=GRADE_STARS[grade], reason=reason,
        channel=channel, window_number=at, service_code=service, staff_no=staff_no,
        created_at=now).returning(reviews.c.id)).scalar_one()
    if grade in BAD_GRADES:  # 谁办理、谁负责: followed up to a result (hub/followups.py)
        open_followup(conn, ctx, review_id, service, now)
    record = ReviewRecord(id=review_id, case_id=case_id, number=number, service=service,
                          service_name=service_name, window=at, staff_no=staff_no,
                          grade=grade, grade_name=GRADE_ZH[grade], stars=GRADE_STARS[grade],
                          reason=reason, created_at=ctx.clock.local(now))
    enqueue(conn, f"review:{ctx.hall_id}:{review_id}",  # to the province (hub/forwarder.py)
            {"kind": "review", "hall": ctx.hall_id, **record.model_dump(mode="json"),
             "channel": channel}, now)  # the channel it came by, not the record's default
    city_sync.review_recorded(conn, ctx, record.model_dump(mode="json"), channel, now)
    return record
