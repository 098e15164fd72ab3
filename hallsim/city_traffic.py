"""One hall's day in the city simulation (hallsim/city.py): people book through the hub's
API, cancel, come and show their QR code at the kiosk or never come; walk-ins take tickets;
a window calls, finishes and the citizen reviews. Everything on the hall's accelerated
clock, through the real programs: the booking API over HTTP, the kiosk and the window's
caller over the hall's own broker."""

from __future__ import annotations

import functools
import json
import logging
import random
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from caller_display.caller_core import CallerCore
from hallsim.citizens import Citizen
from kiosk.core import KioskCore
from kiosk.settings import KioskSettings
from printing.printers import FilePrinter
from protocol.link import DeviceLink
from protocol.messages import CaseFinished, Grade, TicketCalled
from protocol.settings import DeviceSettings, MqttSettings
from protocol.topics import DeviceClass

log = logging.getLogger(__name__)

BOOKED_ITEMS = ("GA_HJQY", "GA_JZZ")  # windows 5, 6 (and 13): 4 to 6 seats a slot
WALK_IN_ITEM = "GA_CSDJ"  # window 5 alone
OPENS = time(8, 30)  # the catalogue's hours: walk-in tickets from then
WINDOW = 5
GRADES: tuple[tuple[Grade, float], ...] = (("very_satisfied", 0.6), ("satisfied", 0.25),
                                           ("basic", 0.08), ("unsatisfied", 0.05),
                                           ("very_unsatisfied", 0.02))
BAD_REASONS = ("等候时间太长", "服务态度不好", "办事效率低")


@dataclass(frozen=True)
class SimClock:
    """Every hall's clock: `start` (local) at the real moment `real_from` (naive UTC),
    running `speed` times as fast (the hubs get the same three settings)."""

    start: datetime
    speed: float
    real_from: datetime

    def now(self) -> datetime:
        """The halls' local time now."""
        return self.start + (datetime.now(UTC).replace(tzinfo=None) - self.real_from) * self.speed

    def wait_until(self, at: datetime, stop: threading.Event) -> bool:
        """Sleep until the halls' clock shows `at`; False if stopped first."""
        seconds = (at - self.now()).total_seconds() / self.speed
        return not stop.wait(max(0.0, seconds))


@dataclass(order=True)
class Action:
    at: datetime
    order: int
    what: str = field(compare=False)
    run: Callable[[], None] = field(compare=False)


@dataclass
class Tally:
    """What one hall's robots did, and what the hall answered."""

    booked: int = 0
    refused: dict[str, int] = field(default_factory=dict)
    cancelled: int = 0
    checked_in: int = 0
    walk_ins: int = 0
    served: int = 0
    reviews: int = 0
    late_actions: int = 0  # actions the machine was too busy to do on time (> 5 hall minutes)

    def refuse(self, code: str) -> None:
        self.refused[code] = self.refused.get(code, 0) + 1


