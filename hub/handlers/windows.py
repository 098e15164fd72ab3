"""Opening, closing, pausing (暂停服务) and leaving a window for a moment (A/B post away)."""

from __future__ import annotations

from sqlalchemy import Connection, DateTime, bindparam, insert, select, update

from hub import hall_state
from hub.context import HallContext, Outcome
from hub.db.prepared import Prepared
from hub.db.schema import staff, window_absences, windows
from hub.pins import check_pin
from protocol.errors import ErrorCode, UserError
from protocol.messages import (
    CloseWindow,
    OpenWindow,
    PauseWindow,
    Request,
    ResumeWindow,
    SignIn,
    SignOut,
    StepAway,
    WindowChanged,
)

_WINDOW = Prepared(select(windows.c.status, windows.c.serving_ticket_id)
                   .where(windows.c.number == bindparam("b_win")))
_SET_STATUS = Prepared(update(windows).where(windows.c.number == bindparam("b_win"))
                       .values(status=bindparam("b_status"), pause_reason=None, away_post=None,
                               paused_since=None, updated_at=bindparam("b_now", type_=DateTime)))
_PAUSE = Prepared(update(windows).where(windows.c.number == bindparam("b_win"))
                  .values(status=bindparam("b_status"), pause_reason=bindparam("b_reason"),
                          away_post=bindparam("b_post"),
                          paused_since=bindparam("b_now", type_=DateTime),
                          updated_at=bindparam("b_now", type_=DateTime)))
_ABSENCE_STARTS = Prepared(insert(window_absences).values(
    window_number=bindparam("b_win"), kind=bindparam("b_kind"), post=bindparam("b_post"),
    reason=bindparam("b_reason"), started_at=bindparam("b_now", type_=DateTime)))
_ABSENCE_ENDS = Prepared(update(window_absences)
                         .where(window_absences.c.window_number == bindparam("b_win"),
                                window_absences.c.ended_at.is_(None))
                         .values(ended_at=bindparam("b_now", type_=DateTime)))


def window_status(conn: Connection, number: int) -> tuple[str, int | None]:
    """(status, ticket being served) of a window; UNKNOWN_WINDOW when there is none."""
    row = _WINDOW.one_or_none(conn, {"b_win": number})
    if row is None:
        raise UserError(ErrorCode.UNKNOWN_WINDOW, f"window {number}")
    return row[0], row[1]


def set_status(conn: Connection, ctx: HallContext, number: int, status: str) -> None:
    """Set a plain status (open, closed); ends any pause or absence on record."""
    now = ctx.clock.now()
    _SET_STATUS.run(conn, {"b_win": number, "b_status": status, "b_now": now})
    _ABSENCE_ENDS.run(conn, {"b_win": number, "b_now": now})


def _changed(conn: Connection, ctx: HallContext, req: Request, window: int) -> Outcome:
    state = hall_state.window_state(conn, ctx.clock, window)
    return Outcome(WindowChanged(request_id=req.request_id, window=state), {window}, True)


def on_open_window(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """Open the window; opening an open window changes nothing and is not an error."""
    assert isinstance(req, OpenWindow)
    status, _ = window_status(conn, req.window)
    if status == "closed":
        set_status(conn, ctx, req.window, "open")
    return _changed(conn, ctx, req, req.window)


def on_close_window(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """Close the window; a case still open there must be finished first."""
    assert isinstance(req, CloseWindow)
    status, _ = window_status(conn, req.window)
    if status == "serving":
        raise UserError(ErrorCode.WINDOW_BUSY, f"window {req.window} is serving")
    if status != "closed":
        set_status(conn, ctx, req.window, "closed")
    return _changed(conn, ctx, req, req.window)


def _step_out(conn: Connection, ctx: HallContext, window: int, kind: str, post: str | None,
              reason: str | None) -> None:
    status, _ = window_status(conn, window)
    if status == "closed":
        raise UserError(ErrorCode.WINDOW_CLOSED, f"window {window}")
    if status == "serving":
        raise UserError(ErrorCode.WINDOW_BUSY, f"window {window} is serving")
    now = ctx.clock.now()
    _ABSENCE_ENDS.run(conn, {"b_win": window, "b_now": now})  # a pause may turn into an absence
    params = {"b_win": window, "b_post": post, "b_reason": reason, "b_now": now}
    _PAUSE.run(conn, {**params, "b_status": "paused" if kind == "pause" else "away"})
    _ABSENCE_STARTS.run(conn, {**params, "b_kind": kind})


def on_pause_window(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """暂停服务 with a reason, between cases; the screens show it, the hub times it."""
    assert isinstance(req, PauseWindow)
    _step_out(conn, ctx, req.window, "pause", None, req.reason)
    return _changed(conn, ctx, req, req.window)


def on_step_away(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """The A or B post leaves the window; the dashboard flags it past the hall's limit."""
    assert isinstance(req, StepAway)
    _step_out(conn, ctx, req.window, "away", req.post, None)
    return _changed(conn, ctx, req, req.window)


def on_resume_window(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """Back at the window: the pause or absence ends; resuming an open window changes nothing."""
    assert isinstance(req, ResumeWindow)
    status, _ = window_status(conn, req.window)
    if status == "closed":
        raise UserError(ErrorCode.WINDOW_CLOSED, f"window {req.window}")
    if status in ("paused", "away"):
        set_status(conn, ctx, req.window, "open")
    return _changed(conn, ctx, req, req.window)


_STAFF = Prepared(select(staff.c.pin_hash, staff.c.active)
                  .where(staff.c.number == bindparam("b_staff")))
_POSTS = Prepared(select(windows.c.post_a, windows.c.post_b)
                  .where(windows.c.number == bindparam("b_win")))
_ON_DUTY = Prepared(update(windows).where(windows.c.number == bindparam("b_win"))
                    .values(on_duty=bindparam("b_staff"),
                            updated_at=bindparam("b_now", type_=DateTime)))


def on_sign_in(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """Staff number and PIN at the window's caller; the staff card shows on the screen."""
    assert isinstance(req, SignIn)
    window_status(conn, req.window)
    now = ctx.clock.now()
    guard = ctx.sign_in_guard
    if guard.locked(req.staff_no, now):
        raise UserError(ErrorCode.SIGN_IN_LOCKED, req.staff_no)
    found = _STAFF.one_or_none(conn, {"b_staff": req.staff_no})
    if found is None or not found[1] or not check_pin(req.pin, found[0]):
        guard.failed(req.staff_no, now)
        raise UserError(ErrorCode.BAD_SIGN_IN, req.staff_no)
    guard.succeeded(req.staff_no)
    posts = _POSTS.one_or_none(conn, {"b_win": req.window}) or (None, None)
    if req.staff_no not in posts:
        raise UserError(ErrorCode.NOT_POSTED, f"{req.staff_no} at window {req.window}")
    _ON_DUTY.run(conn, {"b_win": req.window, "b_staff": req.staff_no, "b_now": now})
    return _changed(conn, ctx, req, req.window)


def on_sign_out(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """The member of staff on duty leaves the window; a case in hand must be finished first."""
    assert isinstance(req, SignOut)
    status, _ = window_status(conn, req.window)
    if status == "serving":
        raise UserError(ErrorCode.WINDOW_BUSY, f"window {req.window} is serving")
    _ON_DUTY.run(conn, {"b_win": req.window, "b_staff": None, "b_now": ctx.clock.now()})
    return _changed(conn, ctx, req, req.window)
