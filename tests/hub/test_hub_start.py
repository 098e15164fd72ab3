"""`python -m hub` says whether it reached its broker. A hub that started before the broker
(a power cut brings the whole hall back at once) says so, serves the dashboard, and connects
as soon as the broker answers; the kiosks' requests wait in their outboxes until then. A
broker that refuses the hub's password is named as such, and asked again calmly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from hallsim.broker import Broker
from hub.app import Hub
from hub.db.one_hub import sqlite_file
from protocol.topics import DeviceClass
from tests.helpers import eventually


def _start_hub(tmp_path: Path, hall_id: str, port: int, username: str,
               password: str) -> subprocess.Popen[str]:
    env = {**os.environ, "HALLQ_HUB_HALL_ID": hall_id, "HALLQ_HUB_HTTP_PORT": "0",
           "HALLQ_HUB_DB_URL": f"sqlite:///{tmp_path}/hub.db",
           "HALLQ_HUB_MQTT__PORT": str(port), "HALLQ_HUB_MQTT__USERNAME": username,
           "HALLQ_HUB_MQTT__PASSWORD": password}
    return subprocess.Popen([sys.executable, "-m", "hub"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=(tmp_path / "hub.log").open("w"))


def _stop(hub: subprocess.Popen[str], tmp_path: Path) -> None:
    hub.send_signal(signal.SIGTERM)
    hub.wait(timeout=30)
    assert hub.returncode == 0, (tmp_path / "hub.log").read_text()[-3000:]


def test_hub_started_before_its_broker_says_so_and_connects_once_it_answers(
        tmp_path: Path, hall_id: str) -> None:
    broker = Broker(tmp_path / "broker")
    mqtt = broker.settings_for(DeviceClass.HUB)
    assert mqtt.password is not None and mqtt.username is not None
    hub = _start_hub(tmp_path, hall_id, mqtt.port, mqtt.username,
                     mqtt.password.get_secret_value())
    try:
        assert hub.stdout is not None
        first = hub.stdout.readline()
        assert f"the broker 127.0.0.1:{mqtt.port} does not answer" in first, first
        assert "dashboard http://127.0.0.1:" in first
        broker.start()
        eventually(lambda: f"hub connected to 127.0.0.1:{mqtt.port}"
                   in (tmp_path / "hub.log").read_text(), timeout=30,
                   what="the hub to reach the broker once it answers")
    finally:
        _stop(hub, tmp_path)
        broker.stop()


def test_a_refused_password_is_named_and_not_hammered(tmp_path: Path, hall_id: str) -> None:
    broker = Broker(tmp_path / "broker")
    broker.start()
    mqtt = broker.settings_for(DeviceClass.HUB)
    assert mqtt.username is not None
    hub = _start_hub(tmp_path, hall_id, mqtt.port, mqtt.username, "not-the-password")
    try:
        assert hub.stdout is not None
        first = hub.stdout.readline()
        assert f"the broker 127.0.0.1:{mqtt.port} refused the hub: Not authorized" in first, \
            first
        time.sleep(3)
        refusals = (tmp_path / "hub.log").read_text().count("broker refused the hub")
        assert 1 <= refusals <= 6, f"{refusals} attempts in ~8 s: 1 s, 2 s, 4 s apart"
    finally:
        _stop(hub, tmp_path)
        broker.stop()


def test_a_second_hub_on_the_same_database_is_refused(hub: Hub, tmp_path: Path) -> None:
    """Two hubs on one SQLite file would answer the same hall twice: the second is refused,
    in words, and the first goes on serving."""
    if sqlite_file(hub.settings.db_url) is None:
        pytest.skip("PostgreSQL: the city's guards, not a file lock")
    env = {**os.environ, "HALLQ_HUB_HALL_ID": hub.settings.hall_id, "HALLQ_HUB_HTTP_PORT": "0",
           "HALLQ_HUB_DB_URL": hub.settings.db_url}
    second = subprocess.run([sys.executable, "-m", "hub"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert second.returncode == 1
    assert "HallQ hub not started: 另一个取号系统服务正在使用数据库" in second.stderr, \
        second.stderr[-2000:]
    assert "ready" not in second.stdout
    with urllib.request.urlopen(f"{hub.dashboard_url}signin", timeout=5) as page:
        assert page.status == 200, "the first hub still serves"
