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
from protocol.link import new_client, session_properties
from protocol.messages import HubStatus, QueueState, WindowState

log = logging.getLogger(__name__)

StatesHandler = Callable[[QueueState | None, list[WindowState]], None]
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
        self._inbox: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._worker = threading.Thread(target=self._work, name="hub-worker", daemon=True)
        hall = settings.hall_id
        self.client = new_client(settings.mqtt, f"hub-{hall}", manual_ack=True)
        self.client.will_set(topics.hub_status_topic(hall),
                             HubStatus(status="offline").model_dump_json(), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = lambda c, u, msg: self._inbox.put(msg)

    def start(self) -> None:
        """Connect with a persistent session: requests sent while we were down wait for us."""
        m = self.settings.mqtt
        self._worker.start()
        self.client.connect_async(m.host, m.port, keepalive=m.keepalive, clean_start=False,
                                  properties=session_properties(self.settings.session_expiry))
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
                first = self._inbox.get(timeout=0.2)
            except queue.Empty:
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

    def _apply(self, messages: list[mqtt.MQTTMessage], republish: bool) -> None:
        answers: list[Answer] = []
        changed_windows: set[int] = set()
        queue_changed = republish
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
            queue_state = hall_state.queue_state(conn, self.clock) if queue_changed else None
        # committed: now it is safe to answer, show and acknowledge
        for a in answers:
            self.client.publish(a.reply_topic, a.outcome.reply.model_dump_json(), qos=1)
        hall = self.settings.hall_id
        for w in window_states:
            self.client.publish(topics.window_state_topic(hall, w.window), w.model_dump_json(),
                                qos=1, retain=True)
        if queue_state is not None:
            self.client.publish(topics.queue_state_topic(hall), queue_state.model_dump_json(),
                                qos=1, retain=True)
        for msg in messages:
            self.client.ack(msg.mid, msg.qos)
        self.applied += len(messages)
        if window_states or queue_state is not None:
            self.on_states(queue_state, window_states)

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
