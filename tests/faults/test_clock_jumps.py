"""Clock jumps, with libfaketime (tests/faults/faketime.py): the hub in its own process with
its wall clock set back and forward by an hour during service and across midnight; the
devices in a process whose clock is days or a year away from the hub's.

What must hold: numbers start again once per service day, never twice and never back on a
day that has ended; the queue's order and every wait stay right through a jump; no device's
clock decides anything (a no-show, the blacklist, a review's deadline, a check-in's slot),
since no request carries a device's time. Figures are printed (pytest -s).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import time
import typing
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import pytest
import requests

from caller_display.caller_core import CallerCore
from hallsim.broker import Broker
from hallsim.hub_process import HubProcess
from hub.app import Hub
from hub.catalogue import DEFAULT_CATALOGUE
from hub.db.engine import make_engine
from kiosk.core import KioskCore
from kiosk.settings import KioskSettings
from printing.printers import FilePrinter
from protocol.messages import REQUEST_BY_ACTION, CaseFinished, TicketCalled, TicketIssued
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.faults import faketime
from tests.faults.faketime import SETTLE_S, FakeClock
from tests.helpers import PASSWORD, booked_code, csrf_token, eventually, make_account

pytestmark = pytest.mark.skipif(not faketime.available(),
                                reason="libfaketime missing: apt-get install faketime")

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "GA_HJQY"  # A, at windows 5 and 6
HELD = "服务器系统时间"  # the dashboard's warning while the hub holds a jump
TUESDAY, WEDNESDAY = date(2026, 11, 24), date(2026, 11, 25)


class Hall:
    """The hub under a fake clock, a kiosk and window 5 (in this process, real time)."""

    def __init__(self, broker: Broker, hall_id: str, tmp_path: Path, make_link: LinkFactory,
                 clock: FakeClock, catalogue: Path | None = None) -> None:
        self.clock = clock
        self.db = tmp_path / "hub.db"
        self.hub = HubProcess(broker, hall_id, self.db, tmp_path / "hub.log",
                              catalogue=catalogue, start_at=None)  # the hub's own Clock
        self.hub.env.update(clock.env())
        self.hub.start()
        try:
            self._open(hall_id, tmp_path, make_link)
        except BaseException:
            self.hub.stop()  # a hub left running would slow every test after this one
            raise
        self.signed_in_again = 0

    def _open(self, hall_id: str, tmp_path: Path, make_link: LinkFactory) -> None:
        """The kiosk and window 5 up, the window signed in and open, a manager signed in."""
        link = make_link(DeviceClass.KIOSK, "kiosk-1", start=False)
        self.kiosk = KioskCore(KioskSettings(hall_id=hall_id, device_id="kiosk-1",
                                             data_dir=tmp_path / "devices"),
                               link, FilePrinter(tmp_path / "kiosk.escpos"))
        link.start()
        window_link = make_link(DeviceClass.CALLER, "caller-5", start=False)
        self.window = CallerCore(window_link, 5)
        window_link.start()
        assert link.wait_connected(10) and window_link.wait_connected(10)
        assert self.window.sign_in("S051", "123456") is not None
        self.window.open()
        engine = make_engine(f"sqlite:///{self.db}")
        make_account(engine)
        engine.dispose()
        self.dashboard = self.sign_in()

    def take(self) -> TicketIssued:
        got = self.kiosk.take_ticket(SERVICE)
        assert got.issued is not None, got.error
        return got.issued

    def serve_next(self) -> str:
        """Window 5 calls the next ticket and finishes its case; the number called."""
        called = self.window.call_next()
        assert isinstance(called, TicketCalled), called
        assert isinstance(self.window.finish(), CaseFinished)
        return called.ticket.number

    def sign_in(self) -> requests.Session:
        """A manager's browser. Its session cookie expires by the hub's faked clock, which
        may be behind this machine's: kept without an expiry here."""
        browser = requests.Session()
        base = self.hub.dashboard_url.rstrip("/")
        form = browser.get(f"{base}/signin", timeout=10).text
        answer = browser.post(f"{base}/signin", timeout=10, allow_redirects=False, data={
            "username": "manager", "password": PASSWORD, "next": "/",
            "csrf_token": csrf_token(form)})
        assert answer.status_code == 302, answer.text
        cookie = answer.headers["Set-Cookie"].split(";", 1)[0]
        name, value = cookie.split("=", 1)
        browser.cookies.set(name, value)
        return browser

    def warning(self) -> bool:
        """Whether the dashboard warns of a jump held. Flask signs its session cookie with
        the system's time and refuses one signed "in the future": after a step back the
        manager signs in again (counted in `signed_in_again`)."""
        page = self.dashboard.get(self.hub.dashboard_url, timeout=10)
        if "/signin" in page.url:
            self.signed_in_again += 1
            self.dashboard = self.sign_in()
            page = self.dashboard.get(self.hub.dashboard_url, timeout=10)
        assert "/signin" not in page.url, "signed in"
        return HELD in page.text

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as conn:
            return conn.execute(sql).fetchall()

    def close(self) -> None:
        self.kiosk.stop()
        self.hub.stop()


