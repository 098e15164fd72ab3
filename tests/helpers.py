"""Small helpers shared by tests: waiting for a condition, raw MQTT clients, reading the DB."""

from __future__ import annotations

import queue
import re
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any, Generic, TypeVar

import paho.mqtt.client as mqtt
import requests
from flask.testing import FlaskClient
from pydantic import SecretStr
from sqlalchemy import Connection, Engine, func, insert, select

from hallsim.broker import Broker
from hub import accounts
from hub.app import Hub
from hub.appointment_codes import KEY_NAME, AppointmentCode, new_appointment_id, sign
from hub.catalogue import load_catalogue
from hub.catalogue_sync import sync_catalogue
from hub.clock import Clock
from hub.db.engine import make_engine, migrate
from hub.db.schema import appointments, metadata, tickets
from hub.hall_keys import hall_key
from hub.web.auth import Auth
from protocol import topics
from protocol.link import new_client
from protocol.messages import AnyReply, parse_reply
from protocol.topics import DeviceClass


def eventually(check: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll until `check()` is truthy; its value, or AssertionError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


def ticket_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(tickets)) or 0)


class RawDevice:
    """A device that publishes bytes as they are, to test what the hub does with bad input."""

    def __init__(self, broker: Broker, hall_id: str, device_class: DeviceClass, device_id: str,
                 password: str | None = None) -> None:
        settings = broker.settings_for(device_class)
        if password is not None:
            settings = settings.model_copy(update={"password": SecretStr(password)})
        self.hall_id, self.device_class, self.device_id = hall_id, device_class, device_id
        self.replies: queue.Queue[AnyReply] = queue.Queue()
        self.refused: int | None = None
        self.client = new_client(settings, device_id)
        self.client.on_message = lambda c, u, m: self.replies.put(parse_reply(m.payload))
        self.client.on_connect = self._on_connect
        self._ready = queue.Queue[bool]()
        self.client.connect(settings.host, settings.port)
        self.client.loop_start()

    def _on_connect(self, client: mqtt.Client, u: Any, f: Any, reason: Any, p: Any) -> None:
        if reason.is_failure:
            self.refused = reason.value
            self._ready.put(False)
            return
        reply = topics.reply_topic(self.hall_id, self.device_class, self.device_id)
        client.on_subscribe = lambda *a: self._ready.put(True)  # before the SUBACK can come
        client.subscribe(reply, qos=1)

    def ready(self, timeout: float = 5) -> bool:
        return self._ready.get(timeout=timeout)

    def publish(self, action: str, payload: bytes | str, device_class: DeviceClass | None = None,
                device_id: str | None = None) -> None:
        topic = topics.request_topic(self.hall_id, device_class or self.device_class,
                                     device_id or self.device_id, action)
        self.client.publish(topic, payload, qos=1).wait_for_publish(timeout=5)

    def reply(self, timeout: float = 5) -> AnyReply:
        return self.replies.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def record_booking(conn: Connection, a: AppointmentCode, now: datetime,
                   status: str = "booked") -> None:
    """Put a booking on record as hub/booking.py leaves one (any slot, past or full: for
    the check-in's own rules); nothing if it is there already."""
    if conn.scalar(select(func.count()).where(appointments.c.id == a.appointment_id)):
        return
    conn.execute(insert(appointments).values(
        id=a.appointment_id, service_code=a.service, day=a.day, slot_start=a.start,
        slot_end=a.end, status=status, channel="web", out_of_hours=False, id_hash="0" * 64,
        id_masked="110105********002X", name_masked="张*女士", phone="13800000000",
        created_at=now, changed_at=now))


def booked_code(hub: Hub, service: str, day: date, start: clock_time, end: clock_time,
                appointment_id: str | None = None, hall_id: str | None = None,
                status: str = "booked") -> str:
    """The QR text of a booking on record (`record_booking`), signed with the hub's key."""
    a = AppointmentCode(hall_id or hub.settings.hall_id, appointment_id or new_appointment_id(),
                        service, day, start, end)
    with hub.engine.begin() as conn:
        key = hall_key(conn, KEY_NAME, hub.clock.now())
        record_booking(conn, a, hub.clock.now(), status)
    return sign(key, a)


