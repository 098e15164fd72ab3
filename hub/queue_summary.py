"""The queue summary (the retained `state/queue`) made on a thread of its own.

It plays the whole queue forward for the wait estimates (hub/wait_estimate.py), which
takes milliseconds in a busy hall: on the request thread it would hold up every call
that arrives meanwhile. Here it reads on its own connection (`make_reader`: on SQLite a
deferred read-only transaction, which never blocks the writer), at most every
QUEUE_STATE_EVERY seconds when something changed, and at least once a minute, since
issuing hours open and close with no request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from hub import hall_state
from hub.clock import Clock
from hub.db.engine import make_reader
from hub.issuing import IssuingRules
from protocol.messages import QueueState

log = logging.getLogger(__name__)

QUEUE_STATE_EVERY = 0.25  # seconds between two summaries at most: screens need no more


class QueueSummary:
    """Makes the summary when told the queue changed, and hands it to `publish`."""

    def __init__(self, engine: Engine, clock: Clock,
                 issuing: Callable[[], IssuingRules | None],
                 publish: Callable[[QueueState], None]) -> None:
        self.reader = make_reader(engine)
        self.clock = clock
        self.issuing = issuing
        self.publish = publish
        self._wake = threading.Event()
        self._dirty = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-summary", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def changed(self) -> None:
        """The queue changed (any thread): a new summary goes out within QUEUE_STATE_EVERY."""
        self._dirty = True
        self._wake.set()

    def _run(self) -> None:
        sent, minute = 0.0, -1
        while not self._stop.is_set():
            self._wake.wait(timeout=1.0)
            if (now_minute := self.clock.now().minute) != minute:
                minute, self._dirty = now_minute, True
            if not self._dirty:
                self._wake.clear()
                continue
            if (rest := sent + QUEUE_STATE_EVERY - time.monotonic()) > 0:
                self._stop.wait(rest)  # changes meanwhile go into this one summary
            self._wake.clear()
            self._dirty = False
            try:
                with self.reader.connect() as conn:
                    state = hall_state.queue_state(conn, self.clock, self.issuing())
            except OperationalError:
                log.exception("could not read the queue summary; will try again")
                self._dirty = True
                self._stop.wait(1.0)
                continue
            sent = time.monotonic()
            self.publish(state)
