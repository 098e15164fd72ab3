"""The database's disk is full: how the hub tells, which requests wait on their devices,
and how it knows there is room again.

SQLite answers SQLITE_FULL ("database or disk is full") when its WAL or its file cannot
grow, PostgreSQL SQLSTATE 53100; either way the transaction that could not be written is
rolled back whole and what was committed before stays as it was. The hub then goes on
serving (hub/consumer.py): what only reads is answered as usual, what would write is
refused with STORAGE_FULL, except the requests a device keeps in its outbox and sends
again with nobody waiting at the screen for the answer (KEPT_ON_DEVICES): those are left
there, and applied once when there is room again.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from collections import OrderedDict
from pathlib import Path
from uuid import UUID

from sqlalchemy import Engine

from hub.context import Outcome
from hub.dispatch import Answer, error_reply, request_id_of
from protocol import topics
from protocol.errors import STORAGE_FULL_STAFF, ErrorCode
from protocol.messages import ConfirmTicket, SubmitReview, VoidTicket
from protocol.topics import DeviceClass

log = logging.getLogger(__name__)

ROOM_BYTES = 4 << 20  # free space that counts as room again: thousands of tickets' worth
PROBE_S = 1.0  # while full, how often the hub looks for room
POSTGRES_DISK_FULL = "53100"

# A ticket printed and in the citizen's hand, one nobody took, a review pressed at the
# evaluator (which then says "评价已保存，网络恢复后自动提交"): kept by the device until answered.
KEPT_ON_DEVICES = frozenset({ConfirmTicket.ACTION, VoidTicket.ACTION, SubmitReview.ACTION})


def is_storage_full(exc: BaseException) -> bool:
    """Whether a database error says its disk is full (SQLAlchemy's or the driver's)."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return bool(code & 0xFF == sqlite3.SQLITE_FULL)
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate is not None:
        return bool(sqlstate == POSTGRES_DISK_FULL)
    return "disk is full" in str(orig)


def has_room(engine: Engine) -> bool | None:
    """Whether the file system of a SQLite database file has ROOM_BYTES free; None when it
    cannot tell (a database elsewhere: the next request that commits tells)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    try:
        return shutil.disk_usage(Path(database).parent).free >= ROOM_BYTES
    except OSError:
        return None


class Refusals:
    """The requests refused for want of room, by request id, held in memory (there is no
    room to record them). A copy of one that comes later (a device's resend that crossed
    the refusal, the broker's redelivery) gets the same refusal, as a recorded reply would:
    never a ticket or a call after the device was told no."""

    KEEP = 10_000  # the newest; copies come within seconds

    def __init__(self) -> None:
        self._answers: OrderedDict[str, Answer] = OrderedDict()

    def refuse(self, topic: str, payload: bytes) -> Answer | None:
        """The STORAGE_FULL answer to a request the disk had no room for: the kiosk's
        citizen is sent to the guide desk, staff read that nothing was done. None for a
        request its device keeps for later (KEPT_ON_DEVICES), or one from nowhere."""
        addr = topics.parse_request_topic(topic)
        if addr is None:
            return None
        if addr.action in KEPT_ON_DEVICES:
            log.info("%s from %s left in its outbox until there is room", addr.action,
                     addr.device_id)
            return None
        rid = _request_id(payload)
        text = None if addr.device_class == DeviceClass.KIOSK else STORAGE_FULL_STAFF
        log.warning("refused %s from %s: STORAGE_FULL", addr.action, addr.device_id)
        answer = Answer(topics.reply_topic(addr.hall_id, addr.device_class, addr.device_id),
                        Outcome(error_reply(ErrorCode.STORAGE_FULL, rid, text)))
        if rid is not None:
            self._answers[str(rid)] = answer
            while len(self._answers) > self.KEEP:
                self._answers.popitem(last=False)
        return answer

    def again(self, payload: bytes) -> Answer | None:
        """The refusal already given to this request, if it was refused."""
        if not self._answers:
            return None  # the usual case: no disk was full since the start
        rid = _request_id(payload)
        return None if rid is None else self._answers.get(str(rid))


def _request_id(payload: bytes) -> UUID | None:
    try:
        return request_id_of(json.loads(payload))
    except ValueError:
        return None
