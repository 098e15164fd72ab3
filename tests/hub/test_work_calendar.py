"""Working days: 调休 Saturdays work, holidays don't, an unknown year never crashes."""

from __future__ import annotations

import logging
from datetime import date

import pytest

from hub.work_calendar import WorkCalendar


def test_make_up_saturday_works_and_national_day_does_not() -> None:
    cal = WorkCalendar()
    assert cal.is_workday(date(2026, 2, 14))  # a Saturday, 调休 working day
    assert not cal.is_workday(date(2026, 10, 1))  # 国庆
    assert not cal.is_workday(date(2026, 11, 28))  # an ordinary Saturday
    assert cal.is_workday(date(2026, 11, 24))


def test_promised_days_skip_the_golden_week() -> None:
    cal = WorkCalendar()
    # 2026-09-30 (Wed) + 1 working day: 10-01..10-07 are off, 10-10 (Sat) is 调休 working day
    assert cal.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert cal.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert cal.add_working_days(date(2026, 11, 24), 0) == date(2026, 11, 24)


def test_a_year_the_package_lacks_falls_back_and_warns_once(
        caplog: pytest.LogCaptureFixture) -> None:
    cal = WorkCalendar()
    assert cal.unknown_years(date(2026, 11, 24)) == [2027]
    with caplog.at_level(logging.WARNING):
        assert cal.is_workday(date(2027, 1, 4))  # a Monday
        assert not cal.is_workday(date(2027, 1, 9))  # a Saturday
        assert cal.add_working_days(date(2027, 1, 8), 1) == date(2027, 1, 11)
    assert [r.message for r in caplog.records].count(
        "holidays of 2027 are not known; counting Monday-Friday as working days until they "
        "are entered") == 1


def test_managers_overrides_come_first() -> None:
    cal = WorkCalendar({date(2027, 1, 1): False, date(2026, 11, 24): False})
    assert not cal.is_workday(date(2027, 1, 1))
    assert not cal.is_workday(date(2026, 11, 24))
    assert cal.known(2027), "once next year's days are entered the warning stops"