def local(issued: TicketIssued) -> datetime:
    return issued.ticket.issued_at.replace(tzinfo=None)


def near(a: datetime, b: datetime, seconds: float = 30) -> bool:
    return abs((a - b).total_seconds()) < seconds


@pytest.fixture
def hall_at(broker: Broker, hall_id: str, tmp_path: Path,
            make_link: LinkFactory) -> Iterator[typing.Callable[..., Hall]]:
    halls: list[Hall] = []

    def start(at: datetime, catalogue: Path | None = None) -> Hall:
        clock = FakeClock(tmp_path / "faketime.rc", at)
        halls.append(Hall(broker, hall_id, tmp_path, make_link, clock, catalogue))
        return halls[-1]

    yield start
    for h in halls:
        h.close()


@pytest.mark.timeout(120)
def test_an_hour_back_then_an_hour_forward_during_service(
        hall_at: typing.Callable[..., Hall]) -> None:
    hall = hall_at(datetime(2026, 11, 24, 10, 0))
    a1, a2 = hall.take(), hall.take()
    assert near(local(a1), hall.clock.now())
    assert not hall.warning()

    hall.clock.jump(timedelta(hours=-1))  # 10:00 → 09:00 with two citizens waiting
    time.sleep(SETTLE_S)
    a3 = hall.take()
    assert local(a3) >= local(a2), "a newcomer is never issued before those already waiting"
    assert near(local(a3), hall.clock.now() + timedelta(hours=1)), "the hub kept its time"
    assert hall.warning(), "the dashboard says the hub holds a jump of the system clock"
    assert [hall.serve_next() for _ in range(3)] == ["A001", "A002", "A003"], "in issue order"

    eventually(lambda: not hall.warning(), timeout=20, what="the hub to take the new time")
    a4 = hall.take()  # the hall was empty: the new time is the hub's now
    assert near(local(a4), hall.clock.now())

    hall.clock.jump(timedelta(hours=1))  # and forward again, with a4 waiting
    time.sleep(SETTLE_S)
    a5 = hall.take()
    assert near(local(a5), local(a4), 20), "held again while a4 waits"
    assert [hall.serve_next() for _ in range(2)] == ["A004", "A005"]

    tickets = hall.rows("SELECT number, service_day, wait_seconds, service_seconds "
                        "FROM tickets ORDER BY id")
    assert [t[0] for t in tickets] == ["A001", "A002", "A003", "A004", "A005"]
    assert {t[1] for t in tickets} == {TUESDAY.isoformat()}
    waits = [t[2] for t in tickets] + [t[3] for t in tickets]
    assert all(0 <= w < 60 for w in waits), f"waits and service times as they were: {waits}"
    eventually(lambda: not hall.warning(), timeout=20, what="the new time taken again")
    print(f"\n[clock jumps] waits {[t[2] for t in tickets]} s, service "
          f"{[t[3] for t in tickets]} s, across -1 h and +1 h; dashboard sign-ins again: "
          f"{hall.signed_in_again}")


def all_day_catalogue(tmp_path: Path) -> Path:
    """The shipped catalogue with tickets issued at any hour but 23:59 (spans end at 23:59)."""
    text = DEFAULT_CATALOGUE.read_text(encoding="utf-8")
    line = 'hall_name = "示范县政务服务中心"\n'
    assert line in text
    path = tmp_path / "all-day.toml"
    path.write_text(text.replace(line, line + 'hours = { workday = ["00:00-23:59"] }\n', 1),
                    encoding="utf-8")
    return path


