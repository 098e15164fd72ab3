"""Bookings nobody came for (预约未到) and what follows: the warning, the blacklist.

A booking neither checked in nor cancelled when check-in for its slot has closed (the
slot's end plus `check_in_after_minutes`, hub/rules.py) is a no-show, decided by the hub's
clock, never a device's. After the second no-show within half a year the person gets a
warning SMS; the third blacklists them for a year (hub/blacklist_rules.py). A no-show the
hall caused (closed for an emergency) is excused by a manager and no longer counts.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from hub import city_sync
from hub.blacklist_rules import ban_after, warn_after
from hub.context import HallContext
from hub.db.schema import appointments, blacklist
from hub.sms import send_sms

log = logging.getLogger(__name__)

WARNING = ("您已{count}次预约未到且未取消。半年内累计3次将暂停预约服务一年（现场取号不受影响）。"
           "不能前来请提前取消预约。")
BLACKLISTED = ("您半年内已3次预约未到且未取消，{until}前暂停预约服务。现场取号办理不受影响，"
               "欢迎随时到大厅取号。")


def mark_no_shows(conn: Connection, ctx: HallContext, now: datetime) -> int:
    """Mark the bookings whose check-in has closed as no-shows; how many."""
    local = ctx.clock.local(now).replace(tzinfo=None)
    grace = timedelta(minutes=ctx.rules.check_in_after_minutes)
    rows = conn.execute(
        select(appointments.c.id, appointments.c.day, appointments.c.slot_end,
               appointments.c.id_hash)
        .where(appointments.c.status == "booked", appointments.c.day <= local.date())).all()
    due = [r for r in rows if datetime.combine(r.day, r.slot_end) + grace <= local]
    for row in due:
        conn.execute(update(appointments).where(appointments.c.id == row.id,
                                                appointments.c.status == "booked")
                     .values(status="no_show", changed_at=now))
        log.info("appointment %s: no-show", row.id)
        city_sync.appointment_changed(conn, ctx, row.id, now)
        _consequences(conn, row.id_hash, row.id, now)
    return len(due)


def no_show_days(conn: Connection, id_hash: str) -> list[date]:
    """The days of a person's no-shows that count (excused ones do not). Read by the person
    alone (ix_appointments_person: a few rows), the status filtered here: on the status
    SQLite would pick the index of every no-show in the hall."""
    rows = conn.execute(select(appointments.c.day, appointments.c.status)
                        .where(appointments.c.id_hash == id_hash)
                        .order_by(appointments.c.day)).all()
    return [r.day for r in rows if r.status == "no_show"]


def _consequences(conn: Connection, id_hash: str, appointment_id: str, now: datetime) -> None:
    days = no_show_days(conn, id_hash)
    person = conn.execute(select(appointments.c.id_masked, appointments.c.name_masked,
                                 appointments.c.phone)
                          .where(appointments.c.id == appointment_id)).one()
    ban = ban_after(days)
    if ban is not None:
        already = conn.scalar(select(blacklist.c.id).where(
            blacklist.c.id_hash == id_hash, blacklist.c.since == ban.since))
        if already is None:
            conn.execute(insert(blacklist).values(
                id_hash=id_hash, id_masked=person.id_masked, name_masked=person.name_masked,
                since=ban.since, until=ban.until, created_at=now))
            until = f"{ban.until.year}年{ban.until.month}月{ban.until.day}日"
            send_sms(conn, person.phone, "blacklisted", BLACKLISTED.format(until=until),
                     appointment_id, now)
            log.info("%s blacklisted until %s", person.id_masked, ban.until)
    elif warn_after(days):
        send_sms(conn, person.phone, "warning", WARNING.format(count=len(days)),
                 appointment_id, now)


def excuse(conn: Connection, appointment_id: str, reason: str, now: datetime) -> bool:
    """A no-show the hall caused no longer counts; a blacklisting it completed is lifted.
    False when the booking is not a no-show."""
    row = conn.execute(select(appointments.c.id_hash, appointments.c.day)
                       .where(appointments.c.id == appointment_id,
                              appointments.c.status == "no_show")).one_or_none()
    if row is None:
        return False
    conn.execute(update(appointments).where(appointments.c.id == appointment_id)
                 .values(status="excused", changed_at=now, note=reason[:200]))
    days = no_show_days(conn, row.id_hash)
    standing = {ban.since for i in range(len(days))
                if (ban := ban_after(days[:i + 1])) is not None}
    conn.execute(update(blacklist)  # a ban the excused no-show completed no longer stands
                 .where(blacklist.c.id_hash == row.id_hash, blacklist.c.lifted_at.is_(None),
                        blacklist.c.since.not_in(standing))
                 .values(lifted_at=now, lifted_by="excused no-show",
                         lift_reason=reason[:200]))
    return True


def lift(conn: Connection, entry_id: int, by: str, reason: str, now: datetime) -> bool:
    """A manager lifts a blacklisting, with a written reason; False if none such is active."""
    if not reason.strip():
        raise ValueError("lifting a blacklisting needs a written reason")
    done = conn.execute(update(blacklist)
                        .where(blacklist.c.id == entry_id, blacklist.c.lifted_at.is_(None))
                        .values(lifted_at=now, lifted_by=by[:50], lift_reason=reason[:200]))
    return done.rowcount == 1
