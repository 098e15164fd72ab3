"""A hall's batch applied at the city: each event once, the bookings as they stand, the
review record, and the city-wide blacklist for every person whose no-shows changed.

Exactly once: an event is applied only when its id goes into `events` (the primary key;
`ON CONFLICT DO NOTHING` tells a resend). A batch is one transaction: all of it or none.

Who waits for whom (PostgreSQL advisory locks, held to the commit, always taken in this
order so that two batches never wait for each other in a circle):

1. the hall: its batches apply one after the other (a resend racing the original);
2. each person the batch touches, in key order: two halls' no-shows of one person are
   counted together, never each without the other;
3. the blacklist's change number, taken only when the blacklist changes: changes commit
   in the order of their numbers, so a hall that has read up to N never misses one below N.

The blacklist uses the halls' own rules (hub/blacklist_rules.py): three no-shows within
half a year, wherever they were, ban booking for a year from the third; an excused no-show
no longer counts and the ban it completed is lifted; a ban a hall's manager lifted is
lifted city-wide and never comes back. A no-show that is the person's second within half a
year over every hall is answered with a warning for its hall to send (the hall's own count
misses a first no-show elsewhere).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from city.schema import appointments, blacklist, blacklist_seq, events, halls, reviews
from hub.blacklist_rules import Ban, ban_after, warn_after
from protocol.city_sync import (
    AppointmentEvent,
    BanChange,
    CityEvent,
    LiftEvent,
    NoShowWarning,
    ReviewEvent,
    SyncAnswer,
    SyncRequest,
)

HALL_LOCK, PERSON_LOCK, CHANGE_LOCK = 1, 2, 3
COUNTING = ("no_show", "excused")  # an event with this status may change a person's bans
SEEN_EVERY = timedelta(minutes=1)  # an idle hall's last poll is written at most this often


def apply_batch(conn: Connection, req: SyncRequest, now: datetime,
                max_changes: int) -> SyncAnswer:
    """Apply the hall's events once each and answer with the changes after its cursor."""
    if not req.events:  # an idle hall's poll: read only (no commit to wait for on disk)
        conn.execute(update(halls).where(halls.c.hall_id == req.hall,
                                         halls.c.last_seen < now - SEEN_EVERY)
                     .values(last_seen=now))
        return _answer(conn, req, 0, max_changes)
    _lock(conn, HALL_LOCK, _key(req.hall))
    for key in sorted({_key(h) for h in map(_person, req.events) if h is not None}):
        _lock(conn, PERSON_LOCK, key)
    fresh = _record(conn, req, now)
    booked = [e for e in fresh if isinstance(e, AppointmentEvent)]
    _apply_appointments(conn, req.hall, booked)
    _apply_reviews(conn, req.hall, [e for e in fresh if isinstance(e, ReviewEvent)])
    counted: dict[str, datetime] = {}
    for a in booked:
        if a.status in COUNTING:
            counted[a.id_hash] = max(a.at, counted.get(a.id_hash, a.at))
    for person, at in sorted(counted.items()):
        recompute(conn, person, at, now)
    for lift in fresh:  # after the bans the same batch may have made
        if isinstance(lift, LiftEvent):
            _lift(conn, req.hall, lift)
    _count(conn, req, len(fresh), now)
    return _answer(conn, req, len(fresh), max_changes, _warnings(conn, req))


def _answer(conn: Connection, req: SyncRequest, fresh: int, max_changes: int,
            warnings: list[NoShowWarning] | None = None) -> SyncAnswer:
    rows = conn.execute(select(blacklist).where(blacklist.c.seq > req.cursor)
                        .order_by(blacklist.c.seq).limit(max_changes + 1)).all()
    return SyncAnswer(accepted=fresh, duplicates=len(req.events) - fresh,
                      changes=[_change(r) for r in rows[:max_changes]],
                      more=len(rows) > max_changes, warnings=warnings or [])


