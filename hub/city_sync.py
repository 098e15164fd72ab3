"""City mode on the hub: the hall's appointments, no-shows and reviews go to the city
service, and the city's blacklist comes back (docs/scaling.md).

Each hall keeps its own hub and database and works alone; the city holds the shared
blacklist. What goes up is written to `city_outbox` in the transaction of the change
itself (a booking, a cancel, a check-in, a no-show, an excuse, a review, a lifted ban),
so nothing is sent that did not happen and nothing that happened is lost, whatever
crashes when. A thread (`CitySync`) sends the oldest unsent entries in order, in batches,
each with an id made once: the city applies each id once, so a batch resent after a lost
answer is not doubled. The answer carries the city's blacklist changes after the hall's
cursor (the highest change number applied, `blacklist.city_seq`); they are written into
the hall's own `blacklist`, which the booking check reads (hub/booking.py `active_ban`):
with the link down booking goes on against the last list the hall has, and the backlog
goes, in order, when the city answers again.

The same person must hash the same in every hall: in city mode the hall's "identity" key
(hub/hall_keys.py) is the city-wide key given at install (`HALLQ_HUB_CITY_IDENTITY_KEY`),
never the clear ID number. The city never holds the key.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import uuid4

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, func, insert, select, update

from hub.context import HallContext
from hub.db.engine import make_reader
from hub.db.schema import appointments, blacklist, city_outbox, hall_keys, sms_messages
from hub.identity import KEY_NAME as IDENTITY_KEY
from hub.sms import send_sms
from protocol.city_sync import BanChange, NoShowWarning, SyncAnswer

log = logging.getLogger(__name__)

Run = Callable[[Callable[[Connection], Any]], Any]

BATCH = 200  # events in one request
LOOK_S = 0.5  # how often the thread looks for new entries in the outbox (a local read)
TIMEOUT_S = 10.0


def install_identity_key(conn: Connection, key_hex: str, now: datetime) -> int:
    """Make the city-wide key the hall's identity key; the number of bookings hashed with
    the hall's former key (their person no longer matches new bookings: warned)."""
    key_hex = key_hex.lower()
    found = conn.scalar(select(hall_keys.c.secret).where(hall_keys.c.name == IDENTITY_KEY))
    if found == key_hex:
        return 0
    if found is None:
        conn.execute(insert(hall_keys).values(name=IDENTITY_KEY, secret=key_hex, created_at=now))
        return 0
    conn.execute(update(hall_keys).where(hall_keys.c.name == IDENTITY_KEY)
                 .values(secret=key_hex, created_at=now))
    before = int(conn.scalar(select(func.count()).select_from(appointments)) or 0)
    log.warning("the hall's identity key is now the city's: the %d bookings made before keep "
                "the former hash (their no-shows count for this hall only)", before)
    return before


def _enqueue(conn: Connection, kind: str, body: dict[str, Any], now: datetime) -> None:
    conn.execute(insert(city_outbox).values(
        event_id=uuid4().hex, created_at=now,
        payload={"kind": kind, "at": now.isoformat(), "queued": time.time(), **body}))


def appointment_changed(conn: Connection, ctx: HallContext, appointment_id: str,
                        now: datetime) -> None:
    """A booking as it is now, to the city (city mode only), in the caller's transaction."""
    if not ctx.city:
        return
    row = conn.execute(select(appointments).where(appointments.c.id == appointment_id)).one()
    body: dict[str, Any] = {
        "appointment": row.id, "service": row.service_code, "day": row.day.isoformat(),
        "start": row.slot_start.isoformat("minutes"), "end": row.slot_end.isoformat("minutes"),
        "status": row.status, "channel": row.channel, "id_hash": row.id_hash}
    if row.status == "no_show":  # a ban shows the person masked; nothing else needs them
        body |= {"id_masked": row.id_masked, "name_masked": row.name_masked}
    _enqueue(conn, "appointment", body, now)


