"""Forwarding reviews and follow-up results to the provincial 好差评 system.

The outbox is a table (`forward_outbox`): `enqueue` writes an entry in the transaction of
the review or the follow-up's result, so nothing is forwarded that did not happen and
nothing that happened is lost, whatever crashes when. A thread (`Forwarder`) sends the
entries in order, one at a time, each as a JSON POST carrying its `Idempotency-Key`; a
2xx marks it sent, anything else (refused, an error, a redirect, a timeout, no answer, an
answer that is no HTTP) keeps it and tries again after a backoff that doubles up to
`max_backoff_s`; the timeout bounds the whole exchange, so a server that drips its answer
byte by byte cannot hold the forwarder. An outage of hours costs
only the wait: the entries go when the province answers again, in order. A timeout after
the province applied an entry makes it go again with the same key: the key is what lets
the province apply it once (docs/provincial-forwarding.md).
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from hub.db.engine import make_reader
from hub.db.schema import forward_outbox

log = logging.getLogger(__name__)

Run = Callable[[Callable[[Connection], Any]], Any]
LATE = timedelta(hours=1)  # an entry not forwarded after this is a warning on the dashboard


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
        sockets: list[socket.socket] = []
        cut = threading.Event()

        def deadline() -> None:  # the socket timeout is per read: this bounds the whole
            cut.set()
            for sock in sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once
                except OSError:
                    pass

        timer = threading.Timer(self.timeout_s, deadline)
        timer.daemon = True
        timer.start()
        error: str | None
        try:
            with _opener(sockets).open(request, timeout=self.timeout_s) as answer:
                error = None if 200 <= answer.status < 300 else f"HTTP {answer.status}"
        except urllib.error.HTTPError as e:  # 3xx (never followed), 4xx, 5xx
            error = f"HTTP {e.code}"
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            error = type(e).__name__ + ": " + str(getattr(e, "reason", e))  # refused, garbage
        finally:
            timer.cancel()
        if cut.is_set():  # cut off: headers may have looked complete, the answer was not
            return f"TimeoutError: no whole answer within {self.timeout_s:g} s"
        return None if error is None else "".join(c if c.isprintable() else "?" for c in error)


def backlog_warning(engine: Engine, now: datetime) -> str | None:
    """The dashboard's warning when the oldest entry still waits after LATE, else None."""
    with engine.connect() as conn:
        waiting = conn.scalar(select(func.count()).select_from(forward_outbox)
                              .where(forward_outbox.c.sent_at.is_(None))) or 0
        oldest = conn.execute(select(forward_outbox.c.created_at, forward_outbox.c.last_error)
                              .where(forward_outbox.c.sent_at.is_(None))
                              .order_by(forward_outbox.c.id).limit(1)).first()
    if oldest is None or now - oldest.created_at < LATE:
        return None
    hours = int((now - oldest.created_at) / timedelta(hours=1))
    why = f"，最近一次：{oldest.last_error}" if oldest.last_error else ""
    return (f"有{waiting}条评价或整改结果未能上报省好差评系统，最早一条已等候{hours}小时以上"
            f"（系统会自动重试{why}）：请检查与省平台的网络和接口设置")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: urllib would follow a POST's 301/302/303 as a GET without
    the body, and a 2xx from there (a portal's page) would mark an entry sent unsent."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _watching(handler: type[urllib.request.AbstractHTTPHandler],
              sockets: list[socket.socket]) -> urllib.request.BaseHandler:
    """`handler` (HTTP or HTTPS) noting each socket it connects in `sockets`."""

    class Watching(handler):  # type: ignore[valid-type,misc]
        def do_open(self, http_class: type[http.client.HTTPConnection], req: Any,
                    **kwargs: Any) -> Any:
            class Noted(http_class):  # type: ignore[valid-type,misc]
                def connect(self) -> None:
                    super().connect()
                    sockets.append(self.sock)

            return super().do_open(Noted, req, **kwargs)

    return Watching()


def _opener(sockets: list[socket.socket]) -> urllib.request.OpenerDirector:
    """urllib as usual (proxies from the environment included), but redirects not followed
    and every socket noted, so the deadline can cut it."""
    return urllib.request.build_opener(_NoRedirect(),
                                       _watching(urllib.request.HTTPHandler, sockets),
                                       _watching(urllib.request.HTTPSHandler, sockets))
