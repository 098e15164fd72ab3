"""The city service alone, at many halls' load: how many events a second it applies, what
a hall's idle poll costs, and how long a city-wide backlog takes (docs/scaling.md).

    .venv/bin/python bench/city.py [--halls 200] [--events 100000] [--batch 200] [--clients 8]

The real `python -m city` process on the machine's PostgreSQL (a database made for the
run and dropped after); the halls are this program's threads, each posting its own
batches as a hub does (protocol/city_sync.py): bookings, check-ins, cancels, no-shows
(people drawn from one pool, so some reach three no-shows in several halls and are
banned) and reviews. Three phases:

1. backlog: every hall has `events / halls` events waiting (a city-wide outage caught
   up), `clients` halls post at once, `batch` events a request: events/s, request p50/p99;
2. resend: the same batches again (every answer lost): all recognised, none applied;
3. polls: empty requests with the hall's cursor, as idle hubs send every `HALLQ_HUB_CITY_POLL_S`:
   polls/s, p50/p99, and the city's CPU for each.

Prints the city's CPU seconds (from /proc) per phase and the database size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import secrets
import statistics
import sys
import threading
import time
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.figures import percentile  # noqa: E402
from hallsim.city import CityProcess  # noqa: E402
from hallsim.city_meter import cpu_seconds, memory_kb  # noqa: E402
from hallsim.scratch_db import scratch_database  # noqa: E402
from protocol.city_sync import SYNC_PATH  # noqa: E402

DAY = date(2026, 11, 24)


def events_for(hall: int, count: int, people: int, rng: random.Random) -> list[dict[str, Any]]:
    """A hall's day as events: each booking booked, then checked in, cancelled or missed;
    each case's review."""
    out: list[dict[str, Any]] = []
    n = 0
    while len(out) < count:
        n += 1
        person = f"{rng.randrange(people):064x}"
        day = DAY + timedelta(days=rng.randrange(60))
        base = {"kind": "appointment", "appointment": f"a{hall}-{n}", "service": "GA_HJQY",
                "day": day.isoformat(), "start": "09:00", "end": "09:30", "channel": "api",
                "id_hash": person, "at": datetime.combine(day, datetime.min.time()).isoformat()}
        out.append({**base, "status": "booked"})
        fate = rng.random()
        if fate < 0.6:
            out.append({**base, "status": "checked_in"})
            out.append({"kind": "review", "review": n, "case_id": n, "number": "A001",
                        "service": "GA_HJQY", "service_name": "户口迁移", "window": 5,
                        "staff_no": "S051", "grade": "satisfied", "stars": 4, "reason": None,
                        "channel": "window", "created_at": base["at"], "at": base["at"]})
        elif fate < 0.8:
            out.append({**base, "status": "cancelled"})
        else:
            out.append({**base, "status": "no_show", "id_masked": "410300********0055",
                        "name_masked": "王*先生"})
    for i, e in enumerate(out[:count], 1):
        e.update(id=uuid4().hex, seq=i, queued=None)
    return out[:count]


