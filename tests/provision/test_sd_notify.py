"""systemd's side of the units (Type=notify, WatchdogSec): `python -m hub` says READY=1
once it serves and WATCHDOG=1 while it works, on a real $NOTIFY_SOCKET, as systemd
would receive them; nothing is sent when the watchdog belongs to another process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hallsim.broker import Broker
from protocol import systemd
from protocol.topics import DeviceClass


def _listen(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    s.settimeout(60)
    return s


def test_hub_tells_systemd_it_is_ready_then_feeds_the_watchdog(
        broker: Broker, tmp_path: Path, hall_id: str) -> None:
    mqtt = broker.settings_for(DeviceClass.HUB)
    assert mqtt.password is not None
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "400000",
           "HALLQ_HUB_HALL_ID": hall_id, "HALLQ_HUB_DB_URL": f"sqlite:///{tmp_path}/hub.db",
           "HALLQ_HUB_HTTP_PORT": "0", "HALLQ_HUB_MQTT__PORT": str(mqtt.port),
           "HALLQ_HUB_MQTT__USERNAME": mqtt.username or "",
           "HALLQ_HUB_MQTT__PASSWORD": mqtt.password.get_secret_value()}
    with _listen(tmp_path / "notify") as sock:
        proc = subprocess.Popen([sys.executable, "-m", "hub"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            assert sock.recv(64) == b"READY=1"
            started = time.monotonic()
            assert [sock.recv(64) for _ in range(3)] == [b"WATCHDOG=1"] * 3
            assert time.monotonic() - started < 3  # every 0.2 s: half of WatchdogSec
        finally:
            proc.send_signal(signal.SIGTERM)
            out = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert proc.returncode == 0, out[-3000:]


def test_no_watchdog_pings_for_another_process(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """systemd sets WATCHDOG_PID to the service's main process; a child must stay quiet."""
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "100000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert systemd.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert systemd.watchdog_interval() == pytest.approx(0.05)
    with _listen(tmp_path / "notify") as sock:
        stop = threading.Event()
        alive = threading.Event()
        t = threading.Thread(target=systemd.watch_loop, args=(stop, alive.is_set))
        t.start()
        try:
            assert sock.recv(64) == b"READY=1"
            sock.settimeout(0.3)
            with pytest.raises(TimeoutError):  # not alive: no ping, systemd will restart it
                sock.recv(64)
            alive.set()
            sock.settimeout(5)
            assert sock.recv(64) == b"WATCHDOG=1"
        finally:
            stop.set()
            t.join(5)


def test_outside_systemd_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert systemd.notify("READY=1") is False
