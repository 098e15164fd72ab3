"""预约管理 on the dashboard (/appointments): a day's bookings, the blacklist, the SMS
messages. Read-only and masked (张*女士, 110105********002X, 138****5678): the managers'
actions (confirm, excuse, lift) go through the settings API (`./hallq admin appointments`)
until staff accounts exist (issue 9)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request
from sqlalchemy import Engine, func, select

from hub.clock import Clock
from hub.db.engine import make_reader
from hub.db.schema import appointments, audit_log, blacklist, services, sms_messages
from hub.identity import mask_phone
from hub.web.auth import allow
from hub.web.booking_pages import STATUS_ZH, day_zh

CHANNEL_ZH = {"web": "手机预约", "phone": "电话预约", "desk": "现场预约", "api": "平台接口"}
SMS_ZH = {"booked": "预约成功", "warning": "未到提醒", "blacklisted": "黑名单通知",
          "confirmed": "确认通知", "refused": "未获确认"}


def appointments_page(engine: Engine, clock: Clock, hall_name: str) -> Blueprint:
    bp = Blueprint("appointments_page", __name__)
    reader = make_reader(engine)

    @bp.get("/appointments")
    @allow("admin", "manager", "guide", "viewer")
    def page() -> tuple[str, int]:
        today = clock.service_day()
        try:
            day = date.fromisoformat(request.args.get("day", "")) if request.args.get("day") \
                else today
        except ValueError:
            day = today
        status = request.args.get("status", "")
        with reader.connect() as conn:
            query = (select(appointments, services.c.name.label("service_name"))
                     .join(services, services.c.code == appointments.c.service_code)
                     .where(appointments.c.day == day)
                     .order_by(appointments.c.slot_start, appointments.c.created_at))
            if status in STATUS_ZH:
                query = query.where(appointments.c.status == status)
            rows = conn.execute(query).all()
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
            audits = conn.execute(select(audit_log).order_by(audit_log.c.id.desc())
                                  .limit(20)).all()
        return render_template(
            "appointments.html", hall_name=hall_name, day=day, day_zh=day_zh(day),
            status=status, rows=rows, counts=counts, pending=pending, banned=banned,
            messages=messages, audits=audits, status_zh=STATUS_ZH, channel_zh=CHANNEL_ZH,
            sms_zh=SMS_ZH, mask_phone=mask_phone, local=clock.local), 200

    return bp
