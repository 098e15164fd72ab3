"""Intruders at the broker (issue 11): every device credential tries every topic it must not
publish or read; an anonymous client and a wrong password try to get in. Judged by what
arrives, since MQTT 3.1.1 acknowledges a publish the ACL drops.

Two brokers, each a real Mosquitto with the ACL written from protocol/topics.py:

- the demo's and the tests' (hallsim/broker.py): one account per device class, the client
  id bound to the device id by the ACL's %c patterns (`broker_acl`);
- a hall's as provisioning writes it: one account per device, its user name the client id
  (`hall_acl`).

For each device: a witness signed in as the hub listens to the whole hall; the intruder
publishes a marked message to every topic of the hall it must not (other classes'
requests, other devices' requests, status and replies, every state, the events, another
hall's topics) and, as the control, one to its own request topic: only the control may
arrive. Then the hub publishes a marked message to every topic the intruder must not read
(others' replies, requests, statuses, the events unless it is a main screen) while the
intruder subscribes to `#`: only what it may read may arrive (states; its own replies).
"""

from __future__ import annotations

import itertools
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from hallsim.broker import MOSQUITTO, MOSQUITTO_PASSWD, Broker, free_port, wait_for_port
from protocol import topics
from protocol.messages import REQUESTS
from protocol.settings import MqttSettings
from protocol.topics import EVENT_READERS, DeviceClass, hall_acl

HALL = "intruded"
DEVICES = [(DeviceClass.KIOSK, "kiosk-1"), (DeviceClass.CALLER, "caller-3"),
           (DeviceClass.DISPLAY, "main-screen"), (DeviceClass.GUIDE, "guide-desk")]
OTHER_IDS = {DeviceClass.KIOSK: "kiosk-2", DeviceClass.CALLER: "caller-4",
             DeviceClass.DISPLAY: "screen-2", DeviceClass.GUIDE: "guide-2"}
SETTLE_S = 0.6


@dataclass
class Tally:
    attempts: int = 0
    escapes: list[str] = field(default_factory=list)


def every_hall_topic(hall: str) -> list[str]:
    """One concrete topic of every kind the hall has, for every device."""
    found = [topics.queue_state_topic(hall), topics.hub_status_topic(hall),
             topics.catalogue_state_topic(hall), topics.voice_state_topic(hall),
             topics.broadcast_topic(hall), topics.window_state_topic(hall, 3)]
    for (cls, own), other in itertools.product(DEVICES, ["", "x"]):
        device = own if not other else OTHER_IDS[cls]
        found += [topics.reply_topic(hall, cls, device),
                  topics.device_status_topic(hall, cls, device)]
        found += [topics.request_topic(hall, r.SENDER, device, r.ACTION) for r in REQUESTS
                  if r.SENDER == cls]
    return sorted(set(found))


def may_publish(cls: DeviceClass, device: str, topic: str) -> bool:
    own = f"{topics.ROOT}/{HALL}/{cls.value}/{device}/"
    return topic.startswith(own) and (topic.endswith("/status") or "/req/" in topic)


def may_read(cls: DeviceClass, device: str, topic: str) -> bool:
    if topic.startswith(f"{topics.ROOT}/{HALL}/state/"):
        return True
    if topic.startswith(f"{topics.ROOT}/{HALL}/event/"):
        return cls in EVENT_READERS
    return topic == topics.reply_topic(HALL, cls, device)


def client(settings: MqttSettings, client_id: str) -> tuple[mqtt.Client, list[tuple[str, bytes]],
                                                            int | None]:
    """A connected paho client recording what it receives, or the refusal's reason code."""
    got: list[tuple[str, bytes]] = []
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
    if settings.username:
        c.username_pw_set(settings.username, settings.password.get_secret_value()
                          if settings.password else None)
    connected = threading.Event()
    refused: list[int] = []

    def on_connect(cl: mqtt.Client, u: object, flags: object, reason: ReasonCode,
                   props: object) -> None:
        if reason.is_failure:
            refused.append(reason.value)
        connected.set()

    c.on_connect = on_connect
    c.on_message = lambda cl, u, msg: got.append((msg.topic, bytes(msg.payload)))
    c.connect("127.0.0.1", settings.port)
    c.loop_start()
    assert connected.wait(5), f"{client_id}: no CONNACK"
    return c, got, (refused[0] if refused else None)


def close(c: mqtt.Client) -> None:
    c.disconnect()
    c.loop_stop()


@dataclass
class HallBroker:
    """A hall's broker as provisioning writes it: per-device accounts, hall_acl."""

    workdir: Path
    port: int = field(default_factory=free_port)
    passwords: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    def settings(self, user: str, password: str | None = None) -> MqttSettings:
        return MqttSettings(host="127.0.0.1", port=self.port, username=user,
                            password=password or self.passwords[user])

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.passwords = {u: secrets.token_urlsafe(16) for u in ["hub", *(d for _, d in DEVICES)]}
        passwd = self.workdir / "passwd"
        passwd.write_text("".join(f"{u}:{p}\n" for u, p in self.passwords.items()))
        passwd.chmod(0o600)
        subprocess.run([MOSQUITTO_PASSWD, "-U", str(passwd)], check=True)
        (self.workdir / "acl").write_text(hall_acl(HALL, DEVICES))
        conf = self.workdir / "mosquitto.conf"
        conf.write_text("\n".join([
            "per_listener_settings false", "user root", f"listener {self.port} 127.0.0.1",
            "use_username_as_clientid true", "allow_anonymous false",
            f"password_file {passwd}", f"acl_file {self.workdir / 'acl'}", ""]))
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)


