"""Run the hub as its own process (`python -m hub`), so a test can SIGKILL it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from hallsim.broker import Broker
from protocol.topics import DeviceClass

# A Tuesday morning, a working day: inside service hours whatever the real time is.
WORKING_MORNING = datetime(2026, 11, 24, 9, 0)


class HubProcess:
    """`python -m hub` configured through its environment, as systemd would start it."""

    def __init__(self, broker: Broker, hall_id: str, db: Path, log: Path,
                 catalogue: Path | None = None, start_at: datetime | None = WORKING_MORNING,
                 db_url: str | None = None) -> None:
        """`db`: the SQLite file, unless `db_url` names another database."""
        mqtt = broker.settings_for(DeviceClass.HUB)
        self.env = {
            **os.environ,
            "HALLQ_HUB_HALL_ID": hall_id,
            "HALLQ_HUB_DB_URL": db_url or f"sqlite:///{db}",
            "HALLQ_HUB_MQTT__PORT": str(mqtt.port),
            "HALLQ_HUB_MQTT__USERNAME": mqtt.username or "",
            "HALLQ_HUB_MQTT__PASSWORD": mqtt.password.get_secret_value() if mqtt.password else "",
            "HALLQ_HUB_HTTP_PORT": "0",
        }
        if start_at is not None:
            self.env["HALLQ_HUB_START_AT"] = start_at.isoformat()
        if catalogue is not None:
            self.env["HALLQ_HUB_CATALOGUE"] = str(catalogue)
        self.log = log
        self.proc: subprocess.Popen[str] | None = None
        self.starts = 0
        self.dashboard_url = ""  # known once started

    def start(self, timeout: float = 20) -> None:
        """Start and wait until the hub says it is ready."""
        with self.log.open("a") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "hub"], env=self.env,
                                         stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # blocks until ready or exit
        if "ready" not in line:
            raise RuntimeError(f"hub did not start: {line!r}; see {self.log}")
        self.dashboard_url = line.rsplit(" ", 1)[-1].strip()
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a power cut."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None
