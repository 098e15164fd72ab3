"""Check-in with an appointment's QR code at the kiosk: the appointment's ticket, once.

The code is verified with the hall's appointment key (hub/appointment_codes.py), its
day and slot against the hub's clock (never the kiosk's): a ticket from
`check_in_before_minutes` before the slot starts until `check_in_after_minutes` after
it ends (hub/rules.py). The ticket is numbered like any kiosk ticket (same prefix and
counter, pending until the kiosk confirms the citizen has it) but skips the walk-in
hours and cap: the slot was booked.

One ticket per appointment: `tickets.appointment_id` is unique. A resend of the same
request gets its first reply from the dispatcher; a new scan of a used code is refused
with the number it got. Only a voided ticket (its number reached nobody) gives the
appointment back, so a printer that failed does not cost the citizen the booking.

The booking (hub/booking.py) must be there and valid: an unknown, cancelled, unconfirmed
(out of hours) or no-show booking is refused with its reason; a check-in marks it used.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, bindparam, select, update

from hub import city_sync
from hub.appointment_codes import KEY_NAME, AppointmentCode, Refusal, verify
from hub.context import HallContext, Outcome
from hub.db.prepared import Prepared
from hub.db.schema import appointments, tickets
from hub.hall_keys import hall_key
from hub.handlers.tickets import issue
from hub.rules import QueueRules
from protocol.errors import ErrorCode, UserError
from protocol.messages import CheckIn, Request

log = logging.getLogger(__name__)

_USED = Prepared(select(tickets.c.id, tickets.c.number, tickets.c.status)
                 .where(tickets.c.appointment_id == bindparam("b_appt")))
_BOOKING = Prepared(select(appointments.c.status)
                    .where(appointments.c.id == bindparam("b_appt")))
_BOOKING_USED = Prepared(update(appointments)
                         .where(appointments.c.id == bindparam("b_appt"))
                         .values(status="checked_in", changed_at=bindparam("b_now")))
_GIVE_BACK = Prepared(update(tickets)
                      .where(tickets.c.id == bindparam("b_tid"), tickets.c.status == "void")
                      .values(appointment_id=None))


def on_check_in(conn: Connection, ctx: HallContext, device_id: str, req: Request) -> Outcome:
    """An appointment's QR code read at the kiosk: its ticket, if it is the day and the time."""
    assert isinstance(req, CheckIn)
    now = ctx.clock.now()
    found = verify(req.code, hall_key(conn, KEY_NAME, now), ctx.hall_id or None)
    if isinstance(found, Refusal):
        raise UserError(found.code, found.detail)
    _check_when(ctx.rules, found, ctx.clock.local(now))
    _check_booked(conn, found)
    used = _USED.one_or_none(conn, {"b_appt": found.appointment_id})
    if used is not None:
        ticket_id, number, status = used
        if status != "void":
            raise UserError(ErrorCode.APPOINTMENT_USED,
                            f"appointment {found.appointment_id} has ticket {number}",
                            f"该预约已取号：{number}")
        _GIVE_BACK.run(conn, {"b_tid": ticket_id})
        log.info("appointment %s: its ticket %s was void, checking in again",
                 found.appointment_id, number)
    outcome = issue(conn, ctx, device_id, req, found.service,
                    appointment_id=found.appointment_id)
    _BOOKING_USED.run(conn, {"b_appt": found.appointment_id, "b_now": now})
    city_sync.appointment_changed(conn, ctx, found.appointment_id, now)
    return outcome


def _check_booked(conn: Connection, appointment: AppointmentCode) -> None:
    """Refuse a code whose booking is unknown, cancelled, unconfirmed or past."""
    status = _BOOKING.scalar(conn, {"b_appt": appointment.appointment_id})
    detail = f"appointment {appointment.appointment_id} is {status}"
    if status is None:
        raise UserError(ErrorCode.UNKNOWN_APPOINTMENT, detail,
                        "没有找到该预约，请到导办台咨询或现场取号")
    if status == "cancelled":
        raise UserError(ErrorCode.APPOINTMENT_CANCELLED, detail)
    if status == "refused":
        raise UserError(ErrorCode.APPOINTMENT_CANCELLED, detail,
                        "该非工作时间预约未获确认，请现场取号办理")
    if status == "pending":
        raise UserError(ErrorCode.APPOINTMENT_NOT_CONFIRMED, detail)
    if status in ("no_show", "excused"):
        raise UserError(ErrorCode.APPOINTMENT_TOO_LATE, detail)


def _check_when(rules: QueueRules, appointment: AppointmentCode, now: datetime) -> None:
    """Refuse unless `now` (the hall's local time) is in the appointment's check-in window."""
    today = now.date()
    if appointment.day != today:
        booked = _day_zh(appointment.day, today)
        detail = f"appointment {appointment.appointment_id} is for {appointment.day}"
        if appointment.day > today:
            raise UserError(ErrorCode.APPOINTMENT_WRONG_DAY, detail,
                            f"您预约的是{booked}，请当天再来")
        raise UserError(ErrorCode.APPOINTMENT_WRONG_DAY, detail,
                        f"您预约的是{booked}，预约日期已过，请现场取号或重新预约")
    start = datetime.combine(today, appointment.start, tzinfo=now.tzinfo)
    end = datetime.combine(today, appointment.end, tzinfo=now.tzinfo)
    opens = start - timedelta(minutes=rules.check_in_before_minutes)
    closes = end + timedelta(minutes=rules.check_in_after_minutes)
    slot = appointment.slot_text()
    if now < opens:
        raise UserError(ErrorCode.APPOINTMENT_TOO_EARLY,
                        f"slot {slot}, check-in from {opens:%H:%M}, now {now:%H:%M}",
                        f"您预约的时段是{slot}，请于{opens:%H:%M}以后取号")
    if now > closes:
        raise UserError(ErrorCode.APPOINTMENT_TOO_LATE,
                        f"slot {slot}, check-in until {closes:%H:%M}, now {now:%H:%M}",
                        f"您预约的时段{slot}已过，请现场取号或重新预约")


def _day_zh(day: date, today: date) -> str:
    """11月25日; with the year when it is not this year's."""
    text = f"{day.month}月{day.day}日"
    return text if day.year == today.year else f"{day.year}年{text}"
