"""Bookings per second at the booking API: HTTP POST /api/v1/appointments to the hub as its
own process (waitress, SQLite FULL, every booking on the hub's request thread), from
several clients at once, each booking a different person into the day's slots.

    .venv/bin/python bench/booking_rate.py [--bookings 400] [--clients 4]

Prints the rate and each booking's round trip (p50, p99). No target is set by the issue:
a county hall books a few hundred a day; the figure shows the head room.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import report  # noqa: E402
from bench.hall import bench_hall  # noqa: E402
from hub.identity import check_character  # noqa: E402

SERVICES = ("GA_HJQY", "RS_SBKSL", "YB_MTB", "SC_GTDJ")  # items with windows on weekdays


def id_number(i: int) -> str:
    """A made-up GB 11643 number for person `i` (valid check digit)."""
    first = f"110105{1950 + i // 1000 % 50}0101{i % 1000:03d}"
    return first + check_character(first)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--bookings", type=int, default=400)
    p.add_argument("--clients", type=int, default=4)
    args = p.parse_args()
    with bench_hall() as hall:
        api = hall.hub.dashboard_url.rstrip("/") + "/api/v1"
        day = "2026-11-25"  # tomorrow for the hub (it starts at 2026-11-24 09:00)
        slots = {s: [x["start"] for x in requests.get(
            f"{api}/slots", params={"service": s, "day": day}, timeout=10).json()["slots"]]
                 for s in SERVICES}
        seats = [(s, start) for s in SERVICES for start in slots[s]]
        lat: list[float] = []
        refused: list[str] = []
        lock = threading.Lock()
        counter = iter(range(args.bookings))

        def client() -> None:
            session = requests.Session()
            for i in counter:
                service, start = seats[i % len(seats)]
                body = {"service": service, "day": day, "start": start, "name": "张丽",
                        "id_number": id_number(i), "phone": "13812345678"}
                t0 = time.perf_counter()
                answer = session.post(f"{api}/appointments", json=body, timeout=30)
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    lat.append(ms)
                    if answer.status_code != 201:
                        refused.append(answer.json().get("code", str(answer.status_code)))

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    made = len(lat) - len(refused)
    print(f"bookings: {made} made, {len(refused)} refused ({sorted(set(refused))}), "
          f"{args.clients} clients, SQLite FULL, loopback")
    print(f"rate: {made / elapsed:.0f} bookings/s ({elapsed:.1f} s)")
    report("round trip", lat, 12)


if __name__ == "__main__":
    main()
