"""The hall's latest state in memory, for the dashboard's server-sent events.

Devices: each one's own status (online, printer) as it reported it, when the hub last knew
it online, and the registry's names (hub/device_registry.py), so that the live hall shows a
registered device that is offline or has not come up today by its name.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from protocol.messages import PRINTER_ZH, DeviceStatus, QueueState, WindowState
from protocol.topics import DeviceClass

RECENT_CALLS = 12  # the dashboard's list of the latest calls
CLASS_ZH = {"kiosk": "取号机", "caller": "窗口叫号器", "display": "大厅显示屏", "guide": "导办台"}
OFFLINE_ZH, UNSEEN_ZH = "离线", "未上线"
DeviceKey = tuple[str, str]  # (device class, device id)


class StateFeed:
    """Latest queue and window states with a version number that pages can wait on."""

    def __init__(self, today: Callable[[], date] | None = None) -> None:
        """`today`: the hall's service day, to tell a device offline since today from one
        that has not come up today; without it the two are not told apart."""
        self._cond = threading.Condition()
        self._version = 0
        self._today = today
        self._queue: QueueState | None = None
        self._windows: dict[int, WindowState] = {}
        self._devices: dict[DeviceKey, DeviceStatus] = {}
        self._seen: dict[DeviceKey, datetime] = {}  # when last known online, the hall's time
        self._names: dict[DeviceKey, str] = {}  # registered devices
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
                      status: DeviceStatus, seen_at: datetime | None = None) -> None:
        """Record a device's own status (online, printer) and when it was last known online
        (aware, the hall's time; None: not known), and wake every waiting page."""
        with self._cond:
            key = (device_class.value, device_id)
            self._devices[key] = status
            if seen_at is not None:
                self._seen[key] = seen_at
            self._version += 1
            self._cond.notify_all()

    def set_registry(self, names: dict[DeviceKey, str],
                     seen: dict[DeviceKey, datetime] | None = None) -> None:
        """The registered devices' names (all of them: the list replaces the last one), and
        when each was last online as recorded before the hub started (`seen`)."""
        with self._cond:
            self._names = dict(names)
            for key, at in (seen or {}).items():
                self._seen.setdefault(key, at)
            self._version += 1
            self._cond.notify_all()

    def devices(self) -> dict[DeviceKey, tuple[DeviceStatus, datetime | None]]:
        """Every device that reported, with when it was last known online."""
        with self._cond:
            return {k: (s, self._seen.get(k)) for k, s in self._devices.items()}

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
            "devices": self._device_rows(),
            "calls": list(self._calls),
        }

    def _device_rows(self) -> list[dict[str, Any]]:
        """Every device that reported and every registered one; those with a problem first."""
        today = self._today() if self._today else None
        rows = [_device_row(key, self._devices.get(key), self._names.get(key),
                            self._seen.get(key), today)
                for key in self._devices.keys() | self._names.keys()]
        return sorted(rows, key=_device_order)


def device_problem(registered: bool, status: DeviceStatus | None, seen_at: datetime | None,
                   today: date | None) -> str | None:
    """未上线 for a registered device not online that was last online before today (or never),
    离线 for any other device not online, else its printer's trouble; None: all well."""
    if status is None or status.status == "offline":
        if registered and (seen_at is None or (today is not None and seen_at.date() < today)):
            return UNSEEN_ZH
        return OFFLINE_ZH
    if status.printer not in (None, "ok"):
        return PRINTER_ZH[status.printer or "error"]
    return None


def _device_row(key: DeviceKey, status: DeviceStatus | None, name: str | None,
                seen_at: datetime | None, today: date | None) -> dict[str, Any]:
    """A device as the live hall lists it: its registered name (None: not registered) and
    its problem in Chinese (None: all well). Kept small: it goes out with every event."""
    device_class, device_id = key
    return {"device_class": device_class, "class_zh": CLASS_ZH.get(device_class, device_class),
            "device_id": device_id, "name": name,
            "status": status.status if status else "offline",
            "printer": status.printer if status else None,
            "problem": device_problem(name is not None, status, seen_at, today),
            "seen_at": seen_at.isoformat() if seen_at else None}


CLASS_ORDER = {c: i for i, c in enumerate(CLASS_ZH)}


def _device_order(row: dict[str, Any]) -> tuple[Any, ...]:
    """Problems first, then by class, then registered ones by name (2号 before 10号)."""
    label = row["name"] or row["device_id"]
    return (row["problem"] is None, CLASS_ORDER.get(row["device_class"], len(CLASS_ORDER)),
            row["name"] is None, natural(label))


def natural(text: str) -> tuple[tuple[int, Any], ...]:
    """A sort key that puts 2号 before 10号."""
    return tuple((0, int(part)) if part.isdigit() else (1, part)
                 for part in re.split(r"(\d+)", text) if part)
