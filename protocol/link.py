"""The MQTT connection of every HallQ program, and the device side of request/reply.

`connect_client` makes a paho client the same way everywhere (MQTT 5, TCP_NODELAY,
credentials, reconnect backoff). `DeviceLink` is what a kiosk, a caller or a
display holds: it sends requests through the on-disk outbox, matches the hub's
replies by `request_id`, resends what is unanswered, and hands retained hall
state to the screen, and the hall's events (broadcasts) to a device allowed them.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError

from protocol import topics
from protocol.messages import (
    AnyReply,
    Broadcast,
    CatalogueState,
    DeviceStatus,
    HubStatus,
    QueueState,
    Request,
    VoiceSettings,
    WindowState,
    parse_reply,
)
from protocol.outbox import Outbox
from protocol.settings import DeviceSettings, MqttSettings
from protocol.topics import DeviceClass

log = logging.getLogger(__name__)

State = WindowState | QueueState | CatalogueState | HubStatus | VoiceSettings
StateHandler = Callable[[State, bool], None]  # (state, live): live is False for retained replays
Event = Broadcast
EventHandler = Callable[[Event], None]
ReplyHandler = Callable[[AnyReply], None]


def new_client(
    settings: MqttSettings, client_id: str, *, manual_ack: bool = False,
    clean_session: bool = True,
) -> mqtt.Client:
    """A paho client set up the HallQ way; the caller sets callbacks and connects.

    `clean_session=False` keeps the broker-side session (subscriptions and queued
    QoS 1 messages) across disconnects: the hub uses it so requests sent while it
    restarts wait for it.
    """
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv311,  # MQTT 5 buys us nothing used here and costs the hub ~20 %
        clean_session=clean_session,
        manual_ack=manual_ack,
    )
    if settings.username:
        password = settings.password.get_secret_value() if settings.password else None
        client.username_pw_set(settings.username, password)
    if settings.ca_file is not None:  # the broker's certificate must be signed by the hall CA
        client.tls_set(ca_certs=str(settings.ca_file))
    client.reconnect_delay_set(min_delay=1, max_delay=8)
    client.on_socket_open = _no_delay
    return client


def _no_delay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """Nagle's algorithm costs ~40 ms a hop; a call must reach the screen at once."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):  # websockets or unix transports have no such option
        pass


