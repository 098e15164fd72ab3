"""Every page of the managers' dashboard over a year of a busy hall's data (issue 9), over
real HTTP from a real hub. Target: every page loads in <= 300 ms.

    .venv/bin/python bench/dashboard_pages.py [--tickets 300000] [--runs 20] [--rebuild]

The database is made once and kept under var/bench/ for the next run; it is made again
when its ticket count differs from --tickets, or with --rebuild. It holds 2026 up to the
day before the hall's clock (the working days of the national calendar, 1 January to
24 November, 08:30-17:30): --tickets tickets, about 88 % finished as cases (tickets, cases,
reviews and follow-ups by hallsim/review_history.py, with the default catalogue's windows
and staff as bench/weekly_ranking.py has them; about 85 % reviewed, about 3 % bad, the
last week's follow-ups still open), the rest no-shows, closed at the end of the day or
void (inserted here); each ticket's history lines (called, finished, no-show, closed);
the days closed as the hub closes them (hub/day_close.py: 今日与历史's rollup of each day);
--appointments bookings over the year and the coming week (masked fields only, one SMS
each, a few blacklisted people); --audit audit-log lines (sign-ins, points entered,
follow-up steps, check-ins), and each week's points for some departments. Seeded.

Then a real `hub.app.Hub` (waitress, its request consumer on a real Mosquitto) runs on
that file with its clock at Wednesday 25 November 2026, 10:00 (the bench waits for its
close of the past days at start, which rolls up any day without a rollup: all of them in
a file made before the rollup existed, timed apart), an administrator signs in
over HTTP (CSRF token and all), and every page is fetched with requests: the pages of
the dashboard's menu (hub/web/auth.py MENU, whatever it lists when run; /history also
over this month and the year so far), the Excel files (/ranking/<Monday>.xlsx of last
week and of this week, /audit.xlsx, /history.xlsx of today and of the year when the menu
has /history) and the JSON /api/state. Times are from sending the request to
the whole body in hand. The first fetch of each page right after the hub started, with
the file dropped from the OS's page cache, is "cold"; then --runs rounds over all pages
("warm").
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Connection, Engine, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import report  # noqa: E402
from bench.weekly_ranking import (  # noqa: E402
    BAD,
    KIND_WEIGHT,
    drop_from_os_cache,
    pick,
    served_and_reviewed,
    working_days,
)
from hallsim.broker import Broker  # noqa: E402
from hallsim.review_history import PastCase, write_cases  # noqa: E402
from hub import accounts  # noqa: E402
from hub.app import Hub  # noqa: E402
from hub.appointment_codes import new_appointment_id  # noqa: E402
from hub.catalogue import Catalogue, load_catalogue  # noqa: E402
from hub.catalogue_sync import sync_catalogue  # noqa: E402
from hub.clock import Clock  # noqa: E402
from hub.day_close import close_past_days  # noqa: E402
from hub.db.engine import make_engine, migrate  # noqa: E402
from hub.db.schema import (  # noqa: E402
    appointments,
    audit_log,
    blacklist,
    history_days,
    ranking_scores,
    reviews,
    services,
    sms_messages,
    tickets,
)
from hub.settings import HubSettings  # noqa: E402
from hub.web.auth import MENU  # noqa: E402
from hub.weekly_ranking import SHEET, monday_of  # noqa: E402
from protocol.topics import DeviceClass  # noqa: E402

YEAR = 2026
CLOCK = Clock("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 10, 0)  # the hall's local time when the hub starts: a Wednesday
TODAY = NOW.date()
OPEN_S, HOURS_S = (8 * 60 + 30) * 60, 9 * 3600  # 08:30, for 9 hours
# What becomes of a ticket: finished (a case), called and not there, left waiting at
# closing time, or never handed over.
FATES = (("case", 0.88), ("no_show", 0.07), ("closed", 0.03), ("void", 0.02))
APPOINTMENT_FATES = (("checked_in", 0.80), ("cancelled", 0.10), ("no_show", 0.07),
                     ("excused", 0.01), ("refused", 0.02))
SLOTS = [(clock_time(h, m), clock_time(h + (m + 30) // 60, (m + 30) % 60))
         for h, m in [(9, 0), (9, 30), (10, 0), (10, 30), (11, 0), (11, 30), (13, 30),
                      (14, 0), (14, 30), (15, 0), (15, 30), (16, 0), (16, 30)]]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
ACCOUNTS = ("admin", "zhang.manager", "li.manager", "guide1", "guide2", "dept.ga")
USERNAME, PASSWORD = "bench-admin", "Bench-pass-2026"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def default_db(n: int) -> Path:
    size = f"{n // 1000}k" if n % 1000 == 0 else str(n)
    return ROOT / "var" / "bench" / f"dashboard-{size}.db"


# ----------------------------------------------------------------- the year's data

def days_so_far() -> list[date]:
    return [d for d in working_days(YEAR) if d < TODAY]


class Year:
    """The tickets of the year: the cases go to `write_cases` as they are made, the rest
    are kept to be inserted after them (their numbers follow the day's cases)."""

    def __init__(self, catalogue: Catalogue, prefixes: dict[str, str], n: int,
                 seed: int) -> None:
        self.catalogue, self.prefixes, self.n = catalogue, prefixes, n
        self.rng = random.Random(seed)
        self.numbered: dict[tuple[str, date], int] = {}  # cases per prefix and day
        self.others: list[tuple[str, datetime, str, int]] = []  # fate, time, service, window

    def cases(self) -> Iterator[PastCase]:
        rng, days = self.rng, days_so_far()
        shares = [rng.uniform(0.8, 1.2) for _ in days]  # some days busier than others
        per_day = [int(self.n * s / sum(shares)) for s in shares]
        for i in range(self.n - sum(per_day)):
            per_day[i % len(days)] += 1
        windows = self.catalogue.windows
        weights = [KIND_WEIGHT[w.kind] for w in windows]
        bad_rate = {w.number: BAD * rng.uniform(0.2, 2.6) for w in windows}
        started, made, step = time.perf_counter(), 0, max(1, self.n // 10)
        for day, count in zip(days, per_day, strict=True):
            opening = CLOCK.day_start(day) + timedelta(seconds=OPEN_S)
            chosen = rng.choices(windows, weights, k=count)
            for offset, w in zip(sorted(rng.randrange(HOURS_S) for _ in range(count)),
                                 chosen, strict=True):
                made += 1
                if made % step == 0:
                    print(f"  {made:>9,} / {self.n:,} tickets  "
                          f"{time.perf_counter() - started:6.1f} s", flush=True)
                at = opening + timedelta(seconds=offset)
                service = rng.choice(w.services)
                fate = pick(rng, FATES)
                if fate != "case":
                    self.others.append((fate, at, service, w.number))
                    continue
                key = (self.prefixes[service], at.date())
                self.numbered[key] = self.numbered.get(key, 0) + 1
                staff_no, grade, channel, upheld = served_and_reviewed(
                    rng, w.post_a, w.post_b, bad_rate[w.number])
                yield PastCase(finished_at=at, service=service, window=w.number,
                               staff_no=staff_no, grade=grade, channel=channel,
                               appeal_upheld=upheld)

    def other_rows(self, first_id: int) -> list[dict[str, Any]]:
        """The tickets that did not become cases, numbered after the day's cases."""
        rows, seqs = [], dict(self.numbered)
        for i, (fate, at, service, window) in enumerate(self.others):
            prefix, day = self.prefixes[service], at.date()
            seq = seqs[prefix, day] = seqs.get((prefix, day), 0) + 1
            wait = self.rng.randrange(60, 1800)
            row: dict[str, Any] = {
                "id": first_id + i, "request_id": f"bench-{first_id + i}", "device_id": "kiosk-1",
                "service_code": service, "prefix": prefix, "seq": seq,
                "number": f"{prefix}{seq:03d}", "service_day": day, "status": fate,
                "issued_at": at - timedelta(seconds=wait), "called_at": None,
                "finished_at": None, "no_show_at": None, "wait_seconds": None,
                "closed_reason": None, "window_number": None, "handed_over": "printed",
                "recalls": 0,
                "confirmed_at": at - timedelta(seconds=wait)}
            if fate == "no_show":
                row |= {"called_at": at, "no_show_at": at + timedelta(minutes=3),
                        "wait_seconds": wait, "window_number": window, "recalls": 2}
            elif fate == "closed":
                row |= {"closed_reason": "end_of_day"}
            else:
                row |= {"closed_reason": "unconfirmed", "handed_over": None,
                        "confirmed_at": None}
            rows.append(row)
        return rows


# Times of the finished tickets as a hub records them (write_cases puts issue, call and
# finish at one moment), and every ticket's history lines, in SQL on the whole table.
FIX_TIMES = (
    "UPDATE tickets SET service_seconds = 120 + abs(random() % 780), "
    "wait_seconds = 60 + abs(random() % 1740), handed_over = 'printed', device_id = 'kiosk-1' "
    "WHERE status = 'finished'",
    "UPDATE tickets SET "
    "called_at = strftime('%Y-%m-%d %H:%M:%S.000000', finished_at, "
    "'-' || service_seconds || ' seconds'), "
    "issued_at = strftime('%Y-%m-%d %H:%M:%S.000000', finished_at, "
    "'-' || (service_seconds + wait_seconds) || ' seconds') WHERE status = 'finished'",
    "UPDATE tickets SET confirmed_at = issued_at WHERE status = 'finished'",
    "INSERT INTO ticket_events (ticket_id, at, event, window_number, detail) "
    "SELECT id, called_at, 'called', window_number, '{}' FROM tickets "
    "WHERE called_at IS NOT NULL ORDER BY id",
    "INSERT INTO ticket_events (ticket_id, at, event, window_number, detail) "
    "SELECT id, finished_at, 'finished', window_number, '{\"outcome\": \"on_the_spot\"}' "
    "FROM tickets WHERE status = 'finished' ORDER BY id",
    "INSERT INTO ticket_events (ticket_id, at, event, window_number, detail) "
    "SELECT id, no_show_at, 'no_show', window_number, '{}' FROM tickets "
    "WHERE status = 'no_show' ORDER BY id",
    "INSERT INTO ticket_events (ticket_id, at, event, window_number, detail) "
    "SELECT id, strftime('%Y-%m-%d 16:00:00.000000', issued_at), 'closed', NULL, "
    "'{\"reason\": \"end_of_day\"}' FROM tickets WHERE status = 'closed' ORDER BY id",
)
# The last week's bad reviews are still being followed up: open, two steps done.
REOPEN = ("UPDATE review_followups SET closed_at = NULL, result = NULL, measures = NULL, "
          "handling = NULL, updated_at = opened_at "
          "WHERE opened_at >= :since AND appeal_decision IS NULL")


def person(rng: random.Random) -> dict[str, str]:
    """A made-up person as the hub keeps one: hashed and masked (hub/identity.py)."""
    region = rng.choice(("110105", "440308", "330106", "510104", "320102"))
    last = f"{rng.randrange(1000):03d}{rng.choice('0123456789X')}"
    title = "先生" if rng.random() < 0.5 else "女士"
    return {"id_hash": hashlib.sha256(f"{rng.random()}".encode()).hexdigest(),
            "id_masked": f"{region}********{last}",
            "name_masked": f"{rng.choice(SURNAMES)}*{title}",
            "phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"}


def appointment_rows(rng: random.Random, codes: list[str], n: int
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`n` bookings over the year so far, today and the coming working days, and their
    SMS messages."""
    past = days_so_far()
    ahead = [d for d in working_days(YEAR) if TODAY < d <= TODAY + timedelta(days=8)]
    today_n, ahead_n = 40, 35 * len(ahead)
    days = ([rng.choice(past) for _ in range(n - today_n - ahead_n)] + [TODAY] * today_n
            + [rng.choice(ahead) for _ in range(ahead_n)])
    days.sort()
    rows, messages, ids = [], [], set()
    for day in days:
        start, end = rng.choice(SLOTS)
        if day < TODAY:
            status = pick(rng, APPOINTMENT_FATES)
        elif day == TODAY:
            status = "checked_in" if start < NOW.time() else "booked"
        else:
            status = "pending" if rng.random() < 0.03 else "booked"
        made = datetime.combine(day, clock_time(8)) - timedelta(days=rng.randrange(1, 7),
                                                               minutes=rng.randrange(600))
        created = made - timedelta(hours=8)  # stored as UTC
        aid = new_appointment_id()
        while aid in ids:
            aid = new_appointment_id()
        ids.add(aid)
        who = person(rng)
        rows.append({"id": aid, "service_code": rng.choice(codes), "day": day,
                     "slot_start": start, "slot_end": end, "status": status,
                     "channel": rng.choice(("web", "web", "web", "phone", "desk", "api")),
                     "out_of_hours": status == "pending", "form": None,
                     "created_at": created,
                     "changed_at": created if status in ("booked", "pending") else
                     datetime.combine(day, end) - timedelta(hours=8),
                     "note": None, **who})
        messages.append({"phone": who["phone"], "kind": "booked", "appointment_id": aid,
                         "text": f"您已预约{day.month}月{day.day}日{start:%H:%M}-{end:%H:%M}"
                                 "办理，请按时到大厅取号机扫码取号。不能前来请提前取消。",
                         "created_at": created, "sent_at": created})
    return rows, messages


def audit_rows(rng: random.Random, n: int, departments: list[str]) -> list[dict[str, Any]]:
    """`n` lines of the audit log over the year, in time order."""
    past = days_so_far()
    kinds = (("signin", 0.55), ("signout", 0.15), ("signin.failed", 0.04),
             ("followup.callback", 0.06), ("followup.result", 0.05),
             ("appointment.check_in", 0.08), ("appointment.excuse", 0.01),
             ("ranking_score", 0.05), ("review.supplement", 0.01))
    rows: list[dict[str, Any]] = []
    for _ in range(n):
        day = rng.choice(past)
        at = CLOCK.day_start(day) + timedelta(seconds=OPEN_S + rng.randrange(HOURS_S))
        action = pick(rng, kinds)
        before: dict[str, Any] | None = None
        after: dict[str, Any] | None = None
        target, reason = "127.0.0.1", None
        if action.startswith("followup."):
            target = f"followup:{rng.randrange(1, 8000)}"
            after = {action.split(".")[1]: "已电话联系办事人，说明情况并致歉"}
        elif action.startswith("appointment."):
            target = new_appointment_id()
            before, after = {"status": "booked"}, {"status": "checked_in"}
            reason = "导办台核验身份证" if action.endswith("check_in") else "系统故障，大厅原因"
        elif action == "ranking_score":
            target = f"{monday_of(day)}/{rng.choice(departments)}/discipline"
            before, after, reason = {"points": 20}, {"points": 18}, "窗口人员迟到一次"
        elif action == "review.supplement":
            target = f"case:{rng.randrange(1, 250_000)}"
            after, reason = {"grade": "satisfied", "channel": "call"}, "电话回访补评"
        rows.append({"at": at, "who": rng.choice(ACCOUNTS), "action": action,
                     "target": target, "before": before, "after": after, "reason": reason})
    rows.sort(key=lambda r: r["at"])
    return rows


def ranking_rows(rng: random.Random, departments: list[str]) -> list[dict[str, Any]]:
    """Each week, points taken off or given for two or three departments."""
    items = [i for i in SHEET if not i.computed]
    rows = []
    for monday in sorted({monday_of(d) for d in days_so_far()}):
        for department in rng.sample(departments, rng.randrange(2, 4)):
            item = rng.choice(items)
            points = item.points - rng.choice((1, 2)) if item.points else rng.choice((2, 5))
            rows.append({"week": monday, "department_code": department, "item": item.key,
                         "points": points, "note": "周检查记录", "entered_by": "zhang.manager",
                         "entered_at": CLOCK.day_start(monday + timedelta(days=4))})
    return rows


def ticket_count(db: Path) -> int:
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        n = int(conn.scalar(select(func.count()).select_from(tickets)) or 0)
    engine.dispose()
    return n


def rolled_days(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(history_days)) or 0)


def build(db: Path, n: int, n_appointments: int, n_audit: int, seed: int) -> None:
    """A fresh hub database with the year's data."""
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    catalogue = load_catalogue()
    print(f"writing {n:,} tickets of {YEAR} (up to {TODAY - timedelta(days=1)}) into {db} ...",
          flush=True)
    started = time.perf_counter()
    with engine.begin() as conn:
        sync_catalogue(conn, catalogue, datetime(YEAR, 1, 1))
        prefixes = dict(conn.execute(select(services.c.code, services.c.prefix)).all())
        year = Year(catalogue, prefixes, n, seed)
        written = write_cases(conn, year.cases())
        first = int(conn.scalar(select(func.max(tickets.c.id))) or 0) + 1
        others = year.other_rows(first)
        for i in range(0, len(others), 20_000):
            conn.execute(insert(tickets), others[i:i + 20_000])
        for statement in FIX_TIMES:
            conn.execute(text(statement))
        conn.execute(text(REOPEN), {"since": CLOCK.day_start(TODAY - timedelta(days=7))})
        rng = random.Random(seed + 1)
        codes = [c for c, in conn.execute(select(services.c.code).where(services.c.active,
                                                                        services.c.kind == "item"))]
        departments = sorted({d.code for d in catalogue.departments})
        rows, messages = appointment_rows(rng, codes, n_appointments)
        conn.execute(insert(appointments), rows)
        conn.execute(insert(sms_messages), messages)
        banned = [person(rng) for _ in range(8)]
        conn.execute(insert(blacklist), [
            {"id_hash": p["id_hash"], "id_masked": p["id_masked"],
             "name_masked": p["name_masked"], "since": TODAY - timedelta(days=30 * i),
             "until": TODAY + timedelta(days=365 - 30 * i),
             "created_at": CLOCK.day_start(TODAY - timedelta(days=30 * i))}
            for i, p in enumerate(banned)])
        conn.execute(insert(audit_log), audit_rows(rng, n_audit, departments))
        conn.execute(insert(ranking_scores), ranking_rows(rng, departments))
    closing = time.perf_counter()
    with engine.begin() as conn:  # as the hub closes the days: 今日与历史's rollups
        close_past_days(conn, TODAY, CLOCK.day_start(TODAY))
    print(f"closed the days up to {TODAY - timedelta(days=1)} (rolled up) in "
          f"{time.perf_counter() - closing:.1f} s", flush=True)
    with engine.connect() as conn:
        counts = {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in
                  ("tickets", "cases", "reviews", "review_followups", "ticket_events",
                   "appointments", "audit_log")}
        still_open = conn.scalar(text("SELECT count(*) FROM review_followups "
                                      "WHERE closed_at IS NULL"))
    engine.dispose()  # no ANALYZE: the hub never runs it, its query plans are as here
    print(f"generated {written:,} cases and {len(others):,} other tickets in "
          f"{time.perf_counter() - started:.1f} s; file {db.stat().st_size / 2**20:,.0f} MiB")
    print("  " + ", ".join(f"{t} {c:,}" for t, c in counts.items())
          + f"; open follow-ups {still_open}")


# ----------------------------------------------------------------- the hub and its pages

def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    if found is None:
        raise SystemExit("no CSRF token on the sign-in page")
    return found.group(1)


def ensure_account(engine: Engine, username: str = USERNAME, role: str = "admin") -> None:
    """The bench's account (hub/accounts.py, as `./hallq admin accounts add` makes one)."""
    with engine.begin() as conn:
        if not accounts.verify(conn, username, PASSWORD):
            accounts.add(conn, username, "基准测试", role, None, PASSWORD, "bench",
                         CLOCK.day_start(TODAY))


def sign_in(base_url: str, username: str = USERNAME) -> requests.Session:
    """A browser-like session signed in to the dashboard: the form's CSRF token, then POST."""
    base = base_url.rstrip("/")
    s = requests.Session()
    form = s.get(f"{base}/signin", timeout=10).text
    answer = s.post(f"{base}/signin", timeout=10, allow_redirects=False,
                    data={"username": username, "password": PASSWORD, "next": "/",
                          "csrf_token": csrf_token(form)})
    if answer.status_code != 302:
        raise SystemExit(f"sign-in refused: {answer.status_code}")
    return s


def hub_settings(db: Path, broker: Broker, start_at: datetime) -> HubSettings:
    return HubSettings(hall_id="bench", db_url=f"sqlite:///{db}",
                       mqtt=broker.settings_for(DeviceClass.HUB), http_port=0,
                       start_at=start_at)


def start_hub(settings: HubSettings) -> Hub:
    hub = Hub(settings)
    hub.start()
    if not hub.consumer.wait_connected(10):
        raise SystemExit("the hub did not reach the broker")
    deadline = time.monotonic() + 10
    while hub.feed.snapshot()[1]["queue"] is None:  # its first states published
        if time.monotonic() > deadline:
            raise SystemExit("the hub published no queue state")
        time.sleep(0.02)
    return hub


def page_urls() -> list[str]:
    """The menu's pages, the Excel files and the JSON state; 今日与历史 (when the menu has
    it) also over this month and the year so far (its 本月 and 今年 links), page and Excel."""
    menu = [path for path, _, _ in MENU]
    this_week = monday_of(TODAY)
    urls = [*menu, f"/ranking/{this_week - timedelta(days=7)}.xlsx", f"/ranking/{this_week}.xlsx",
            "/audit.xlsx"]
    if "/history" in menu:
        month = f"from={TODAY.replace(day=1)}&to={TODAY}"
        year = f"from={TODAY.replace(month=1, day=1)}&to={TODAY}"
        urls += [f"/history?{month}", f"/history?{year}", "/history.xlsx",
                 f"/history.xlsx?{year}"]
    return [*urls, "/api/state"]


def fetch_ms(session: requests.Session, url: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    answer = session.get(url, timeout=60, allow_redirects=False)
    size = len(answer.content)
    ms = (time.perf_counter() - t0) * 1000
    if answer.status_code != 200:
        raise SystemExit(f"{url}: HTTP {answer.status_code}")
    return ms, size


class CpuMeter:
    """The machine's CPU busy share and this process's CPU time over a stretch."""

    def __init__(self) -> None:
        self.t0, self.proc0, self.stat0 = time.monotonic(), time.process_time(), self._stat()

    @staticmethod
    def _stat() -> tuple[int, int]:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values) - idle, sum(values)

    def summary(self) -> str:
        busy0, total0 = self.stat0
        busy1, total1 = self._stat()
        wall = time.monotonic() - self.t0
        machine = 100 * (busy1 - busy0) / max(1, total1 - total0)
        own = 100 * (time.process_time() - self.proc0) / wall
        cores = os.cpu_count() or 1
        load = os.getloadavg()
        return (f"CPU over {wall:.0f} s: machine {machine:.0f} % busy of {cores} cores "
                f"(this process {own:.0f} % of one core); load average "
                f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tickets", type=int, default=300_000)
    p.add_argument("--appointments", type=int, default=6_000)
    p.add_argument("--audit", type=int, default=4_000)
    p.add_argument("--db", type=Path, default=None,
                   help="the database file (default var/bench/dashboard-<tickets>.db), kept")
    p.add_argument("--seed", type=int, default=9)
    p.add_argument("--runs", type=int, default=20, help="warm rounds over every page")
    p.add_argument("--rebuild", action="store_true", help="make the database again")
    args = p.parse_args()
    db: Path = args.db or default_db(args.tickets)
    if args.rebuild or not db.exists() or ticket_count(db) != args.tickets:
        build(db, args.tickets, args.appointments, args.audit, args.seed)
    else:
        print(f"reusing {db} ({args.tickets:,} tickets; --rebuild makes it again)")
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)  # the schema of this checkout (the hub would do it too)
    ensure_account(engine)
    with engine.connect() as conn:
        reviewed = conn.scalar(select(func.count()).select_from(reviews))
        rolled_before = rolled_days(conn)
    engine.dispose()
    drop_from_os_cache(db)
    urls = page_urls()
    cold: dict[str, tuple[float, int]] = {}
    warm: dict[str, list[float]] = {url: [] for url in urls}
    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp) / "broker")
        broker.start()
        try:
            t0 = time.perf_counter()
            hub = start_hub(hub_settings(db, broker, NOW))
            started_s = time.perf_counter() - t0
            try:
                t0 = time.perf_counter()
                hub.consumer.run(lambda conn: None, timeout=600)  # after its close at start
                closed_s = time.perf_counter() - t0
                with hub.engine.connect() as conn:
                    rolled_after = rolled_days(conn)
                base = hub.dashboard_url.rstrip("/")
                session = sign_in(base)
                meter = CpuMeter()
                for url in urls:
                    cold[url] = fetch_ms(session, base + url)
                for _ in range(args.runs):
                    for url in urls:
                        warm[url].append(fetch_ms(session, base + url)[0])
                cpu = meter.summary()
            finally:
                hub.stop()
        finally:
            broker.stop()
    print(f"{args.tickets:,} tickets of {YEAR} to {TODAY - timedelta(days=1)} "
          f"({reviewed:,} reviews) in {db.name} ({db.stat().st_size / 2**20:,.0f} MiB); "
          f"hub on it at {NOW:%Y-%m-%d %H:%M} (started in {started_s:.1f} s), signed in as "
          f"admin; requests over HTTP; cold = first fetch after start, file out of the OS "
          f"cache; {args.runs} warm rounds over all pages")
    print(f"days rolled up for 今日与历史: {rolled_before} when the hub started, {rolled_after} "
          f"after its close of the past days at start ({closed_s:.1f} s after it was up)")
    width = max(map(len, urls)) + 1
    worst = 0.0
    for url in urls:
        ms, size = cold[url]
        print(f"{url:<{width}} cold {ms:7.1f} ms  {size / 1024:7.1f} KiB")
    for url in urls:
        report(url, warm[url], width)
        worst = max(worst, max(warm[url]), cold[url][0])
    slowest = max(urls, key=lambda u: max(max(warm[u]), cold[u][0]))
    print(cpu)
    print(f"slowest: {slowest} {worst:.1f} ms (cold or warm max)   target <= 300 ms: "
          f"{'met' if worst <= 300 else 'NOT met'}")


if __name__ == "__main__":
    main()