@pytest.fixture
def class_broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path / "class-broker")
    b.start()
    yield b
    b.stop()


@pytest.fixture
def hall_broker(tmp_path: Path) -> Iterator[HallBroker]:
    b = HallBroker(tmp_path / "hall-broker")
    b.start()
    yield b
    b.stop()


def attack(hub: MqttSettings, intruder: MqttSettings, cls: DeviceClass, device: str,
           tally: Tally, other_halls: bool = True) -> None:
    """Every forbidden publish and read of one device's credential; escapes into `tally`.
    `other_halls`: try another hall's topics too (a hall's broker serves one hall)."""
    witness, seen, _ = client(hub, "hub-witness")
    witness.subscribe(f"{topics.ROOT}/#", qos=1)
    thief, received, refused = client(intruder, device)
    assert refused is None, f"{device} could not sign in ({refused})"
    thief.subscribe("#", qos=1)
    time.sleep(0.3)
    hall_topics = every_hall_topic(HALL) + ([t.replace(f"/{HALL}/", "/other-hall/")
                                             for t in every_hall_topic(HALL)]
                                            if other_halls else [])
    control = topics.request_topic(HALL, cls, device, next(
        r.ACTION for r in REQUESTS if r.SENDER == cls)) if cls in {r.SENDER for r in REQUESTS} \
        else topics.device_status_topic(HALL, cls, device)
    for topic in hall_topics:
        if not may_publish(cls, device, topic):
            thief.publish(topic, f"intruder {device} {topic}", qos=1)
            tally.attempts += 1
    thief.publish(control, f"control {device}", qos=1)
    time.sleep(SETTLE_S)
    arrived = {t for t, p in seen if p.startswith(f"intruder {device}".encode())}
    tally.escapes += [f"{device} published {t}" for t in sorted(arrived)]
    assert (control, f"control {device}".encode()) in seen, "the witness hears the allowed"

    received.clear()
    for topic in every_hall_topic(HALL):
        witness.publish(topic, f"secret for {topic}", qos=1)
        if not may_read(cls, device, topic):
            tally.attempts += 1
    time.sleep(SETTLE_S)
    for topic, payload in received:
        if payload.startswith(b"secret for") and not may_read(cls, device, topic):
            tally.escapes.append(f"{device} read {topic}")
    assert any(t.startswith(f"{topics.ROOT}/{HALL}/state/") for t, _ in received), \
        "the intruder reads what it may (the control)"
    if cls in EVENT_READERS:
        assert topics.broadcast_topic(HALL) in {t for t, _ in received}, "a main screen hears"
    close(thief)
    close(witness)


def test_no_device_class_account_escapes_its_topics(class_broker: Broker) -> None:
    """The demo's and the tests' broker serves many halls at once (each test its own hall
    id), so its class accounts are bound to their class and device id, not to a hall."""
    tally = Tally()
    hub = class_broker.settings_for(DeviceClass.HUB)
    for cls, device in DEVICES:
        attack(hub, class_broker.settings_for(cls), cls, device, tally, other_halls=False)
    print(f"\nclass accounts: {tally.attempts} forbidden publishes and reads, "
          f"{len(tally.escapes)} escapes")
    assert tally.escapes == []
    assert tally.attempts > 200


def test_a_class_account_cannot_speak_for_another_device(class_broker: Broker) -> None:
    """The kiosk class's password with another kiosk's id in the topic: dropped."""
    witness, seen, _ = client(class_broker.settings_for(DeviceClass.HUB), "hub-witness")
    witness.subscribe(f"{topics.ROOT}/#", qos=1)
    thief, _, _ = client(class_broker.settings_for(DeviceClass.KIOSK), "kiosk-1")
    time.sleep(0.3)
    thief.publish(topics.request_topic(HALL, DeviceClass.KIOSK, "kiosk-2", "issue_ticket"),
                  b"as kiosk-2", qos=1)
    time.sleep(SETTLE_S)
    assert not [t for t, p in seen if p == b"as kiosk-2"]
    close(thief)
    close(witness)


def test_no_per_device_account_escapes_its_topics(hall_broker: HallBroker) -> None:
    tally = Tally()
    hub = hall_broker.settings("hub")
    for cls, device in DEVICES:
        attack(hub, hall_broker.settings(device), cls, device, tally)
    print(f"\nper-device accounts: {tally.attempts} forbidden publishes and reads, "
          f"{len(tally.escapes)} escapes")
    assert tally.escapes == []
    assert tally.attempts > 400


@pytest.mark.parametrize("who", ["anonymous", "wrong password", "unknown user"])
def test_strangers_are_refused(hall_broker: HallBroker, class_broker: Broker, who: str) -> None:
    for port in (hall_broker.port, class_broker.port):
        settings = {"anonymous": MqttSettings(host="127.0.0.1", port=port),
                    "wrong password": MqttSettings(host="127.0.0.1", port=port,
                                                   username="kiosk-1", password="guess"),
                    "unknown user": MqttSettings(host="127.0.0.1", port=port,
                                                 username="mallory", password="x")}[who]
        c, _, refused = client(settings, "stranger")
        close(c)
        assert refused is not None, f"{who} was let in on port {port}"
