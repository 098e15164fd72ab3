"""One hub per SQLite database: a running hub holds an exclusive lock on `<database>.lock`.

A second hub started on the same file (a service and a hand-started copy, or two units
after a typo) would take requests from the same broker and answer them from the same
tables: it is refused at start instead. `./hallq restore` asks the same lock whether a hub
is using the database it would replace. The kernel lets go of the lock when the process
ends however it ends (a SIGKILL, a power cut), so a stale lock never blocks a restart.
PostgreSQL (a city) has its own guards and is not locked here.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url


class DatabaseInUse(Exception):
    """Another process holds the database's lock; the message is for the person at the hub."""


def sqlite_file(db_url: str) -> Path | None:
    """The SQLite file of a database URL; None for PostgreSQL or an in-memory database."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


class DatabaseLock:
    """The lock a running hub holds on its database file."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Hold the lock, or DatabaseInUse at once (never wait for it)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatabaseInUse(f"另一个取号系统服务正在使用数据库{self.database}"
                                "（systemctl status hallq-hub）") from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the file lets go of the lock
            self._fd = None


def in_use(database: Path) -> bool:
    """Whether a hub holds the database's lock now."""
    probe = DatabaseLock(database)
    if not probe.path.exists():
        return False
    try:
        probe.acquire()
    except DatabaseInUse:
        return True
    probe.release()
    return False
