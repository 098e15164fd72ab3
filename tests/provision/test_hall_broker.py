"""The hall broker as the playbook makes it, on a real Mosquitto, in seconds: the hall CA
and the broker's certificate from the playbook's own secrets tasks (run on this machine),
the config from firmware_config/, passwords hashed by the playbook's filter, the ACL from
`protocol.topics.hall_acl`. Devices connect over TLS with `MqttSettings.ca_file`."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import jinja2
import paho.mqtt.client as mqtt
import pytest

from hallsim.broker import MOSQUITTO, free_port, wait_for_port
from protocol.link import new_client
from protocol.settings import MqttSettings
from protocol.topics import DeviceClass, hall_acl

REPO = Path(__file__).resolve().parents[2]
HALL = "t-hall"
DEVICES = {"kiosk": ["kiosk-1", "kiosk-2"], "display": ["main-screen"]}


def _filters() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hallq_filters",
                                                  REPO / "ansible/filter_plugins/hallq.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_secrets(secrets: Path, hall_id: str = HALL) -> dict[str, int]:
    """The playbook's secrets tasks only (control play, tag `secrets`); changed per host."""
    inventory = {"all": {"vars": {"hallq_hall_id": hall_id, "hallq_broker_host": "127.0.0.1"},
                         "hosts": {"localhost": {"ansible_connection": "local",
                                                 "ansible_python_interpreter": sys.executable}},
                         "children": {g: {"hosts": {h: {} for h in hosts}}
                                      for g, hosts in DEVICES.items()}}}
    inv = secrets.parent / f"{secrets.name}-inventory.json"
    inv.write_text(json.dumps(inventory))
    ansible = Path(os.environ.get("HALLQ_ANSIBLE_BIN", Path(sys.executable).parent))
    r = subprocess.run([str(ansible / "ansible-playbook"), "site.yml", "-i", str(inv),
                        "--tags", "secrets", "--limit", "localhost",
                        "-e", f"hallq_secrets_dir={secrets}"],
                       cwd=REPO / "ansible", capture_output=True, text=True, timeout=300,
                       env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible/ansible.cfg"),
                            "ANSIBLE_NOCOLOR": "1"})
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    recap = [line for line in r.stdout.splitlines() if line.startswith("localhost ")]
    return {"changed": int(recap[0].split("changed=")[1].split()[0])}


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hall") / "secrets"
    assert make_secrets(path)["changed"] > 0
    return path