def review_recorded(conn: Connection, ctx: HallContext, record: dict[str, Any], channel: str,
                    now: datetime) -> None:
    """A review (the ReviewRecord as JSON) to the city's review record (city mode only)."""
    if not ctx.city:
        return
    fields = ("case_id", "number", "service", "service_name", "window", "staff_no", "grade",
              "stars", "reason", "created_at")
    _enqueue(conn, "review", {"review": record["id"], "channel": channel,
                              **{f: record[f] for f in fields}}, now)


def blacklist_lifted(conn: Connection, ctx: HallContext, entry_id: int, who: str, reason: str,
                     now: datetime) -> None:
    """A ban a manager lifted here is lifted city-wide (city mode only)."""
    if not ctx.city:
        return
    row = conn.execute(select(blacklist.c.id_hash, blacklist.c.since)
                       .where(blacklist.c.id == entry_id)).one()
    _enqueue(conn, "blacklist_lift", {"id_hash": row.id_hash, "since": row.since.isoformat(),
                                      "who": who[:50], "reason": reason[:200]}, now)


def cursor(conn: Connection) -> int:
    """The number of the last city blacklist change this hall has applied (0: none)."""
    return int(conn.scalar(select(func.max(blacklist.c.city_seq))) or 0)


def apply_changes(conn: Connection, hall_id: str, changes: list[BanChange],
                  now: datetime) -> int:
    """Write the city's ban changes into the hall's blacklist; how many bans are new here.

    A ban is one person (hash) from one day (`since`), whoever computed it: a ban this hall
    made from its own no-shows is the same entry. A lift is never undone, here or at the
    city. The hall of the no-show that completed a new ban sends its SMS (it alone has the
    phone number), unless it had banned the person itself (and told them then)."""
    new = 0
    for c in changes:
        row = conn.execute(select(blacklist.c.id, blacklist.c.lifted_at)
                           .where(blacklist.c.id_hash == c.id_hash,
                                  blacklist.c.since == c.since)
                           .order_by(blacklist.c.id).limit(1)).one_or_none()
        lift: dict[str, Any] = {}
        if c.lifted_at is not None and (row is None or row.lifted_at is None):
            by = c.lifted_by or ""
            lift = {"lifted_at": c.lifted_at, "lifted_by": f"全市：{by}"[:50],
                    "lift_reason": (c.lift_reason or "")[:200]}
        if row is not None:
            conn.execute(update(blacklist).where(blacklist.c.id == row.id)
                         .values(city_seq=c.seq, city_hall=c.hall, **lift))
            continue
        conn.execute(insert(blacklist).values(
            id_hash=c.id_hash, id_masked=c.id_masked, name_masked=c.name_masked,
            since=c.since, until=c.until, created_at=now, city_seq=c.seq, city_hall=c.hall,
            **lift))
        if c.lifted_at is None:
            new += 1
            if c.hall == hall_id:
                _tell_banned(conn, c.appointment, c.until, now)
    return new


def _tell_banned(conn: Connection, appointment_id: str, until: date, now: datetime) -> None:
    from hub.no_shows import BLACKLISTED  # hub.no_shows sends its events through this module

    phone = conn.scalar(select(appointments.c.phone).where(appointments.c.id == appointment_id))
    if phone is None:
        return
    text = BLACKLISTED.format(until=f"{until.year}年{until.month}月{until.day}日")
    send_sms(conn, str(phone), "blacklisted", text, appointment_id, now)


def warn_from_city(conn: Connection, warnings: list[NoShowWarning], now: datetime) -> None:
    """Send the warning SMS for each no-show of ours the city counts as a second (one
    elsewhere, one here): once per booking, whether this hall warned on its own count or the
    city says it again for a resent batch."""
    from hub.no_shows import WARNING  # hub.no_shows sends its events through this module

    for w in warnings:
        told = conn.scalar(select(func.count()).where(
            sms_messages.c.appointment_id == w.appointment,
            sms_messages.c.kind.in_(("warning", "blacklisted"))))
        phone = conn.scalar(select(appointments.c.phone).where(
            appointments.c.id == w.appointment, appointments.c.status == "no_show"))
        if not told and phone is not None:
            send_sms(conn, str(phone), "warning", WARNING.format(count=w.count), w.appointment,
                     now)


