"""The hub's MQTT side: take requests, commit them, then answer, publish state, acknowledge.

A request is acknowledged to the broker (paho `manual_ack`) only after the
transaction that applied it has committed, so a hub killed at any point gets
the unacknowledged requests again on restart and the dispatcher answers
replays from the record. Requests that arrive together are applied in one
transaction (a savepoint each): one fsync for many tickets.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from hub import hall_state
from hub.clock import Clock
from hub.dispatch import Answer, dispatch, error_reply, request_id_of
from hub.handlers import Outcome
from hub.settings import HubSettings
from protocol import topics
from protocol.errors import ErrorCode
from protocol.link import new_client
from protocol.messages import HubStatus, QueueState, WindowState

log = logging.getLogger(__name__)

StatesHandler = Callable[[QueueState | None, list[WindowState]], None]
QUEUE_STATE_EVERY = 0.25  # seconds between two queue summaries at most
_REPUBLISH = object()  # put in the inbox on (re)connect: publish every state again


class RequestConsumer:
    """Applies the hall's requests from the broker to the database, one batch at a time."""

    def __init__(self, settings: HubSettings, engine: Engine, clock: Clock,
                 on_states: StatesHandler) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.on_states = on_states
        self.applied = 0  # requests committed since start (for the status line)
        self._queue_dirty = False
        self._queue_sent = 0.0
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._worker = threading.Thread(target=self._work, name="hub-worker", daemon=True)
        hall = settings.hall_id
        self.client = new_client(settings.mqtt, f"hub-{hall}", manual_ack=True,
                                 clean_session=False)
        self.client.will_set(topics.hub_status_topic(hall),
                             HubStatus(status="offline").model_dump_json(), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = lambda c, u, msg: self._inbox.put(msg)

    def start(self) -> None:
        """Connect with a persistent session: requests sent while we were down wait for us."""
        m = self.settings.mqtt
        self._worker.start()
        self.client.connect_async(m.host, m.port, keepalive=m.keepalive)
        self.client.loop_start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        """Say we are offline and leave; unacknowledged requests stay with the broker."""
        self._stop.set()
        self._worker.join(timeout=5)
        if self._connected.is_set():
            info = self.client.publish(topics.hub_status_topic(self.settings.hall_id),
                                       HubStatus(status="offline").model_dump_json(), qos=1,
                                       retain=True)
            info.wait_for_publish(timeout=2)
        self.client.disconnect()
        self.client.loop_stop()

    # ------------------------------------------------------------ paho callbacks

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the hub: %s", reason)
            return
        client.subscribe(topics.requests_filter(self.settings.hall_id), qos=1)
        client.publish(topics.hub_status_topic(self.settings.hall_id),
                       HubStatus(status="online").model_dump_json(), qos=1, retain=True)
        self._inbox.put(_REPUBLISH)
        self._connected.set()
        log.info("hub connected to %s:%s", self.settings.mqtt.host, self.settings.mqtt.port)

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("hub lost the broker: %s", reason)

    # ------------------------------------------------------------ the worker

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._inbox.get(timeout=QUEUE_STATE_EVERY / 2)
            except queue.Empty:
                self._publish_queue_state()
                continue
            batch = [first]
            while len(batch) < self.settings.batch_max:
                try:
                    batch.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            republish = any(m is _REPUBLISH for m in batch)
            messages = [m for m in batch if m is not _REPUBLISH]
            while not self._stop.is_set():
                try:
                    self._apply(messages, republish)
                    break
                except OperationalError:  # disk full, locked: keep the batch, try again
                    log.exception("database refused a batch of %d; retrying", len(messages))
                    time.sleep(1)
            self._publish_queue_state(force=republish)

    def _apply(self, messages: list[mqtt.MQTTMessage], republish: bool) -> None:
        answers: list[Answer] = []
        changed_windows: set[int] = set()
        queue_changed = False
        with self.engine.begin() as conn:
            for msg in messages:
                answer = self._dispatch_one(conn, msg)
                if answer is not None:
                    answers.append(answer)
                    changed_windows |= answer.outcome.windows
                    queue_changed |= answer.outcome.queue
            if republish:
                changed_windows |= set(hall_state.all_window_numbers(conn))
            window_states = [hall_state.window_state(conn, self.clock, n)
                             for n in sorted(changed_windows)]
        # committed: now it is safe to answer, show and acknowledge
        for a in answers:
            self.client.publish(a.reply_topic, a.payload, qos=1)
        hall = self.settings.hall_id
        for w in window_states:
            self.client.publish(topics.window_state_topic(hall, w.window), w.model_dump_json(),
                                qos=1, retain=True)
        for msg in messages:
            self.client.ack(msg.mid, msg.qos)
        self.applied += len(messages)
        self._queue_dirty |= queue_changed
        if window_states:
            self.on_states(None, window_states)

    def _publish_queue_state(self, force: bool = False) -> None:
        """The queue summary, at most every QUEUE_STATE_EVERY seconds: screens need no more,
        and under a burst it would cost more than the tickets themselves."""
        now = time.monotonic()
        if not force and not (self._queue_dirty and now - self._queue_sent >= QUEUE_STATE_EVERY):
            return
        with self.engine.connect() as conn:
            state = hall_state.queue_state(conn, self.clock)
        self._queue_dirty, self._queue_sent = False, now
        self.client.publish(topics.queue_state_topic(self.settings.hall_id),
                            state.model_dump_json(), qos=1, retain=True)
        self.on_states(state, [])

    def _dispatch_one(self, conn: Any, msg: mqtt.MQTTMessage) -> Answer | None:
        try:  # dispatch applies a request and its record in one savepoint, or neither
            return dispatch(conn, self.clock, self.settings.hall_id, msg.topic, msg.payload)
        except OperationalError:
            raise
        except Exception:  # a bug must not stop the hall: answer, change nothing, log it
            log.exception("request on %s failed", msg.topic)
            addr = topics.parse_request_topic(msg.topic)
            if addr is None:
                return None
            reply_to = topics.reply_topic(addr.hall_id, addr.device_class, addr.device_id)
            try:
                rid = request_id_of(json.loads(msg.payload))
            except ValueError:
                rid = None
            return Answer(reply_to, Outcome(error_reply(ErrorCode.HUB_ERROR, rid)))
