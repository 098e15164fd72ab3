"""预约黑名单 (seed 003 §二.(一).7): whoever books and neither comes nor cancels three times
within half a year gets no appointment service for one year, from the third no-show.
Walk-in service is never refused.

The periods are calendar periods, counted on the days of the no-shows (the hall's dates):

- **half a year** is six calendar months: three no-shows count when the third falls
  before the day six months after the first (`add_months(first, 6)`). 1 January and
  30 June count; 1 January and 1 July do not (the half year from 1 January ends on
  30 June).
- **one year** is twelve calendar months from the third no-show: blacklisted on that day
  and up to the day before `add_months(third, 12)`; on that day booking opens again.

A month later than a short month's end keeps to its end: 31 August + 6 months is
28 (or 29) February. Warnings: after the second no-show within half a year an SMS says
one more means the blacklist.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

NO_SHOWS = 3  # within HALF_YEAR_MONTHS: blacklisted
HALF_YEAR_MONTHS = 6
BAN_MONTHS = 12
WARN_AT = NO_SHOWS - 1  # the no-show after which the warning SMS goes


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (or earlier), kept inside short months."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


@dataclass(frozen=True)
class Ban:
    """A blacklisting: from the third no-show's day until the day booking opens again."""

    since: date
    until: date  # the first day the person may book again

    def covers(self, day: date) -> bool:
        return self.since <= day < self.until


def within_half_year(first: date, last: date) -> bool:
    """Whether `last` falls within the half year that starts on `first`."""
    return first <= last < add_months(first, HALF_YEAR_MONTHS)


def ban_after(no_shows: Sequence[date]) -> Ban | None:
    """The ban the newest no-show brings, given the person's no-shows (any order), or None:
    the newest and two earlier ones within half a year of the earliest of the three."""
    days = sorted(no_shows)
    if len(days) < NO_SHOWS:
        return None
    third = days[-1]
    first = days[-NO_SHOWS]
    if not within_half_year(first, third):
        return None
    return Ban(third, add_months(third, BAN_MONTHS))


def warn_after(no_shows: Sequence[date]) -> bool:
    """Whether the newest no-show is a second within half a year (the warning SMS)."""
    days = sorted(no_shows)
    return len(days) >= WARN_AT and within_half_year(days[-WARN_AT], days[-1]) \
        and ban_after(days) is None