@pytest.mark.timeout(180)
def test_midnight_during_service_and_an_hour_back_across_it(
        hall_at: typing.Callable[..., Hall], tmp_path: Path) -> None:
    hall = hall_at(datetime(2026, 11, 24, 23, 58, 42), all_day_catalogue(tmp_path))
    late = [hall.take(), hall.take()]  # Tuesday's last: one at the window, one waiting
    assert [(t.ticket.number, t.ticket.service_day) for t in late] == [
        ("A001", TUESDAY), ("A002", TUESDAY)]
    called = hall.window.call_next()
    assert isinstance(called, TicketCalled) and called.ticket.number == "A001"

    eventually(lambda: hall.clock.now() > datetime(2026, 11, 25, 0, 0, 2), timeout=90,
               what="midnight")
    first = eventually(lambda: hall.kiosk.take_ticket(SERVICE).issued, timeout=10,
                       what="Wednesday's first ticket")
    assert (first.ticket.number, first.ticket.service_day) == ("A001", WEDNESDAY)
    assert hall.rows("SELECT number, status, closed_reason FROM tickets "
                     f"WHERE service_day = '{TUESDAY}' ORDER BY id") == [
        ("A001", "called", None), ("A002", "closed", "end_of_day")], \
        "the one at the window stays there, the one waiting is closed with its reason"
    assert isinstance(hall.window.finish(), CaseFinished)

    hall.clock.jump(timedelta(hours=-1))  # back to Tuesday 23:00, with Wednesday's A001 waiting
    time.sleep(SETTLE_S)
    second = hall.take()
    assert (second.ticket.number, second.ticket.service_day) == ("A002", WEDNESDAY), \
        "the service day never goes back: no second start, no Tuesday numbers again"
    assert hall.warning()
    assert hall.serve_next() == "A001", "Wednesday's queue stays in sight"
    hall.clock.jump(timedelta(hours=1))
    time.sleep(SETTLE_S)
    third = hall.take()
    assert (third.ticket.number, third.ticket.service_day) == ("A003", WEDNESDAY)
    assert hall.serve_next() == "A002"

    days = hall.rows("SELECT service_day, number FROM tickets ORDER BY id")
    assert days == [(str(TUESDAY), "A001"), (str(TUESDAY), "A002"), (str(WEDNESDAY), "A001"),
                    (str(WEDNESDAY), "A002"), (str(WEDNESDAY), "A003")]
    waits = hall.rows("SELECT number, wait_seconds FROM tickets WHERE wait_seconds IS NOT NULL")
    assert all(0 <= w < 120 for _, w in waits), waits
    print(f"\n[midnight] numbers {days}; waits {waits}")


def test_no_request_carries_a_devices_time() -> None:
    """What a device sends has no time of its own in it, so its clock cannot decide."""
    timed = (datetime, date, clock_time, timedelta)
    for action, cls in REQUEST_BY_ACTION.items():
        for name, field in cls.model_fields.items():
            kinds = typing.get_args(field.annotation) or (field.annotation,)
            assert not any(isinstance(k, type) and issubclass(k, timed) for k in kinds), \
                f"{action}.{name} carries a time"


def run_device(hub: Hub, broker: Broker, tmp_path: Path, name: str, clock: FakeClock,
               code: str) -> dict[str, dict[str, Any]]:
    """tests/faults/clock_device.py under `clock`; each step's JSON line."""
    data = tmp_path / name
    data.mkdir()
    env = {**os.environ, **clock.env(), "HALLQ_TEST_PORT": str(broker.port),
           "HALLQ_TEST_HALL": hub.settings.hall_id, "HALLQ_TEST_DATA": str(data),
           "HALLQ_TEST_KIOSK": f"kiosk-{name}", "HALLQ_TEST_CALLER": "caller-5",
           "HALLQ_TEST_KIOSK_PASSWORD": broker.passwords[DeviceClass.KIOSK],
           "HALLQ_TEST_CALLER_PASSWORD": broker.passwords[DeviceClass.CALLER]}
    done = subprocess.run([sys.executable, "-m", "tests.faults.clock_device", code], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-3000:]
    return {s["step"]: s for s in map(json.loads, done.stdout.splitlines())}


