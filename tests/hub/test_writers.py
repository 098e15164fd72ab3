"""Several writers on one database at once (two hub processes by mistake, the admin command
beside a running hub): ticket numbers stay gap-free and duplicate-free, and a reader never
waits for a writer. SQLite gets this from BEGIN IMMEDIATE, PostgreSQL from the writer's
advisory lock (hub/db/engine.py): without it, two first tickets of a prefix under READ
COMMITTED would both insert the day's counter and one would fail.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from uuid import uuid4

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.exc import DBAPIError

from hub.catalogue import load_catalogue
from hub.catalogue_sync import sync_catalogue
from hub.clock import ShiftedClock
from hub.context import HallContext
from hub.db.engine import dispose, make_engine, make_reader, migrate
from hub.db.schema import tickets, windows
from hub.dispatch import dispatch
from protocol import topics
from protocol.messages import IssueTicket, TicketIssued
from protocol.topics import DeviceClass

HALL = "hall-1"
WRITERS, EACH = 4, 5


@pytest.fixture
def engines(db_url: str) -> Iterator[list[Engine]]:
    """One engine per writer, as separate processes would have."""
    first = make_engine(db_url)
    migrate(first)
    with first.begin() as conn:
        sync_catalogue(conn, load_catalogue(), datetime(2026, 11, 24, 1, 0))
    found = [first, *(make_engine(db_url) for _ in range(WRITERS - 1))]
    yield found
    for e in found:
        dispose(e)


def test_writers_at_once_number_without_gaps_or_doubles(engines: list[Engine]) -> None:
    clock = ShiftedClock("Asia/Shanghai", datetime(2026, 11, 24, 9, 0))
    ctx = HallContext(clock, hall_id=HALL)
    by_prefix: dict[str, str] = {}
    for s in load_catalogue().all_services():
        by_prefix.setdefault(s.prefix, s.code)
    services = list(by_prefix.values())  # a prefix each
    start = threading.Barrier(WRITERS)
    numbers: list[str] = []
    failures: list[BaseException] = []

    def writer(n: int, engine: Engine) -> None:
        topic = topics.request_topic(HALL, DeviceClass.KIOSK, f"kiosk-{n}", IssueTicket.ACTION)
        try:
            for service in services:  # all at once at each prefix's first number of the day
                start.wait(30)
                for _ in range(EACH):  # a transaction each
                    payload = IssueTicket(request_id=uuid4(), service=service).model_dump_json()
                    with engine.begin() as conn:
                        answer = dispatch(conn, ctx, HALL, topic, payload.encode())
                    assert answer is not None
                    reply = answer.outcome.reply
                    assert isinstance(reply, TicketIssued), reply
                    numbers.append(reply.ticket.number)
        except BaseException as exc:  # the test thread reports it
            start.abort()
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n, e)) for n, e in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures[0]
    assert sorted(numbers) == sorted(f"{prefix}{i:03d}" for prefix in by_prefix
                                     for i in range(1, WRITERS * EACH + 1))
    with engines[0].connect() as conn:
        assert conn.scalar(select(func.count()).select_from(tickets)) == len(numbers)


def test_a_reader_neither_waits_for_a_writer_nor_writes(engines: list[Engine]) -> None:
    writer, reader = engines[0], make_reader(engines[0])
    with writer.begin() as busy:  # a writer in the middle of its transaction
        busy.execute(update(windows).values(call_seq=windows.c.call_seq + 1))
        with reader.connect() as conn:
            before = conn.scalar(select(func.sum(windows.c.call_seq)))
            assert before == 0, "a reader sees only what is committed"
            with pytest.raises(DBAPIError):
                conn.execute(text("DELETE FROM requests"))  # read-only
    with reader.connect() as conn:
        assert conn.scalar(select(func.sum(windows.c.call_seq))) == \
            len(load_catalogue().windows)
