"""hub/storage.py on its own: a full database told from other errors (a real SQLITE_FULL,
made with max_page_count), the refusals and who reads which words, and the requests left
on their devices. The whole hub on a full disk: tests/faults/test_disk_full.py."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from hub.storage import KEPT_ON_DEVICES, Refusals, has_room, is_storage_full
from protocol import topics
from protocol.errors import STORAGE_FULL_STAFF, ZH, ErrorCode
from protocol.messages import ErrorReply, parse_reply
from protocol.topics import DeviceClass


def full_error(tmp_path: Path) -> OperationalError:
    """SQLite's own SQLITE_FULL: a database not allowed a page more than it has."""
    engine = create_engine(f"sqlite:///{tmp_path / 'small.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x BLOB)"))
    with engine.connect() as conn:
        conn.execute(text("PRAGMA max_page_count = 2"))
        with pytest.raises(OperationalError) as caught:
            conn.execute(text("INSERT INTO t VALUES (zeroblob(100000))"))
    engine.dispose()
    return caught.value


def test_a_full_database_is_told_from_other_errors(tmp_path: Path) -> None:
    full = full_error(tmp_path)
    assert "full" in str(full.orig) and is_storage_full(full)
    assert is_storage_full(full.orig)  # the driver's own exception too
    engine = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with engine.connect() as conn, pytest.raises(OperationalError) as other:
        conn.execute(text("SELECT * FROM no_such_table"))
    assert not is_storage_full(other.value)
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
    assert not is_storage_full(locked)


def test_room_is_known_for_a_sqlite_file_only(tmp_path: Path) -> None:
    assert has_room(create_engine(f"sqlite:///{tmp_path / 'a.db'}")) is True  # this disk
    assert has_room(create_engine("sqlite://")) is None  # in memory: nothing to measure


def request(device_class: DeviceClass, device_id: str, action: str) -> tuple[str, bytes, str]:
    rid = str(uuid4())
    return (topics.request_topic("h1", device_class, device_id, action),
            json.dumps({"v": 1, "request_id": rid}).encode(), rid)


def test_a_kiosk_citizen_is_sent_to_the_desk_staff_read_that_nothing_was_done() -> None:
    refusals = Refusals()
    topic, payload, rid = request(DeviceClass.KIOSK, "kiosk-1", "issue_ticket")
    answer = refusals.refuse(topic, payload)
    assert answer is not None
    assert answer.reply_topic == topics.reply_topic("h1", DeviceClass.KIOSK, "kiosk-1")
    reply = parse_reply(answer.payload)
    assert isinstance(reply, ErrorReply) and str(reply.request_id) == rid
    assert reply.code == ErrorCode.STORAGE_FULL
    assert reply.message == ZH[ErrorCode.STORAGE_FULL] == "系统存储空间不足，请到导办台取号"
    for cls, device, action in ((DeviceClass.CALLER, "caller-5", "call_next"),
                                (DeviceClass.GUIDE, "guide-1", "issue_priority_ticket")):
        topic, payload, _ = request(cls, device, action)
        staff = refusals.refuse(topic, payload)
        assert staff is not None
        staff_reply = parse_reply(staff.payload)
        assert isinstance(staff_reply, ErrorReply) and staff_reply.message == STORAGE_FULL_STAFF


def test_what_devices_keep_for_later_gets_no_answer() -> None:
    refusals = Refusals()
    assert KEPT_ON_DEVICES == {"confirm_ticket", "void_ticket", "submit_review"}
    for action, cls in (("confirm_ticket", DeviceClass.KIOSK), ("void_ticket", DeviceClass.KIOSK),
                        ("submit_review", DeviceClass.CALLER)):
        topic, payload, _ = request(cls, "d1", action)
        assert refusals.refuse(topic, payload) is None
        assert refusals.again(payload) is None, "applied once there is room"
    assert refusals.refuse("not/a/request", b"{}") is None


def test_a_copy_of_a_refused_request_gets_the_same_refusal_never_a_ticket() -> None:
    refusals = Refusals()
    topic, payload, _ = request(DeviceClass.KIOSK, "kiosk-1", "issue_ticket")
    assert refusals.again(payload) is None
    first = refusals.refuse(topic, payload)
    assert first is not None and refusals.again(payload) is first
    _, other, _ = request(DeviceClass.KIOSK, "kiosk-1", "issue_ticket")
    assert refusals.again(other) is None
    assert refusals.again(b"not json") is None
    for _ in range(Refusals.KEEP):  # the oldest make way
        refusals.refuse(*request(DeviceClass.KIOSK, "kiosk-1", "issue_ticket")[:2])
    assert refusals.again(payload) is None
