"""The hall's latest state in memory, for the dashboard's server-sent events."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from typing import Any

from protocol.messages import PRINTER_ZH, DeviceStatus, QueueState, WindowState
from protocol.topics import DeviceClass

RECENT_CALLS = 12  # the dashboard's list of the latest calls
CLASS_ZH = {"kiosk": "取号机", "caller": "窗口叫号器", "display": "大厅显示屏", "guide": "导办台"}


class StateFeed:
    """Latest queue and window states with a version number that pages can wait on."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._version = 0
        self._queue: QueueState | None = None
        self._windows: dict[int, WindowState] = {}
        self._devices: dict[tuple[str, str], DeviceStatus] = {}
        self._calls: deque[dict[str, Any]] = deque(maxlen=RECENT_CALLS)

    def update(self, queue: QueueState | None, windows: Iterable[WindowState]) -> None:
        """Record what the hub just published and wake every waiting page; a window whose
        call count grew while serving made a call (a recall too): it joins the latest calls.
        A state published again (the same count) adds nothing."""
        with self._cond:
            if queue is not None:
                self._queue = queue
            for w in windows:
                before = self._windows.get(w.window)
                if w.status == "serving" and w.serving and before is not None \
                        and w.call_seq > before.call_seq:
                    self._calls.appendleft({"window": w.window, "name": w.name,
                                            "number": w.serving,
                                            "at": w.updated_at.isoformat()})
                self._windows[w.window] = w
            self._version += 1
            self._cond.notify_all()

    def update_device(self, device_class: DeviceClass, device_id: str,
                      status: DeviceStatus) -> None:
        """Record a device's own status (online, printer) and wake every waiting page."""
        with self._cond:
            self._devices[(device_class.value, device_id)] = status
            self._version += 1
            self._cond.notify_all()

    def snapshot(self) -> tuple[int, dict[str, Any]]:
        """(version, JSON-ready state): the queue, the windows, the devices, the latest calls."""
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
            "devices": [_device_row(c, d, self._devices[(c, d)]) for c, d in sorted(self._devices)],
            "calls": list(self._calls),
        }


def _device_row(device_class: str, device_id: str, status: DeviceStatus) -> dict[str, Any]:
    """A device as the dashboard lists it, with its problem in Chinese (None: all well)."""
    problem = None
    if status.status == "offline":
        problem = "离线"
    elif status.printer not in (None, "ok"):
        problem = PRINTER_ZH[status.printer or "error"]
    return {"device_class": device_class, "class_zh": CLASS_ZH.get(device_class, device_class),
            "device_id": device_id, **status.model_dump(mode="json"), "problem": problem}
