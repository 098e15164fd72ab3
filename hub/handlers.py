"""What the hub does for each request, inside the caller's transaction.

Each `on_<action>` either changes the hall and returns its reply, or raises
`UserError` having changed nothing. Idempotency (a replayed request gets the
first answer) is the dispatcher's job, so these stay plain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, DateTime, bindparam, func, insert, select, update

from hub import hall_state
from hub.clock import Clock
from hub.db.prepared import Prepared
from hub.db.schema import number_counters, services, tickets, window_services, windows
from protocol.errors import ErrorCode, UserError
from protocol.messages import (
    CallNext,
    CaseFinished,
    CloseWindow,
    FinishCase,
    IssueTicket,
    OpenWindow,
    Reply,
    Request,
    Ticket,
    TicketCalled,
    TicketIssued,
    WindowChanged,
)


@dataclass
class Outcome:
    """A handler's reply and which retained states it changed."""

    reply: Reply
    windows: set[int] = field(default_factory=set)
    queue: bool = False


Handler = Callable[[Connection, Clock, str, Request], Outcome]


def format_number(prefix: str, seq: int) -> str:
    """A001 … A999, then A1000: what the citizen reads and the speaker says."""
    return f"{prefix}{seq:03d}"


# The ticket path runs for every citizen: its statements are prepared once and
# it makes as few round trips as it can (see hub/db/prepared.py).
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
    issued_at=bindparam("b_now", type_=DateTime)).returning(tickets.c.id))
_AHEAD = Prepared(select(func.count()).where(
    tickets.c.service_day == bindparam("b_day"), tickets.c.service_code == bindparam("b_code"),
    tickets.c.status == "waiting", tickets.c.id < bindparam("b_id")))


def on_issue_ticket(conn: Connection, clock: Clock, device_id: str, req: Request) -> Outcome:
    """Give the next number of the service's prefix for today, in this transaction."""
    assert isinstance(req, IssueTicket)
    svc = _SERVICE.one_or_none(conn, {"b_code": req.service})
    if svc is None:
        raise UserError(ErrorCode.UNKNOWN_SERVICE, req.service)
    prefix, active, name, department = svc
    if not active:
        raise UserError(ErrorCode.SERVICE_CLOSED, req.service)
    now = clock.now()
    day = clock.service_day(now)
    seq = _BUMP.scalar(conn, {"b_prefix": prefix, "b_day": day})
    if seq is None:  # first ticket of this prefix today
        _NEW_COUNTER.run(conn, {"b_prefix": prefix, "b_day": day})
        seq = 1
    number = format_number(prefix, seq)
    ticket_id = _NEW_TICKET.scalar(conn, {
        "b_rid": str(req.request_id), "b_device": device_id, "b_code": req.service,
        "b_prefix": prefix, "b_seq": seq, "b_number": number, "b_day": day, "b_now": now,
    })
    ahead = _AHEAD.scalar(conn, {"b_day": day, "b_code": req.service, "b_id": ticket_id})
    ticket = Ticket(id=ticket_id, number=number, service=req.service, service_name=name,
                    department=department, service_day=day, issued_at=clock.local(now),
                    status="waiting")
    return Outcome(
        TicketIssued(request_id=req.request_id, ticket=ticket, waiting_before=ahead), queue=True
    )


_WINDOW = Prepared(select(windows.c.status, windows.c.serving_ticket_id)
                   .where(windows.c.number == bindparam("b_win")))
_SET_STATUS = Prepared(update(windows).where(windows.c.number == bindparam("b_win"))
                       .values(status=bindparam("b_status"),
                               updated_at=bindparam("b_now", type_=DateTime)))
_SERVE = Prepared(update(windows).where(windows.c.number == bindparam("b_win"))
                  .values(status="serving", serving_ticket_id=bindparam("b_tid"),
                          call_seq=windows.c.call_seq + 1,
                          updated_at=bindparam("b_now", type_=DateTime)))
_FREE = Prepared(update(windows).where(windows.c.number == bindparam("b_win"))
                 .values(status="open", serving_ticket_id=None,
                         updated_at=bindparam("b_now", type_=DateTime)))
_NEXT_TICKET = Prepared(
    select(tickets.c.id)
    .where(tickets.c.service_day == bindparam("b_day"), tickets.c.status == "waiting",
           tickets.c.service_code.in_(select(window_services.c.service_code).where(
               window_services.c.window_number == bindparam("b_win"))))
    .order_by(tickets.c.issued_at, tickets.c.id)
    .limit(1))
