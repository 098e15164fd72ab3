"""The blacklist's calendar periods, at their boundaries to the day: three no-shows within
half a year (six calendar months) → no appointment service for one year (twelve calendar
months) from the third."""

from __future__ import annotations

from datetime import date

import pytest

from hub.blacklist_rules import Ban, add_months, ban_after, warn_after, within_half_year


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 1, 15), 6, date(2026, 7, 15)),
    (date(2026, 8, 31), 6, date(2027, 2, 28)),  # February has no 31st
    (date(2027, 8, 31), 6, date(2028, 2, 29)),  # a leap year's February
    (date(2028, 2, 29), 12, date(2029, 2, 28)),
    (date(2026, 12, 31), 1, date(2027, 1, 31)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
])
def test_calendar_months_keep_inside_short_months(day: date, months: int,
                                                   expected: date) -> None:
    assert add_months(day, months) == expected


def test_half_a_year_from_the_first_ends_the_day_before_six_months_later() -> None:
    first = date(2026, 1, 1)
    assert within_half_year(first, date(2026, 6, 30))
    assert not within_half_year(first, date(2026, 7, 1))


def test_third_no_show_on_the_last_day_of_the_half_year_blacklists() -> None:
    ban = ban_after([date(2026, 1, 1), date(2026, 3, 10), date(2026, 6, 30)])
    assert ban == Ban(date(2026, 6, 30), date(2027, 6, 30))


def test_third_no_show_one_day_later_does_not() -> None:
    assert ban_after([date(2026, 1, 1), date(2026, 3, 10), date(2026, 7, 1)]) is None


def test_the_ban_lasts_one_year_to_the_day() -> None:
    ban = ban_after([date(2026, 5, 1), date(2026, 5, 8), date(2026, 5, 15)])
    assert ban is not None
    assert not ban.covers(date(2026, 5, 14))  # before the third no-show: free
    assert ban.covers(date(2026, 5, 15))  # from the third no-show
    assert ban.covers(date(2027, 5, 14))  # the last day of the year
    assert not ban.covers(date(2027, 5, 15))  # booking opens again


def test_older_no_shows_do_not_count_once_they_fall_out_of_the_half_year() -> None:
    # Two long ago, then one: the last three are not within half a year.
    assert ban_after([date(2025, 1, 5), date(2025, 2, 5), date(2026, 1, 5)]) is None
    # Then two more: the newest three are.
    assert ban_after([date(2025, 1, 5), date(2025, 2, 5), date(2026, 1, 5),
                      date(2026, 2, 1), date(2026, 3, 1)]) == Ban(date(2026, 3, 1),
                                                                 date(2027, 3, 1))


def test_the_warning_comes_with_the_second_no_show_within_half_a_year() -> None:
    assert not warn_after([date(2026, 1, 1)])
    assert warn_after([date(2026, 1, 1), date(2026, 6, 30)])
    assert not warn_after([date(2026, 1, 1), date(2026, 7, 1)])
    assert not warn_after([date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)])  # banned
