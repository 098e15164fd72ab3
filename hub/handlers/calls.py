"""Calling tickets to a window: call next, recall, no-show, call back, transfer, finish.

The call-next rule: among today's waiting tickets that this window may call (those
of the services it serves, and those transferred to this very window), priority
tickets (老弱病残孕军, from the guide desk) first, then the one issued first. A
transferred ticket keeps its issue time, so it keeps its place. (Appointments due
now will come between the two with the appointments issue.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    Time,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)

from hub import hall_state
from hub.context import HallContext, Outcome
from hub.db.prepared import Prepared
from hub.db.schema import (
    appointments,
    cases,
    services,
    ticket_events,
    tickets,
    window_services,
    windows,
)
from hub.handlers.windows import window_status
from protocol.errors import ErrorCode, UserError
from protocol.messages import (
    CallNext,
    CallNumber,
    CaseFinished,
    FinishCase,
    NoShow,
    NoShowRecorded,
    Recall,
    Request,
    TicketAtWindow,
    TicketCalled,
    TicketTransferred,
    TransferTicket,
)

_SERVES = select(window_services.c.service_code).where(
    window_services.c.window_number == bindparam("b_win"))
_CALLABLE_HERE = or_(
    and_(tickets.c.target_window.is_(None), tickets.c.service_code.in_(_SERVES)),
    tickets.c.target_window == bindparam("b_win"))
# The call rule in three steps, the first and last served by the index ix_tickets_call_order
# (day, status, priority, issued_at): the few priority tickets first; then appointments in
# their slot (by the partial index on appointment_id); then the walk-ins in issue order,
# where SQLite walks the index and stops at the first this window may call, instead of
# sorting the whole queue for every call.
_NEXT_PRIORITY = Prepared(
    select(tickets.c.id, tickets.c.issued_at)
    .where(tickets.c.service_day == bindparam("b_day"), tickets.c.status == "waiting",
           tickets.c.priority.is_not(None), _CALLABLE_HERE)
    .order_by(tickets.c.issued_at, tickets.c.id)
    .limit(1))
# Appointments checked in whose slot has begun come after priority tickets, before walk-ins
# (seed 003: called ahead in their slot); before their slot they wait like walk-ins.
_NEXT_APPOINTMENT = Prepared(
    select(tickets.c.id, tickets.c.issued_at)
    .select_from(tickets.join(appointments, appointments.c.id == tickets.c.appointment_id))
    .where(tickets.c.service_day == bindparam("b_day"), tickets.c.status == "waiting",
           tickets.c.priority.is_(None), tickets.c.appointment_id.is_not(None),
           appointments.c.slot_start <= bindparam("b_time", type_=Time), _CALLABLE_HERE)
    .order_by(appointments.c.slot_start, tickets.c.issued_at, tickets.c.id)
    .limit(1))
_NEXT_WALK_IN = Prepared(
    select(tickets.c.id, tickets.c.issued_at)
    .where(tickets.c.service_day == bindparam("b_day"), tickets.c.status == "waiting",
           tickets.c.priority.is_(None), _CALLABLE_HERE)
    .order_by(tickets.c.issued_at, tickets.c.id)
    .limit(1))
_TAKE = Prepared(update(tickets)  # only if still waiting: two windows never take one ticket
                 .where(tickets.c.id == bindparam("b_tid"), tickets.c.status == "waiting")
                 .values(status="called", called_at=bindparam("b_now", type_=DateTime),
                         window_number=bindparam("b_win"),
                         wait_seconds=func.coalesce(tickets.c.wait_seconds, bindparam("b_wait"))))
_SERVE = Prepared(update(windows).where(windows.c.number == bindparam("b_win"))
                  .values(status="serving", serving_ticket_id=bindparam("b_tid"),
                          call_seq=windows.c.call_seq + 1,
                          updated_at=bindparam("b_now", type_=DateTime)))
_RECALLS = Prepared(select(tickets.c.recalls).where(tickets.c.id == bindparam("b_tid")))
_RECALL = Prepared(update(tickets).where(tickets.c.id == bindparam("b_tid"))
                   .values(recalls=tickets.c.recalls + 1))
_END = Prepared(update(tickets).where(tickets.c.id == bindparam("b_tid"))
                .values(status=bindparam("b_status"),
                        finished_at=bindparam("b_finished", type_=DateTime),
                        no_show_at=bindparam("b_no_show", type_=DateTime),
                        service_seconds=bindparam("b_service_s")))
_FREE = Prepared(update(windows).where(windows.c.number == bindparam("b_win"))
                 .values(status="open", serving_ticket_id=None,
                         updated_at=bindparam("b_now", type_=DateTime)))
_SERVICE_OF = Prepared(
    select(services.c.code, services.c.materials, services.c.promised_days, tickets.c.called_at)
    .select_from(tickets.join(services)).where(tickets.c.id == bindparam("b_tid")))
_NEW_CASE = Prepared(insert(cases).values(
    ticket_id=bindparam("b_tid"), service_code=bindparam("b_code"),
    window_number=bindparam("b_win"), outcome=bindparam("b_outcome"),
    promised_date=bindparam("b_promised", type_=Date), reason=bindparam("b_reason"),
    missing=bindparam("b_missing", type_=JSON), departments=bindparam("b_departments", type_=JSON),
    staff_no=select(windows.c.on_duty).where(windows.c.number == bindparam("b_win"))
    .scalar_subquery(),
    finished_at=bindparam("b_now", type_=DateTime)))
_BY_NUMBER = Prepared(
    select(tickets.c.id, tickets.c.status, tickets.c.no_show_at, _CALLABLE_HERE)
    .where(tickets.c.service_day == bindparam("b_day"), tickets.c.number == bindparam("b_no")))
_EVENT = Prepared(insert(ticket_events).values(
    ticket_id=bindparam("b_tid"), at=bindparam("b_now", type_=DateTime), event=bindparam("b_event"),
    window_number=bindparam("b_win"), detail=bindparam("b_detail", type_=JSON)))
_REQUEUE = Prepared(update(tickets).where(tickets.c.id == bindparam("b_tid"))
                    .values(status="waiting", window_number=None, recalls=0,
                            service_code=bindparam("b_code"),
                            target_window=bindparam("b_target")))
_OPEN_WINDOWS_FOR = Prepared(
    select(func.count()).select_from(window_services.join(windows))
    .where(window_services.c.service_code == bindparam("b_code"), windows.c.status != "closed"))
_SERVICE_ACTIVE = Prepared(select(services.c.active)
                           .where(services.c.code == bindparam("b_code")))


def record_event(conn: Connection, ticket_id: int, event: str, window: int | None,
                 now: datetime, **detail: object) -> None:
    """One line of the ticket's history."""
    _EVENT.run(conn, {"b_tid": ticket_id, "b_now": now, "b_event": event, "b_win": window,
                      "b_detail": detail})