_TAKE = Prepared(update(tickets)  # only if still waiting: two windows never take one ticket
                 .where(tickets.c.id == bindparam("b_tid"), tickets.c.status == "waiting")
                 .values(status="called", called_at=bindparam("b_now", type_=DateTime),
                         window_number=bindparam("b_win")))
_FINISH = Prepared(update(tickets).where(tickets.c.id == bindparam("b_tid"))
                   .values(status="finished", finished_at=bindparam("b_now", type_=DateTime)))


def _window(conn: Connection, number: int) -> tuple[str, int | None]:
    row = _WINDOW.one_or_none(conn, {"b_win": number})
    if row is None:
        raise UserError(ErrorCode.UNKNOWN_WINDOW, f"window {number}")
    return row[0], row[1]


def _window_changed(conn: Connection, clock: Clock, req: OpenWindow | CloseWindow) -> Outcome:
    state = hall_state.window_state(conn, clock, req.window)
    return Outcome(WindowChanged(request_id=req.request_id, window=state), {req.window}, True)


def on_open_window(conn: Connection, clock: Clock, device_id: str, req: Request) -> Outcome:
    """Open the window; opening an open window changes nothing and is not an error."""
    assert isinstance(req, OpenWindow)
    status, _ = _window(conn, req.window)
    if status == "closed":
        _SET_STATUS.run(conn, {"b_win": req.window, "b_status": "open", "b_now": clock.now()})
    return _window_changed(conn, clock, req)


def on_close_window(conn: Connection, clock: Clock, device_id: str, req: Request) -> Outcome:
    """Close the window; a case still open there must be finished first."""
    assert isinstance(req, CloseWindow)
    status, _ = _window(conn, req.window)
    if status == "serving":
        raise UserError(ErrorCode.WINDOW_BUSY, f"window {req.window} is serving")
    if status == "open":
        _SET_STATUS.run(conn, {"b_win": req.window, "b_status": "closed", "b_now": clock.now()})
    return _window_changed(conn, clock, req)


def on_call_next(conn: Connection, clock: Clock, device_id: str, req: Request) -> Outcome:
    """Call today's longest-waiting ticket among the services this window serves."""
    assert isinstance(req, CallNext)
    status, _ = _window(conn, req.window)
    if status == "closed":
        raise UserError(ErrorCode.WINDOW_CLOSED, f"window {req.window}")
    if status == "serving":
        raise UserError(ErrorCode.WINDOW_BUSY, f"window {req.window}")
    now = clock.now()
    ticket_id = _NEXT_TICKET.scalar(conn, {"b_day": clock.service_day(now), "b_win": req.window})
    if ticket_id is None:
        raise UserError(ErrorCode.QUEUE_EMPTY, f"window {req.window}")
    if _TAKE.run(conn, {"b_tid": ticket_id, "b_now": now, "b_win": req.window}).rowcount != 1:
        raise RuntimeError(f"ticket {ticket_id} taken under us")  # answered HUB_ERROR, retried
    _SERVE.run(conn, {"b_win": req.window, "b_tid": ticket_id, "b_now": now})
    return Outcome(
        TicketCalled(request_id=req.request_id, ticket=hall_state.ticket(conn, clock, ticket_id),
                     window=hall_state.window_state(conn, clock, req.window)),
        {req.window}, True,
    )


def on_finish_case(conn: Connection, clock: Clock, device_id: str, req: Request) -> Outcome:
    """Close the case of the ticket being served; the window is free for the next call."""
    assert isinstance(req, FinishCase)
    status, serving = _window(conn, req.window)
    if status != "serving" or serving != req.ticket_id:
        raise UserError(ErrorCode.NOT_SERVING, f"window {req.window} ticket {req.ticket_id}")
    now = clock.now()
    _FINISH.run(conn, {"b_tid": req.ticket_id, "b_now": now})
    _FREE.run(conn, {"b_win": req.window, "b_now": now})
    return Outcome(
        CaseFinished(request_id=req.request_id,
                     ticket=hall_state.ticket(conn, clock, req.ticket_id),
                     window=hall_state.window_state(conn, clock, req.window)),
        {req.window}, True,
    )


HANDLERS: dict[type[Request], Handler] = {
    IssueTicket: on_issue_ticket,
    OpenWindow: on_open_window,
    CloseWindow: on_close_window,
    CallNext: on_call_next,
    FinishCase: on_finish_case,
}
