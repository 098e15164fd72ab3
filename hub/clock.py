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


class ShiftedClock(Clock):
    """The hall's clock set to a chosen local time, running on from there (simulations, tests)."""

    def __init__(self, timezone: str, local: datetime) -> None:
        super().__init__(timezone)
        self.offset = timedelta()
        self.set_local(local)

    def set_local(self, local: datetime) -> None:
        """Jump to a local wall-clock time of the hall."""
        wanted = local.replace(tzinfo=self.zone)
        self.offset = wanted.astimezone(UTC).replace(tzinfo=None) - super().now()

    def now(self) -> datetime:
        return super().now() + self.offset
