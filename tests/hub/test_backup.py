"""Backups of the hub's database (`./hallq backup`, `./hallq restore`): taken while the hub
issues tickets, each copy whole and checked; the newest N kept; a restore gives back exactly
what was backed up and keeps the database it replaced; a damaged file or a running hub is
refused in Chinese with nothing changed."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from hub.app import Hub
from hub.backup import BackupError, backup, backups, database_path, restore
from hub.db.engine import make_engine, migrate
from hub.settings import HubSettings
from tests.conftest import LinkFactory
from tests.e2e.devices import kiosk

ROOT = Path(__file__).resolve().parents[2]
# SQLite's own online backup (a hub on PostgreSQL is backed up with pg_dump)
pytestmark = pytest.mark.sqlite_only


def contents(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, in one order."""
    db = sqlite3.connect(path)
    try:
        names = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {n: sorted(db.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr)
                for n in names}
    finally:
        db.close()


def test_backups_taken_while_tickets_are_issued_restore_exactly(
        hub_settings: HubSettings, make_link: LinkFactory, tmp_path: Path) -> None:
    database = database_path(hub_settings.db_url)
    folder = tmp_path / "backups"
    hub = Hub(hub_settings)
    hub.start()
    try:
        assert hub.consumer.wait_connected(10)
        machine = kiosk(make_link, tmp_path, hub)
        numbers: list[str] = []

        def issue() -> None:
            for _ in range(40):
                got = machine.take_ticket("GA_HJQY").issued
                assert got is not None
                numbers.append(got.ticket.number)

        worker = threading.Thread(target=issue)
        worker.start()
        taken = []
        start = datetime(2026, 11, 24, 3, 0)
        while worker.is_alive():
            taken.append(backup(database, folder, keep=10_000,
                                now=start + timedelta(seconds=len(taken))))
        worker.join()
    finally:
        hub.stop()
    last = backup(database, folder, keep=10_000, now=start + timedelta(hours=1))
    assert len(numbers) == 40 and len(taken) >= 2, "backups were taken during the issuing"
    for copy in taken:  # each a consistent moment: numbers without a gap, A001 up
        issued = [r[0] for r in sqlite3.connect(copy.path).execute(
            "SELECT number FROM tickets ORDER BY seq")]
        assert issued == [f"A{n:03d}" for n in range(1, len(issued) + 1)]
    assert contents(last.path) == contents(database), "a backup is the database"

    with sqlite3.connect(database) as live:  # the hall goes on after the backup …
        live.execute("DELETE FROM tickets WHERE seq > 10")
    target = tmp_path / "restored" / "hub.db"
    assert restore(last.path, target) is None, "nothing replaced in a new place"
    assert contents(target) == contents(last.path)
    kept = restore(last.path, database)  # … and a restore gives back all 40
    assert kept is not None and len(contents(kept)["tickets"]) == 10, "the replaced one kept"
    assert len(contents(database)["tickets"]) == 40
    again = Hub(hub_settings)  # the hub starts on the restored file and numbers on
    again.start()
    try:
        assert again.consumer.wait_connected(10)
        got = kiosk(make_link, tmp_path, again, "kiosk-2").take_ticket("GA_HJQY").issued
        assert got is not None and got.ticket.number == "A041"
    finally:
        again.stop()


def migrated(database: Path) -> None:
    """An empty hub database, as the hub leaves it at its first start."""
    engine = make_engine(f"sqlite:///{database}")
    migrate(engine)
    engine.dispose()


def test_the_newest_copies_are_kept(tmp_path: Path) -> None:
    database = tmp_path / "hub.db"
    migrated(database)
    folder = tmp_path / "backups"
    for day in range(1, 6):
        backup(database, folder, keep=3, now=datetime(2026, 11, day, 3, 0))
    assert [p.name for p in backups(folder)] == [
        "hub-20261103-030000.db", "hub-20261104-030000.db", "hub-20261105-030000.db"]
    assert not list(folder.glob(".*")), "no partial copy left behind"


def test_a_damaged_backup_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    database = tmp_path / "hub.db"
    migrated(database)
    before = contents(database)
    good = backup(database, tmp_path / "backups").path
    broken = tmp_path / "broken.db"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(BackupError, match="broken.db"):
        restore(broken, database)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE notes (x)").connection.close()
    with pytest.raises(BackupError, match="不是取号系统的数据库"):
        restore(other, database)
    with pytest.raises(BackupError, match="pg_dump"):
        database_path("postgresql+psycopg://hub@localhost/hallq")
    assert contents(database) == before
    assert not list(tmp_path.glob("hub.db.before-restore-*"))


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub.backup", *args], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=60)


def test_the_commands_refuse_a_restore_while_the_hub_runs(hub: Hub, tmp_path: Path) -> None:
    """Judged by the database's lock, whatever port the hub's dashboard is on."""
    env = {"HALLQ_HUB_DB_URL": hub.settings.db_url}
    made = run(env, "backup", "--to", str(tmp_path / "b"), "--keep", "2")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("已备份：") and "保留最近2份" in made.stdout
    copy = backups(tmp_path / "b")[-1]
    refused = run(env, "restore", str(copy))
    assert refused.returncode == 1
    assert "取号系统服务正在使用这个数据库：请先停止" in refused.stderr
    assert not list(database_path(hub.settings.db_url).parent.glob("*.before-restore-*"))
