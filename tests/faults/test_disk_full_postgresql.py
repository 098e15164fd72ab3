"""A city hub on PostgreSQL whose data disk fills up: the hub's database lives in a tablespace
on a small tmpfs of its own (the server's write-ahead log stays on its own disk, as on a
server where the data volume fills), which the test fills until the kernel says ENOSPC.

PostgreSQL then refuses to grow a table (SQLSTATE 53100) and rolls the transaction back
whole. The hub refuses new work in Chinese and tells every screen, as on SQLite
(tests/faults/test_disk_full.py); once there is room the next request that commits ends it.
Needs root (mount) and a PostgreSQL server on this machine (the tablespace's folder must
be the server's to write).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import text

from hallsim.postgres import PostgresServer
from hub.app import Hub
from hub.settings import HubSettings
from protocol.errors import ZH, ErrorCode
from protocol.messages import ErrorReply, IssueTicket, TicketIssued
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.faults.test_disk_full import HubWatch, fill
from tests.helpers import eventually

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")

DISK_MB = 24  # a new database's files take ~8 MB
SERVICE = "GA_HJQY"


@pytest.fixture
def small_tablespace(postgres: PostgresServer) -> Iterator[tuple[Path, str]]:
    """A tmpfs the server owns, as a tablespace: (its folder, its name)."""
    try:
        server_user = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres user: the server is not on this machine")
    where = Path(tempfile.mkdtemp(prefix="hallq-pg-disk-"))
    where.chmod(0o755)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m,uid={server_user.pw_uid},"
         f"gid={server_user.pw_gid},mode=0700", "tmpfs", str(where)],
        capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    name = postgres.new_name() + "_disk"
    try:
        postgres._execute(f"CREATE TABLESPACE \"{name}\" LOCATION '{where}'")
        yield where, name
    finally:
        postgres._execute(f'DROP TABLESPACE IF EXISTS "{name}"')
        subprocess.run(["umount", "-l", str(where)], check=True)
        shutil.rmtree(where, ignore_errors=True)


def test_a_full_data_disk_on_postgresql_refuses_new_work_and_recovers(
        postgres: PostgresServer, small_tablespace: tuple[Path, str],
        hub_settings: HubSettings, make_link: LinkFactory) -> None:
    disk, tablespace = small_tablespace
    database = postgres.new_name()
    postgres._execute(f'CREATE DATABASE "{database}" TABLESPACE "{tablespace}"')
    try:
        hub = Hub(hub_settings.model_copy(update={
            "db_url": postgres.sqlalchemy_url(database)}))
        hub.start()
        try:
            run_the_day(hub, disk, make_link)
        finally:
            hub.stop()
    finally:
        postgres.drop_database(database)


def run_the_day(hub: Hub, disk: Path, make_link: LinkFactory) -> None:
    kiosk = make_link(DeviceClass.KIOSK, "kiosk-1", resend_after=0.5)
    screen = HubWatch()
    make_link(DeviceClass.DISPLAY, "display-1", on_state=screen)
    eventually(lambda: screen.status is not None and screen.problem is None,
               what="the hub online")

    def take() -> TicketIssued | ErrorReply:
        reply = kiosk.send(IssueTicket(request_id=uuid4(), service=SERVICE)).wait(10)
        assert isinstance(reply, TicketIssued | ErrorReply), reply
        return reply

    issued = [take() for _ in range(3)]
    filled = fill(disk)
    refused = None
    for _ in range(2000):  # the tables' last pages may still take a few: until PostgreSQL says no
        reply = take()
        if isinstance(reply, ErrorReply):
            refused = reply
            break
        issued.append(reply)
    assert refused is not None, "the full disk never refused a ticket"
    assert refused.code == ErrorCode.STORAGE_FULL and refused.message == ZH[ErrorCode.STORAGE_FULL]
    eventually(lambda: screen.problem == "storage_full", what="the screens to hear it")
    again = take()
    assert isinstance(again, ErrorReply) and again.code == ErrorCode.STORAGE_FULL

    (disk / "filler").unlink()  # room again: the next ticket is issued and ends it
    back = take()
    assert isinstance(back, TicketIssued), back
    issued.append(back)
    eventually(lambda: screen.problem is None, what="the screens to hear it is over")

    numbers = [r.ticket.number for r in issued if isinstance(r, TicketIssued)]
    with hub.engine.connect() as conn:
        stored = list(conn.scalars(text("SELECT number FROM tickets ORDER BY id")))
    assert stored == numbers, "every ticket given is kept, none refused is there"
    assert numbers == [f"A{n:03d}" for n in range(1, len(numbers) + 1)], "no gap, no double"
    print(f"\nPostgreSQL data disk full after {len(numbers) - 1} tickets "
          f"({filled / 1e6:.1f} MB filler); refused in Chinese, back with the next one")
