"""Forwarding reviews and follow-up results to the provincial 好差评 system.

The outbox is a table (`forward_outbox`): `enqueue` writes an entry in the transaction of
the review or the follow-up's result, so nothing is forwarded that did not happen and
nothing that happened is lost, whatever crashes when. A thread (`Forwarder`) sends the
entries in order, one at a time, each as a JSON POST carrying its `Idempotency-Key`; a
2xx marks it sent, anything else (refused, an error, a timeout, no answer) keeps it and
tries again after a backoff that doubles up to `max_backoff_s`. An outage of hours costs
only the wait: the entries go when the province answers again, in order. A timeout after
the province applied an entry makes it go again with the same key: the key is what lets
the province apply it once (docs/provincial-forwarding.md).
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from hub.db.engine import make_reader
from hub.db.schema import forward_outbox

log = logging.getLogger(__name__)

Run = Callable[[Callable[[Connection], Any]], Any]


def enqueue(conn: Connection, key: str, payload: dict[str, Any], now: datetime) -> None:
    """An entry to forward, in the caller's transaction; a key already there is kept as is."""
    if conn.scalar(select(forward_outbox.c.id).where(forward_outbox.c.key == key)):
        return
    conn.execute(insert(forward_outbox).values(key=key, payload=payload, created_at=now,
                                               attempts=0, next_try_at=now))


class Forwarder:
    """Sends the outbox to `url`, in order, retrying with backoff; `stop()` ends it."""

    def __init__(self, engine: Engine, run: Run, url: str, clock: Callable[[], datetime], *,
                 timeout_s: float = 10.0, first_backoff_s: float = 5.0,
                 max_backoff_s: float = 300.0, idle_s: float = 1.0) -> None:
        self.reader = make_reader(engine)
        self.run = run  # writes go through the hub's request thread
        self.url = url
        self.clock = clock
        self.timeout_s = timeout_s
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        self.idle_s = idle_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="forwarder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout_s + 2)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.send_due()
            except Exception:  # the database busy, the hub stopping: try again soon
                log.exception("forwarding failed; trying again")
                sent = 0
            if not sent:
                self._stop.wait(self.idle_s)

    def send_due(self) -> int:
        """Send the oldest unsent entries whose time has come, stopping at the first that
        fails (the rest keep their order); how many went."""
        now = self.clock()
        with self.reader.connect() as conn:
            rows = conn.execute(select(forward_outbox.c.id, forward_outbox.c.key,
                                       forward_outbox.c.payload, forward_outbox.c.attempts,
                                       forward_outbox.c.next_try_at)
                                .where(forward_outbox.c.sent_at.is_(None))
                                .order_by(forward_outbox.c.id).limit(50)).all()
        sent = 0
        for row in rows:
            if row.next_try_at > now or self._stop.is_set():
                break  # in order: a later entry never overtakes one waiting to retry
            error = self._post(row.key, row.payload)
            if error is None:
                self._mark(row.id, sent_at=self.clock())
                sent += 1
                continue
            wait = min(self.max_backoff_s, self.first_backoff_s * 2 ** row.attempts)
            log.warning("forwarding %s failed (%s); again in %.0f s", row.key, error, wait)
            self._mark(row.id, last_error=error[:200],
                       next_try_at=self.clock() + timedelta(seconds=wait))
            break
        return sent

    def _mark(self, entry: int, **values: object) -> None:
        """One more attempt at `entry`, and what came of it (on the hub's request thread)."""
        def job(conn: Connection) -> None:
            conn.execute(update(forward_outbox).where(forward_outbox.c.id == entry)
                         .values(attempts=forward_outbox.c.attempts + 1, **values))
        self.run(job)

    def _post(self, key: str, payload: dict[str, Any]) -> str | None:
        """POST one entry; None when the province took it, else what went wrong."""
        body = json.dumps({"key": key, **payload}, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                return None if 200 <= answer.status < 300 else f"HTTP {answer.status}"
        except urllib.error.HTTPError as e:
            return f"HTTP {e.code}"
        except (urllib.error.URLError, OSError) as e:  # refused, timed out, no route
            return type(e).__name__ + ": " + str(getattr(e, "reason", e))
