"""Tell systemd a program is up and still working (sd_notify, without libsystemd).

The hall's units are `Type=notify` with `WatchdogSec=`: a program says READY=1 once it
serves, then WATCHDOG=1 at least every half of the watchdog time from the loop that
would hang (a screen's Kivy clock, the hub's main loop while its threads live); systemd
restarts a program that goes quiet. Outside systemd (tests, the demo) every call is a
no-op: there is no $NOTIFY_SOCKET.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from typing import Any


def notify(state: str) -> bool:
    """Send `state` (e.g. "READY=1") to systemd; False when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
        s.connect(address)
        s.sendall(state.encode())
    return True


def watchdog_interval() -> float | None:
    """Seconds between two WATCHDOG=1 (half the unit's WatchdogSec); None: no watchdog."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and int(pid) != os.getpid()):
        return None
    return int(usec) / 2e6


def watch_kivy(clock: Any) -> None:
    """A screen: READY=1 at its first frame, then WATCHDOG=1 from Kivy's own clock, so a
    frozen screen stops the pings and systemd restarts it. `clock` is kivy.clock.Clock."""
    clock.schedule_once(lambda _dt: notify("READY=1"))
    interval = watchdog_interval()
    if interval is not None:
        clock.schedule_interval(lambda _dt: notify("WATCHDOG=1"), interval)


def watch_loop(stop: threading.Event, alive: Callable[[], bool]) -> None:
    """A service without a screen: READY=1 now, then WATCHDOG=1 while `alive()`, until
    `stop` is set (run on the thread that would otherwise just wait for `stop`)."""
    notify("READY=1")
    interval = watchdog_interval()
    while not stop.wait(interval if interval is not None else 3600.0):
        if interval is not None and alive():
            notify("WATCHDOG=1")
