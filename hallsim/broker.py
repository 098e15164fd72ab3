"""A Mosquitto broker for the demo and the tests: its own config, passwords, ACL and port.

The config is written from the protocol's ACL, each device class signs in with
its own username and password, and the broker listens on loopback only.
"""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from protocol.settings import MqttSettings
from protocol.topics import DeviceClass, broker_acl

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Return once something accepts connections on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.01)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Broker:
    """One Mosquitto process with a HallQ config in `workdir`."""

    def __init__(self, workdir: Path, *, port: int | None = None, persistence: bool = False,
                 max_queued_messages: int = 1000) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.persistence = persistence
        self.max_queued_messages = max_queued_messages
        self.passwords = {c: secrets.token_urlsafe(16) for c in DeviceClass}
        self.proc: subprocess.Popen[bytes] | None = None
        self.conf = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"

    def settings_for(self, device_class: DeviceClass) -> MqttSettings:
        """Connection settings for one class of device."""
        return MqttSettings(host="127.0.0.1", port=self.port, username=device_class.value,
                            password=self.passwords[device_class])

    def write_config(self) -> None:
        """Config, password file (hashed by mosquitto_passwd) and ACL."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "data").mkdir(exist_ok=True)
        passwd = self.workdir / "passwd"
        passwd.write_text("".join(f"{c.value}:{p}\n" for c, p in self.passwords.items()))
        passwd.chmod(0o600)
        subprocess.run([MOSQUITTO_PASSWD, "-U", str(passwd)], check=True)
        (self.workdir / "acl").write_text(broker_acl())
        self.conf.write_text("\n".join([
            "# Written by HallQ (hallsim/broker.py) for a demo or test run.",
            f"user {getpass.getuser()}",  # no drop to `mosquitto`: it could not write here
            "per_listener_settings false",
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous false",
            f"password_file {passwd}",
            f"acl_file {self.workdir / 'acl'}",
            "set_tcp_nodelay true",
            f"max_queued_messages {self.max_queued_messages}",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir / 'data'}/",
            "autosave_interval 1",
            f"log_dest file {self.log}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "",
        ]))

    def start(self) -> None:
        """Start (or restart) the broker and wait until it listens."""
        if not self.conf.exists():
            self.write_config()
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_port(self.port)
        except TimeoutError:
            self.proc.kill()
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
            raise RuntimeError(f"mosquitto did not start: {err}") from None

    def kill(self) -> None:
        """SIGKILL, as a power cut would."""
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        """Stop cleanly."""
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
