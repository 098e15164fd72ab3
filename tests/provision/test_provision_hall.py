"""The playbook provisions a whole hall for real: Debian Bookworm chroots (a hub Pi with
the broker, a kiosk with a camera, a window caller, the main screen) get site.yml twice
through Ansible's chroot connection; the second run must change nothing. Then what
landed is checked the way each part would use it: systemd-analyze verifies the units,
Mosquitto runs from the installed config and takes the devices' TLS connections with
their own accounts and ACL, the hub runs from its venv and tells systemd READY and
WATCHDOG, each device's settings file loads in its own program's settings.

Where arm64 binaries run (qemu-user-static), a hub Pi is provisioned as arm64 too.
Minutes and the network (Debian's mirror, PyPI): behind `--provision`.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from hallsim.broker import free_port, wait_for_port
from protocol.link import new_client
from protocol.settings import MqttSettings
from tests.provision.chroots import (
    REPO,
    VAR,
    Chroot,
    PlaybookRun,
    arm64_works,
    base_tarball,
    make_chroot,
    run_playbook,
)

pytestmark = [pytest.mark.provision, pytest.mark.timeout(5400)]

HALL = "test-hall"
# name: (group, arch-independent host vars)
AMD64_HALL = {
    "hub-pi": ("hub", {}),
    "kiosk-1": ("kiosk", {"hallq_camera": "picamera2"}),
    "caller-1": ("caller", {"hallq_window": 1}),
    "main-screen": ("display", {}),
}
ARM64_HALL = {"hub-pi": ("hub", {})}
UNITS = {"hub": ["hallq-hub.service", "mosquitto.service"], "kiosk": ["hallq-kiosk.service"],
         "caller": ["hallq-caller.service"], "display": ["hallq-display.service"]}
SETTINGS = {"hub": ("hub", "hub.settings", "HubSettings"),
            "kiosk": ("kiosk", "kiosk.settings", "KioskSettings"),
            "caller": ("caller", "caller_display.window_settings", "CallerSettings"),
            "display": ("display", "caller_display.settings", "DisplaySettings")}


@dataclass
class Hall:
    arch: str
    chroots: dict[str, Chroot]
    groups: dict[str, str]  # device name -> group
    secrets: Path
    first: PlaybookRun
    second: PlaybookRun

    def password(self, user: str) -> str:
        return (self.secrets / "mqtt" / user).read_text().strip()

    def of(self, group: str) -> list[Chroot]:
        return [c for n, c in self.chroots.items() if self.groups[n] == group]


def _arches() -> list[object]:
    why = arm64_works()
    return ["amd64", pytest.param("arm64", marks=pytest.mark.skipif(
        why is not None, reason=f"no arm64 emulation here: {why}"))]


@pytest.fixture(scope="module", params=_arches())
def hall(request: pytest.FixtureRequest) -> Iterator[Hall]:
    """Fresh chroots for one hall, provisioned twice; the figures into var/provision/."""
    arch: str = request.param
    devices = AMD64_HALL if arch == "amd64" else ARM64_HALL
    tarball, debootstrap_s = base_tarball(arch)
    under = VAR / f"hall-{arch}"
    chroots: dict[str, Chroot] = {}
    try:
        for name in devices:
            chroots[name] = make_chroot(name, arch, tarball, under)
        inventory = _inventory(devices, chroots, under)
        secrets = under / "secrets"
        subprocess.run(["rm", "-rf", str(secrets)], check=True)
        extra = {"hallq_secrets_dir": str(secrets)}
        first = run_playbook(inventory, extra, under / "first-run.log")
        second = run_playbook(inventory, extra, under / "second-run.log")
        figures = {"arch": arch, "debootstrap_s": debootstrap_s,
                   "first_run_s": round(first.seconds, 1), "first_changed": first.changed,
                   "second_run_s": round(second.seconds, 1), "second_changed": second.changed}
        (VAR / f"figures-{arch}.json").write_text(json.dumps(figures, indent=2) + "\n")
        print(f"\nprovisioning figures: {json.dumps(figures)}")
        yield Hall(arch, chroots, {n: g for n, (g, _) in devices.items()}, secrets, first,
                   second)
    finally:
        for c in chroots.values():
            c.unmount()


def _inventory(devices: dict[str, tuple[str, dict[str, object]]],
               chroots: dict[str, Chroot], under: Path) -> Path:
    groups: dict[str, dict[str, dict[str, object]]] = {}
    for name, (group, host_vars) in devices.items():
        host = {"ansible_host": str(chroots[name].root), **host_vars}
        groups.setdefault(group, {})[name] = host
        if group == "hub":
            groups.setdefault("broker", {})[name] = {}
    inventory = {"all": {
        "vars": {"hallq_hall_id": HALL, "hallq_broker_host": "127.0.0.1",
                 "ansible_connection": "community.general.chroot",
                 "ansible_python_interpreter": "/usr/bin/python3"},
        "children": {g: {"hosts": hosts} for g, hosts in groups.items()}}}
    path = under / "inventory.json"
    path.write_text(json.dumps(inventory, indent=2))
    return path


def test_a_second_run_changes_nothing(hall: Hall) -> None:
    for name in hall.chroots:
        assert hall.first.changed[name] > 0, f"{name}: the first run changed nothing"
    assert hall.first.recap["localhost"]["failed"] == 0
    assert hall.second.changed == {name: 0 for name in hall.second.changed}, \
        f"second run changed something; log: {VAR}/hall-{hall.arch}/second-run.log"


def test_units_are_enabled_and_verify(hall: Hall) -> None:
    for name, c in hall.chroots.items():
        wants = c.path("/etc/systemd/system/multi-user.target.wants")
        for unit in UNITS[hall.groups[name]]:
            assert (wants / unit).is_symlink(), f"{name}: {unit} not enabled"
            where = "/lib/systemd/system" if unit == "mosquitto.service" else \
                "/etc/systemd/system"
            r = c.run("systemd-analyze", "verify", "--man=no", f"{where}/{unit}", check=False)
            assert r.returncode == 0, f"{name}: {unit}: {r.stdout}{r.stderr}"
        for unit in UNITS[hall.groups[name]]:
            if unit.startswith("hallq-"):
                text = c.path(f"/etc/systemd/system/{unit}").read_text()
                assert "Type=notify" in text and "WatchdogSec=30" in text
                assert "Restart=always" in text


def test_sd_card_kept_and_pi_settings(hall: Hall) -> None:
    for name, c in hall.chroots.items():
        group = hall.groups[name]
        journald = c.path("/etc/systemd/journald.conf.d/hallq.conf").read_text()
        assert "Storage=volatile" in journald and "RuntimeMaxUse=" in journald
        config = c.path("/boot/firmware/config.txt").read_text()
        assert config.count("# BEGIN HallQ") == 1 and "dtoverlay=vc4-kms-v3d" in config
        cmdline = c.path("/boot/firmware/cmdline.txt").read_text()
        assert len(cmdline.splitlines()) == 1  # the firmware reads one line
        assert ("consoleblank=0" in cmdline) == (group != "hub")
        data = c.path("/var/lib/hallq").stat()
        assert stat.S_IMODE(data.st_mode) == 0o750
        env = c.path(f"/etc/hallq/{SETTINGS[group][0]}.env").stat()
        assert stat.S_IMODE(env.st_mode) == 0o640 and env.st_uid == 0  # passwords inside
    for c in hall.of("kiosk"):
        assert "include-system-site-packages = true" in \
            c.path("/opt/hallq/venv/pyvenv.cfg").read_text()  # picamera2 from apt
        assert "camera_auto_detect=1" in c.path("/boot/firmware/config.txt").read_text()
        rule = c.path("/etc/udev/rules.d/99-hallq-printer.rules").read_text()
        assert 'ATTR{idVendor}=="0416"' in rule and 'GROUP="lp"' in rule
    for c in hall.of("display"):
        assert "dtparam=audio=on" in c.path("/boot/firmware/config.txt").read_text()
        assert "defaults.pcm.card vc4hdmi0" in c.path("/etc/asound.conf").read_text()
        assert len(list(c.path("/var/lib/hallq/voice").glob("*.wav"))) > 30
    for c in hall.of("hub"):
        key = c.path("/etc/mosquitto/hallq/broker.key").stat()
        assert stat.S_IMODE(key.st_mode) == 0o640


def test_each_device_loads_its_settings_from_its_install(hall: Hall) -> None:
    """The settings file as systemd hands it over, read by the program's own settings class
    in the device's venv: a misspelt variable would fail here as it fails at boot."""
    for name, c in hall.chroots.items():
        program, module, cls = SETTINGS[hall.groups[name]]
        env = _env_file(c, f"/etc/hallq/{program}.env")
        r = c.run("/opt/hallq/venv/bin/python", "-c",
                  f"from {module} import {cls}; s = {cls}(); "
                  "print(s.mqtt.username, s.mqtt.port, s.mqtt.ca_file)", env=env, check=False)
        assert r.returncode == 0, f"{name}: {r.stderr[-2000:]}"
        user = "hub" if program == "hub" else name
        port = "1883" if program == "hub" else "8883"
        ca = "None" if program == "hub" else "/etc/hallq/ca.crt"
        assert r.stdout.split() == [user, port, ca]


