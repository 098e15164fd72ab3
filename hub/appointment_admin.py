"""What managers do by hand about appointments, each written to the audit log: check in a
booking at the guide desk by its number, confirm or
refuse an out-of-hours booking (after asking the department), excuse a no-show the hall
caused (closed for an emergency), lift a blacklisting, all with a written reason where the
rules ask one. Until staff accounts exist (issue 9), `who` is what the caller says."""

from __future__ import annotations

from uuid import uuid4

from sqlalchemy import Connection, select, update

from hub import audit, city_sync, no_shows
from hub.booking import booking
from hub.context import HallContext
from hub.db.schema import appointments, blacklist, services
from hub.handlers.check_in import on_check_in
from hub.handlers.tickets import hand_over
from hub.sms import send_sms
from protocol.errors import ErrorCode, UserError
from protocol.messages import CheckIn, Ticket, TicketIssued

REASON_NEEDED = "请填写原因（将记入操作日志）"


def _reason(reason: str) -> str:
    if not reason.strip():
        raise UserError(ErrorCode.INVALID, "no reason", REASON_NEEDED)
    return reason.strip()


def confirm(conn: Connection, ctx: HallContext, appointment_id: str, accept: bool,
            who: str, note: str = "") -> str:
    """An out-of-hours booking confirmed (booked) or refused (with the reason, sent by SMS);
    the new status."""
    found = booking(conn, ctx, appointment_id)
    if found.status != "pending":
        raise UserError(ErrorCode.INVALID, f"{appointment_id} is {found.status}",
                        "该预约不是待确认状态")
    now = ctx.clock.now()
    status = "booked" if accept else "refused"
    reason = note.strip() if accept else _reason(note)
    conn.execute(update(appointments).where(appointments.c.id == appointment_id)
                 .values(status=status, changed_at=now, note=reason or None))
    city_sync.appointment_changed(conn, ctx, appointment_id, now)
    phone = conn.scalar(select(appointments.c.phone).where(appointments.c.id == appointment_id))
    name = conn.scalar(select(services.c.name).where(services.c.code == found.service))
    when = f"{found.day.month}月{found.day.day}日{found.start:%H:%M}-{found.end:%H:%M}"
    text = (f"您预约的{when}“{name}”（非工作时间）已确认，请按时到大厅扫码取号。" if accept else
            f"抱歉，您预约的{when}“{name}”（非工作时间）未能安排：{reason}。可改约工作时间或现场取号。")
    send_sms(conn, str(phone), "confirmed" if accept else "refused", text, appointment_id, now)
    audit.record(conn, now, who, "appointment.confirm" if accept else "appointment.refuse",
                 appointment_id, {"status": "pending"}, {"status": status}, reason)
    return status


def check_in_at_desk(conn: Connection, ctx: HallContext, appointment_id: str,
                     who: str) -> Ticket:
    """导办台: the booking checked in by its number (the citizen without the QR code), with
    the same rules as the kiosk's camera (day, time, status, once); the ticket is handed
    over at the desk (written or printed there) and joins the queue."""
    code = booking(conn, ctx, appointment_id).code
    outcome = on_check_in(conn, ctx, "guide-desk", CheckIn(request_id=uuid4(), code=code))
    reply = outcome.reply
    assert isinstance(reply, TicketIssued)
    now = ctx.clock.now()
    hand_over(conn, reply.ticket.id, "desk", now)
    audit.record(conn, now, who, "appointment.check_in", appointment_id, {"status": "booked"},
                 {"status": "checked_in", "ticket": reply.ticket.number})
    return reply.ticket


def excuse(conn: Connection, ctx: HallContext, appointment_id: str, who: str,
           reason: str) -> None:
    """A no-show the hall caused no longer counts (a ban it completed is lifted)."""
    reason = _reason(reason)
    now = ctx.clock.now()
    if not no_shows.excuse(conn, appointment_id, reason, now):
        raise UserError(ErrorCode.INVALID, f"{appointment_id} is no no-show", "该预约不是预约未到")
    city_sync.appointment_changed(conn, ctx, appointment_id, now)
    audit.record(conn, now, who, "appointment.excuse", appointment_id, {"status": "no_show"},
                 {"status": "excused"}, reason)


def lift(conn: Connection, ctx: HallContext, entry_id: int, who: str, reason: str) -> None:
    """Lift a blacklisting, with a written reason."""
    reason = _reason(reason)
    now = ctx.clock.now()
    row = conn.execute(select(blacklist.c.id_masked, blacklist.c.until)
                       .where(blacklist.c.id == entry_id)).one_or_none()
    if row is None or not no_shows.lift(conn, entry_id, who, reason, now):
        raise UserError(ErrorCode.INVALID, f"blacklist entry {entry_id}", "没有找到该黑名单记录")
    city_sync.blacklist_lifted(conn, ctx, entry_id, who, reason, now)
    audit.record(conn, now, who, "blacklist.lift", str(entry_id),
                 {"id": row.id_masked, "until": row.until.isoformat()}, {"lifted": True}, reason)
