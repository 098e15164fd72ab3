"""The hub's clock: the only place that decides what time and which service day it is.

Times are stored as naive UTC; they are shown in the hall's time zone. A device's
clock never decides anything.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


class Clock:
    """Wall clock of the hall; tests may subclass it to move time."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)

    def now(self) -> datetime:
        """Now, naive UTC (what the database stores)."""
        return datetime.now(UTC).replace(tzinfo=None)

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
