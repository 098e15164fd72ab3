"""预约管理 on the dashboard (/appointments): a day's bookings (filter by status, search by
booking number or the phone's last four digits, Excel), the out-of-hours bookings to
confirm, the blacklist, the SMS messages, the latest audit lines. Everything masked
(张*女士, 110105********002X, 138****5678).

Managers act here (hub/appointment_admin.py, each into the audit log with their name):
confirm or refuse an out-of-hours booking (a refusal says why, by SMS), excuse a no-show
the hall caused, lift a blacklisting with a reason. The guide desk checks a booking in on
导办台 (/desk)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from sqlalchemy import Connection, Engine, Select, func, or_, select
from werkzeug.wrappers import Response as BaseResponse

from hub import appointment_admin
from hub.clock import Clock
from hub.context import HallContext
from hub.db.engine import make_reader
from hub.db.schema import appointments, audit_log, blacklist, services, sms_messages
from hub.excel import download, one_table
from hub.identity import mask_phone
from hub.web import actions
from hub.web.auth import Run, account, allow
from hub.web.booking_pages import STATUS_ZH, day_zh

CHANNEL_ZH = {"web": "手机预约", "phone": "电话预约", "desk": "现场预约", "api": "平台接口"}
SMS_ZH = {"booked": "预约成功", "warning": "未到提醒", "blacklisted": "黑名单通知",
          "confirmed": "确认通知", "refused": "未获确认"}
PAGE_SIZE = 100


def appointments_page(engine: Engine, run: Run, ctx: Callable[[], HallContext], clock: Clock,
                      hall_name: str) -> Blueprint:
    bp = Blueprint("appointments_page", __name__)
    reader = make_reader(engine)

    def chosen() -> tuple[date, str, str, Select[Any]]:
        today = clock.service_day()
        try:
            day = date.fromisoformat(request.args.get("day", "")) if request.args.get("day") \
                else today
        except ValueError:
            day = today
        status = request.args.get("status", "")
        q = request.args.get("q", "").strip()[:32]
        query = (select(appointments, services.c.name.label("service_name"))
                 .join(services, services.c.code == appointments.c.service_code)
                 .order_by(appointments.c.day, appointments.c.slot_start,
                           appointments.c.created_at))
        if q and q.isdigit() and len(q) == 4:  # the phone's last four digits, any day
            query = query.where(or_(appointments.c.phone.endswith(q), appointments.c.id == q))
        elif q:  # a booking number, any day
            query = query.where(appointments.c.id == q)
        else:
            query = query.where(appointments.c.day == day)
        if status in STATUS_ZH:
            query = query.where(appointments.c.status == status)
        return day, status, q, query

    def page(status_code: int = 200, error: str = "", done: str = "") -> tuple[str, int]:
        day, status, q, query = chosen()
        today = clock.service_day()
        with reader.connect() as conn:
            rows = conn.execute(query.limit(PAGE_SIZE + 1)).all()
            counts: dict[str, int] = dict(conn.execute(select(appointments.c.status, func.count())
                                       .where(appointments.c.day == day)
                                       .group_by(appointments.c.status)).all())
            pending = conn.execute(select(appointments.c.id, appointments.c.day,
                                          appointments.c.slot_start, appointments.c.name_masked,
                                          services.c.name.label("service_name"))
                                   .join(services)
                                   .where(appointments.c.status == "pending")
                                   .order_by(appointments.c.day)).all()
            banned = conn.execute(select(blacklist)
                                  .where(blacklist.c.lifted_at.is_(None),
                                         blacklist.c.until > today)
                                  .order_by(blacklist.c.since.desc())).all()
            messages = conn.execute(select(sms_messages).order_by(sms_messages.c.id.desc())
                                    .limit(50)).all()
            audits = conn.execute(select(audit_log).where(or_(
                audit_log.c.action.startswith("appointment."),
                audit_log.c.action.startswith("blacklist."))).order_by(audit_log.c.id.desc())
                .limit(20)).all()
        return render_template(
            "appointments.html", hall_name=hall_name, day=day, day_zh=day_zh(day),
            status=status, q=q, rows=rows[:PAGE_SIZE], more=len(rows) > PAGE_SIZE,
            counts=counts, pending=pending, banned=banned, messages=messages, audits=audits,
            status_zh=STATUS_ZH, channel_zh=CHANNEL_ZH, sms_zh=SMS_ZH, mask_phone=mask_phone,
            local=clock.local, error=error, done=done or request.args.get("done", ""),
            may_act=account().role in ("admin", "manager")), status_code

    @bp.get("/appointments")
    @allow("admin", "manager", "guide", "viewer")
    def appointments_list() -> tuple[str, int]:
        return page()

    @bp.get("/appointments.xlsx")
    @allow("admin", "manager", "guide", "viewer")
    def appointments_excel() -> Response:
        day, status, q, query = chosen()
        with reader.connect() as conn:
            rows = conn.execute(query.limit(20_000)).all()
        data = one_table(
            "预约", f"{hall_name}预约情况", f"查询：{q}" if q else day_zh(day),
            ["日期", "时段", "事项", "预约人", "身份证", "手机", "渠道", "状态", "编号"],
            [[r.day.isoformat(), f"{r.slot_start:%H:%M}-{r.slot_end:%H:%M}", r.service_name,
              r.name_masked, r.id_masked, mask_phone(r.phone), CHANNEL_ZH.get(r.channel),
              STATUS_ZH.get(r.status, r.status), r.id] for r in rows],
            [12, 12, 30, 12, 22, 14, 10, 10, 12])
        return download(data, f"appointments-{day}.xlsx", f"{hall_name}预约-{day}.xlsx")

    def act(job: Callable[[Connection, str], object], done: str
            ) -> tuple[str, int] | BaseResponse:
        return actions.act(run, job, page, url_for(
            "appointments_page.appointments_list", done=done, day=request.args.get("day", "")))

    @bp.post("/appointments/<appointment_id>/confirm")
    @allow("admin", "manager")
    def confirm(appointment_id: str) -> tuple[str, int] | BaseResponse:
        accept = request.form.get("accept") == "yes"
        note = request.form.get("note", "")[:200]
        return act(lambda conn, who: appointment_admin.confirm(
            conn, ctx(), appointment_id, accept, who, note),
            f"预约 {appointment_id} 已{'确认' if accept else '拒绝'}，已短信通知预约人")

    @bp.post("/appointments/<appointment_id>/excuse")
    @allow("admin", "manager")
    def excuse(appointment_id: str) -> tuple[str, int] | BaseResponse:
        reason = request.form.get("reason", "")[:200]
        return act(lambda conn, who: appointment_admin.excuse(
            conn, ctx(), appointment_id, who, reason), f"预约 {appointment_id} 的未到已免责")

    @bp.post("/blacklist/<int:entry>/lift")
    @allow("admin", "manager")
    def lift(entry: int) -> tuple[str, int] | BaseResponse:
        reason = request.form.get("reason", "")[:200]
        return act(lambda conn, who: appointment_admin.lift(conn, ctx(), entry, who, reason),
                   f"黑名单记录 {entry} 已解除")

    return bp