@pytest.fixture(scope="module")
def broker(hall: Hall) -> Iterator[tuple[int, int]]:
    """The hub Pi's Mosquitto from its installed config, on free ports, outside systemd:
    (TLS port, loopback port)."""
    c = hall.of("hub")[0]
    tls, local = free_port(), free_port()
    conf = c.path("/etc/mosquitto/mosquitto.conf").read_text()
    assert "listener 8883\n" in conf and "listener 1883 127.0.0.1\n" in conf
    conf = conf.replace("listener 8883\n", f"listener {tls}\n").replace(
        "listener 1883 127.0.0.1\n", f"listener {local} 127.0.0.1\n")
    c.path("/run/hallq-test-mosquitto.conf").write_text(conf)
    c.run("install", "-d", "-o", "mosquitto", "-m", "740", "/run/mosquitto")  # as its unit
    proc = c.popen("/usr/sbin/mosquitto", "-c", "/run/hallq-test-mosquitto.conf", env={})
    try:
        wait_for_port(tls, timeout=30)
        wait_for_port(local, timeout=30)
        yield tls, local
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0].decode(errors="replace")
        print(f"mosquitto said:\n{out[-3000:]}")


def _device(hall: Hall, port: int, user: str, password: str | None = None,
            ca: bool = True) -> MqttSettings:
    return MqttSettings(host="127.0.0.1", port=port, username=user,
                        password=password or hall.password(user),
                        ca_file=hall.secrets / "ca.crt" if ca else None)


