"""The hall's devices while the hub runs: their status messages, the registry's changes, and
what 设备管理 and the live hall show of both.

Each device publishes its own retained status (online, its printer) and the broker its last
will (offline). The hub remembers when it last knew each device online (device_sightings,
written on the hub's thread when a device comes online or goes offline, not on every printer
report), so that after a hub restart a device offline since this morning (离线) is still
told apart from one that has not come up today (未上线). Changes to the registry go through
the hub's request thread like every other manager's change (hub/live_settings.py), and the
live hall gets the new names at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from hub import device_registry as registry
from hub.clock import Clock
from hub.device_registry import REGISTRABLE, Registered
from hub.state_feed import (
    CLASS_ORDER,
    CLASS_ZH,
    OFFLINE_ZH,
    DeviceKey,
    StateFeed,
    device_problem,
    natural,
)
from protocol.errors import ErrorCode, UserError
from protocol.messages import PRINTER_ZH, DeviceStatus
from protocol.topics import DeviceClass

log = logging.getLogger(__name__)
T = TypeVar("T")
REGISTER_ALL_ZH = "登记全部未登记设备"


class Run(Protocol):
    """RequestConsumer.run: a job on the hub's thread, `after` once it has committed."""

    def __call__(self, job: Callable[[Connection], T],
                 after: Callable[[T], None] | None = None, timeout: float = 10.0) -> T: ...


class OnlineDevice(UserError):
    """Removing a device that is online now: asked again before it is done."""


@dataclass(frozen=True)
class DeviceView:
    """One device on 设备管理: registered or not, with what it last said of itself."""

    device_class: str
    device_id: str
    registered: Registered | None
    online: bool
    state_zh: str  # 在线, 离线, 今天未上线, 从未上线
    seen_at: datetime | None  # when last known online, the hall's time (aware)
    problems: tuple[str, ...]  # its own reported trouble in Chinese (printer), when online
    detail: str | None  # what the device added, in English
    suggestion: str = ""  # a name to register it under (unregistered devices)

    @property
    def class_zh(self) -> str:
        return CLASS_ZH.get(self.device_class, self.device_class)

    @property
    def alert(self) -> bool:
        return not self.online or bool(self.problems)


