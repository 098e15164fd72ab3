"""The city simulation's checks and figures, read from the halls' SQLite files and the
city's PostgreSQL after the day (hallsim/city.py)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text

from bench.figures import percentile
from hallsim.city_meter import hall_db
from hub.blacklist_rules import ban_after
from hub.identity import id_hash

if TYPE_CHECKING:
    from hallsim.city import Run


@dataclass
class Report:
    failures: list[str]
    lines: list[str]


def city_max_seq(db_url: str) -> int:
    """The city's newest blacklist change number (0: none yet)."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text("SELECT coalesce(max(seq), 0) FROM blacklist")) or 0)
    finally:
        engine.dispose()


def _hall_rows(run: Run) -> dict[str, dict[str, list[tuple[object, ...]]]]:
    found: dict[str, dict[str, list[tuple[object, ...]]]] = {}
    for h in run.halls:
        with hall_db(h.db) as conn:
            found[h.hall_id] = {
                "outbox": conn.execute("SELECT event_id, sent_at FROM city_outbox").fetchall(),
                "appointments": conn.execute(
                    "SELECT id, status, id_hash, day FROM appointments").fetchall(),
                "reviews": conn.execute("SELECT id FROM reviews").fetchall(),
                "banned": conn.execute("SELECT id_hash, since FROM blacklist "
                                       "WHERE lifted_at IS NULL").fetchall()}
    return found


def check(run: Run) -> list[str]:
    """What must hold after the day; each failure in words (empty: all held)."""
    from hallsim.city import NEAR_MISS, REPEAT

    failures = []
    halls = _hall_rows(run)
    engine = create_engine(run.db_url)
    with engine.connect() as conn:
        events = conn.execute(text("SELECT hall_id, event_id FROM events")).all()
        states = conn.execute(text("SELECT hall_id, appointment_id, status "
                                   "FROM appointments")).all()
        reviews = conn.execute(text("SELECT hall_id, review_id FROM reviews")).all()
        bans = conn.execute(text("SELECT id_hash, since FROM blacklist "
                                 "WHERE lifted_at IS NULL")).all()
    engine.dispose()
    at_city: dict[str, list[str]] = defaultdict(list)
    for hall, event in events:
        at_city[hall].append(event)
    city_states: dict[str, dict[str, str]] = defaultdict(dict)
    for hall, appointment, status in states:
        city_states[hall][appointment] = status
    city_reviews: dict[str, set[int]] = defaultdict(set)
    for hall, review in reviews:
        city_reviews[hall].add(review)
    for hall, rows in halls.items():
        made = sorted(str(r[0]) for r in rows["outbox"])
        if any(r[1] is None for r in rows["outbox"]):
            failures.append(f"{hall}: events never taken by the city")
        if sorted(at_city[hall]) != made:
            failures.append(f"{hall}: {len(made)} events made, {len(at_city[hall])} at the "
                            f"city, {len(set(made) ^ set(at_city[hall]))} differ")
        if city_states[hall] != {str(r[0]): str(r[1]) for r in rows["appointments"]}:
            failures.append(f"{hall}: the city's bookings differ from the hall's")
        if city_reviews[hall] != {int(str(r[0])) for r in rows["reviews"]}:
            failures.append(f"{hall}: the city's reviews differ from the hall's")
    expected = _expected_bans(halls)
    city_bans = {(str(h), d) for h, d in bans}
    if city_bans != expected:
        failures.append(f"the city bans {len(city_bans)}, the rules {len(expected)}")
    key = bytes.fromhex(run.key)
    repeat, near = id_hash(key, REPEAT.id_number), id_hash(key, NEAR_MISS.id_number)
    if repeat not in {h for h, _ in city_bans}:
        failures.append("the person with three no-shows in three halls is not banned")
    if near in {h for h, _ in city_bans}:
        failures.append("the person with two no-shows is banned")
    for hall, rows in halls.items():
        here = {(str(r[0]), date.fromisoformat(str(r[1]))) for r in rows["banned"]}
        if here != city_bans:
            failures.append(f"{hall}: {len(here)} bans, the city {len(city_bans)}")
    fourth = [k for k in run.attempts if k.startswith("fourth hall: ")]
    if fourth != ["fourth hall: BLACKLISTED"]:
        failures.append(f"the repeat no-show in the fourth hall: {fourth}")
    if run.attempts.get("BLACKLISTED") != len(run.halls):
        failures.append(f"the repeat no-show's bookings: {run.attempts}")
    if "near miss: 201" not in run.attempts:
        failures.append(f"the near miss could not book: {run.attempts}")
    return failures


def _expected_bans(halls: dict[str, dict[str, list[tuple[object, ...]]]]
                   ) -> set[tuple[str, date]]:
    """The bans hub/blacklist_rules.py makes of every hall's no-shows together."""
    days: dict[str, list[date]] = defaultdict(list)
    for rows in halls.values():
        for _, status, person, day in rows["appointments"]:
            if status == "no_show":
                days[str(person)].append(date.fromisoformat(str(day)))
    found = set()
    for person, missed in days.items():
        missed.sort()
        for i in range(len(missed)):
            if (ban := ban_after(missed[:i + 1])) is not None:
                found.add((person, ban.since))
    return found


