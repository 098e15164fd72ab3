"""What the fault tests measure with: the broker alone, the hub's online flag, the resends.

The broker alone is a plain QoS 1 publisher and a persistent subscriber, no outbox, no
resend. What they count is the broker's own loss, the baseline the fault tests compare
the hall with: a message the broker acknowledged (PUBACK) to the publisher and never
delivered to the subscriber's session. paho keeps unacknowledged QoS 1 messages in
memory and sends them again after a reconnect, as any client would; nothing here keeps
anything on disk.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any

import paho.mqtt.client as mqtt

from hallsim.broker import Broker
from protocol import topics
from protocol.link import new_client
from protocol.messages import HubStatus
from protocol.topics import DeviceClass


class RawSubscriber:
    """The hub's account with a persistent session (clean_session=False), subscribed at QoS 1
    to every request of a hall; counts each sequence number that arrives."""

    def __init__(self, broker: Broker, hall_id: str, client_id: str) -> None:
        self.filter = topics.requests_filter(hall_id)
        self.received: Counter[int] = Counter()
        self.last_at = time.monotonic()
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = new_client(broker.settings_for(DeviceClass.HUB), client_id,
                                 clean_session=False)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = self._on_message
        self._port = broker.port

    def _on_connect(self, client: mqtt.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
        if not reason.is_failure:  # as every client must: a broker without the session forgot it
            client.subscribe(self.filter, qos=1)

    def _on_message(self, client: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.received[int(msg.payload)] += 1
            self.last_at = time.monotonic()

    def connect(self, timeout: float = 10) -> None:
        """Connect (loop in the background, reconnecting by itself) and wait for the SUBACK."""
        self._subscribed.clear()
        self.client.connect("127.0.0.1", self._port)
        self.client.loop_start()
        assert self._subscribed.wait(timeout), "the raw subscriber got no SUBACK"

    def disconnect(self) -> None:
        """Go away cleanly: the broker keeps the session and queues for it."""
        self.client.disconnect()
        self.client.loop_stop()

    def wait_quiet(self, quiet: float = 1.5, timeout: float = 60) -> None:
        """Return once nothing has arrived for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                idle = time.monotonic() - self.last_at
            if idle >= quiet:
                return
            time.sleep(0.05)


class RawPublisher:
    """A kiosk's account publishing sequence numbers at QoS 1, as a device without an outbox
    would (paho keeps what it could not send yet in memory); remembers which ones the broker
    acknowledged."""

    def __init__(self, broker: Broker, hall_id: str, client_id: str) -> None:
        self.topic = topics.request_topic(hall_id, DeviceClass.KIOSK, client_id, "raw")
        self.sent: dict[int, int] = {}  # sequence number -> MQTT packet id
        self._acked: list[int] = []  # packet ids the broker acknowledged, in order
        self.client = new_client(broker.settings_for(DeviceClass.KIOSK), client_id)
        self.client.max_inflight_messages_set(100)
        self._connected = threading.Event()
        self.client.on_connect = lambda c, u, f, reason, p: \
            None if reason.is_failure else self._connected.set()
        self.client.on_publish = lambda c, u, mid, reason, p: self._acked.append(mid)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert self._connected.wait(10), "the raw publisher did not connect"

    def publish(self, seq: int) -> None:
        assert len(self.sent) < 65_000, "packet ids would wrap: they name the messages here"
        self.sent[seq] = self.client.publish(self.topic, str(seq).encode(), qos=1).mid

    def acknowledged(self) -> set[int]:
        """The sequence numbers the broker answered with a PUBACK."""
        acked = set(self._acked)
        return {seq for seq, mid in list(self.sent.items()) if mid in acked}

    def wait_acknowledged(self, timeout: float = 30) -> None:
        """Wait until every message sent so far has its PUBACK (paho sends again what it has
        no PUBACK for after a reconnect); returns at the timeout whatever the count."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.acknowledged()) < len(self.sent):
            time.sleep(0.05)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class HubWatch:
    """Watches the hub's online/offline flag (a screen's account): `python -m hub` says
    "ready" before it has reached the broker, and a test that needs its session there
    waits for "online"."""

    def __init__(self, broker: Broker, hall_id: str) -> None:
        self.topic = topics.hub_status_topic(hall_id)
        self.seen: list[str] = []
        self._cond = threading.Condition()
        self.client = new_client(broker.settings_for(DeviceClass.DISPLAY), f"watch-{hall_id}")
        self.client.on_connect = lambda c, u, f, reason, p: \
            None if reason.is_failure else c.subscribe(self.topic, qos=1)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.payload:
            with self._cond:
                self.seen.append(HubStatus.model_validate_json(msg.payload).status)
                self._cond.notify_all()

    def mark(self) -> int:
        """Where the statuses seen so far end: `wait` looks past it."""
        with self._cond:
            return len(self.seen)

    def wait(self, status: str, after: int, timeout: float = 20) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: status in self.seen[after:], timeout), \
                f"the hub did not say {status!r} within {timeout}s: {self.seen[after:]}"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Resends(logging.Handler):
    """Counts the devices' resends of unanswered requests (protocol/link.py logs each one)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("resending"):
            self.count += 1
