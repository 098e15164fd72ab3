"""The city simulation at its small size (hallsim/city.py): four halls, each its own
Mosquitto, hub process and SQLite file, one city service process on PostgreSQL, a morning
at 1200x with one hall's answers lost, the city killed and a hall's link cut. Every event
reaches the city once, and the person who did not come in three halls is refused in the
fourth. The 20-hall day is the same code: `python -m hallsim.city` (docs/scaling.md)."""

from __future__ import annotations

from hallsim.city import Plan, simulate


def test_a_small_city_day_with_cuts_loses_and_doubles_nothing() -> None:
    report = simulate(Plan.small())
    text = "\n".join(report.lines)
    assert report.failures == [], "\n".join(report.failures) + "\n" + text
    assert "fourth hall: BLACKLISTED 1" in text and "near miss: 201 1" in text
    assert "not caught up" not in text
    resent = int(text.split("resent and recognised ")[1].split()[0])
    assert resent > 0, "the lost answers made the hall send again; the city recognised it"
