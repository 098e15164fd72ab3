"""The settings API: the window–service matrix and the calendar, changed while the hall runs,
the managers' appointment actions (confirm, excuse a no-show, lift a blacklisting), review
follow-ups, the points of the weekly ranking (周通报), and the dashboard's accounts.

JSON in and out, one error shape (`{"ok": false, "code": ..., "message": 中文}`).
Until staff accounts exist (the dashboard issue), it answers only to the hub machine
itself (`./hallq admin` runs there); PUT and DELETE with a JSON body cannot be sent
cross-site by a browser without a preflight this API never grants.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, select

from hub import accounts, appointment_admin, followups, weekly_ranking
from hub.context import HallContext
from hub.db.schema import review_followups, reviews, services
from hub.handlers.reviews import supplementary_review
from hub.live_settings import LiveSettings
from protocol.errors import ZH, ErrorCode, UserError
from protocol.messages import GRADE_ZH, Grade

LOOPBACK = {"127.0.0.1", "::1"}
FORBIDDEN_ZH = "设置只能在大厅服务器本机修改（管理员账号功能上线前）"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


DEFAULT_WHO = "大厅服务器本机"  # who changed it, when the command did not say


class WindowServicesBody(_Body):
    services: list[str] = Field(max_length=500)
    who: str = Field(DEFAULT_WHO, min_length=1, max_length=50)


class CalendarDay(_Body):
    day: date
    workday: bool  # true: a 调休 working day; false: a holiday
    note: str = Field("", max_length=100)


class CalendarBody(_Body):
    days: list[CalendarDay] = Field(min_length=1, max_length=400)
    who: str = Field(DEFAULT_WHO, min_length=1, max_length=50)


class ConfirmBody(_Body):
    accept: bool
    who: str = Field(min_length=1, max_length=50)
    note: str = Field("", max_length=200)


class SupplementBody(_Body):
    day: date
    number: str = Field(pattern=r"^[A-Z][0-9]{3,4}$")
    grade: Grade
    reason: str | None = Field(None, max_length=40)
    channel: Literal["call", "sms"]
    who: str = Field(min_length=1, max_length=50)


class FollowupBody(_Body):
    text: str = Field(min_length=1, max_length=2000)
    who: str = Field(min_length=1, max_length=50)


class WhoBody(_Body):
    who: str = Field(min_length=1, max_length=50)


class RankingScoreBody(_Body):
    points: float | None  # None: back to the item's full points
    note: str = Field(min_length=1, max_length=200)
    who: str = Field(min_length=1, max_length=50)


class AccountBody(_Body):
    username: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=50)
    role: str = Field(max_length=12)
    department: str | None = Field(None, max_length=8)
    password: str = Field(max_length=128)
    who: str = Field(min_length=1, max_length=50)


class PasswordBody(_Body):
    password: str = Field(max_length=128)
    who: str = Field(min_length=1, max_length=50)


class ActiveBody(_Body):
    active: bool
    who: str = Field(min_length=1, max_length=50)


class ReasonBody(_Body):
    who: str = Field(min_length=1, max_length=50)
    reason: str = Field(min_length=1, max_length=200)


def _error(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify(ok=False, code=code, message=message), status


def settings_api(live: LiveSettings) -> Blueprint:
    """The blueprint, mounted at /api/settings."""
    bp = Blueprint("settings_api", __name__, url_prefix="/api/settings")

    @bp.before_request
    def only_from_this_machine() -> tuple[Response, int] | None:
        if request.remote_addr not in LOOPBACK:
            return _error(403, "FORBIDDEN", FORBIDDEN_ZH)
        return None

    @bp.errorhandler(UserError)
    def refused(err: UserError) -> tuple[Response, int]:
        status = 404 if err.code is ErrorCode.UNKNOWN_WINDOW else 400
        return _error(status, err.code.value, err.zh)

    @bp.errorhandler(ValidationError)
    def invalid(err: ValidationError) -> tuple[Response, int]:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        return _error(400, ErrorCode.INVALID.value, f"{ZH[ErrorCode.INVALID]}（{where}）")

    @bp.errorhandler(TimeoutError)
    def hub_busy(err: TimeoutError) -> tuple[Response, int]:
        return _error(503, ErrorCode.HUB_ERROR.value,
                      "大厅服务器暂未连上消息服务器，设置未修改，请稍后再试")

    def who() -> str:
        """Who asked, for the audit log (?who= on a DELETE, which has no body)."""
        return (request.args.get("who", "").strip() or DEFAULT_WHO)[:50]

    def body(model: type[_Body]) -> Any:
        return model.model_validate_json(request.get_data(cache=False) or b"{}")

    @bp.get("/window-services")
    def matrix() -> Response:
        """Every window, the services it serves, and whether a manager set them."""
        return jsonify(ok=True, windows=[
            {"window": r.window, "name": r.name, "services": r.services, "edited": r.edited}
            for r in live.matrix()])

    @bp.put("/window-services/<int:window>")
    def set_window(window: int) -> Response:
        """Give a window exactly these services, from its next call on."""
        b = body(WindowServicesBody)
        change = live.set_window_services(window, b.services, b.who)
        return jsonify(ok=True, window=window, added=change.added, removed=change.removed)

    @bp.delete("/window-services/<int:window>")
    def reset_window(window: int) -> Response:
        """Hand a window's services back to the catalogue file."""
        change = live.reset_window_services(window, who())
        return jsonify(ok=True, window=window, added=change.added, removed=change.removed)

    @bp.get("/calendar")
    def calendar() -> Response:
        """Managers' days (of ?year=), and the years whose holidays nobody entered yet."""
        year = request.args.get("year", type=int)
        if year is not None and not 2000 <= year <= 2100:  # found by tests/fuzz: year 0 = 500
            raise UserError(ErrorCode.BAD_DATE, f"year {year}", "年份应在2000到2100之间")
        unknown = live.calendar.unknown_years(live.clock.service_day())
        days = [{"day": d.isoformat(), "workday": w, "note": n}
                for d, w, n in live.calendar_days(year)]
        return jsonify(ok=True, unknown_years=unknown, days=days)

    @bp.put("/calendar")
    def set_days() -> Response:
        """Enter holidays and 调休 working days, all or none."""
        b = body(CalendarBody)
        live.set_calendar_days({d.day: (d.workday, d.note) for d in b.days}, b.who)
        return jsonify(ok=True, entered=len(b.days))

    @bp.delete("/calendar/<day>")
    def clear_day(day: str) -> Response:
        """Let the national calendar decide this day again."""
        try:
            parsed = date.fromisoformat(day)
        except ValueError:
            raise UserError(ErrorCode.BAD_DATE, day) from None
        live.clear_calendar_day(parsed, who())
        return jsonify(ok=True)

    run = live.consumer.run

    def ctx() -> HallContext:
        return live.consumer.ctx

    @bp.post("/appointments/<appointment_id>/confirm")
    def confirm(appointment_id: str) -> Response:
        """An out-of-hours booking confirmed or refused (with a reason)."""
        b = body(ConfirmBody)
        status = run(lambda conn: appointment_admin.confirm(
            conn, ctx(), appointment_id, b.accept, b.who, b.note))
        return jsonify(ok=True, status=status)

    @bp.post("/appointments/<appointment_id>/check-in")
    def desk_check_in(appointment_id: str) -> Response:
        """导办台: a booking checked in by its number; its ticket."""
        b = body(WhoBody)
        ticket = run(lambda conn: appointment_admin.check_in_at_desk(
            conn, ctx(), appointment_id, b.who))
        return jsonify(ok=True, number=ticket.number, service=ticket.service_name)

    @bp.post("/appointments/<appointment_id>/excuse")
    def excuse(appointment_id: str) -> Response:
        """A no-show the hall caused no longer counts."""
        b = body(ReasonBody)
        run(lambda conn: appointment_admin.excuse(conn, ctx(), appointment_id, b.who, b.reason))
        return jsonify(ok=True)

    @bp.post("/reviews/supplement")
    def supplement() -> Response:
        """补充评价 entered by staff from a phone call or an SMS, within the working days."""
        b = body(SupplementBody)

        record = run(lambda conn: supplementary_review(conn, ctx(), b.day, b.number, b.grade,
                                                       b.reason, b.channel, b.who))
        return jsonify(ok=True, review=record.model_dump(mode="json"))

    @bp.get("/followups")
    def open_followups() -> Response:
        """The bad reviews' follow-ups still open, oldest deadline first."""
        def job(conn: Connection) -> list[dict[str, Any]]:
            today = ctx().clock.service_day()
            rows = conn.execute(
                select(review_followups, reviews.c.grade, reviews.c.reason,
                       reviews.c.window_number, services.c.name.label("service_name"))
                .select_from(review_followups.join(reviews, reviews.c.id ==
                                                   review_followups.c.review_id)
                             .join(services, services.c.code == reviews.c.service_code))
                .where(review_followups.c.closed_at.is_(None))
                .order_by(review_followups.c.deadline)).all()
            return [{"id": r.id, "grade": GRADE_ZH[r.grade], "reason": r.reason,
                     "window": r.window_number, "service": r.service_name,
                     "department": r.department_code, "deadline": r.deadline.isoformat(),
                     "overdue": r.deadline < today, "appeal": r.appeal,
                     "next": next((s for s in followups.STEPS if getattr(r, s) is None), None)}
                    for r in rows]
        return jsonify(ok=True, followups=run(job))

    @bp.post("/followups/<int:followup>/<action>")
    def followup_action(followup: int, action: str) -> Response:
        """A follow-up's step, appeal or the hall's decision on it; into the audit log."""
        b = body(FollowupBody)

        run(lambda conn: followups.take_action(conn, ctx(), followup, action, b.text, b.who))
        return jsonify(ok=True)

    @bp.post("/ranking/<week>/<department>/<item>")
    def ranking_score(week: str, department: str, item: str) -> Response:
        """周通报: a manager's points for an item of a department's week, with the reason."""
        b = body(RankingScoreBody)
        try:
            monday = date.fromisoformat(week)
        except ValueError:
            raise UserError(ErrorCode.BAD_DATE, week) from None
        run(lambda conn: weekly_ranking.set_score(conn, monday, department, item, b.points,
                                                  b.note, b.who, ctx().clock.now()))
        return jsonify(ok=True)

    @bp.get("/accounts")
    def account_list() -> Response:
        """The dashboard's accounts (never their passwords)."""
        return jsonify(ok=True, accounts=[
            {"username": a.username, "name": a.display_name, "role": a.role,
             "role_zh": a.role_zh, "department": a.department, "active": active}
            for a, active in run(accounts.listing)])

    @bp.post("/accounts")
    def account_add() -> Response:
        """A new account for the dashboard (the first one is made this way)."""
        b = body(AccountBody)
        made = run(lambda conn: accounts.add(conn, b.username, b.name, b.role, b.department,
                                             b.password, b.who, ctx().clock.now()))
        return jsonify(ok=True, username=made.username, role_zh=made.role_zh)

    @bp.post("/accounts/<username>/password")
    def account_password(username: str) -> Response:
        b = body(PasswordBody)
        run(lambda conn: accounts.set_password(conn, username, b.password, b.who,
                                               ctx().clock.now()))
        return jsonify(ok=True)

    @bp.post("/accounts/<username>/active")
    def account_active(username: str) -> Response:
        b = body(ActiveBody)
        run(lambda conn: accounts.set_active(conn, username, b.active, b.who,
                                             ctx().clock.now()))
        return jsonify(ok=True)

    @bp.post("/blacklist/<int:entry>/lift")
    def lift(entry: int) -> Response:
        """A blacklisting lifted, with a written reason."""
        b = body(ReasonBody)
        run(lambda conn: appointment_admin.lift(conn, ctx(), entry, b.who, b.reason))
        return jsonify(ok=True)

    return bp