def _connects(settings: MqttSettings, client_id: str) -> tuple[mqtt.Client | None, str]:
    """A connected, looping client, or None and why not."""
    client = new_client(settings, client_id)
    done = threading.Event()
    result: list[str] = []

    def on_connect(c: mqtt.Client, u: object, f: object, reason: object, p: object) -> None:
        result.append(str(reason))
        done.set()

    client.on_connect = on_connect
    try:
        client.connect(settings.host, settings.port, keepalive=15)
    except OSError as exc:  # TLS refused: the broker's certificate is not the hall CA's
        return None, f"{type(exc).__name__}: {exc}"
    client.loop_start()
    if not done.wait(15) or result[0] != "Success":
        client.loop_stop()
        return None, result[0] if result else "no answer"
    return client, "Success"


def test_devices_reach_the_broker_with_tls_and_their_own_account(
        hall: Hall, broker: tuple[int, int]) -> None:
    tls, local = broker
    hub, why = _connects(_device(hall, local, "hub", ca=False), "hub-test")
    assert hub is not None, why
    got: list[str] = []
    arrived = threading.Event()

    def on_message(c: mqtt.Client, u: object, msg: mqtt.MQTTMessage) -> None:
        got.append(msg.topic)
        arrived.set()

    hub.on_message = on_message
    hub.subscribe(f"hall/{HALL}/#", qos=1)
    time.sleep(0.5)
    devices = [n for n, g in hall.groups.items() if g != "hub"] or []
    if not devices:  # the arm64 hall has only its hub: a device account is still checked
        pytest.skip("no device in this hall")
    name = devices[0]
    group = hall.groups[name]
    device, why = _connects(_device(hall, tls, name), name)
    assert device is not None, why
    own = f"hall/{HALL}/{group}/{name}/req/issue_ticket"
    other = f"hall/{HALL}/{group}/someone-else/req/issue_ticket"
    device.publish(other, b"{}", qos=1).wait_for_publish(5)
    device.publish(own, b"{}", qos=1).wait_for_publish(5)
    assert arrived.wait(10), "the device's own request never reached the hub"
    time.sleep(0.5)
    assert got == [own], f"the ACL let through: {got}"
    device.loop_stop()
    hub.loop_stop()

    wrong, why = _connects(_device(hall, tls, name, password="not-the-password"), name)
    assert wrong is None, "a wrong password was let in"
    plain, why = _connects(_device(hall, tls, name, ca=False), name)
    assert plain is None, "the TLS listener took a plain connection"