_CALL_BACK = Prepared(update(tickets)
                      .where(tickets.c.id == bindparam("b_tid"), tickets.c.status == "no_show")
                      .values(status="called", window_number=bindparam("b_win"), recalls=0))


def _check_ready(conn: Connection, window: int) -> None:
    """A window can call only when it is open and serves nobody."""
    status, _ = window_status(conn, window)
    if status == "closed":
        raise UserError(ErrorCode.WINDOW_CLOSED, f"window {window}")
    if status in ("paused", "away"):
        raise UserError(ErrorCode.WINDOW_PAUSED, f"window {window} is {status}")
    if status == "serving":
        raise UserError(ErrorCode.WINDOW_BUSY, f"window {window}")


def _check_serving(conn: Connection, window: int, ticket_id: int) -> None:
    status, serving = window_status(conn, window)
    if status != "serving" or serving != ticket_id:
        raise UserError(ErrorCode.NOT_SERVING, f"window {window} ticket {ticket_id}")


def _at_window(conn: Connection, ctx: HallContext, req: Request, window: int, ticket_id: int,
               reply: type[TicketAtWindow] = TicketCalled, **extra: object) -> Outcome:
    """The reply about a ticket at a window, with both as they are now."""
    return Outcome(reply(request_id=req.request_id,
                         ticket=hall_state.ticket(conn, ctx.clock, ticket_id),
                         window=hall_state.window_state(conn, ctx.clock, window), **extra),
                   {window}, True)


