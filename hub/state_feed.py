"""The hall's latest state in memory, for the dashboard's server-sent events."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from protocol.messages import QueueState, WindowState


class StateFeed:
    """Latest queue and window states with a version number that pages can wait on."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._version = 0
        self._queue: QueueState | None = None
        self._windows: dict[int, WindowState] = {}

    def update(self, queue: QueueState | None, windows: Iterable[WindowState]) -> None:
        """Record what the hub just published and wake every waiting page."""
        with self._cond:
            if queue is not None:
                self._queue = queue
            for w in windows:
                self._windows[w.window] = w
            self._version += 1
            self._cond.notify_all()

    def snapshot(self) -> tuple[int, dict[str, Any]]:
        """(version, JSON-ready state): {"queue": QueueState | None, "windows": [WindowState]}."""
        with self._cond:
            return self._version, self._as_dict()

    def wait_newer(self, version: int, timeout: float) -> tuple[int, dict[str, Any]] | None:
        """The state once its version passes `version`; None after `timeout` seconds."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._version > version, timeout):
                return None
            return self._version, self._as_dict()

    def _as_dict(self) -> dict[str, Any]:
        return {
            "queue": self._queue.model_dump(mode="json") if self._queue else None,
            "windows": [self._windows[n].model_dump(mode="json") for n in sorted(self._windows)],
        }