@pytest.mark.timeout(120)
def test_a_devices_clock_decides_nothing(hub: Hub, broker: Broker, tmp_path: Path) -> None:
    """Kiosk and window with clocks ten days ahead, then a year behind: tickets are the
    hub's day's, an appointment of the hub's today is checked in within its slot, the
    review is on time (its deadline is the hub's), the device's own clock notwithstanding."""
    today = hub.clock.service_day()
    for name, device_time in (("ahead", datetime(2026, 12, 4, 16, 0)),
                              ("behind", datetime(2025, 11, 24, 7, 0))):
        code = booked_code(hub, SERVICE, today, clock_time(9, 0), clock_time(10, 0))
        steps = run_device(hub, broker, tmp_path, name,
                           FakeClock(tmp_path / f"{name}.rc", device_time), code)
        device_now = datetime.fromisoformat(steps["take_ticket"]["device_now"])
        assert abs(device_now - device_time) < timedelta(minutes=1), "the device's clock"
        for step in ("take_ticket", "check_in"):
            reply = steps[step]["reply"]
            assert reply["ok"] and reply["ticket"]["service_day"] == today.isoformat(), reply
        assert steps["finish"]["reply"]["ok"], steps["finish"]
        review = steps["review"]["reply"]
        assert review is not None and review["ok"], review  # not REVIEW_TOO_LATE
    with sqlite3.connect(hub.settings.db_url.removeprefix("sqlite:///")) as conn:
        statuses = conn.execute("SELECT status FROM appointments ORDER BY created_at").fetchall()
        times = conn.execute("SELECT created_at FROM reviews").fetchall()
    assert statuses == [("checked_in",), ("checked_in",)], "neither a no-show"
    hub_now = hub.clock.now()
    assert all(abs(datetime.fromisoformat(t) - hub_now) < timedelta(minutes=5)
               for (t,) in times), "reviews stamped with the hub's time"


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_a_hundred_jumps_back_and_forth_during_a_busy_day(
        hall_at: typing.Callable[..., Hall]) -> None:
    """A hundred jumps of a minute to an hour each way (never more than 90 minutes from
    noon in all) while tickets are taken and served, the hall emptying now and then so the
    hub takes what it holds: every ticket called in the order taken, every wait and
    service time within the real time that passed, one run of numbers on one day."""
    hall = hall_at(datetime(2026, 11, 24, 12, 0))
    rng = random.Random(11)
    started = time.monotonic()
    served: list[str] = []
    net, taken_while_idle = 0, 0

    def serve(most: int) -> None:
        for _ in range(most):
            called = hall.window.call_next()
            if not isinstance(called, TicketCalled):
                return
            served.append(called.ticket.number)
            assert isinstance(hall.window.finish(), CaseFinished)

    for step in range(100):
        for _ in range(rng.randint(1, 3)):
            hall.take()
        serve(rng.randint(0, 3))
        minutes = rng.choice([1, 5, 10, 20, 30, 45, 60])
        up, down = net + minutes <= 90, net - minutes >= -90
        minutes = minutes if up and (not down or rng.random() < 0.5) else -minutes
        net += minutes
        hall.clock.jump(timedelta(minutes=minutes))
        time.sleep(SETTLE_S)
        if step % 20 == 19:  # the hall empties for a while: the hub takes the time
            serve(1000)
            eventually(lambda: not hall.warning(), timeout=15, what="the time taken")
            taken_while_idle += 1
    serve(1000)
    elapsed = time.monotonic() - started
    tickets = hall.rows("SELECT number, service_day, wait_seconds, service_seconds "
                        "FROM tickets ORDER BY id")
    assert served == [t[0] for t in tickets], "called in the order taken"
    assert [t[0] for t in tickets] == [f"A{i:03d}" for i in range(1, len(tickets) + 1)]
    assert {t[1] for t in tickets} == {TUESDAY.isoformat()}
    assert all(0 <= t[2] <= elapsed + 1 and 0 <= t[3] <= elapsed + 1 for t in tickets), tickets
    print(f"\n[clock jumps, slow] 100 jumps (net {net:+d} min), {len(tickets)} tickets in "
          f"{elapsed:.0f} s; the hub took the system's time {taken_while_idle} times when "
          f"the hall was empty; longest wait {max(t[2] for t in tickets)} s")
