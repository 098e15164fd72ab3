"""Chinese working days: statutory holidays off, 调休 make-up days on.

The `chinesecalendar` package knows the State Council's calendar up to its newest
year and raises for later years. Managers' overrides (a table) come first; for a
year nobody knows yet the calendar falls back to Monday-Friday, says so once in
the log, and `unknown_years()` lets the dashboard warn. It never crashes on it.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Literal

import chinese_calendar
from sqlalchemy import Connection, delete, insert, select

from hub.db.schema import calendar_overrides

log = logging.getLogger(__name__)

DayKind = Literal["workday", "weekend", "holiday"]  # 工作日, 双休日, 法定节假日


class WorkCalendar:
    """Which days are working days, with the hall's own overrides first."""

    def __init__(self, overrides: dict[date, bool] | None = None) -> None:
        self._overrides = dict(overrides or {})
        self._kinds: dict[date, DayKind] = {}  # chinesecalendar takes ~20 µs a question
        self._warned: set[int] = set()

    @property
    def overrides(self) -> dict[date, bool]:
        """Managers' days: replaced whole when they change, never mutated (threads read it)."""
        return self._overrides

    @overrides.setter
    def overrides(self, days: dict[date, bool]) -> None:
        self._overrides, self._kinds = dict(days), {}

    @classmethod
    def load(cls, conn: Connection) -> WorkCalendar:
        """The calendar with the overrides managers entered."""
        rows = conn.execute(select(calendar_overrides.c.day, calendar_overrides.c.is_workday))
        return cls({day: bool(work) for day, work in rows})

    def known(self, year: int) -> bool:
        """True when the national calendar of that year is published (in the package)."""
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
            return True
        except NotImplementedError:
            return any(d.year == year for d in self.overrides)

    def unknown_years(self, today: date) -> list[int]:
        """This year and the next when their holidays are not known: warn managers."""
        return [y for y in (today.year, today.year + 1) if not self.known(y)]

    def is_workday(self, day: date) -> bool:
        """A working day of the hall."""
        if day in self.overrides:
            return self.overrides[day]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self._warned:
                self._warned.add(day.year)
                log.warning("holidays of %s are not known; counting Monday-Friday as working "
                            "days until they are entered", day.year)
            return day.weekday() < 5

    def day_kind(self, day: date) -> DayKind:
        """A working day, a weekend (双休日) or a statutory holiday (法定节假日)."""
        kinds = self._kinds
        if (kind := kinds.get(day)) is None:
            kind = kinds[day] = self._day_kind(day)
        return kind

    def _day_kind(self, day: date) -> DayKind:
        if self.is_workday(day):
            return "workday"
        if day in self.overrides:  # managers enter holidays; a day they set off is one
            return "holiday"
        try:
            _, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return "weekend" if day.weekday() >= 5 else "holiday"
        return "holiday" if name is not None else "weekend"

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (start itself not counted)."""
        day = start
        while days > 0:
            day += timedelta(days=1)
            if self.is_workday(day):
                days -= 1
        return day


def set_overrides(conn: Connection, days: dict[date, tuple[bool, str]]) -> dict[date, bool]:
    """Enter or replace managers' days (day -> (is working day, note)); the overrides now."""
    if days:
        conn.execute(delete(calendar_overrides).where(calendar_overrides.c.day.in_(days)))
        conn.execute(insert(calendar_overrides), [
            {"day": day, "is_workday": work, "note": note} for day, (work, note) in days.items()])
    return WorkCalendar.load(conn).overrides


def clear_override(conn: Connection, day: date) -> dict[date, bool]:
    """Remove a manager's day (the national calendar decides it again); the overrides now."""
    conn.execute(delete(calendar_overrides).where(calendar_overrides.c.day == day))
    return WorkCalendar.load(conn).overrides
