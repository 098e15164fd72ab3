"""Booking appointments (预约, seed 003 §二.(一)): the slots of an item, a booking, its
cancellation, and the staff's confirmation of an out-of-hours one.

Every write runs on the hub's request thread (hub/consumer.py: the MQTT handlers and
`RequestConsumer.run` for the web), one transaction after another: two phones taking the
last seat of a slot are two transactions in turn, and the second finds it full.

Slots cut an item's hours (hub/issuing.py: its own, or its windows') into
`slot_minutes`; each takes `per_window` bookings per window that serves the item. Booking
is open at any hour (7×24) for slots from now to `days_ahead` days on. Items on the
published list (`out_of_hours_items`) also have out-of-hours slots, 1 to 5 working days
ahead, booked with the registration form (预约登记表) and valid once staff confirm.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, func, insert, select, update

from hub import city_sync, identity
from hub.appointment_codes import KEY_NAME as CODE_KEY
from hub.appointment_codes import AppointmentCode, new_appointment_id, sign
from hub.blacklist_rules import Ban
from hub.context import HallContext
from hub.db.schema import appointments, blacklist, services
from hub.hall_keys import hall_key
from hub.issuing import Spans, parse_spans
from hub.sms import send_sms
from protocol.errors import ErrorCode, UserError

log = logging.getLogger(__name__)

Channel = Literal["web", "phone", "desk", "api"]
ACTIVE = ("booked", "pending", "checked_in")  # statuses that hold a seat and the day


@dataclass(frozen=True)
class Slot:
    start: time
    end: time
    capacity: int
    booked: int
    out_of_hours: bool

    @property
    def left(self) -> int:
        return max(0, self.capacity - self.booked)

    def text(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Booking:
    """A booking as its person sees it: the QR code to show at the kiosk, and its state."""

    id: str
    service: str
    service_name: str
    day: date
    start: time
    end: time
    status: str
    code: str  # the QR text (hub/appointment_codes.py)
    name_masked: str
    id_masked: str


def _cut(spans: Spans, minutes: int) -> list[tuple[time, time]]:
    """The spans cut into slots of `minutes` (a shorter rest at a span's end is dropped)."""
    cuts = []
    for start, end in spans:
        at = datetime.combine(date.min, start)
        stop = datetime.combine(date.min, end)
        while at + timedelta(minutes=minutes) <= stop:
            cuts.append((at.time(), (at + timedelta(minutes=minutes)).time()))
            at += timedelta(minutes=minutes)
    return cuts


def _out_of_hours_spans(ctx: HallContext, day: date) -> Spans:
    rules = ctx.appointments
    kind = ctx.calendar.day_kind(day)
    raw = {"workday": rules.out_of_hours_workday, "weekend": rules.out_of_hours_weekend,
           "holiday": ()}[kind]
    return parse_spans(raw)


def _service(conn: Connection, code: str) -> str:
    """The name of an item that may be booked (an active one)."""
    row = conn.execute(select(services.c.name, services.c.active)
                       .where(services.c.code == code)).one_or_none()
    if row is None or not row.active:
        raise UserError(ErrorCode.NOT_BOOKABLE, f"service {code}")
    return str(row.name)


def _local_now(ctx: HallContext) -> datetime:
    return ctx.clock.local(ctx.clock.now()).replace(tzinfo=None)


def slots(conn: Connection, ctx: HallContext, service: str, day: date) -> list[Slot]:
    """The slots of `service` on `day` still to come, with their seats; [] when none."""
    _service(conn, service)
    rules = ctx.appointments
    now = _local_now(ctx)
    windows = len(ctx.issuing.windows_of.get(service, [])) if ctx.issuing else 1
    capacity = windows * rules.per_window
    found: list[tuple[time, time, bool]] = []
    if now.date() <= day <= now.date() + timedelta(days=rules.days_ahead) and capacity:
        spans = ctx.issuing.spans(service, day) if ctx.issuing else []
        found += [(s, e, False) for s, e in _cut(spans, rules.slot_minutes)]
    if service in rules.out_of_hours_items and _out_of_hours_day(ctx, now.date(), day):
        in_hours = {s for s, _, _ in found}  # a span that overlaps the hours stays in hours
        found += [(s, e, True) for s, e in
                  _cut(_out_of_hours_spans(ctx, day), rules.slot_minutes) if s not in in_hours]
    taken: dict[time, int] = dict(conn.execute(
        select(appointments.c.slot_start, func.count())
        .where(appointments.c.service_code == service, appointments.c.day == day,
               appointments.c.status.in_(ACTIVE))
        .group_by(appointments.c.slot_start)).all())
    return [Slot(s, e, max(capacity, 1) if ooh else capacity, taken.get(s, 0), ooh)
            for s, e, ooh in sorted(found)
            if datetime.combine(day, s) > now]


def _out_of_hours_day(ctx: HallContext, today: date, day: date) -> bool:
    """Out-of-hours slots: at least min and at most max working days ahead."""
    rules = ctx.appointments
    first = ctx.calendar.add_working_days(today, rules.out_of_hours_min_days)
    last = ctx.calendar.add_working_days(today, rules.out_of_hours_max_days)
    return first <= day <= last


def active_ban(conn: Connection, id_hash: str, today: date) -> Ban | None:
    """The person's blacklisting in force today, if any (a lifted one is not)."""
    row = conn.execute(select(blacklist.c.since, blacklist.c.until)
                       .where(blacklist.c.id_hash == id_hash, blacklist.c.lifted_at.is_(None),
                              blacklist.c.since <= today, blacklist.c.until > today)
                       .order_by(blacklist.c.until.desc()).limit(1)).one_or_none()
    return Ban(row.since, row.until) if row else None


def book(conn: Connection, ctx: HallContext, *, service: str, day: date, start: time,
         name: str, id_number: str, phone: str, channel: Channel,
         form: dict[str, Any] | None = None) -> Booking:
    """Book a seat; refused (UserError, nothing changed) for a person blacklisted, a second
    booking that day, a full, past or unknown slot, or bad identity data."""
    service_name = _service(conn, service)
    now = ctx.clock.now()
    person = identity.person(hall_key(conn, identity.KEY_NAME, now), name, id_number, phone)
    today = ctx.clock.service_day(now)
    ban = active_ban(conn, person.id_hash, today)
    if ban is not None:
        raise UserError(ErrorCode.BLACKLISTED, f"until {ban.until}",
                        f"因半年内3次预约未到且未取消，{ban.until.year}年{ban.until.month}月"
                        f"{ban.until.day}日前暂停预约服务。现场取号办理不受影响，"
                        "欢迎随时到大厅取号")
    slot = next((s for s in slots(conn, ctx, service, day) if s.start == start), None)
    if slot is None:
        raise UserError(ErrorCode.SLOT_CLOSED, f"{service} {day} {start}")
    if slot.left <= 0:
        raise UserError(ErrorCode.SLOT_FULL, f"{service} {day} {start}")
    if slot.out_of_hours and not (form and str(form.get("purpose", "")).strip()):
        raise UserError(ErrorCode.INVALID, "out-of-hours booking without its form",
                        "非工作时间预约请填写预约登记表（办理事由）")
    if ctx.appointments.one_per_day and conn.scalar(
            select(func.count()).where(appointments.c.id_hash == person.id_hash,
                                       appointments.c.day == day,
                                       appointments.c.status.in_(ACTIVE))):
        raise UserError(ErrorCode.ONE_BOOKING_A_DAY, f"{day}")
    appointment_id = new_appointment_id()
    while conn.scalar(select(func.count()).where(appointments.c.id == appointment_id)):
        appointment_id = new_appointment_id()
    status = "pending" if slot.out_of_hours else "booked"
    conn.execute(insert(appointments).values(
        id=appointment_id, service_code=service, day=day, slot_start=slot.start,
        slot_end=slot.end, status=status, channel=channel, out_of_hours=slot.out_of_hours,
        id_hash=person.id_hash, id_masked=person.id_masked, name_masked=person.name_masked,
        phone=person.phone, form=form if slot.out_of_hours else None, created_at=now,
        changed_at=now))
    city_sync.appointment_changed(conn, ctx, appointment_id, now)
    when = f"{day.month}月{day.day}日{slot.text()}"
    text = (f"您已预约{when}办理“{service_name}”，请按时到大厅取号机扫码取号。不能前来请提前取消。"
            if status == "booked" else
            f"您预约的{when}“{service_name}”（非工作时间）已收到，工作人员确认后短信通知您。")
    send_sms(conn, person.phone, "booked", text, appointment_id, now)
    log.info("appointment %s booked for %s %s %s (%s)", appointment_id, service, day,
             slot.text(), channel)
    return booking(conn, ctx, appointment_id)


def booking(conn: Connection, ctx: HallContext, appointment_id: str) -> Booking:
    """A booking by its id, with its QR code."""
    row = conn.execute(select(appointments, services.c.name.label("service_name"))
                       .join(services, services.c.code == appointments.c.service_code)
                       .where(appointments.c.id == appointment_id)).one_or_none()
    if row is None:
        raise UserError(ErrorCode.UNKNOWN_APPOINTMENT, appointment_id)
    code = sign(hall_key(conn, CODE_KEY, ctx.clock.now()), AppointmentCode(
        ctx.hall_id or "hall", row.id, row.service_code, row.day, row.slot_start,
        row.slot_end))
    return Booking(row.id, row.service_code, row.service_name, row.day, row.slot_start,
                   row.slot_end, row.status, code, row.name_masked, row.id_masked)


def cancel(conn: Connection, ctx: HallContext, appointment_id: str) -> Booking:
    """Cancel a booking up to `cancel_before_minutes` before its slot; cancelling again
    changes nothing. Refused once checked in, a no-show, or too late."""
    found = booking(conn, ctx, appointment_id)
    if found.status == "cancelled":
        return found
    if found.status not in ("booked", "pending"):
        raise UserError(ErrorCode.CANCEL_TOO_LATE, f"{appointment_id} is {found.status}")
    latest = datetime.combine(found.day, found.start) - timedelta(
        minutes=ctx.appointments.cancel_before_minutes)
    if _local_now(ctx) > latest:
        raise UserError(ErrorCode.CANCEL_TOO_LATE, f"{appointment_id} starts {found.start}",
                        f"预约时段开始前{ctx.appointments.cancel_before_minutes}分钟内不能取消；"
                        "如不能前来，请联系大厅")
    now = ctx.clock.now()
    conn.execute(update(appointments).where(appointments.c.id == appointment_id)
                 .values(status="cancelled", changed_at=now))
    city_sync.appointment_changed(conn, ctx, appointment_id, now)
    log.info("appointment %s cancelled", appointment_id)
    return booking(conn, ctx, appointment_id)