class PendingReply:
    """The answer to one request, once it comes."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._reply: AnyReply | None = None
        self._abandoned = False

    def set(self, reply: AnyReply) -> bool:
        """Hand over the reply; False when nobody waits for it any more."""
        with self._lock:
            self._reply = reply
            self._event.set()
            return not self._abandoned

    def wait(self, timeout: float, *, abandon: bool = True) -> AnyReply | None:
        """The reply, or None after `timeout` seconds (the request stays queued).

        With `abandon`, a reply that comes later goes to the link's `on_late_reply`.
        """
        self._event.wait(timeout)
        with self._lock:
            if self._reply is None and abandon:
                self._abandoned = True
            return self._reply


class DeviceLink:
    """A device's connection to its hall: outbox-backed requests and retained states."""

    def __init__(
        self,
        settings: DeviceSettings,
        device_class: DeviceClass,
        *,
        on_state: StateHandler | None = None,
        on_late_reply: ReplyHandler | None = None,
        on_event: EventHandler | None = None,
        windows: Iterable[int] | None = None,
    ) -> None:
        """`windows`: the windows whose states this device reads (a window its own, a kiosk
        none); None, every window's, as a main screen."""
        self.settings = settings
        self._state_filters = topics.state_filters(settings.hall_id, windows)
        self.device_class = device_class
        self.on_state = on_state
        self.on_event = on_event  # read only by a device class the broker lets read events
        self.on_late_reply = on_late_reply
        self.outbox = Outbox(settings.data_dir / f"{settings.device_id}.outbox.sqlite")
        self._reply_topic = topics.reply_topic(settings.hall_id, device_class, settings.device_id)
        self._waiting: dict[str, PendingReply] = {}
        self._last_sent: dict[str, tuple[float, float]] = {}  # request_id -> (sent at, delay)
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._resender = threading.Thread(target=self._resend_loop, daemon=True,
                                          name=f"resend-{settings.device_id}")
        mqtt_settings = settings.mqtt
        if mqtt_settings.username is None:
            mqtt_settings = mqtt_settings.model_copy(update={"username": device_class.value})
        self.client = new_client(mqtt_settings, settings.device_id)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self._hub_status_topic = topics.hub_status_topic(settings.hall_id)
        self._status_topic = topics.device_status_topic(settings.hall_id, device_class,
                                                        settings.device_id)
        self.status = DeviceStatus(status="online")
        self.client.will_set(self._status_topic, DeviceStatus(status="offline").model_dump_json(),
                             qos=1, retain=True)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Connect in the background; requests sent before the connection wait in the outbox."""
        m = self.settings.mqtt
        self.client.connect_async(m.host, m.port, keepalive=m.keepalive)
        self.client.loop_start()
        self._resender.start()

    def set_status(self, **changes: object) -> None:
        """Tell the hub (retained) something about this device, e.g. `printer="no_paper"`."""
        self.status = self.status.model_copy(update=changes)
        if self._connected.is_set():
            self.client.publish(self._status_topic, self.status.model_dump_json(), qos=1,
                                retain=True)

    def stop(self) -> None:
        """Say we are offline and disconnect; unanswered requests stay in the outbox."""
        self._stop.set()
        if self._connected.is_set():  # a clean disconnect sends no last will: say it
            info = self.client.publish(self._status_topic,
                                       DeviceStatus(status="offline").model_dump_json(), qos=1,
                                       retain=True)
            try:
                info.wait_for_publish(timeout=1.0)
            except (RuntimeError, ValueError):
                pass
        self.client.disconnect()
        self.client.loop_stop()
        if self._resender.is_alive():
            self._resender.join(timeout=2)
        self.outbox.close()

    def wait_connected(self, timeout: float) -> bool:
        """True once the broker has accepted the connection."""
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # ------------------------------------------------------------ requests

    def send(self, request: Request) -> PendingReply:
        """Store the request on disk, then publish it; the outbox keeps it until answered."""
        rid = str(request.request_id)
        topic = topics.request_topic(self.settings.hall_id, self.device_class,
                                     self.settings.device_id, request.ACTION)
        payload = request.model_dump_json().encode()
        pending = PendingReply(rid)
        with self._lock:
            self._waiting[rid] = pending
        self.outbox.add(rid, topic, payload)
        self._publish(rid, topic, payload)
        return pending

    def _publish(self, rid: str, topic: str, payload: bytes) -> None:
        with self._lock:
            first = self.settings.resend_after
            _, delay = self._last_sent.get(rid, (0.0, first / 2))
            self._last_sent[rid] = (time.monotonic(), min(delay * 2, first * 10))
        if self._connected.is_set():
            self.client.publish(topic, payload, qos=1)

    def _resend_loop(self) -> None:
        """Send again what the hub has not answered, backing off per request (up to 10×)."""
        while not self._stop.wait(0.5):
            if not self._connected.is_set():
                continue
            now = time.monotonic()
            for entry in self.outbox.pending():
                with self._lock:
                    sent_at, delay = self._last_sent.get(entry.request_id, (0.0, 0.0))
                if now - sent_at >= delay:
                    log.info("resending request_id=%s topic=%s", entry.request_id, entry.topic)
                    self._publish(entry.request_id, entry.topic, entry.payload)

    # ------------------------------------------------------------ paho callbacks

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused %s: %s", self.settings.device_id, reason)
            return
        client.subscribe(self._reply_topic, qos=1)
        client.subscribe([(f, 1) for f in self._state_filters])
        if self.device_class in topics.EVENT_READERS:
            client.subscribe(topics.events_filter(self.settings.hall_id), qos=1)
        client.publish(self._status_topic, self.status.model_dump_json(), qos=1, retain=True)
        self._connected.set()
        for entry in self.outbox.pending():  # whatever waited while we were away
            self._publish(entry.request_id, entry.topic, entry.payload)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("%s lost the broker: %s", self.settings.device_id, reason)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            if msg.topic == self._reply_topic:
                self._on_reply(parse_reply(bytes(msg.payload)))
            elif msg.topic == topics.broadcast_topic(self.settings.hall_id):
                if self.on_event is not None:
                    self.on_event(Broadcast.model_validate_json(bytes(msg.payload)))
            elif msg.topic == self._hub_status_topic and msg.payload:
                status = HubStatus.model_validate_json(bytes(msg.payload))
                if self.on_state is not None:
                    self.on_state(status, not msg.retain)
                if not msg.retain:
                    self._on_hub_status(status)
            elif self.on_state is not None and msg.payload:  # parsed only for a screen
                state = self._parse_state(msg.topic, bytes(msg.payload))
                if state is not None:
                    self.on_state(state, not msg.retain)
        except ValidationError as exc:
            log.error("unreadable message on %s: %s", msg.topic, exc)

    def _on_hub_status(self, status: HubStatus) -> None:
        """The hub has just (re)connected, or works again: what waits in the outbox goes now,
        not after its backoff (up to 10 × `resend_after`). A broker that restarted without
        persistence lost what was sent while the hub was away."""
        if status.status == "online" and status.problem is None:
            for entry in self.outbox.pending():
                self._publish(entry.request_id, entry.topic, entry.payload)

    def _on_reply(self, reply: AnyReply) -> None:
        if reply.request_id is None:
            log.error("hub could not read a request of ours: %s", reply)
            return
        rid = str(reply.request_id)
        was_queued = self.outbox.remove(rid)
        with self._lock:
            pending = self._waiting.pop(rid, None)
            self._last_sent.pop(rid, None)
        taken = pending.set(reply) if pending is not None else False
        if not taken and (was_queued or pending is not None) and self.on_late_reply is not None:
            self.on_late_reply(reply)  # nobody waits: sent before a restart, or timed out

    def _parse_state(self, topic: str, payload: bytes) -> State | None:
        hall = self.settings.hall_id
        if topics.parse_window_state_topic(topic) is not None:
            return WindowState.model_validate_json(payload)
        if topic == topics.queue_state_topic(hall):
            return QueueState.model_validate_json(payload)
        if topic == topics.catalogue_state_topic(hall):
            return CatalogueState.model_validate_json(payload)
        if topic == topics.hub_status_topic(hall):
            return HubStatus.model_validate_json(payload)
        if topic == topics.voice_state_topic(hall):
            return VoiceSettings.model_validate_json(payload)
        return None