@pytest.fixture(scope="module")
def hall_broker(secrets: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[int, int]]:
    """Mosquitto from firmware_config/'s template and the playbook's files: (TLS, local)."""
    work = tmp_path_factory.mktemp("broker")
    filters = _filters()
    users = ["hub"] + [d for hosts in DEVICES.values() for d in hosts]
    (work / "passwd").write_text("".join(
        f"{u}:{filters.mosquitto_hash((secrets / 'mqtt' / u).read_text().strip(), u)}\n"
        for u in users))
    devices = [(DeviceClass(g), d) for g, hosts in DEVICES.items() for d in hosts]
    (work / "acl").write_text(hall_acl(HALL, devices))
    for name in ("ca.crt", "broker.crt", "broker.key"):
        (work / name).write_bytes((secrets / name).read_bytes())
    tls, local = free_port(), free_port()
    template = (REPO / "firmware_config/mosquitto/mosquitto.conf.j2").read_text()
    conf = jinja2.Template(template).render(
        ansible_managed="test", hallq_mosquitto_dir=str(work), hallq_broker_port=tls,
        hallq_broker_local_port=local)
    # as root here, not as the mosquitto user of a Pi, with its files in the test's folder
    conf = (conf.replace("user mosquitto", "user root")
            .replace("pid_file /run/mosquitto/mosquitto.pid", f"pid_file {work}/pid")
            .replace("persistence_location /var/lib/mosquitto/", f"persistence_location {work}/"))
    (work / "mosquitto.conf").write_text(conf)
    proc = subprocess.Popen([MOSQUITTO, "-c", str(work / "mosquitto.conf")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(tls)
        wait_for_port(local)
        yield tls, local
    finally:
        proc.terminate()
        proc.wait(10)


def _client(settings: MqttSettings, client_id: str) -> tuple[mqtt.Client | None, str]:
    """Connected and looping, or None and why."""
    client = new_client(settings, client_id)
    answered = threading.Event()
    reasons: list[str] = []

    def on_connect(c: mqtt.Client, u: object, f: object, reason: object, p: object) -> None:
        reasons.append(str(reason))
        answered.set()

    client.on_connect = on_connect
    try:
        client.connect(settings.host, settings.port, keepalive=15)
    except OSError as exc:  # the TLS handshake failed
        return None, f"{type(exc).__name__}: {exc}"
    client.loop_start()
    if not answered.wait(10) or reasons[0] != "Success":
        client.loop_stop()
        return None, reasons[0] if reasons else "no answer"
    return client, "Success"


def _settings(secrets: Path, port: int, user: str, *, ca: Path | None,
              password: str | None = None) -> MqttSettings:
    return MqttSettings(host="127.0.0.1", port=port, username=user, ca_file=ca,
                        password=password or (secrets / "mqtt" / user).read_text().strip())


def test_secrets_are_made_once(secrets: Path) -> None:
    before = {p.name: p.read_bytes() for p in secrets.rglob("*") if p.is_file()}
    assert {"ca.key", "ca.crt", "broker.key", "broker.crt", "hub", "kiosk-1", "kiosk-2",
            "main-screen"} <= set(before)
    assert (secrets / "ca.key").stat().st_mode & 0o077 == 0
    assert make_secrets(secrets)["changed"] == 0
    assert {p.name: p.read_bytes() for p in secrets.rglob("*") if p.is_file()} == before


def test_a_device_reaches_the_hub_over_tls_with_its_own_account_only(
        secrets: Path, hall_broker: tuple[int, int]) -> None:
    tls, local = hall_broker
    hub, why = _client(_settings(secrets, local, "hub", ca=None), "hub")
    assert hub is not None, why
    got: list[str] = []
    hub.on_message = lambda c, u, msg: got.append(msg.topic)
    hub.subscribe(f"hall/{HALL}/#", qos=1)
    kiosk, why = _client(_settings(secrets, tls, "kiosk-1", ca=secrets / "ca.crt"), "kiosk-1")
    assert kiosk is not None, why
    time.sleep(0.3)
    own = f"hall/{HALL}/kiosk/kiosk-1/req/issue_ticket"
    for topic in (f"hall/{HALL}/kiosk/kiosk-2/req/issue_ticket",  # another kiosk's
                  f"hall/{HALL}/display/main-screen/status",  # another class's
                  f"hall/{HALL}/state/queue",  # only the hub writes states
                  own):
        kiosk.publish(topic, b"{}", qos=1).wait_for_publish(5)
    deadline = time.monotonic() + 5
    while own not in got and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert got == [own]
    kiosk.loop_stop()
    hub.loop_stop()


def test_wrong_password_wrong_ca_and_plain_tcp_are_refused(
        secrets: Path, hall_broker: tuple[int, int], tmp_path: Path) -> None:
    tls, _ = hall_broker
    ca = secrets / "ca.crt"
    assert _client(_settings(secrets, tls, "kiosk-1", ca=ca), "kiosk-1")[0] is not None
    refused, why = _client(_settings(secrets, tls, "kiosk-1", ca=ca, password="x" * 32),
                           "kiosk-1")
    assert refused is None and "authorized" in why.lower(), why
    # the kiosk's password is not the display's
    refused, why = _client(_settings(secrets, tls, "main-screen", ca=ca,
                                     password=(secrets / "mqtt/kiosk-1").read_text().strip()),
                           "main-screen")
    assert refused is None, why
    other = tmp_path / "other-hall"
    make_secrets(other, "other-hall")
    refused, why = _client(_settings(secrets, tls, "kiosk-1", ca=other / "ca.crt"), "kiosk-1")
    assert refused is None and "CERTIFICATE_VERIFY_FAILED" in why, why
    refused, why = _client(_settings(secrets, tls, "kiosk-1", ca=None), "kiosk-1")
    assert refused is None, "the TLS listener took plain MQTT"


def test_hashes_are_stable_and_mosquittos_own(tmp_path: Path) -> None:
    """Same secrets, same file (a second run changes nothing); and mosquitto_passwd's own
    check agrees: an entry it wrote and ours verify the same password alike."""
    filters = _filters()
    assert filters.mosquitto_hash("pw", "kiosk-1") == filters.mosquitto_hash("pw", "kiosk-1")
    assert filters.mosquitto_hash("pw", "kiosk-1") != filters.mosquitto_hash("pw", "kiosk-2")
    theirs = tmp_path / "passwd"
    theirs.write_text("kiosk-1:pw\n")
    subprocess.run(["mosquitto_passwd", "-U", str(theirs)], check=True)
    iterations = theirs.read_text().split("$")[2]
    assert iterations == str(filters.ITERATIONS)
