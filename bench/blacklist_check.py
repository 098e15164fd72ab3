"""What booking checks about a person, with a year of a busy hall behind it: 100,000 past
appointments (20,000 people, a tenth of them no-shows, some blacklisted) in a SQLite file.

    .venv/bin/python bench/blacklist_check.py [--past 100000] [--lookups 2000]

Times, per booking, the checks hub/booking.py and hub/no_shows.py make on the person: the
blacklisting in force (`active_ban`), the one-booking-a-day count, and the person's
no-show days (`no_show_days`, after a no-show). Indexes: ix_blacklist_id_hash,
ix_appointments_person (id_hash, day).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import report  # noqa: E402
from hub.booking import ACTIVE, active_ban  # noqa: E402
from hub.catalogue import load_catalogue  # noqa: E402
from hub.catalogue_sync import sync_catalogue  # noqa: E402
from hub.db.engine import make_engine, migrate  # noqa: E402
from hub.db.schema import appointments, blacklist  # noqa: E402
from hub.no_shows import no_show_days  # noqa: E402

TODAY = date(2026, 11, 24)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--past", type=int, default=100_000)
    p.add_argument("--lookups", type=int, default=2000)
    args = p.parse_args()
    rng = random.Random(1)
    people = [f"{i:064x}" for i in range(args.past // 5)]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'hub.db'}")
        migrate(engine)
        now = datetime.now(UTC).replace(tzinfo=None)
        with engine.begin() as conn:
            sync_catalogue(conn, load_catalogue(), now)
            rows = []
            for i in range(args.past):
                day = TODAY - timedelta(days=rng.randrange(1, 366))
                rows.append({"id": f"b{i:07d}", "service_code": "GA_HJQY", "day": day,
                             "slot_start": clock_time(9), "slot_end": clock_time(9, 30),
                             "status": "no_show" if rng.random() < 0.1 else "checked_in",
                             "channel": "web", "out_of_hours": False,
                             "id_hash": rng.choice(people), "id_masked": "-",
                             "name_masked": "-", "phone": "13800000000", "created_at": now,
                             "changed_at": now})
            conn.execute(insert(appointments), rows)
            conn.execute(insert(blacklist), [
                {"id_hash": h, "id_masked": "-", "name_masked": "-", "since": TODAY,
                 "until": TODAY + timedelta(days=365), "created_at": now}
                for h in people[:200]])
        lat: dict[str, list[float]] = {"active_ban": [], "one_a_day": [], "no_show_days": []}
        with engine.connect() as conn:
            for _ in range(args.lookups):
                person = rng.choice(people)
                t0 = time.perf_counter()
                active_ban(conn, person, TODAY)
                t1 = time.perf_counter()
                conn.scalar(select(func.count()).where(appointments.c.id_hash == person,
                                                       appointments.c.day == TODAY,
                                                       appointments.c.status.in_(ACTIVE)))
                t2 = time.perf_counter()
                no_show_days(conn, person)
                t3 = time.perf_counter()
                lat["active_ban"].append((t1 - t0) * 1000)
                lat["one_a_day"].append((t2 - t1) * 1000)
                lat["no_show_days"].append((t3 - t2) * 1000)
        engine.dispose()
    print(f"{args.past} past appointments, {len(people)} people, 200 blacklisted; "
          f"{args.lookups} lookups (SQLite, one connection)")
    for name, values in lat.items():
        report(name, values, 14)


if __name__ == "__main__":
    main()
