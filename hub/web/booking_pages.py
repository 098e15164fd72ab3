"""Booking on the citizen's phone (/book) and the JSON API a provincial platform calls
(/api/v1/…): one code path, hub/booking.py, run on the hub's request thread.

The pages are plain server-rendered HTML forms (no script needed: cheap phones and in-app
browsers), mobile first, in Chinese. The booking's own page (/a/<token>) shows its QR code
(to save as a PNG) and lets the citizen cancel; the token is the signed part of the QR
code, so only whoever holds the code can see or cancel the booking. A refused form comes
back with the reason and what was typed (the ID number too: it is never stored in clear,
and the page is not cached). Documented in docs/booking-api.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar, cast

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import Connection
from werkzeug.wrappers import Response as WerkzeugResponse

from hub import booking as bookings
from hub.appointment_codes import KEY_NAME, PREFIX, AppointmentCode, Refusal, verify
from hub.context import HallContext
from hub.hall_keys import hall_key
from hub.qr_image import qr_png, qr_svg
from hub.web.auth import signed_in_role
from hub.web.private import private
from protocol.errors import ZH, ErrorCode, UserError
from protocol.messages import CatalogueState, ServiceInfo

log = logging.getLogger(__name__)

T = TypeVar("T")
BUSY = "系统繁忙，请稍后再试"
CONFLICT = {ErrorCode.SLOT_FULL, ErrorCode.ONE_BOOKING_A_DAY, ErrorCode.BLACKLISTED}
WEEKDAYS = "一二三四五六日"
STATUS_ZH = {"booked": "预约成功", "pending": "待工作人员确认", "refused": "未获确认",
             "cancelled": "已取消", "checked_in": "已取号", "no_show": "预约未到",
             "excused": "预约未到（已免责）"}


def day_zh(day: date) -> str:
    return f"{day.month}月{day.day}日（周{WEEKDAYS[day.weekday()]}）"


STAFF_BOOKING_ROLES = ("admin", "manager", "guide")


class BookingPages:
    """The booking pages and API over a `run` that executes on the hub's request thread."""

    def __init__(self, run: Callable[[Callable[[Connection], Any]], Any],
                 ctx: Callable[[], HallContext],
                 catalogue: Callable[[], CatalogueState]) -> None:
        self._run = run  # RequestConsumer.run: on the hub's request thread
        self.ctx = ctx
        self.catalogue = catalogue

    def run(self, job: Callable[[Connection], T]) -> T:
        """`job` in a transaction of its own on the hub's request thread; its result."""
        return cast(T, self._run(job))

    # ------------------------------------------------------------ the work, on the hub

    def _slots(self, service: str, day: date) -> list[bookings.Slot]:
        return self.run(lambda conn: bookings.slots(conn, self.ctx(), service, day))

    def _book(self, channel: bookings.Channel, data: dict[str, Any]) -> bookings.Booking:
        try:
            day = date.fromisoformat(str(data.get("day", "")))
            start = time.fromisoformat(str(data.get("start", "")))
        except ValueError:
            raise UserError(ErrorCode.INVALID, "day or start", "请选择预约日期和时段") from None
        form = {"purpose": str(data.get("purpose", ""))[:200]} if data.get("purpose") else None
        return self.run(lambda conn: bookings.book(
            conn, self.ctx(), service=str(data.get("service", "")), day=day, start=start,
            name=str(data.get("name", "")), id_number=str(data.get("id_number", "")),
            phone=str(data.get("phone", "")), channel=channel, form=form))

    def _by_token(self, token: str) -> bookings.Booking | None:
        ctx = self.ctx()

        def find(conn: Connection) -> bookings.Booking | None:
            found = verify(f"{PREFIX}{ctx.hall_id or 'hall'}:{token}",
                           hall_key(conn, KEY_NAME, ctx.clock.now()), ctx.hall_id or None)
            if isinstance(found, Refusal):
                return None
            assert isinstance(found, AppointmentCode)
            return bookings.booking(conn, ctx, found.appointment_id)
        try:
            return self.run(find)
        except UserError:
            return None

    def _cancel(self, booking_id: str) -> bookings.Booking:
        return self.run(lambda conn: bookings.cancel(conn, self.ctx(), booking_id))

    # ------------------------------------------------------------ what pages show

    def _service(self, code: str) -> ServiceInfo | None:
        return next((s for s in self.catalogue().services if s.code == code), None)

    def _days(self, service: str) -> list[tuple[date, int]]:
        """The days with slots to offer, and the seats left on each (one job on the hub)."""
        def job(conn: Connection) -> list[tuple[date, int]]:
            ctx = self.ctx()
            today = ctx.clock.service_day()
            horizon = max(ctx.appointments.days_ahead, 14 if service in
                          ctx.appointments.out_of_hours_items else 0)
            days = (today + timedelta(days=n) for n in range(horizon + 1))
            free = ((day, sum(s.left for s in bookings.slots(conn, ctx, service, day)))
                    for day in days)
            return [(day, n) for day, n in free if n]
        return self.run(job)

    def token(self, b: bookings.Booking) -> str:
        return b.code.split(":", 3)[3]

    def booking_json(self, b: bookings.Booking) -> dict[str, Any]:
        return {"id": b.id, "service": b.service, "service_name": b.service_name,
                "day": b.day.isoformat(), "start": f"{b.start:%H:%M}", "end": f"{b.end:%H:%M}",
                "status": b.status, "status_zh": STATUS_ZH.get(b.status, b.status),
                "code": b.code, "name": b.name_masked, "id_number": b.id_masked,
                "url": url_for("booking.appointment_page", token=self.token(b), _external=True)}

    # ------------------------------------------------------------ routes

    def blueprint(self) -> Blueprint:
        bp = Blueprint("booking", __name__)

        def staff_channel() -> bookings.Channel:
            """电话预约 or 现场预约 when staff signed in to the dashboard book for someone (the
            same pages, opened from 预约管理 with ?channel=phone|desk); else, and for anybody
            else, the citizen's own phone."""
            if signed_in_role() not in STAFF_BOOKING_ROLES:
                return "web"
            channel = request.args.get("channel", "")
            return "phone" if channel == "phone" else "desk" if channel == "desk" else "web"

        @bp.url_defaults
        def keep_channel(endpoint: str, values: dict[str, Any]) -> None:
            """Staff booking for someone stay in their channel from page to page."""
            if "channel" not in values and request.args.get("channel") in ("phone", "desk") \
                    and endpoint in ("booking.items", "booking.item", "booking.form"):
                values["channel"] = request.args["channel"]

        @bp.get("/book")
        def items() -> str:
            cat = self.catalogue()
            by_department = [(d, [s for s in cat.services if s.department == d.code])
                             for d in cat.departments]
            return render_template("book_items.html", hall_name=cat.hall_name,
                                   departments=[(d, s) for d, s in by_department if s])

        @bp.get("/book/<service>")
        def item(service: str) -> tuple[str, int]:
            info = self._service(service)
            if info is None:
                return self._missing("没有找到该事项")
            days = self._days(service)
            chosen = request.args.get("day") or (days[0][0].isoformat() if days else "")
            try:
                day = date.fromisoformat(chosen) if chosen else None
            except ValueError:
                day = None
            slots = [s for s in self._slots(service, day) if s.left] if day else []
            return render_template("book_item.html", hall_name=self.catalogue().hall_name,
                                   s=info, days=days, day=day, slots=slots,
                                   day_zh=day_zh), 200

        @bp.route("/book/<service>/<day>/<hhmm>", methods=["GET", "POST"])
        def form(service: str, day: str, hhmm: str) -> WerkzeugResponse | tuple[str, int]:
            info = self._service(service)
            try:
                when = date.fromisoformat(day)
                start = time(int(hhmm[:2]), int(hhmm[2:]))
            except ValueError:
                return self._missing("没有找到该时段")
            if info is None:
                return self._missing("没有找到该事项")
            slot = next((s for s in self._slots(service, when) if s.start == start), None)
            values = {k: request.form.get(k, "") for k in ("name", "id_number", "phone",
                                                           "purpose")}
            error, status = None, 200
            if request.method == "POST":
                try:
                    done = self._book(staff_channel(), {**values, "service": service,
                                                        "day": day, "start": f"{start:%H:%M}"})
                except UserError as e:
                    error, status = e.zh, 409 if e.code in CONFLICT else 400
                except TimeoutError:
                    error, status = BUSY, 503
                else:
                    return redirect(url_for("booking.appointment_page",
                                            token=self.token(done)), 303)
            if slot is None and error is None:
                error, status = ZH[ErrorCode.SLOT_CLOSED], 410
            return render_template("book_form.html", hall_name=self.catalogue().hall_name,
                                   s=info, day=when, day_zh=day_zh, slot=slot,
                                   start=start, values=values, error=error), status

        @bp.get("/a/<token>")
        def appointment_page(token: str) -> tuple[str, int]:
            found = self._by_token(token)
            if found is None:
                return self._missing(ZH[ErrorCode.UNKNOWN_APPOINTMENT])
            return self._appointment(found, token), 200

        @bp.post("/a/<token>/cancel")
        def cancel_page(token: str) -> WerkzeugResponse | tuple[str, int]:
            found = self._by_token(token)
            if found is None:
                return self._missing(ZH[ErrorCode.UNKNOWN_APPOINTMENT])
            try:
                self._cancel(found.id)
            except UserError as e:
                return self._appointment(found, token, e.zh), 409
            except TimeoutError:
                return self._appointment(found, token, BUSY), 503
            return redirect(url_for("booking.appointment_page", token=token), 303)

        @bp.get("/a/<token>.png")
        def appointment_png(token: str) -> Response | tuple[str, int]:
            found = self._by_token(token)
            if found is None:
                return self._missing(ZH[ErrorCode.UNKNOWN_APPOINTMENT])
            return Response(qr_png(found.code), mimetype="image/png", headers={
                "Content-Disposition": f'attachment; filename="appointment-{found.day}.png"'})

        # --------------------------------------------------------- the JSON API

        @bp.get("/api/v1/slots")
        def api_slots() -> tuple[Response, int]:
            try:
                day = date.fromisoformat(request.args.get("day", ""))
                found = self._slots(request.args.get("service", ""), day)
            except ValueError:
                return self._api_error(UserError(ErrorCode.INVALID, "day",
                                                 "日期格式应为YYYY-MM-DD"))
            except UserError as e:
                return self._api_error(e)
            return jsonify(ok=True, slots=[
                {"start": f"{s.start:%H:%M}", "end": f"{s.end:%H:%M}", "left": s.left,
                 "out_of_hours": s.out_of_hours} for s in found]), 200

        @bp.post("/api/v1/appointments")
        def api_book() -> tuple[Response, int]:
            data = request.get_json(silent=True)
            if not isinstance(data, dict):
                return self._api_error(UserError(ErrorCode.BAD_JSON, "body"))
            channel = data.get("channel", "api")
            if channel not in ("api", "phone", "desk"):
                return self._api_error(UserError(ErrorCode.INVALID, "channel"))
            try:
                done = self._book(channel, data)
            except UserError as e:
                return self._api_error(e)
            except TimeoutError:
                return jsonify(ok=False, code=ErrorCode.HUB_ERROR.value, message=BUSY), 503
            return jsonify(ok=True, appointment=self.booking_json(done)), 201

        @bp.get("/api/v1/appointments/<token>")
        def api_appointment(token: str) -> tuple[Response, int]:
            found = self._by_token(token)
            if found is None:
                return self._api_error(UserError(ErrorCode.UNKNOWN_APPOINTMENT, token))
            return jsonify(ok=True, appointment=self.booking_json(found)), 200

        @bp.post("/api/v1/appointments/<token>/cancel")
        def api_cancel(token: str) -> tuple[Response, int]:
            found = self._by_token(token)
            if found is None:
                return self._api_error(UserError(ErrorCode.UNKNOWN_APPOINTMENT, token))
            try:
                done = self._cancel(found.id)
            except UserError as e:
                return self._api_error(e)
            return jsonify(ok=True, appointment=self.booking_json(done)), 200

        bp.after_request(private)

        return bp

    def _appointment(self, b: bookings.Booking, token: str,
                     error: str | None = None) -> str:
        now = self.ctx().clock.local(self.ctx().clock.now()).replace(tzinfo=None)
        cancellable = b.status in ("booked", "pending") and now <= datetime.combine(
            b.day, b.start) - timedelta(minutes=self.ctx().appointments.cancel_before_minutes)
        return render_template("appointment.html", hall_name=self.catalogue().hall_name,
                               b=b, token=token, day_zh=day_zh(b.day),
                               status_zh=STATUS_ZH.get(b.status, b.status),
                               qr=Markup(qr_svg(b.code)), cancellable=cancellable, error=error,
                               early=self.ctx().rules.check_in_before_minutes,
                               late=self.ctx().rules.check_in_after_minutes)

    def _missing(self, message: str) -> tuple[str, int]:
        return render_template("book_missing.html", message=message,
                               hall_name=self.catalogue().hall_name), 404

    @staticmethod
    def _api_error(e: UserError) -> tuple[Response, int]:
        status = 404 if e.code == ErrorCode.UNKNOWN_APPOINTMENT else \
            409 if e.code in CONFLICT else 400
        return jsonify(ok=False, code=e.code.value, message=e.zh), status