def _warnings(conn: Connection, req: SyncRequest) -> list[NoShowWarning]:
    """The batch's no-shows (new or resent) that are their person's second within half a
    year over every hall, as the rules judged when each came (hub/no_shows.py warns the
    same way on a hall's own count). Worked out again for a resend: the answer may have
    been lost, and the hall sends each warning once."""
    found = []
    for e in {e.appointment: e for e in req.events if isinstance(e, AppointmentEvent)
              and e.status == "no_show"}.values():
        rows = _no_shows(conn, e.id_hash)
        at = next((i for i, r in enumerate(rows)
                   if (r.hall_id, r.appointment_id) == (req.hall, e.appointment)), None)
        if at is None:  # excused meanwhile
            continue
        days = [r.day for r in rows[:at + 1]]
        if warn_after(days):
            found.append(NoShowWarning(appointment=e.appointment, count=len(days)))
    return found


def _no_shows(conn: Connection, id_hash: str) -> Sequence[Any]:
    """A person's counted no-shows in every hall, in the order they came."""
    return conn.execute(select(appointments.c.day, appointments.c.hall_id,
                               appointments.c.appointment_id, appointments.c.id_masked,
                               appointments.c.name_masked)
                        .where(appointments.c.id_hash == id_hash,
                               appointments.c.status == "no_show")
                        .order_by(appointments.c.day, appointments.c.changed_at,
                                  appointments.c.hall_id, appointments.c.appointment_id)).all()


def recompute(conn: Connection, id_hash: str, at: datetime, now: datetime) -> None:
    """The person's bans from all their counted no-shows in every hall: a ban that stands
    and is missing is added; one that no longer stands (an excused no-show) is lifted."""
    rows = _no_shows(conn, id_hash)
    standing = _standing(rows)
    existing = {r.since: r for r in conn.execute(
        select(blacklist.c.id, blacklist.c.since, blacklist.c.lifted_at)
        .where(blacklist.c.id_hash == id_hash)).all()}
    for since, (ban, third) in sorted(standing.items()):
        if since in existing:
            continue  # standing already, or lifted by a manager: it stays so
        conn.execute(pg_insert(blacklist).values(
            seq=_next_change(conn), id_hash=id_hash, id_masked=third.id_masked or "",
            name_masked=third.name_masked or "", since=ban.since, until=ban.until,
            hall_id=third.hall_id, appointment_id=third.appointment_id, created_at=now))
    for since, entry in existing.items():
        if since not in standing and entry.lifted_at is None:
            conn.execute(update(blacklist).where(blacklist.c.id == entry.id).values(
                seq=_next_change(conn), lifted_at=at, lifted_by="excused no-show",
                lift_reason="完成该黑名单的预约未到已由大厅免责"))


def _standing(rows: Sequence[Any]) -> dict[date, tuple[Ban, Any]]:
    """Each ban the no-shows (sorted by day) make, by its first day, with the no-show that
    completed it: as each no-show came, the rules decided (hub/no_shows.py does the same)."""
    days = [r.day for r in rows]
    found: dict[date, tuple[Ban, Any]] = {}
    for i, row in enumerate(rows):
        ban = ban_after(days[:i + 1])
        if ban is not None:
            found.setdefault(ban.since, (ban, row))
    return found


def _lift(conn: Connection, hall: str, e: LiftEvent) -> None:
    conn.execute(update(blacklist).where(blacklist.c.id_hash == e.id_hash,
                                         blacklist.c.since == e.since,
                                         blacklist.c.lifted_at.is_(None))
                 .values(seq=_next_change(conn), lifted_at=_utc(e.at),
                         lifted_by=f"{hall}：{e.who}"[:80], lift_reason=e.reason))


def _record(conn: Connection, req: SyncRequest, now: datetime) -> list[CityEvent]:
    """Keep the events the city has not seen (by id), in the hall's order; those only."""
    unique: dict[str, CityEvent] = {}
    for e in req.events:
        unique.setdefault(e.id, e)
    if not unique:
        return []
    wall = time.time()
    rows = [{"event_id": e.id, "hall_id": req.hall, "seq": e.seq, "kind": e.kind,
             "at": _utc(e.at), "received_at": now,
             "lag_s": None if e.queued is None else max(0.0, wall - e.queued),
             "payload": e.model_dump(mode="json")} for e in unique.values()]
    new = set(conn.execute(pg_insert(events).values(rows)
                           .on_conflict_do_nothing(index_elements=["event_id"])
                           .returning(events.c.event_id)).scalars())
    return [e for e in unique.values() if e.id in new]


