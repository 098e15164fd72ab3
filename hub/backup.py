"""Backups of the hub's SQLite database, and putting one back.

    ./hallq backup                      a copy now into var/backups (the nightly timer's job)
    ./hallq backup --to /mnt/usb --keep 30
    ./hallq restore var/backups/hub-20261124-0300.db

A backup is taken with SQLite's online backup API while the hub runs: the copy is one
consistent moment of the database (a ticket is in it with its number or not at all),
checked with `PRAGMA integrity_check` and only then given its final name, so a half-written
copy never looks like a backup. The newest `--keep` copies stay (14 by default: two weeks of
nights); older ones are deleted.

A restore needs the hub stopped (`systemctl stop hallq-hub`): the hub keeps the day's
numbers and settings in memory; a hub using the database holds its lock
(hub/db/one_hub.py), which the restore asks. It checks the backup first, keeps the
database it replaces beside it (hub.db.before-restore-…), and replaces the file whole,
the old write-ahead log with it. PostgreSQL (a city's hub) is backed up with its own
tools (pg_dump); these commands refuse it and say so.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from hub.db.one_hub import in_use, sqlite_file
from hub.settings import HubSettings

PREFIX = "hub-"
DEFAULT_KEEP = 14


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is for the person at the hub."""


@dataclass(frozen=True)
class Copy:
    path: Path
    bytes: int
    seconds: float


def database_path(db_url: str) -> Path:
    """The SQLite file of the hub's database URL; BackupError for anything else."""
    found = sqlite_file(db_url)
    if found is None:
        raise BackupError(f"数据库不是SQLite文件（{make_url(db_url).get_backend_name()}）："
                          "PostgreSQL请用pg_dump备份、pg_restore恢复")
    return found


def _check(path: Path) -> None:
    """BackupError unless the file is a whole, sound SQLite database of the hub."""
    try:
        db = sqlite3.connect(path)
        try:
            result = db.execute("PRAGMA integrity_check").fetchone()[0]
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        finally:
            db.close()
    except sqlite3.DatabaseError as err:
        raise BackupError(f"{path.name}不是完好的数据库文件：{err}") from None
    if result != "ok":
        raise BackupError(f"{path.name}检查未通过：{result}")
    if not {"tickets", "alembic_version"} <= tables:
        raise BackupError(f"{path.name}不是取号系统的数据库（没有tickets表）")


def _copy(source: Path, target: Path) -> None:
    """One consistent copy of `source` (in use or not) into a new file `target`."""
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def backup(database: Path, folder: Path, keep: int = DEFAULT_KEEP,
           now: datetime | None = None) -> Copy:
    """A checked copy of the database into `folder`, and the oldest beyond `keep` deleted."""
    if not database.exists():
        raise BackupError(f"没有数据库文件{database}")
    if keep < 1:
        raise BackupError("至少保留1份备份")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    final = folder / f"{PREFIX}{stamp}.db"
    partial = folder / f".{final.name}.partial"
    started = time.monotonic()
    partial.unlink(missing_ok=True)
    try:
        _copy(database, partial)
        _check(partial)
        partial.replace(final)
    finally:
        partial.unlink(missing_ok=True)
    for old in backups(folder)[:-keep]:
        old.unlink()
    return Copy(final, final.stat().st_size, time.monotonic() - started)


def backups(folder: Path) -> list[Path]:
    """The backups in a folder, oldest first (their names sort by time)."""
    return sorted(folder.glob(f"{PREFIX}*.db")) if folder.is_dir() else []


def restore(source: Path, database: Path, now: datetime | None = None) -> Path | None:
    """Put a backup in the database's place (the hub stopped); the replaced database is
    kept beside it and its path returned (None when there was none)."""
    if not source.exists():
        raise BackupError(f"没有备份文件{source}")
    _check(source)
    database.parent.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    kept = None
    if database.exists():
        kept = database.with_name(f"{database.name}.before-restore-{stamp}")
        _copy(database, kept)  # the old database with its write-ahead log folded in
    incoming = database.with_name(f".{database.name}.restoring")
    incoming.unlink(missing_ok=True)
    _copy(source, incoming)
    _check(incoming)
    for side in ("-wal", "-shm"):  # the old database's log must not meet the new file
        database.with_name(database.name + side).unlink(missing_ok=True)
    incoming.replace(database)
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./hallq backup|restore", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    b = sub.add_parser("backup", help="a checked copy of the database now")
    b.add_argument("--to", type=Path, default=Path("var/backups"), help="the folder")
    b.add_argument("--keep", type=int, default=DEFAULT_KEEP, help="copies kept, newest")
    r = sub.add_parser("restore", help="put a backup back (the hub stopped)")
    r.add_argument("file", type=Path)
    ns = parser.parse_args(argv)
    settings = HubSettings()
    try:
        database = database_path(settings.db_url)
        if ns.what == "backup":
            done = backup(database, ns.to, ns.keep)
            print(f"已备份：{done.path}（{done.bytes / 1e6:.1f} MB，{done.seconds:.1f}秒），"
                  f"保留最近{ns.keep}份")
            return 0
        if in_use(database):
            raise BackupError("取号系统服务正在使用这个数据库：请先停止（systemctl stop hallq-hub）"
                              "再恢复")
        kept = restore(ns.file, database)
        print(f"已恢复：{ns.file} → {database}"
              + (f"；原数据库保存在{kept}" if kept else ""))
    except BackupError as err:
        print(f"出错：{err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
