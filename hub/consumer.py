"""The hub's MQTT side: take requests, commit them, then answer, publish state, acknowledge.

A request is acknowledged to the broker (paho `manual_ack`) only after the
transaction that applied it has committed, so a hub killed at any point gets
the unacknowledged requests again on restart and the dispatcher answers
replays from the record. Requests that arrive together are applied in one
transaction (a savepoint each): one fsync for many tickets.

When the database's disk is full the hub goes on: it says so in its retained HubStatus
(problem "storage_full", which every screen shows), answers what needs no writing,
refuses the rest with STORAGE_FULL, and leaves the requests devices keep for later in
their outboxes (hub/storage.py); once there is room again it says so and carries on.

One thread owns both the MQTT connection and the database work: it reads every
request the socket holds, applies them, then writes the answers. No hand-over
between threads, so no lock or GIL ping-pong on the path of a call.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import date, datetime
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from hub import clock_jumps, hall_state
from hub.clock import Clock
from hub.context import HallContext, Outcome
from hub.day_close import close_past_days
from hub.dispatch import Answer, dispatch, error_reply, request_id_of
from hub.issuing import IssuingRules
from hub.no_shows import mark_no_shows
from hub.queue_summary import QueueSummary
from hub.review_defaults import give_default_reviews
from hub.settings import HubSettings
from hub.storage import PROBE_S, Refusals, has_room, is_storage_full
from hub.work_calendar import WorkCalendar
from protocol import topics
from protocol.errors import STORAGE_FULL_STAFF, ErrorCode, UserError
from protocol.link import new_client
from protocol.messages import CatalogueState, DeviceStatus, HubStatus, QueueState, WindowState
from protocol.topics import DeviceClass

log = logging.getLogger(__name__)

StatesHandler = Callable[[QueueState | None, list[WindowState]], None]
# (class, id, status, retained): retained is True for a status the broker kept from before
DeviceHandler = Callable[[DeviceClass, str, DeviceStatus, bool], None]
T = TypeVar("T")
Job = Callable[[Connection], Any]


class RequestConsumer:
    """Applies the hall's requests from the broker to the database, one batch at a time."""

    def __init__(self, settings: HubSettings, engine: Engine, clock: Clock,
                 on_states: StatesHandler, calendar: WorkCalendar | None = None,
                 issuing: IssuingRules | None = None, catalogue: CatalogueState | None = None,
                 on_device: DeviceHandler | None = None) -> None:
        self.settings = settings
        self.engine = engine
        self.clock = clock
        self.ctx = HallContext(clock, settings.rules, calendar or WorkCalendar(),
                               issuing=issuing, reviews=settings.reviews,
                               appointments=settings.appointments)
        self.on_states = on_states
        self.summary = QueueSummary(engine, clock, lambda: self.ctx.issuing,
                                    self._send_queue_state)
        self.catalogue = catalogue
        self.on_device = on_device
        self.applied = 0  # requests committed since start (for the status line)
        self.storage_full_since: datetime | None = None  # the disk is full (hub/storage.py)
        self.refusals = Refusals()  # requests refused while it was
        self._next_probe = 0.0  # monotonic time to look for room again
        self._next_jump_check = 0.0  # monotonic time to look whether a clock jump can be taken
        self._batch: list[mqtt.MQTTMessage] = []
        self._republish = False
        self._day: date | None = None  # the service day the hub has closed the past for
        self._next_sweep = 0.0  # monotonic time of the next no-show sweep
        self._retained: dict[str, str] = {}  # topic -> payload, sent again at every connect
        self._every_loop: list[Callable[[], None]] = []
        self._jobs: queue.SimpleQueue[tuple[Job, Callable[[Any], None] | None, Future[Any]]] = \
            queue.SimpleQueue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self.broker_problem: str | None = "does not answer yet"  # None: connected
        self._thread = threading.Thread(target=self._run, name="hub-mqtt", daemon=True)
        hall = settings.hall_id
        self.client = new_client(settings.mqtt, f"hub-{hall}", manual_ack=True,
                                 clean_session=False)
        self.client.will_set(topics.hub_status_topic(hall),
                             HubStatus(status="offline").model_dump_json(), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def start(self) -> None:
        """Connect with a persistent session: requests sent while we were down wait for us."""
        self._thread.start()
        self.summary.start()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        """Say we are offline and leave; unacknowledged requests stay with the broker."""
        self.summary.stop()
        self._stop.set()
        self._thread.join(timeout=10)

    def run(self, job: Callable[[Connection], T], after: Callable[[T], None] | None = None,
            timeout: float = 10.0) -> T:
        """Run `job` in its own transaction on the hub's thread, between two batches of
        requests; `after(result)` runs there once it has committed. Every screen then gets
        the state again. Raises what `job` raised, or TimeoutError (the job then never runs)
        when the hub is not serving (no broker)."""
        done: Future[T] = Future()
        self._jobs.put((job, after, done))
        try:
            return done.result(timeout)
        except FutureTimeout:
            if done.cancel():
                raise TimeoutError("the hub is not serving requests now") from None
            return done.result()  # it started meanwhile: it finishes soon

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        m = self.settings.mqtt
        delay, first = 1.0, True
        while not self._stop.is_set():
            try:
                if first:
                    self.client.connect(m.host, m.port, keepalive=m.keepalive)
                    first = False
                else:
                    self.client.reconnect()
            except OSError as exc:
                log.warning("hub cannot reach the broker at %s:%s: %s", m.host, m.port, exc)
                self.broker_problem = f"does not answer ({exc})"
                self._stop.wait(delay)
                delay = min(delay * 2, 8.0)
                continue
            try:
                self._serve()
            except Exception:  # a bug must not leave the hall without a hub: log, start again
                log.exception("hub loop failed; reconnecting")
                self._stop.wait(1.0)
            if self._stop.is_set():
                break
            if self._connected.is_set():
                delay = 1.0
                self._connected.clear()
                log.warning("hub lost the broker; reconnecting")
            else:  # refused (a wrong password): ask again later, not hundreds of times a second
                self._stop.wait(delay)
                delay = min(delay * 2, 8.0)
        self._leave()
        self._connected.clear()

    def _serve(self) -> None:
        """Read what the socket holds, apply it, answer; until the connection drops or we stop."""
        while not self._stop.is_set():
            if self.client.loop(timeout=0.1) != mqtt.MQTT_ERR_SUCCESS:
                return
            if self.storage_full_since is None:
                self._close_past_days()
                self._sweep_no_shows()
            else:
                self._look_for_room()
            self._take_clock_jump()
            self._tick()
            self._run_jobs()
            republish = self._republish
            if self._batch or republish:
                messages, self._batch, self._republish = self._batch, [], False
                self._apply_until_done(messages, republish)
            if republish:
                self.summary.changed()

    def _tick(self) -> None:
        for tick in self._every_loop:
            try:
                tick()
            except Exception:  # a bug there must not stop the hall's requests
                log.exception("scheduled work %s failed", tick)

    def _run_jobs(self) -> None:
        while True:
            try:
                job, after, done = self._jobs.get_nowait()
            except queue.Empty:
                return
            if not done.set_running_or_notify_cancel():
                continue
            try:
                with self.engine.begin() as conn:
                    result = job(conn)
                if after is not None:
                    after(result)
            except OperationalError as exc:
                if is_storage_full(exc):  # the page says why, in Chinese
                    self._storage_full(exc)
                    done.set_exception(UserError(ErrorCode.STORAGE_FULL, "disk full",
                                                 zh=STORAGE_FULL_STAFF))
                else:
                    done.set_exception(exc)
                continue
            except Exception as exc:  # the caller gets it; the hall goes on
                done.set_exception(exc)
                continue
            done.set_result(result)
            self._republish = True

    def _sweep_no_shows(self) -> None:
        """Every `no_show_sweep_s` (30 s): bookings whose check-in has closed become no-shows,
        and (where the province has them) unreviewed cases past their time get the default."""
        if time.monotonic() < self._next_sweep:
            return
        self._next_sweep = time.monotonic() + self.settings.no_show_sweep_s
        try:
            with self.engine.begin() as conn:
                marked = mark_no_shows(conn, self.ctx, self.clock.now())
                give_default_reviews(conn, self.ctx, self.clock.now())
        except OperationalError:
            log.exception("could not mark no-shows; will try again")
            return
        if marked:
            log.info("%d appointments marked as no-shows", marked)

    def _take_clock_jump(self) -> None:
        """A jump of the system clock the hub holds (hub/clock.py) is taken as soon as
        nobody waits: every screen then gets its state with the new time."""
        if not self.clock.held or time.monotonic() < self._next_jump_check:
            return
        self._next_jump_check = time.monotonic() + clock_jumps.CHECK_S
        try:
            with self.engine.connect() as conn:
                take = clock_jumps.may_take(conn, self.clock)
        except OperationalError:
            log.exception("could not look at the queue for the clock; will try again")
            return
        if take:
            self.clock.take_jump()
            self._republish = True

    def _close_past_days(self) -> None:
        """Once per new service day (and at start): close what earlier days left waiting."""
        today = self.clock.service_day()
        if today == self._day:
            return
        try:
            with self.engine.begin() as conn:
                closed = close_past_days(conn, today, self.clock.now())
        except OperationalError:
            log.exception("could not close the past days; will try again")
            return
        self._day = today
        if closed:
            log.info("service day %s: closed %d tickets left waiting", today, closed)
            self.summary.changed()

    def _apply_until_done(self, messages: list[mqtt.MQTTMessage], republish: bool) -> None:
        for start in range(0, max(len(messages), 1), self.settings.batch_max):
            chunk = messages[start:start + self.settings.batch_max]
            while not self._stop.is_set():
                try:
                    self._apply(chunk, republish)
                    if chunk and self.storage_full_since is not None \
                            and has_room(self.engine) is None:
                        self._storage_back()  # a database elsewhere: this commit tells
                    break
                except OperationalError as exc:
                    if is_storage_full(exc):
                        self._storage_full(exc)
                        self._republish |= republish  # the screens get it once there is room
                        self._apply_singly(chunk)
                        break
                    log.exception("database refused a batch of %d; retrying", len(chunk))
                    self.client.loop(timeout=1.0)  # locked: keep the connection, try again
            republish = False

    def _apply_singly(self, messages: list[mqtt.MQTTMessage]) -> None:
        """The disk is full: each request in a transaction of its own, so a replay (its
        answer is on record) or a request refused for being unreadable is answered as
        usual; one that would write is refused, or left to its device's outbox."""
        for msg in messages:
            try:
                self._apply([msg], False)
            except OperationalError as exc:
                if is_storage_full(exc):
                    self._refuse_for_storage(msg)
                    continue
                log.warning("request on %s not applied (%s): its device sends it again",
                            msg.topic, exc.orig)
                self.client.ack(msg.mid, msg.qos)

    def _refuse_for_storage(self, msg: mqtt.MQTTMessage) -> None:
        """STORAGE_FULL to the person waiting, or no answer to a request its device keeps
        for later. Acknowledged either way: unacknowledged requests would stop the
        broker's flow to the hub."""
        answer = self.refusals.refuse(msg.topic, bytes(msg.payload))
        if answer is not None:
            self.client.publish(answer.reply_topic, answer.payload, qos=1)
        self.client.ack(msg.mid, msg.qos)

    def _storage_full(self, exc: OperationalError) -> None:
        """The disk is full: every screen is told (once), the managers' dashboard too."""
        self._next_probe = time.monotonic() + PROBE_S
        if self.storage_full_since is not None:
            return
        self.storage_full_since = self.clock.now()
        log.error("the database's disk is full (%s): refusing new work until there is room",
                  exc.orig)
        self._publish_status()

    def _look_for_room(self) -> None:
        """While the disk is full, every PROBE_S: room again (the file system has ROOM_BYTES
        free) ends it; the next commit ends it for a database elsewhere."""
        if time.monotonic() < self._next_probe:
            return
        self._next_probe = time.monotonic() + PROBE_S
        if has_room(self.engine):
            self._storage_back()

    def _storage_back(self) -> None:
        log.warning("the database's disk has room again (full since %s): serving",
                    self.storage_full_since)
        self.storage_full_since = None
        self._republish = True  # every screen gets the truth again
        self._publish_status()

    def _hub_status(self) -> HubStatus:
        return HubStatus(status="online",
                         problem="storage_full" if self.storage_full_since else None)

    def _publish_status(self) -> None:
        self.client.publish(topics.hub_status_topic(self.settings.hall_id),
                            self._hub_status().model_dump_json(), qos=1, retain=True)

    def _leave(self) -> None:
        if self._connected.is_set():
            info = self.client.publish(topics.hub_status_topic(self.settings.hall_id),
                                       HubStatus(status="offline").model_dump_json(), qos=1,
                                       retain=True)
            deadline = time.monotonic() + 2
            while not info.is_published() and time.monotonic() < deadline:
                self.client.loop(timeout=0.05)
        self.client.disconnect()
        self.client.loop(timeout=0.05)

    def publish_catalogue(self, catalogue: CatalogueState) -> None:
        """A new catalogue state (public information changed): kept for reconnects and sent
        to every kiosk and screen, retained. Call it on the hub's thread (`run`'s `after`)."""
        self.catalogue = catalogue
        self.client.publish(topics.catalogue_state_topic(self.settings.hall_id),
                            catalogue.model_dump_json(), qos=1, retain=True)

    def keep_retained(self, topic: str, payload: str) -> None:
        """A retained state of the hub's own (the main screens' voice): sent now if connected,
        and again at every connect. Call it before `start` or on the hub's thread."""
        self._retained[topic] = payload
        if self._connected.is_set():
            self.client.publish(topic, payload, qos=1, retain=True)

    def publish_event(self, topic: str, payload: str) -> None:
        """An event (a broadcast), QoS 1, not retained; on the hub's thread."""
        self.client.publish(topic, payload, qos=1)
        self.client.loop_write()

    def every_loop(self, tick: Callable[[], None]) -> None:
        """Run `tick()` on the hub's thread between two batches, about ten times a second,
        while the broker is connected (scheduled work on the hub's clock); before `start`."""
        self._every_loop.append(tick)

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if reason.is_failure:
            log.error("broker refused the hub: %s", reason)
            self.broker_problem = f"refused the hub: {reason}"
            return
        self.broker_problem = None
        hall = self.settings.hall_id
        client.subscribe(topics.requests_filter(hall), qos=1)
        client.subscribe(topics.device_status_filter(hall), qos=1)
        client.publish(topics.hub_status_topic(hall), self._hub_status().model_dump_json(),
                       qos=1, retain=True)
        if self.catalogue is not None:
            client.publish(topics.catalogue_state_topic(hall), self.catalogue.model_dump_json(),
                           qos=1, retain=True)
        for topic, payload in self._retained.items():
            client.publish(topic, payload, qos=1, retain=True)
        self._republish = True  # every screen gets the truth again
        self._connected.set()
        log.info("hub connected to %s:%s", self.settings.mqtt.host, self.settings.mqtt.port)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        """Requests wait for the next batch; a device's status goes to the dashboard now."""
        device = topics.parse_device_status_topic(msg.topic)
        if device is None:
            self._batch.append(msg)
            return
        client.ack(msg.mid, msg.qos)
        if not msg.payload or self.on_device is None:
            return
        try:
            status = DeviceStatus.model_validate_json(msg.payload)
        except ValueError:
            log.warning("unreadable status from %s/%s", *device)
            return
        self.on_device(device[0], device[1], status, bool(msg.retain))

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
        self.client.loop_write()  # out now, not after the rest of a burst is applied
        self.applied += len(messages)
        if queue_changed:
            self.summary.changed()
        if window_states:
            self.on_states(None, window_states)

    def _send_queue_state(self, state: QueueState) -> None:
        """Publish a summary (from the summary's thread: paho's publish is thread-safe)."""
        self.client.publish(topics.queue_state_topic(self.settings.hall_id),
                            state.model_dump_json(), qos=1, retain=True)
        self.on_states(state, [])

    def _dispatch_one(self, conn: Any, msg: mqtt.MQTTMessage) -> Answer | None:
        refused = self.refusals.again(bytes(msg.payload))
        if refused is not None:  # a copy of a request refused for want of room: refused
            return refused
        try:  # dispatch applies a request and its record in one savepoint, or neither
            return dispatch(conn, self.ctx, self.settings.hall_id, msg.topic,
                            bytes(msg.payload))
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