def figures(run: Run) -> list[str]:
    """The lines the simulation prints."""
    plan = run.plan
    engine = create_engine(run.db_url)
    with engine.connect() as conn:
        kinds: dict[str, int] = dict(conn.execute(text(
            "SELECT kind, count(*) FROM events GROUP BY kind")).all())
        per_second = [int(n) for n, in conn.execute(text(
            "SELECT count(*) FROM events GROUP BY date_trunc('second', received_at)")).all()]
        lags = [(str(h), float(q), float(lag)) for h, q, lag in conn.execute(text(
            "SELECT hall_id, (payload->>'queued')::float, lag_s FROM events "
            "WHERE lag_s IS NOT NULL")).all()]
        resent = int(conn.scalar(text("SELECT coalesce(sum(duplicates), 0) FROM halls")) or 0)
        size = int(conn.scalar(text("SELECT pg_database_size(current_database())")) or 0)
        table = int(conn.scalar(text("SELECT pg_total_relation_size('events')")) or 0)
    engine.dispose()
    total = sum(kinds.values())
    tally: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    late = 0
    for h in run.halls:
        assert h.robot is not None
        t = h.robot.tally
        tally.update({"booked": t.booked, "cancelled": t.cancelled, "checked in": t.checked_in,
                      "walk-ins": t.walk_ins, "served": t.served, "reviews": t.reviews})
        refused.update(t.refused)
        late += t.late_actions
    hall_hours = run.clock.now() - run.clock.start
    lines = [f"city simulation: {plan.halls} halls, {plan.speed:g}x, traffic until "
             f"{plan.until}, {run.day_real_s:.0f} s real from the first action to the last "
             f"event at the city ({hall_hours / timedelta(hours=1):.1f} hall hours since "
             "the clocks started)",
             "traffic: " + ", ".join(f"{k} {v}" for k, v in tally.items())
             + (f"; refused {dict(refused)}" if refused else "")
             + (f"; {late} robot actions over 5 hall minutes late" if late else ""),
             f"events at the city: {total} ({', '.join(f'{k} {v}' for k, v in kinds.items())})"
             f", {total / plan.halls:.0f} a hall; resent and recognised {resent}",
             f"events/s at the city: {total / max(run.day_real_s, 1e-9):.1f} over the day, "
             f"peak {max(per_second, default=0)} in one second"]
    lines += _lag_lines(run, lags)
    for cut in run.cuts:
        where = ", ".join(run.halls[i].hall_id for i in cut.halls) or "every hall"
        caught = "not caught up" if cut.catch_up_s is None else f"{cut.catch_up_s:.1f} s"
        lines.append(f"cut {cut.what} ({where}) at {cut.start:%H:%M} for {cut.seconds:.0f} s "
                     f"real: backlog {cut.backlog} events, caught up in {caught}")
    lines.append(f"city database: {size / 1e6:.1f} MB ({table / 1e6:.2f} MB events table and "
                 f"its index, {table / max(total, 1):.0f} bytes an event)")
    for name, g in run.meter.read().items():
        rss = g.rss_kb or [0]
        lines.append(f"{name}: CPU {g.cpu_s:.1f} s ({100 * g.cpu_s / max(run.day_real_s, 1):.1f}"
                     f" % of one core over the day); RSS {statistics.mean(rss) / 1024:.0f} MB "
                     f"mean, {max(rss) / 1024:.0f} MB max, {sum(rss) / 1024:.0f} MB together"
                     f"; peak {max(g.peak_kb or [0]) / 1024:.0f} MB")
    lines.append("the repeat no-show's last bookings: " + ", ".join(
        f"{k} {v}" for k, v in sorted(run.attempts.items())))
    return lines


def _lag_lines(run: Run, lags: list[tuple[str, float, float]]) -> list[str]:
    """Sync lag (the hall's commit to the city's), overall and with the links up."""
    if not lags:
        return ["sync lag: no events"]
    windows = []  # (halls or None, from, to) in epoch seconds, cuts and their catch-up
    origin = run.clock.real_from.replace(tzinfo=UTC).timestamp()
    for cut in run.cuts:
        begins = origin + (cut.start - run.clock.start).total_seconds() / run.plan.speed
        ends = begins + cut.seconds + (cut.catch_up_s or 0) + 5
        ids = {run.halls[i].hall_id for i in cut.halls} or None
        windows.append((ids, begins, ends))
    every = [lag for _, _, lag in lags]
    calm = [lag for hall, queued, lag in lags
            if not any((ids is None or hall in ids) and a <= queued <= b for ids, a, b in windows)]
    out = [f"sync lag (real seconds): p50 {statistics.median(every):.2f}, p99 "
           f"{percentile(every, 0.99):.2f}, max {max(every):.1f} over all {len(every)} events"]
    if calm and run.cuts:
        out.append(f"sync lag with the link up: p50 {statistics.median(calm):.2f}, p99 "
                   f"{percentile(calm, 0.99):.2f}, max {max(calm):.1f} ({len(calm)} events)")
    return out
