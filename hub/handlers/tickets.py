"""Issuing a ticket: the next number of the service's prefix for today.

No ghost tickets: a kiosk's ticket is `pending` until the kiosk confirms that the
citizen has it (printed, shown on screen and tapped, or on the phone); only then does
it join the queue. A number that reached nobody is voided with the reason and never
called. The guide desk hands its tickets over in person: they wait at once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, DateTime, bindparam, func, insert, select, update

from hub import hall_state
from hub.context import HallContext, Outcome
from hub.db.prepared import Prepared
from hub.db.schema import number_counters, services, tickets
from hub.wait_estimate import estimate_for
from protocol.errors import ErrorCode, UserError
from protocol.messages import (
    ConfirmTicket,
    IssuePriorityTicket,
    IssueTicket,
    Request,
    Ticket,
    TicketConfirmed,
    TicketIssued,
    TicketVoided,
    VoidTicket,
)


def format_number(prefix: str, seq: int) -> str:
    """A001 … A999, then A1000: what the citizen reads and the speaker says."""
    return f"{prefix}{seq:03d}"


# This runs for every citizen: its statements are prepared once and it makes as
# few round trips as it can (see hub/db/prepared.py).
_SERVICE = Prepared(
    select(services.c.prefix, services.c.active, services.c.name, services.c.department_name)
    .where(services.c.code == bindparam("b_code")))
_BUMP = Prepared(
    update(number_counters)
    .where(number_counters.c.prefix == bindparam("b_prefix"),
           number_counters.c.service_day == bindparam("b_day"))
    .values(last_seq=number_counters.c.last_seq + 1).returning(number_counters.c.last_seq))
_NEW_COUNTER = Prepared(insert(number_counters).values(
    prefix=bindparam("b_prefix"), service_day=bindparam("b_day"), last_seq=1))
_NEW_TICKET = Prepared(insert(tickets).values(
    request_id=bindparam("b_rid"), device_id=bindparam("b_device"),
    service_code=bindparam("b_code"), prefix=bindparam("b_prefix"), seq=bindparam("b_seq"),
    number=bindparam("b_number"), service_day=bindparam("b_day"),
    issued_at=bindparam("b_now", type_=DateTime), recalls=0,
    priority=bindparam("b_priority"), status=bindparam("b_status"),
    appointment_id=bindparam("b_appt")).returning(tickets.c.id))
_KIOSK_TODAY = Prepared(select(func.count()).where(  # a voided number reached nobody
    tickets.c.service_day == bindparam("b_day"), tickets.c.service_code == bindparam("b_code"),
    tickets.c.priority.is_(None), tickets.c.status != "void"))
_AHEAD = Prepared(select(func.count()).where(
    tickets.c.service_day == bindparam("b_day"), tickets.c.service_code == bindparam("b_code"),
    tickets.c.status == "waiting", tickets.c.id < bindparam("b_id")))
_PRIORITY_AHEAD = Prepared(select(func.count()).where(
    tickets.c.service_day == bindparam("b_day"), tickets.c.service_code == bindparam("b_code"),
    tickets.c.status == "waiting", tickets.c.id < bindparam("b_id"),
    tickets.c.priority.is_not(None)))


def on_issue_ticket(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """A kiosk's ticket: the next number of the service's prefix for today."""
    assert isinstance(req, IssueTicket)
    return issue(conn, ctx, device_id, req, req.service)


def on_issue_priority_ticket(conn: Connection, ctx: HallContext, device_id: str,
                             req: Request) -> Outcome:
    """The guide desk's priority ticket (老弱病残孕军): same numbering, called first."""
    assert isinstance(req, IssuePriorityTicket)
    return issue(conn, ctx, device_id, req, req.service, priority=req.group)


