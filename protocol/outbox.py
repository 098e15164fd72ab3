"""A device's on-disk outbox: a request stays here until the hub has answered it.

The broker's PUBACK is not enough: Mosquitto acknowledges QoS 1 from memory,
drops a client's queue past `max_queued_messages`, and paho keeps its session
only in memory. So a device writes each request here (fsync'd) before it
publishes, resends what is still here after a reconnect or a silence, and
removes an entry only when the hub's reply for that `request_id` arrives.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OutboxEntry:
    """One request waiting for its answer."""

    request_id: str
    topic: str
    payload: bytes
    created_at: float


class Outbox:
    """Durable, ordered store of unanswered requests (SQLite, WAL, synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS outbox ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " request_id TEXT NOT NULL UNIQUE,"
            " topic TEXT NOT NULL,"
            " payload BLOB NOT NULL,"
            " created_at REAL NOT NULL)"
        )

    def add(self, request_id: str, topic: str, payload: bytes) -> None:
        """Keep a request until it is answered; adding the same request again does nothing."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO outbox (request_id, topic, payload, created_at)"
                " VALUES (?, ?, ?, ?)",
                (request_id, topic, payload, time.time()),
            )

    def remove(self, request_id: str) -> bool:
        """Forget an answered request; False when it was not (or no longer) here."""
        with self._lock:
            cur = self._db.execute("DELETE FROM outbox WHERE request_id = ?", (request_id,))
            return cur.rowcount > 0

    def pending(self) -> list[OutboxEntry]:
        """Unanswered requests, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT request_id, topic, payload, created_at FROM outbox ORDER BY seq"
            ).fetchall()
        return [OutboxEntry(r[0], r[1], bytes(r[2]), r[3]) for r in rows]

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])

    def close(self) -> None:
        """Close the file; entries stay on disk for the next start."""
        with self._lock:
            self._db.close()
