"""The hub's clock: the only place that decides what time and which service day it is.

Times are stored as naive UTC; they are shown in the hall's time zone. A device's
clock never decides anything.

The system clock can jump: set by hand, stepped by NTP, a Raspberry Pi without a
real-time clock booting on yesterday's time. A jump in the middle of service would
put a newcomer ahead of those waiting (the queue is in issue-time order), make waits
negative or an hour too long, and, back across midnight, bring a closed service day
back. So the hub's time runs on steadily (the monotonic clock) from the system's;
a step of more than JUMP is held, not followed (`held` says by how much), until the
hub takes it (`take_jump`) when nobody waits (hub/clock_jumps.py). Small steps and
slewing are followed at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

JUMP = timedelta(seconds=2)  # a step of the system clock larger than this is a jump


def system_now() -> datetime:
    """The system clock, naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


class Clock:
    """Wall clock of the hall; tests may subclass it to move time."""

    def __init__(self, timezone: str, system: Callable[[], datetime] = system_now) -> None:
        self.zone = ZoneInfo(timezone)
        self.system = system  # the system clock (tests/hub/test_clock.py steps its own)
        self._anchor = (system(), time.monotonic())  # one tuple: replaced whole
        self.held = timedelta()  # a jump of the system clock not taken: system − hub

    def now(self) -> datetime:
        """Now, naive UTC (what the database stores): the system clock, less a jump held."""
        system, ticks = self.system(), time.monotonic()
        at, since = self._anchor
        steady = at + timedelta(seconds=ticks - since)
        gap = system - steady
        if abs(gap) <= JUMP:
            self._anchor = (system, ticks)  # follow small steps and slewing
            self.held = timedelta()
            return system
        if abs(gap - self.held) > JUMP:
            log.warning("the system clock jumped by %s; the hub's time runs on until nobody "
                        "waits", gap)
        self.held = gap
        return steady

    def take_jump(self) -> timedelta:
        """From now on the system clock's time; the jump taken (zero: none was held)."""
        taken = self.held
        self._anchor = (self.system(), time.monotonic())
        self.held = timedelta()
        if taken:
            log.warning("the hub takes the system clock's time: %s", taken)
        return taken

    def local(self, utc_naive: datetime) -> datetime:
        """A stored time in the hall's zone, aware."""
        return utc_naive.replace(tzinfo=UTC).astimezone(self.zone)

    def service_day(self, utc_naive: datetime | None = None) -> date:
        """The hall's calendar day at that moment: numbering starts again each day."""
        return self.local(utc_naive or self.now()).date()

    def day_start(self, day: date) -> datetime:
        """The first moment of the hall's day `day`, naive UTC (bounds of a period)."""
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.zone)
        return midnight.astimezone(UTC).replace(tzinfo=None)


class ShiftedClock(Clock):
    """The hall's clock set to a chosen local time, running on from there (simulations, tests).

    `speed` > 1 runs it faster than real time: a simulated day in minutes.
    """

    def __init__(self, timezone: str, local: datetime, speed: float = 1.0) -> None:
        super().__init__(timezone)
        self.speed = speed
        self.offset = timedelta()
        self.set_local(local)

    def set_local(self, local: datetime) -> None:
        """Jump to a local wall-clock time of the hall."""
        self._real_start = super().now()
        self._start = local.replace(tzinfo=self.zone).astimezone(UTC).replace(tzinfo=None)
        self.offset = timedelta()

    def now(self) -> datetime:
        elapsed = super().now() - self._real_start
        return self._start + elapsed * self.speed + self.offset