def _apply_appointments(conn: Connection, hall: str, found: list[AppointmentEvent]) -> None:
    """Each booking's latest state; an older event never overwrites a newer one."""
    latest: dict[str, AppointmentEvent] = {}
    for e in found:
        if e.appointment not in latest or e.seq > latest[e.appointment].seq:
            latest[e.appointment] = e
    if not latest:
        return
    stmt = pg_insert(appointments).values([
        {"hall_id": hall, "appointment_id": e.appointment, "seq": e.seq, "id_hash": e.id_hash,
         "service": e.service, "day": e.day, "slot_start": e.start, "slot_end": e.end,
         "status": e.status, "channel": e.channel, "id_masked": e.id_masked,
         "name_masked": e.name_masked, "changed_at": _utc(e.at)} for e in latest.values()])
    new = stmt.excluded
    conn.execute(stmt.on_conflict_do_update(
        index_elements=["hall_id", "appointment_id"],
        set_={"seq": new.seq, "status": new.status, "changed_at": new.changed_at,
              "id_masked": func.coalesce(new.id_masked, appointments.c.id_masked),
              "name_masked": func.coalesce(new.name_masked, appointments.c.name_masked)},
        where=appointments.c.seq < new.seq))


def _apply_reviews(conn: Connection, hall: str, found: list[ReviewEvent]) -> None:
    if not found:
        return
    conn.execute(pg_insert(reviews).values([
        {"hall_id": hall, "review_id": e.review, "case_id": e.case_id, "number": e.number,
         "service": e.service, "service_name": e.service_name, "window": e.window,
         "staff_no": e.staff_no, "grade": e.grade, "stars": e.stars, "reason": e.reason,
         "channel": e.channel, "created_at": e.created_at} for e in found])
        .on_conflict_do_nothing())


def _count(conn: Connection, req: SyncRequest, fresh: int, now: datetime) -> None:
    last = max((e.seq for e in req.events), default=0)
    stmt = pg_insert(halls).values(hall_id=req.hall, first_seen=now, last_seen=now,
                                   events=fresh, duplicates=len(req.events) - fresh,
                                   last_seq=last)
    conn.execute(stmt.on_conflict_do_update(index_elements=["hall_id"], set_={
        "last_seen": now, "events": halls.c.events + fresh,
        "duplicates": halls.c.duplicates + (len(req.events) - fresh),
        "last_seq": func.greatest(halls.c.last_seq, last)}))


def _change(row: Any) -> BanChange:
    return BanChange(seq=row.seq, id_hash=row.id_hash, id_masked=row.id_masked,
                     name_masked=row.name_masked, since=row.since, until=row.until,
                     hall=row.hall_id, appointment=row.appointment_id, lifted_at=row.lifted_at,
                     lifted_by=row.lifted_by, lift_reason=row.lift_reason)


def _next_change(conn: Connection) -> int:
    """The next change number, holding the change lock to the commit (see the module doc)."""
    _lock(conn, CHANGE_LOCK, 0)
    return int(conn.scalar(blacklist_seq.next_value()))


def _person(e: CityEvent) -> str | None:
    """The person whose bans the event may change, or None."""
    if isinstance(e, LiftEvent) or (isinstance(e, AppointmentEvent) and e.status in COUNTING):
        return e.id_hash
    return None


def _lock(conn: Connection, space: int, key: int) -> None:
    conn.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"),
                 {"space": space, "key": key})


def _key(value: str) -> int:
    """A signed 32-bit lock key (collisions only make two batches wait for each other)."""
    return zlib.crc32(value.encode()) - 2 ** 31


def _utc(at: datetime) -> datetime:
    """Naive UTC, as the tables keep times."""
    return at if at.tzinfo is None else at.astimezone(UTC).replace(tzinfo=None)