T = TypeVar("T")


class Seen(Generic[T]):
    """Everything a callback was given, and a way to wait for one."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self._cond = threading.Condition()

    def __call__(self, item: T) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait(self, check: Callable[[T], bool], after: int = 0, timeout: float = 5.0,
             count: int = 1) -> T:
        """The `count`-th item past the first `after` that passes `check`, waiting for it."""
        def found() -> list[T]:
            return [i for i in self.items[after:] if check(i)]
        with self._cond:
            ok = self._cond.wait_for(lambda: len(found()) >= count, timeout)
        assert ok, f"no #{count} passed the check after #{after}; got {self.items[after:]}"
        return found()[count - 1]


PASSWORD = "Hall-pass-2026"  # every test account's; not among the common ones
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_account(engine: Engine, username: str = "manager", role: str = "manager",
                 department: str | None = None) -> None:
    """A dashboard account, straight into the hub's database (as `./hallq admin accounts
    add` would, through the same function)."""
    with engine.begin() as conn:
        accounts.add(conn, username, f"测试{username}", role, department, PASSWORD, "test",
                     datetime(2026, 11, 24, 1, 0))


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def post_sign_in(s: requests.Session, base: str, username: str, password: str,
                 next_url: str = "/") -> requests.Response:
    """The sign-in form filled and sent, as a browser does (its CSRF token included)."""
    form = s.get(f"{base}/signin", timeout=10).text
    return s.post(f"{base}/signin", timeout=10, allow_redirects=False,
                  data={"username": username, "password": password, "next": next_url,
                        "csrf_token": csrf_token(form)})


def signed_in(base_url: str, username: str = "manager") -> requests.Session:
    """A browser-like session signed in to the dashboard at `base_url`."""
    s = requests.Session()
    form = s.get(f"{base_url.rstrip('/')}/signin", timeout=10).text
    answer = s.post(f"{base_url.rstrip('/')}/signin", timeout=10, allow_redirects=False,
                    data={"username": username, "password": PASSWORD, "next": "/",
                          "csrf_token": csrf_token(form)})
    assert answer.status_code == 302, answer.text
    return s


def signed_in_client(hub: Hub, username: str = "manager", role: str = "manager",
                     department: str | None = None) -> FlaskClient:
    """The hub's Flask test client, signed in as a new account of `role`."""
    make_account(hub.engine, username, role, department)
    client = hub.web.test_client()
    form = client.get("/signin").get_data(as_text=True)
    answer = client.post("/signin", data={"username": username, "password": PASSWORD,
                                          "next": "/", "csrf_token": csrf_token(form)})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def standalone_auth(db_url: str) -> Auth:
    """The dashboard's sign-in on a database of its own (the `db_url` fixture's), with a
    "manager" account: for tests of the dashboard app without a whole hub."""
    engine = make_engine(db_url)
    migrate(engine)
    with engine.begin() as conn:
        sync_catalogue(conn, load_catalogue(), datetime(2026, 11, 24, 1, 0))
    make_account(engine)

    def run(job: Callable[[Connection], Any]) -> Any:
        with engine.begin() as conn:
            return job(conn)
    return Auth(engine, run, Clock("Asia/Shanghai"), b"k" * 32)


def database_bytes(hub: Hub, folder: Path) -> bytes:
    """Everything the hub's database holds: the SQLite file with its WAL in `folder`, or
    on PostgreSQL every row of every table as text."""
    if hub.engine.dialect.name == "sqlite":
        return b"".join(f.read_bytes() for f in sorted(folder.glob("hub.db*")))
    with hub.engine.connect() as conn:
        rows = [conn.exec_driver_sql(f'SELECT t::text FROM "{table}" t').scalars().all()
                for table in metadata.tables]
    return "\n".join(str(r) for table_rows in rows for r in table_rows).encode()