def api(base: str, path: str, body: dict[str, Any] | None = None,
        timeout: float = 15) -> tuple[int, dict[str, Any]]:
    """A JSON call to a hub's API; (HTTP status, answer)."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(base.rstrip("/") + path, data=data, method=(
        "GET" if body is None else "POST"), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


class HallRobot:
    """The citizens and the staff of window 5 of one hall, on a schedule of hall times."""

    def __init__(self, hall_id: str, api_url: str, kiosk_mqtt: MqttSettings,
                 caller_mqtt: MqttSettings, data_dir: Path, clock: SimClock,
                 rng: random.Random) -> None:
        self.hall_id = hall_id
        self.api_url = api_url
        self.clock = clock
        self.rng = rng
        self.tally = Tally()
        self.day = clock.start.date()
        data_dir.mkdir(parents=True, exist_ok=True)
        kiosk = KioskSettings(hall_id=hall_id, device_id="kiosk-1", mqtt=kiosk_mqtt,
                              data_dir=data_dir)
        self.kiosk_link = DeviceLink(kiosk, DeviceClass.KIOSK)
        self.kiosk = KioskCore(kiosk, self.kiosk_link, FilePrinter(data_dir / "kiosk.escpos"))
        caller = DeviceSettings(hall_id=hall_id, device_id=f"caller-{WINDOW}", mqtt=caller_mqtt,
                                data_dir=data_dir)
        self.caller_link = DeviceLink(caller, DeviceClass.CALLER)
        self.caller = CallerCore(self.caller_link, WINDOW)
        self.actions: list[Action] = []
        self._order = 0
        self._lock = threading.Lock()  # actions are added by the main thread and the robot's
        self._thread: threading.Thread | None = None

    def connect(self) -> None:
        self.kiosk_link.start()
        self.caller_link.start()
        self.kiosk_link.wait_connected(20)
        self.caller_link.wait_connected(20)
        self.caller.open()

    def close(self) -> None:
        self.kiosk.stop()
        self.kiosk_link.stop()
        self.caller_link.stop()

    # ------------------------------------------------------------ the plan

    def at(self, when: datetime, what: str, run: Callable[[], None]) -> None:
        with self._lock:
            self._order += 1
            self.actions.append(Action(when, self._order, what, run))

    def plan_day(self, people: list[Citizen], first: datetime, last: datetime,
                 walk_ins: int, *, come: float = 0.6, cancel: float = 0.15) -> None:
        """Bookings for `people` (one each) in slots from `first` to `last`, made between
        now and an hour before the slot; each comes (`come`), cancels (`cancel`) or never
        comes; `walk_ins` walk-in tickets over the day, each served and mostly reviewed."""
        now = self.clock.now()
        slots = _slots(first, last)
        for person in people:
            start = self.rng.choice(slots)
            item = self.rng.choice(BOOKED_ITEMS)
            made = now + (start - timedelta(minutes=70) - now) * self.rng.random()
            roll = self.rng.random()
            fate = "come" if roll < come else "cancel" if roll < come + cancel else "miss"
            self.at(made, "book", functools.partial(self._book, person, item, start, fate))
        opening = max(now, datetime.combine(self.day, OPENS))
        closing = datetime.combine(self.day, last.time()) - timedelta(minutes=20)
        for _ in range(walk_ins):
            when = opening + (closing - opening) * self.rng.random()
            self.at(when, "walk-in", self._walk_in)

    def book_for(self, person: Citizen, start: datetime, item: str, fate: str,
                 when: datetime | None = None) -> None:
        """One booking of a chosen person (the simulation's repeat no-show)."""
        self.at(when or self.clock.now(), "book", lambda: self._book(person, item, start, fate))

    # ------------------------------------------------------------ doing it

    def run(self, stop: threading.Event) -> None:
        """Do the actions in hall-time order (new ones may be added as the day goes)."""
        done = 0
        while not stop.is_set():
            with self._lock:
                pending = sorted(self.actions[done:])
                self.actions[done:] = pending
                if not pending:
                    return
                action = pending[0]
            if not self.clock.wait_until(action.at, stop):
                return
            if (self.clock.now() - action.at) > timedelta(minutes=5):
                self.tally.late_actions += 1
            try:
                action.run()
            except Exception:  # a robot's trouble must not end the hall's day
                log.exception("%s: %s failed", self.hall_id, action.what)
            done += 1

    def start(self, stop: threading.Event) -> None:
        self._thread = threading.Thread(target=self.run, args=(stop,), daemon=True,
                                        name=f"robot-{self.hall_id}")
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _book(self, person: Citizen, item: str, start: datetime, fate: str) -> None:
        status, answer = self.try_booking(person, item, start)
        if status != 201:
            return
        booking = answer["appointment"]
        if fate == "come":
            check_in = start - timedelta(minutes=self.rng.uniform(0, 25))
            self.at(check_in, "check-in", lambda: self._check_in(str(booking["code"])))
        elif fate == "cancel":
            latest = start - timedelta(minutes=65)
            when = self.clock.now() + (latest - self.clock.now()) * self.rng.random()
            token = str(booking["url"]).rsplit("/", 1)[-1]
            self.at(when, "cancel", lambda: self._cancel(token))

    def try_booking(self, person: Citizen, item: str, start: datetime
                    ) -> tuple[int, dict[str, Any]]:
        """Book through the hub's API; the answer, tallied."""
        status, answer = api(self.api_url, "/api/v1/appointments", person.booking(
            item, start.date().isoformat(), f"{start:%H:%M}"))
        if status == 201:
            self.tally.booked += 1
        else:
            self.tally.refuse(str(answer.get("code", status)))
        return status, answer

    def _cancel(self, token: str) -> None:
        status, _ = api(self.api_url, f"/api/v1/appointments/{token}/cancel", {})
        if status == 200:
            self.tally.cancelled += 1

    def _check_in(self, code: str) -> None:
        if self.kiosk.check_in(code, timeout=10).issued is not None:
            self.tally.checked_in += 1
            self._serve_later()

    def _walk_in(self) -> None:
        if self.kiosk.take_ticket(WALK_IN_ITEM, timeout=10).issued is not None:
            self.tally.walk_ins += 1
            self._serve_later()

    def _serve_later(self) -> None:
        self.at(self.clock.now() + timedelta(minutes=self.rng.uniform(3, 15)), "serve",
                self._serve)

    def _serve(self) -> None:
        """Call the next, finish the case, and (most of the time) the citizen reviews."""
        if not isinstance(self.caller.call_next(), TicketCalled):
            return
        if not isinstance(self.caller.finish(), CaseFinished):
            return
        self.tally.served += 1
        if self.rng.random() > 0.85:
            return  # reviewing is voluntary
        grade = self.rng.choices([g for g, _ in GRADES], [w for _, w in GRADES])[0]
        reason = self.rng.choice(BAD_REASONS) if grade in ("unsatisfied",
                                                            "very_unsatisfied") else None
        if self.caller.review(grade, reason) is not None:
            self.tally.reviews += 1


def _slots(first: datetime, last: datetime) -> list[datetime]:
    """The half-hour slot starts from `first` (rounded up) up to `last`."""
    at = first.replace(minute=0, second=0, microsecond=0)
    while at < first:
        at += timedelta(minutes=30)
    found = []
    while at + timedelta(minutes=30) <= last:
        found.append(at)
        at += timedelta(minutes=30)
    return found