class DeviceWatch:
    """Device statuses in (on the hub's thread), registry changes through `run`."""

    def __init__(self, engine: Engine, feed: StateFeed, clock: Clock, run: Run) -> None:
        self.engine = engine
        self.feed = feed
        self.clock = clock
        self.run = run
        self._online: dict[DeviceKey, bool] = {}
        with engine.connect() as conn:
            self._sightings = registry.read_sightings(conn)
            names = registry.registry_names(conn)
        feed.set_registry(names, {k: clock.local(at) for k, at in self._sightings.items()})

    # ------------------------------------------------------------ statuses

    def on_status(self, device_class: DeviceClass, device_id: str, status: DeviceStatus,
                  retained: bool) -> None:
        """A device's own status, on the hub's thread. Online: seen now. Offline as it
        happens: seen until now. Offline kept by the broker from before the hub (re)started:
        seen when last recorded."""
        key = (device_class.value, device_id)
        online = status.status == "online"
        was, self._online[key] = self._online.get(key), online
        seen: datetime | None
        if online or not retained:
            seen = self.clock.now()
            if was is not online or not online:  # came online, or went offline just now
                self._remember(key, seen)
        else:
            seen = self._sightings.get(key)
        self.feed.update_device(device_class, device_id, status,
                                self.clock.local(seen) if seen else None)

    def close(self) -> None:
        """The hub stops (its thread has ended): every device online now was seen until now,
        so one that goes away while the hub is down is not taken for one never up today."""
        now = self.clock.now()
        for key, online in list(self._online.items()):
            if online:
                self._remember(key, now)

    def _remember(self, key: DeviceKey, at: datetime) -> None:
        self._sightings[key] = at
        try:
            with self.engine.begin() as conn:
                registry.record_sighting(conn, key, at)
        except OperationalError:  # the live hall still knows; only a restart would forget
            log.exception("could not record when %s/%s was online", *key)

    # ------------------------------------------------------------ reading

    def listing(self) -> tuple[list[DeviceView], list[DeviceView]]:
        """(registered devices, devices that report but are not registered)."""
        reported = self.feed.devices()
        today = self.clock.service_day()
        with self.engine.connect() as conn:
            listed = sorted(registry.read_registry(conn),
                            key=lambda r: (CLASS_ORDER.get(r.device_class, 9), natural(r.name)))
            sightings = registry.read_sightings(conn)
            known = {r.key for r in listed}
            others = sorted((k for k in reported
                             if k not in known and k[0] in {c.value for c in REGISTRABLE}),
                            key=lambda k: (CLASS_ORDER[k[0]], natural(k[1])))
            suggestions = {k: registry.suggested_name(conn, k) for k in others}

        def view(key: DeviceKey, entry: Registered | None) -> DeviceView:
            status, seen = reported.get(key, (None, None))
            if seen is None and key in sightings:
                seen = self.clock.local(sightings[key])
            online = status is not None and status.status == "online"
            problem = device_problem(entry is not None, status, seen, today)
            state = ("在线" if online else OFFLINE_ZH if problem == OFFLINE_ZH
                     else "今天未上线" if seen else "从未上线")
            trouble = (PRINTER_ZH[status.printer],) if online and status is not None and \
                status.printer not in (None, "ok") else ()
            return DeviceView(key[0], key[1], entry, online, state, seen, trouble,
                              status.detail if status else None, suggestions.get(key, ""))
        return [view(r.key, r) for r in listed], [view(k, None) for k in others]

    def online(self, device_id: str) -> bool:
        return any(k[1] == device_id and s.status == "online"
                   for k, (s, _) in self.feed.devices().items())

    # ------------------------------------------------------------ changes

    def add(self, device_class: str, device_id: str, name: str, location: str, note: str,
            who: str) -> str:
        """Register a device; its id as stored. The live hall shows it by name at once."""
        return self._change(lambda conn: registry.add_device(
            conn, device_class, device_id, name, location, note, who, self.clock.now()))

    def edit(self, device_id: str, name: str, location: str, note: str, who: str) -> None:
        self._change(lambda conn: registry.edit_device(conn, device_id, name, location, note,
                                                       who, self.clock.now()))

    def remove(self, device_id: str, who: str, *, confirmed: bool = False) -> Registered:
        """Take a device off the registry; one that is online only once `confirmed`."""
        if not confirmed and self.online(device_id):
            raise OnlineDevice(ErrorCode.INVALID, f"{device_id} online",
                               "该设备当前在线，正在使用中：删除后实时大厅不再按名称显示它，"
                               "它停用或缺席时也不再提示。确定要删除吗？")
        return self._change(lambda conn: registry.remove_device(conn, device_id, who,
                                                                self.clock.now()))

    def register_all(self, who: str) -> list[str]:
        """Register every device that reports and is not registered, under its suggested
        name; the names given (none if there was nothing to register)."""
        listed, others = self.listing()
        taken = {d.device_id for d in listed}  # its id registered as another class: by hand
        others = [d for d in others if d.device_id not in taken]
        now = self.clock.now()

        def job(conn: Connection) -> list[str]:
            done = []
            for d in others:
                name = registry.suggested_name(conn, (d.device_class, d.device_id))
                registry.add_device(conn, d.device_class, d.device_id, name, "", "", who, now,
                                    REGISTER_ALL_ZH)
                done.append(name)
            return done
        return self._change(job) if others else []

    def _change(self, job: Callable[[Connection], T]) -> T:
        """Run a registry change on the hub's thread; the live hall gets the new names."""
        def with_names(conn: Connection) -> tuple[T, dict[DeviceKey, str]]:
            return job(conn), registry.registry_names(conn)

        def show(done: tuple[Any, dict[DeviceKey, str]]) -> None:
            self.feed.set_registry(done[1])
        result, _ = self.run(with_names, after=show)
        return result