class CityUnreachable(Exception):
    """The city did not take a batch (no connection, a timeout, an error answer)."""


class CitySync:
    """Sends the city outbox to the city and applies the blacklist changes it answers with;
    backs off while the city cannot be reached; `stop()` ends it."""

    def __init__(self, engine: Engine, run: Run, hall_id: str, url: str, token: str,
                 clock: Callable[[], datetime], *, poll_s: float = 5.0,
                 first_backoff_s: float = 1.0, max_backoff_s: float = 60.0) -> None:
        self.reader = make_reader(engine)
        self.run = run  # writes go through the hub's request thread
        self.hall_id = hall_id
        self.url = url
        self.token = token
        self.clock = clock
        self.poll_s = poll_s
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        self.failures = 0  # in a row
        self.failing_since: float | None = None  # monotonic, while the city cannot be reached
        self.sent = 0  # events the city took since start (resends included)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="city-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=TIMEOUT_S + 2)

    def _loop(self) -> None:
        next_poll = 0.0
        while not self._stop.is_set():
            if time.monotonic() < next_poll and not self._waiting():
                self._stop.wait(LOOK_S)
                continue
            try:
                more = self.sync_once()
            except Exception as e:  # the city or the link down, the hub not serving: later
                self.failures += 1
                if self.failing_since is None:
                    self.failing_since = time.monotonic()
                wait = min(self.max_backoff_s, self.first_backoff_s * 2 ** (self.failures - 1))
                wait *= random.uniform(0.5, 1.0)  # many halls must not all come back at once
                log.warning("city sync failed (%s); again in %.1f s", e, wait)
                self._stop.wait(wait)
                continue
            if self.failing_since is not None:
                log.info("city sync back after %.1f s", time.monotonic() - self.failing_since)
            self.failures, self.failing_since = 0, None
            next_poll = 0.0 if more else time.monotonic() + self.poll_s

    def _waiting(self) -> bool:
        """Whether the outbox holds unsent entries (a cheap local read)."""
        try:
            with self.reader.connect() as conn:
                return conn.scalar(select(city_outbox.c.id).where(city_outbox.c.sent_at.is_(None))
                                   .limit(1)) is not None
        except Exception:  # the database busy: look again later
            return False

    def sync_once(self) -> bool:
        """One exchange: the oldest unsent events out, the blacklist changes after the
        cursor in, both applied; whether there is more to do at once. Raises when the city
        did not take the batch (nothing is marked sent then)."""
        with self.reader.connect() as conn:
            rows = conn.execute(select(city_outbox.c.id, city_outbox.c.event_id,
                                       city_outbox.c.payload)
                                .where(city_outbox.c.sent_at.is_(None))
                                .order_by(city_outbox.c.id).limit(BATCH)).all()
            after = cursor(conn)
        events = [{**r.payload, "id": r.event_id, "seq": r.id} for r in rows]
        answer = self._post({"hall": self.hall_id, "cursor": after, "events": events})
        ids = [r.id for r in rows]

        def job(conn: Connection) -> int:
            now = self.clock()
            if ids:
                conn.execute(update(city_outbox).where(city_outbox.c.id.in_(ids),
                                                       city_outbox.c.sent_at.is_(None))
                             .values(sent_at=now))
            warn_from_city(conn, answer.warnings, now)
            return apply_changes(conn, self.hall_id, answer.changes, now)

        new_bans = self.run(job)
        self.sent += len(ids)
        if new_bans:
            log.info("city blacklist: %d new bans applied", new_bans)
        return len(ids) == BATCH or answer.more

    def _post(self, body: dict[str, Any]) -> SyncAnswer:
        data = json.dumps(body, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=data, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as reply:
                raw = reply.read()
        except urllib.error.HTTPError as e:
            raise CityUnreachable(f"HTTP {e.code}: {e.read()[:200]!r}") from None
        except (urllib.error.URLError, OSError) as e:  # refused, reset, timed out
            raise CityUnreachable(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from None
        try:
            return SyncAnswer.model_validate_json(raw)
        except ValidationError as e:
            raise CityUnreachable(f"unreadable answer: {e.error_count()} errors") from None