def post(url: str, token: str, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    data = json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as answer:
        found = json.loads(answer.read())
    return (time.perf_counter() - started) * 1000, found


def run_phase(name: str, jobs: list[tuple[str, list[dict[str, Any]]]], url: str,
              tokens: dict[str, str], cursors: dict[str, int], clients: int,
              city_pid: int) -> dict[str, Any]:
    """Post every job (a hall's batch, with the hall's cursor as it is then), `clients` at
    once; figures of the phase."""
    todo = list(reversed(jobs))
    lock = threading.Lock()
    ms: list[float] = []
    totals = {"accepted": 0, "duplicates": 0, "changes": 0}

    def worker() -> None:
        while True:
            with lock:
                if not todo:
                    return
                hall, batch = todo.pop()
                body = {"hall": hall, "cursor": cursors[hall], "events": batch}
            took, answer = post(url, tokens[hall], body)
            with lock:
                ms.append(took)
                cursors[hall] = max([cursors[hall], *(c["seq"] for c in answer["changes"])])
                for k in ("accepted", "duplicates"):
                    totals[k] += answer[k]
                totals["changes"] += len(answer["changes"])

    cpu = cpu_seconds(city_pid)
    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    used = cpu_seconds(city_pid) - cpu
    events = sum(len(b) for _, b in jobs)
    print(f"{name}: {len(jobs)} requests, {events} events in {wall:.1f} s: "
          f"{events / wall:.0f} events/s, {len(jobs) / wall:.0f} requests/s; request p50 "
          f"{statistics.median(ms):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms; city CPU "
          f"{used:.1f} s ({100 * used / wall:.0f} % of a core); applied {totals['accepted']}, "
          f"recognised {totals['duplicates']}, ban changes served {totals['changes']}")
    return {"wall": wall, "cpu": used, **totals}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--halls", type=int, default=200)
    p.add_argument("--events", type=int, default=100_000, help="backlog, all halls together")
    p.add_argument("--batch", type=int, default=200, help="events a request (the hub's BATCH)")
    p.add_argument("--clients", type=int, default=8, help="halls posting at once")
    p.add_argument("--polls", type=int, default=4000)
    p.add_argument("--people", type=int, default=20_000, help="the pool bookings draw from")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    rng = random.Random(args.seed)
    halls = [f"h{i:04d}" for i in range(args.halls)]
    tokens = {h: secrets.token_urlsafe(12) for h in halls}
    with scratch_database("hallq_city_bench") as db_url:
        workdir = Path("var")
        workdir.mkdir(exist_ok=True)
        city = CityProcess(db_url, {h: hashlib.sha256(t.encode()).hexdigest()
                                    for h, t in tokens.items()}, workdir / "bench-city.log")
        city.start()
        assert city.proc is not None
        pid = city.proc.pid
        url = f"http://127.0.0.1:{city.port}{SYNC_PATH}"
        try:
            per_hall = args.events // args.halls
            jobs: list[tuple[str, list[dict[str, Any]]]] = []
            for i, hall in enumerate(halls):
                made = events_for(i, per_hall, args.people, rng)
                jobs += [(hall, made[k:k + args.batch]) for k in range(0, len(made), args.batch)]
            jobs.sort(key=lambda j: rng.random())  # the halls come back in any order, each
            jobs.sort(key=lambda j: int(j[1][0]["seq"]))  # hall's batches in its own order
            cursors = dict.fromkeys(halls, 0)
            print(f"city bench: {args.halls} halls, {per_hall * args.halls} events backlog, "
                  f"{args.batch} a request, {args.clients} halls at once")
            run_phase("backlog", jobs, url, tokens, cursors, args.clients, pid)
            run_phase("resend", jobs, url, tokens, cursors, args.clients, pid)
            polls: list[tuple[str, list[dict[str, Any]]]] = [
                (h, []) for h in rng.choices(halls, k=args.polls)]
            phase = run_phase("polls", polls, url, tokens, cursors, args.clients, pid)
            engine = create_engine(db_url)
            per_poll_ms = 1000 * phase["cpu"] / args.polls
            print(f"an idle poll costs the city {per_poll_ms:.2f} ms CPU: 2,000 halls polling "
                  f"every 5 s (400/s) need {400 * per_poll_ms / 1000:.1f} cores")
            with engine.connect() as conn:
                size = int(conn.scalar(text("SELECT pg_database_size(current_database())"))
                           or 0)
                count = int(conn.scalar(text("SELECT count(*) FROM events")) or 0)
                bans = int(conn.scalar(text("SELECT count(*) FROM blacklist")) or 0)
            engine.dispose()
            rss, peak = memory_kb(pid)
            print(f"city database: {size / 1e6:.0f} MB for {count} events "
                  f"({size / max(count, 1):.0f} bytes an event, indexes included); {bans} bans; "
                  f"city RSS {rss / 1024:.0f} MB (peak {peak / 1024:.0f} MB)")
        finally:
            city.stop()


if __name__ == "__main__":
    main()