def issue(conn: Connection, ctx: HallContext, device_id: str, req: Request, service: str, *,
          priority: str | None = None, appointment_id: str | None = None) -> Outcome:
    """Number a ticket in this transaction, with the request's record (the dispatcher's).

    An appointment's ticket (hub/handlers/check_in.py) skips the walk-in issuing hours
    and cap: its slot was booked (out-of-hours slots too) and the check-in window
    decides when it may be taken.
    """
    svc = _SERVICE.one_or_none(conn, {"b_code": service})
    if svc is None:
        raise UserError(ErrorCode.UNKNOWN_SERVICE, service)
    prefix, active, name, department = svc
    if not active:
        raise UserError(ErrorCode.SERVICE_CLOSED, service)
    now = ctx.clock.now()
    day = ctx.clock.service_day(now)
    if ctx.issuing is not None and appointment_id is None:
        local = ctx.clock.local(now)
        if not ctx.issuing.is_open(service, local):
            raise UserError(ErrorCode.OUTSIDE_HOURS, service,
                            ctx.issuing.closed_message(service, local))
        cap = ctx.issuing.cap(service)
        if priority is None and cap is not None and \
                _KIOSK_TODAY.scalar(conn, {"b_day": day, "b_code": service}) >= cap:
            raise UserError(ErrorCode.CAP_REACHED, f"{service} cap {cap}")
    seq = _BUMP.scalar(conn, {"b_prefix": prefix, "b_day": day})
    if seq is None:  # first ticket of this prefix today
        _NEW_COUNTER.run(conn, {"b_prefix": prefix, "b_day": day})
        seq = 1
    number = format_number(prefix, seq)
    ticket_id = _NEW_TICKET.scalar(conn, {
        "b_rid": str(req.request_id), "b_device": device_id, "b_code": service,
        "b_prefix": prefix, "b_seq": seq, "b_number": number, "b_day": day, "b_now": now,
        "b_priority": priority, "b_status": "pending" if priority is None else "waiting",
        "b_appt": appointment_id,
    })
    ahead = (_PRIORITY_AHEAD if priority else _AHEAD).scalar(
        conn, {"b_day": day, "b_code": service, "b_id": ticket_id})
    est = estimate_for(conn, day, now, service, ticket_id, priority is not None)
    ticket = Ticket(id=ticket_id, number=number, service=service, service_name=name,
                    department=department, service_day=day, issued_at=ctx.clock.local(now),
                    status="pending" if priority is None else "waiting", priority=priority)
    return Outcome(
        TicketIssued(request_id=req.request_id, ticket=ticket, waiting_before=ahead,
                     est_wait_s=est, track_url=ctx.links.url(ticket_id) if ctx.links else None),
        queue=True
    )


_HANDED = Prepared(select(tickets.c.device_id, tickets.c.status, tickets.c.service_code,
                          tickets.c.service_day, tickets.c.priority)
                   .where(tickets.c.id == bindparam("b_tid")))
_SETTLE = Prepared(update(tickets)
                   .where(tickets.c.id == bindparam("b_tid"), tickets.c.status == "pending")
                   .values(status=bindparam("b_status"), handed_over=bindparam("b_how"),
                           closed_reason=bindparam("b_reason"),
                           confirmed_at=bindparam("b_now", type_=DateTime)))


def _pending_of(conn: Connection, device_id: str, ticket_id: int) -> tuple[str, str, date, bool]:
    """(status, service, day, priority) of a ticket this kiosk issued; refused otherwise."""
    row = _HANDED.one_or_none(conn, {"b_tid": ticket_id})
    if row is None or row[0] != device_id:  # only the kiosk that printed it can tell
        raise UserError(ErrorCode.UNKNOWN_TICKET, f"ticket {ticket_id} from {device_id}")
    _, status, service, day, priority = row
    return status, service, day, priority is not None


def on_confirm_ticket(conn: Connection, ctx: HallContext, device_id: str,
                      req: Request) -> Outcome:
    """The citizen has the ticket: it joins the queue at its issue time."""
    assert isinstance(req, ConfirmTicket)
    status, service, day, priority = _pending_of(conn, device_id, req.ticket_id)
    if status == "void":
        raise UserError(ErrorCode.TICKET_VOID, f"ticket {req.ticket_id}")
    now = ctx.clock.now()
    if status == "pending":
        _SETTLE.run(conn, {"b_tid": req.ticket_id, "b_status": "waiting", "b_how": req.how,
                           "b_reason": None, "b_now": now})
    ahead = (_PRIORITY_AHEAD if priority else _AHEAD).scalar(
        conn, {"b_day": day, "b_code": service, "b_id": req.ticket_id})
    est = estimate_for(conn, day, now, service, req.ticket_id, priority)
    return Outcome(TicketConfirmed(request_id=req.request_id,
                                   ticket=hall_state.ticket(conn, ctx.clock, req.ticket_id),
                                   waiting_before=ahead, est_wait_s=est), queue=True)


def on_void_ticket(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """The number reached nobody: recorded with the reason, never called."""
    assert isinstance(req, VoidTicket)
    status, *_ = _pending_of(conn, device_id, req.ticket_id)
    if status not in ("pending", "void"):
        raise UserError(ErrorCode.TICKET_IN_HAND, f"ticket {req.ticket_id} is {status}")
    if status == "pending":
        _SETTLE.run(conn, {"b_tid": req.ticket_id, "b_status": "void", "b_how": None,
                           "b_reason": req.reason, "b_now": ctx.clock.now()})
    return Outcome(TicketVoided(request_id=req.request_id,
                                ticket=hall_state.ticket(conn, ctx.clock, req.ticket_id)),
                   queue=True)


def hand_over_by_phone(conn: Connection, ticket_id: int, now: datetime) -> bool:
    """A pending ticket whose page was opened on a phone is in the citizen's hand."""
    return hand_over(conn, ticket_id, "phone", now)


def hand_over(conn: Connection, ticket_id: int, how: str, now: datetime) -> bool:
    """A pending ticket is in the citizen's hand (`how`: phone, desk): it joins the queue."""
    done = _SETTLE.run(conn, {"b_tid": ticket_id, "b_status": "waiting", "b_how": how,
                              "b_reason": None, "b_now": now})
    return bool(done.rowcount == 1)