def on_call_next(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """Call today's longest-waiting ticket among the services this window serves."""
    assert isinstance(req, CallNext)
    _check_ready(conn, req.window)
    now = ctx.clock.now()
    where = {"b_day": ctx.clock.service_day(now), "b_win": req.window}
    found = (_NEXT_PRIORITY.one_or_none(conn, where)
             or _NEXT_APPOINTMENT.one_or_none(conn, {
                 **where, "b_time": ctx.clock.local(now).time().replace(tzinfo=None)})
             or _NEXT_WALK_IN.one_or_none(conn, where))
    if found is None:
        raise UserError(ErrorCode.QUEUE_EMPTY, f"window {req.window}")
    ticket_id, issued_at = found
    wait = round((now - issued_at).total_seconds())
    if _TAKE.run(conn, {"b_tid": ticket_id, "b_now": now, "b_win": req.window,
                        "b_wait": wait}).rowcount != 1:
        raise RuntimeError(f"ticket {ticket_id} taken under us")  # answered HUB_ERROR, retried
    _SERVE.run(conn, {"b_win": req.window, "b_tid": ticket_id, "b_now": now})
    record_event(conn, ticket_id, "called", req.window, now)
    return _at_window(conn, ctx, req, req.window, ticket_id)


def on_recall(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """Call the ticket being served once more, up to the hall's number of recalls."""
    assert isinstance(req, Recall)
    _check_serving(conn, req.window, req.ticket_id)
    if _RECALLS.scalar(conn, {"b_tid": req.ticket_id}) >= ctx.rules.max_recalls:
        raise UserError(ErrorCode.RECALL_LIMIT, f"ticket {req.ticket_id}")
    _RECALL.run(conn, {"b_tid": req.ticket_id})
    now = ctx.clock.now()
    _SERVE.run(conn, {"b_win": req.window, "b_tid": req.ticket_id, "b_now": now})
    record_event(conn, req.ticket_id, "recalled", req.window, now)
    return _at_window(conn, ctx, req, req.window, req.ticket_id)


def on_no_show(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """过号: after the recalls the ticket leaves the queue and the window is free."""
    assert isinstance(req, NoShow)
    _check_serving(conn, req.window, req.ticket_id)
    if _RECALLS.scalar(conn, {"b_tid": req.ticket_id}) < ctx.rules.no_show_after_recalls:
        raise UserError(ErrorCode.RECALL_FIRST, f"ticket {req.ticket_id}")
    now = ctx.clock.now()
    _END.run(conn, {"b_tid": req.ticket_id, "b_status": "no_show", "b_finished": None,
                    "b_no_show": now, "b_service_s": None})
    _FREE.run(conn, {"b_win": req.window, "b_now": now})
    record_event(conn, req.ticket_id, "no_show", req.window, now)
    return _at_window(conn, ctx, req, req.window, req.ticket_id, NoShowRecorded)


def on_call_number(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """Call back a no-show by its number, within the hall's time for late returns."""
    assert isinstance(req, CallNumber)
    _check_ready(conn, req.window)
    now = ctx.clock.now()
    found = _BY_NUMBER.one_or_none(conn, {"b_day": ctx.clock.service_day(now),
                                          "b_no": req.number, "b_win": req.window})
    if found is None:
        raise UserError(ErrorCode.UNKNOWN_NUMBER, req.number)
    ticket_id, status, no_show_at, served_here = found
    if status != "no_show":
        raise UserError(ErrorCode.NOT_NO_SHOW, f"{req.number} is {status}")
    if now - no_show_at > timedelta(minutes=ctx.rules.late_return_minutes):
        raise UserError(ErrorCode.LATE_RETURN_EXPIRED, req.number)
    if not served_here:
        raise UserError(ErrorCode.NOT_AT_THIS_WINDOW, f"{req.number} at window {req.window}")
    _CALL_BACK.run(conn, {"b_tid": ticket_id, "b_win": req.window})
    _SERVE.run(conn, {"b_win": req.window, "b_tid": ticket_id, "b_now": now})
    record_event(conn, ticket_id, "called_back", req.window, now)
    return _at_window(conn, ctx, req, req.window, ticket_id)


def on_finish_case(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """Close the case with its outcome and record it; the window is free for the next call."""
    assert isinstance(req, FinishCase)
    _check_serving(conn, req.window, req.ticket_id)
    service, materials, promised_days, called_at = _SERVICE_OF.one_or_none(
        conn, {"b_tid": req.ticket_id}) or ("", [], 0, None)
    _check_outcome(conn, req, materials)
    now = ctx.clock.now()
    promised = None
    if req.outcome == "promised":
        promised = ctx.calendar.add_working_days(ctx.clock.service_day(now), promised_days)
    service_s = round((now - called_at).total_seconds()) if called_at else None
    _END.run(conn, {"b_tid": req.ticket_id, "b_status": "finished", "b_finished": now,
                    "b_no_show": None, "b_service_s": service_s})
    _FREE.run(conn, {"b_win": req.window, "b_now": now})
    _NEW_CASE.run(conn, {
        "b_tid": req.ticket_id, "b_code": service, "b_win": req.window, "b_outcome": req.outcome,
        "b_promised": promised, "b_reason": req.reason, "b_missing": req.missing,
        "b_departments": req.departments, "b_now": now,
    })
    record_event(conn, req.ticket_id, "finished", req.window, now, outcome=req.outcome)
    return _at_window(conn, ctx, req, req.window, req.ticket_id, CaseFinished,
                      case=hall_state.case_record(conn, ctx.clock, req.ticket_id),
                      review_url=ctx.links.url(req.ticket_id) if ctx.links else None)


def _check_outcome(conn: Connection, req: FinishCase, materials: list[str]) -> None:
    """Each outcome's paperwork: a reason for a refusal, listed materials for 补正, …"""
    if req.outcome == "refused" and not (req.reason and req.reason.strip()):
        raise UserError(ErrorCode.REASON_REQUIRED, f"ticket {req.ticket_id}")
    if req.outcome == "incomplete":
        if not req.missing:
            raise UserError(ErrorCode.MISSING_REQUIRED, f"ticket {req.ticket_id}")
        if unknown := set(req.missing) - set(materials):
            raise UserError(ErrorCode.UNKNOWN_MATERIAL, f"{sorted(unknown)}")
    if req.outcome == "joint":
        if not req.departments or set(req.departments) - hall_state.departments(conn).keys():
            raise UserError(ErrorCode.UNKNOWN_DEPARTMENT, f"{req.departments}")


def on_transfer(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """Send the ticket on to a service or a window; it waits again in its old place."""
    assert isinstance(req, TransferTicket)
    _check_serving(conn, req.window, req.ticket_id)
    service = _SERVICE_OF.scalar(conn, {"b_tid": req.ticket_id})
    if req.to_window is not None:
        target_status, _ = window_status(conn, req.to_window)
        if target_status == "closed":
            raise UserError(ErrorCode.TARGET_CLOSED, f"window {req.to_window}")
    else:
        active = _SERVICE_ACTIVE.scalar(conn, {"b_code": req.to_service})
        if not active:
            raise UserError(ErrorCode.UNKNOWN_SERVICE, f"{req.to_service}")
        if not _OPEN_WINDOWS_FOR.scalar(conn, {"b_code": req.to_service}):
            raise UserError(ErrorCode.NO_OPEN_WINDOW, f"{req.to_service}")
        service = req.to_service
    now = ctx.clock.now()
    _REQUEUE.run(conn, {"b_tid": req.ticket_id, "b_code": service, "b_target": req.to_window})
    _FREE.run(conn, {"b_win": req.window, "b_now": now})
    record_event(conn, req.ticket_id, "transferred", req.window, now,
                 to_service=req.to_service, to_window=req.to_window)
    return _at_window(conn, ctx, req, req.window, req.ticket_id, TicketTransferred)