def test_hub_runs_from_its_install_and_feeds_the_watchdog(
        hall: Hall, broker: tuple[int, int]) -> None:
    c = hall.of("hub")[0]
    _, local = broker
    http = free_port()
    sock_path = c.path("/run/hallq-test-notify")
    sock_path.unlink(missing_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sock_path))
        sock.settimeout(120 if hall.arch == "amd64" else 600)
        env = _env_file(c, "/etc/hallq/hub.env")
        env.update({"HALLQ_HUB_MQTT__PORT": str(local), "HALLQ_HUB_HTTP_HOST": "127.0.0.1",
                    "HALLQ_HUB_HTTP_PORT": str(http), "NOTIFY_SOCKET": "/run/hallq-test-notify",
                    "WATCHDOG_USEC": "1000000"})
        uid, gid = _ids(c, "hallq")
        os.chown(sock_path, uid, gid)
        proc = subprocess.Popen(["/usr/sbin/chroot", f"--userspec={uid}:{gid}", str(c.root),
                                 "/opt/hallq/venv/bin/python", "-m", "hub"],
                                env={"PATH": "/usr/bin:/bin", **env}, cwd="/",
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            said = [sock.recv(256).decode()]
            assert said == ["READY=1"], said
            said.append(sock.recv(256).decode())
            assert said[1] == "WATCHDOG=1"
            with urllib.request.urlopen(f"http://127.0.0.1:{http}/healthz", timeout=10) as r:
                assert r.status == 200
        finally:
            proc.terminate()
            out = proc.communicate(timeout=30)[0].decode(errors="replace")
        assert proc.returncode == 0, out[-3000:]
    assert c.path("/var/lib/hallq/hub.db").stat().st_size > 0


def test_secrets_stay_out_of_git() -> None:
    r = subprocess.run(["git", "-C", str(REPO), "check-ignore", "ansible/secrets/x/ca.key"],
                       capture_output=True, text=True)
    assert r.returncode == 0


def _ids(c: Chroot, user: str) -> tuple[int, int]:
    """A user's uid and gid in the chroot's own /etc/passwd."""
    for line in c.path("/etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise LookupError(f"no user {user} in {c.name}")


def _env_file(c: Chroot, path: str) -> dict[str, str]:
    """KEY=value lines of a systemd EnvironmentFile."""
    env = {}
    for line in c.path(path).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    return env


def test_the_hub_backs_up_each_night(hall: Hall) -> None:
    """hub/backup.py from a timer (hallq-backup.timer, made up at boot when a night was
    missed), into a folder of the hall's user."""
    for name, c in hall.chroots.items():
        if hall.groups[name] != "hub":
            continue
        assert c.path("/etc/systemd/system/timers.target.wants/hallq-backup.timer").is_symlink()
        for unit in ("hallq-backup.service", "hallq-backup.timer"):
            r = c.run("systemd-analyze", "verify", "--man=no", f"/etc/systemd/system/{unit}",
                      check=False)
            assert r.returncode == 0, f"{name}: {unit}: {r.stdout}{r.stderr}"
        service = c.path("/etc/systemd/system/hallq-backup.service").read_text()
        assert "-m hub.backup backup --to /var/lib/hallq/backups --keep 14" in service
        assert c.path("/var/lib/hallq/backups").is_dir()
