"""Issuing a ticket: the next number of the service's prefix for today."""

from __future__ import annotations

from sqlalchemy import Connection, DateTime, bindparam, func, insert, select, update

from hub.context import HallContext, Outcome
from hub.db.prepared import Prepared
from hub.db.schema import number_counters, services, tickets
from hub.wait_estimate import estimate_for
from protocol.errors import ErrorCode, UserError
from protocol.messages import IssuePriorityTicket, IssueTicket, Request, Ticket, TicketIssued


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
    number=bindparam("b_number"), service_day=bindparam("b_day"), status="waiting",
    issued_at=bindparam("b_now", type_=DateTime), recalls=0,
    priority=bindparam("b_priority")).returning(tickets.c.id))
_KIOSK_TODAY = Prepared(select(func.count()).where(
    tickets.c.service_day == bindparam("b_day"), tickets.c.service_code == bindparam("b_code"),
    tickets.c.priority.is_(None)))
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
    return _issue(conn, ctx, device_id, req, req.service, None)


def on_issue_priority_ticket(conn: Connection, ctx: HallContext, device_id: str,
                             req: Request) -> Outcome:
    """The guide desk's priority ticket (老弱病残孕军): same numbering, called first."""
    assert isinstance(req, IssuePriorityTicket)
    return _issue(conn, ctx, device_id, req, req.service, req.group)


def _issue(conn: Connection, ctx: HallContext, device_id: str, req: Request, service: str,
           priority: str | None) -> Outcome:
    """Number a ticket in this transaction, with the request's record (the dispatcher's)."""
    svc = _SERVICE.one_or_none(conn, {"b_code": service})
    if svc is None:
        raise UserError(ErrorCode.UNKNOWN_SERVICE, service)
    prefix, active, name, department = svc
    if not active:
        raise UserError(ErrorCode.SERVICE_CLOSED, service)
    now = ctx.clock.now()
    day = ctx.clock.service_day(now)
    if ctx.issuing is not None:
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
        "b_priority": priority,
    })
    ahead = (_PRIORITY_AHEAD if priority else _AHEAD).scalar(
        conn, {"b_day": day, "b_code": service, "b_id": ticket_id})
    est = estimate_for(conn, day, service, ticket_id, priority is not None)
    ticket = Ticket(id=ticket_id, number=number, service=service, service_name=name,
                    department=department, service_day=day, issued_at=ctx.clock.local(now),
                    status="waiting", priority=priority)
    return Outcome(
        TicketIssued(request_id=req.request_id, ticket=ticket, waiting_before=ahead,
                     est_wait_s=est), queue=True
    )
