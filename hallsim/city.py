"""City mode simulated on this machine: halls that each run their own broker, hub process
and SQLite file, one city service process on PostgreSQL, a day of traffic in accelerated
time, and the links cut on the way (docs/scaling.md).

    .venv/bin/python -m hallsim.city                    # 20 halls, 120x: 7 to 8 minutes
    .venv/bin/python -m hallsim.city --small            # 4 halls, 1200x: under a minute

Every hall's clock shows the same simulated time (HALLQ_HUB_START_AT, _CLOCK_SPEED,
_CLOCK_FROM). People book through each hub's API, cancel, come and show their QR code at
the kiosk, or never come; walk-ins take tickets; window 5 calls, finishes, and most
citizens review (hallsim/city_traffic.py). One person books in halls 0, 1 and 2 and never
comes; another misses bookings in two halls only. On the way: one hall's answers from
the city are lost for a while (it must resend; the city must recognise the batch), the
city service is killed (SIGKILL) and started again, and some halls' links are cut.

At the end it checks that every event of every hall is at the city exactly once, that the
city's bookings and reviews are the halls', that the city bans exactly the people with
three no-shows within half a year and every hall has those bans, that the person who did
not come in three halls is refused a booking in the fourth (and in every hall) and the
near miss is not; and prints its figures: events/s at the city, sync lag, catch-up after
each cut, the city database's size, CPU and memory of the hubs, brokers and the city.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hallsim.broker import Broker, free_port
from hallsim.citizens import citizen
from hallsim.city_meter import Meter, hall_db, last_outbox_id, unsent
from hallsim.city_report import Report, check, city_max_seq, figures
from hallsim.city_traffic import BOOKED_ITEMS, HallRobot, SimClock, api
from hallsim.hub_process import HubProcess
from hallsim.link_cut import CuttableLink, Mode
from hallsim.scratch_db import scratch_database
from protocol.city_sync import SYNC_PATH
from protocol.topics import DeviceClass

log = logging.getLogger(__name__)

DAY = datetime(2026, 11, 24)  # a Tuesday, a working day
REPEAT = citizen(9_000_001)  # misses bookings in halls 0, 1 and 2
NEAR_MISS = citizen(9_000_002)  # misses bookings in two halls only


@dataclass(frozen=True)
class Plan:
    """How big a day: halls, speed, traffic per hall, and whether the links are cut."""

    halls: int = 20
    speed: float = 120.0  # hall seconds per real second
    until: str = "17:30"  # the last slot ends then; walk-ins stop 20 minutes before
    bookings: int = 40  # per hall
    walk_ins: int = 30  # per hall
    cuts: bool = True
    seed: int = 1
    workdir: Path | None = None  # kept after the run when given
    startup_s: float = 60.0  # real seconds the city and the halls may take to start

    @classmethod
    def small(cls) -> Plan:
        """The test's day: four halls, a morning at 1200x."""
        return cls(halls=4, speed=1200.0, until="12:30", bookings=12, walk_ins=6,
                   startup_s=20.0)


@dataclass
class Cut:
    """A link cut: `what` on some halls (None: the city itself) between two real moments."""

    what: str  # "lose_answers", "down", "city_killed"
    halls: list[int]
    start: datetime  # hall time
    seconds: float  # real seconds it lasts
    backlog: int = 0  # events waiting when it ended
    catch_up_s: float | None = None  # from its end until they were all at the city


class CityProcess:
    """`python -m city` configured through its environment, on a fixed port."""

    def __init__(self, db_url: str, halls: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, "HALLQ_CITY_DB_URL": db_url,
                    "HALLQ_CITY_HTTP_PORT": str(self.port), "HALLQ_CITY_THREADS": "8",
                    "HALLQ_CITY_HALLS": json.dumps(halls)}
        self.log_path = log_path
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 60) -> None:
        with self.log_path.open("a") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "city"], env=self.env,
                                         stdout=subprocess.PIPE, stderr=err, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "ready" not in line:
            raise RuntimeError(f"city did not start: {line!r}; see {self.log_path}")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
            self.proc = None


@dataclass
class Hall:
    index: int
    hall_id: str
    db: Path
    broker: Broker
    hub: HubProcess
    link: CuttableLink
    robot: HallRobot | None = None


@dataclass
class Run:
    """Everything one simulation started, for the checks and the figures."""

    plan: Plan
    clock: SimClock
    city: CityProcess
    db_url: str
    key: str
    halls: list[Hall]
    meter: Meter
    cuts: list[Cut] = field(default_factory=list)
    day_real_s: float = 0.0  # from the first action to the end of the drain
    attempts: dict[str, int] = field(default_factory=dict)  # the repeat no-show's, by answer


def simulate(plan: Plan) -> Report:
    """Run the day; the checks' failures (empty: all held) and the figures."""
    with tempfile.TemporaryDirectory(prefix="hallq-city-") as tmp, \
            scratch_database("hallq_city_sim") as db_url:
        workdir = plan.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        run = _start(plan, workdir, db_url)
        try:
            _day(run)
            return Report(failures=check(run), lines=figures(run))
        finally:
            _stop(run)


def _start(plan: Plan, workdir: Path, db_url: str) -> Run:
    key = secrets.token_hex(32)  # the city-wide identity key, as an install hands it out
    ids = [f"h{i:02d}" for i in range(plan.halls)]
    tokens = {h: secrets.token_urlsafe(16) for h in ids}
    city = CityProcess(db_url, {h: hashlib.sha256(t.encode()).hexdigest()
                                for h, t in tokens.items()}, workdir / "city.log")
    meter = Meter()
    # every hall's clock reads the same: 08:15 at `real_from`, a moment after all should be
    # up (the start-up runs on a clock still in the small hours; the robots wait for 08:15)
    real_from = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=plan.startup_s)
    clock = SimClock(DAY.replace(hour=8, minute=15), plan.speed, real_from)
    start = clock.start
    halls = []
    for i, hall_id in enumerate(ids):
        home = workdir / hall_id
        home.mkdir(exist_ok=True)
        broker = Broker(home / "broker")
        link = CuttableLink(city.port)
        hub = HubProcess(broker, hall_id, home / "hub.db", home / "hub.log", start_at=start)
        hub.env.update({
            "HALLQ_HUB_CLOCK_SPEED": str(plan.speed), "HALLQ_HUB_CLOCK_FROM": real_from.isoformat(),
            "HALLQ_HUB_CITY_URL": link.url(SYNC_PATH), "HALLQ_HUB_CITY_TOKEN": tokens[hall_id],
            "HALLQ_HUB_CITY_IDENTITY_KEY": key, "HALLQ_HUB_CITY_POLL_S": "1",
            "HALLQ_HUB_CITY_FIRST_BACKOFF_S": "0.5", "HALLQ_HUB_CITY_MAX_BACKOFF_S": "4",
            "HALLQ_HUB_NO_SHOW_SWEEP_S": str(max(0.5, min(30.0, 600 / plan.speed)))})
        halls.append(Hall(i, hall_id, home / "hub.db", broker, hub, link))

    def start_hall(h: Hall) -> None:
        h.broker.start()
        h.hub.start(timeout=180)

    starting = [threading.Thread(target=start_hall, args=(h,)) for h in halls]
    starting.append(threading.Thread(target=city.start))
    began = time.monotonic()
    for t in starting:
        t.start()
    for t in starting:
        t.join()
    log.info("city and %d halls started in %.1f s", plan.halls, time.monotonic() - began)
    assert city.proc is not None, "the city did not start"
    meter.watch(city.proc.pid, "city")
    rng = random.Random(plan.seed)
    for h in halls:
        assert h.hub.proc is not None and h.broker.proc is not None, f"{h.hall_id} did not start"
        meter.watch(h.broker.proc.pid, "brokers")
        meter.watch(h.hub.proc.pid, "hubs")
        h.robot = HallRobot(h.hall_id, h.hub.dashboard_url,
                            h.broker.settings_for(DeviceClass.KIOSK),
                            h.broker.settings_for(DeviceClass.CALLER), workdir / h.hall_id /
                            "devices", clock, random.Random(rng.random()))
        h.robot.connect()
    return Run(plan, clock, city, db_url, key, halls, meter)


def _stop(run: Run) -> None:
    for h in run.halls:
        if h.robot is not None:
            h.robot.close()
        h.hub.stop()
        h.broker.stop()
        h.link.close()
    run.city.stop()


def _day(run: Run) -> None:
    plan, clock = run.plan, run.clock
    log.info("all %d halls up at %s (hall time)", plan.halls, f"{clock.now():%H:%M}")
    clock.wait_until(clock.start, threading.Event())
    h0 = clock.now()
    until = datetime.combine(DAY.date(), datetime.strptime(plan.until, "%H:%M").time())
    until = min(max(until, h0 + timedelta(hours=4)), DAY.replace(hour=17, minute=30))
    morning = max(h0, DAY.replace(hour=8, minute=30)) + timedelta(minutes=10)
    first = morning + timedelta(minutes=60)
    rng = random.Random(plan.seed + 1)
    pool = [citizen(n) for n in rng.sample(range(1_000_000),
                                           plan.halls * plan.bookings * 2)]
    for h in run.halls:
        assert h.robot is not None
        people = [pool.pop() for _ in range(plan.bookings)]
        h.robot.plan_day(people, first, until, plan.walk_ins)
    # the repeat no-show misses three halls' bookings, the near miss two
    for n, (person, hall) in enumerate([(REPEAT, 0), (REPEAT, 1), (REPEAT, 2),
                                        (NEAR_MISS, 3), (NEAR_MISS, 4)]):
        robot = run.halls[hall % plan.halls].robot
        assert robot is not None
        robot.book_for(person, _slot(first + timedelta(minutes=30 * (n % 3))),
                       BOOKED_ITEMS[0], "miss")
    if plan.cuts:
        run.cuts = _cuts(run, morning, until)
    stop = threading.Event()
    started = time.monotonic()
    for h in run.halls:
        assert h.robot is not None
        h.robot.start(stop)
    cutter = threading.Thread(target=_cut_links, args=(run, stop), daemon=True)
    cutter.start()
    for h in run.halls:
        assert h.robot is not None
        h.robot.join(timeout=max(60.0, (until - clock.now()).total_seconds() / plan.speed
                                 + 120))
    cutter.join(timeout=300)
    _drain(run, until)
    _last_attempts(run)
    _drain(run, until)
    run.day_real_s = time.monotonic() - started


def _slot(at: datetime) -> datetime:
    """The half-hour slot at or after `at`."""
    slot = at.replace(minute=0, second=0, microsecond=0)
    while slot < at:
        slot += timedelta(minutes=30)
    return slot


def _cuts(run: Run, morning: datetime, until: datetime) -> list[Cut]:
    """One hall's answers lost, the city killed, some halls' links down, spread over the day."""
    n = run.plan.halls
    span = until - morning
    slow = 8.0 if run.plan.speed >= 600 else 1.0  # real seconds are what backoff counts
    down = sorted({3 % n, n // 2 + 1} - {0, 1, 2}) if n > 3 else [n - 1]
    return [Cut("lose_answers", [n // 2], morning + span * 0.1, 10.0 if slow == 1 else 3.0),
            Cut("city_killed", [], morning + span * 0.35, 20.0 if slow == 1 else 4.0),
            Cut("down", down, morning + span * 0.55, 60.0 if slow == 1 else 6.0)]


def _cut_links(run: Run, stop: threading.Event) -> None:
    """Make each cut at its hall time, end it after its real seconds, time the catch-up."""
    for cut in run.cuts:
        if not run.clock.wait_until(cut.start, stop):
            return
        log.info("cut: %s %s for %.0f s", cut.what, cut.halls, cut.seconds)
        affected = [run.halls[i] for i in cut.halls] if cut.halls else run.halls
        if cut.what == "city_killed":
            assert run.city.proc is not None
            run.meter.retire(run.city.proc.pid)
            run.city.kill()
        else:
            for h in affected:
                h.link.mode = _mode(cut.what)
        if stop.wait(cut.seconds):
            return
        if cut.what == "city_killed":
            run.city.start()
            assert run.city.proc is not None
            run.meter.watch(run.city.proc.pid, "city")
        else:
            for h in affected:
                h.link.mode = "up"
        ended = time.monotonic()
        marks = {h.hall_id: last_outbox_id(h.db) for h in affected}
        cut.backlog = sum(unsent(h.db, marks[h.hall_id]) for h in affected)
        while not stop.is_set() and any(unsent(h.db, marks[h.hall_id]) for h in affected):
            time.sleep(0.1)
        cut.catch_up_s = time.monotonic() - ended


def _mode(what: str) -> Mode:
    return "lose_answers" if what == "lose_answers" else "down"


def _drain(run: Run, until: datetime) -> None:
    """Wait until every booking's check-in has closed and been marked, every outbox is at
    the city, and every hall has the city's newest blacklist change."""
    clock, deadline = run.clock, time.monotonic() + 180
    closes = until + timedelta(minutes=20)
    run.clock.wait_until(closes, threading.Event())
    while time.monotonic() < deadline:
        if _settled(run):
            return
        time.sleep(0.5)
    raise TimeoutError(f"the halls did not settle by {clock.now():%H:%M} hall time")


def _settled(run: Run) -> bool:
    today = DAY.date().isoformat()
    local = run.clock.now()
    newest = city_max_seq(run.db_url)
    for h in run.halls:
        with hall_db(h.db) as conn:
            open_ = conn.execute("SELECT day, slot_end FROM appointments WHERE status = 'booked'"
                                 " AND day <= ?", (today,)).fetchall()
            cursor = conn.execute("SELECT coalesce(max(city_seq), 0) FROM blacklist").fetchone()[0]
        for _, slot_end in open_:
            ends = datetime.combine(DAY.date(), datetime.strptime(slot_end[:5], "%H:%M").time())
            if ends + timedelta(minutes=15) <= local:
                return False  # its no-show is still to be marked
        if unsent(h.db) or cursor < newest:
            return False
    return True


def _last_attempts(run: Run) -> None:
    """The repeat no-show tries every hall, the fourth first; the near miss one hall."""
    slot = DAY + timedelta(days=1, hours=10)  # tomorrow, a working day: bookable
    order = [run.halls[3 % len(run.halls)]] + [h for h in run.halls if h.index != 3]
    for h in order:
        status, answer = api(h.hub.dashboard_url, "/api/v1/appointments", REPEAT.booking(
            BOOKED_ITEMS[1], slot.date().isoformat(), f"{slot:%H:%M}"))
        code = str(answer.get("code", status))
        run.attempts[code] = run.attempts.get(code, 0) + 1
        if h.index == 3 % len(run.halls):
            run.attempts["fourth hall: " + code] = 1
            print(f"the repeat no-show books in hall {h.hall_id}: HTTP {status} {code} "
                  f"{answer.get('message', '')}")
    other = run.halls[5 % len(run.halls)]
    status, answer = api(other.hub.dashboard_url, "/api/v1/appointments", NEAR_MISS.booking(
        BOOKED_ITEMS[1], slot.date().isoformat(), f"{slot:%H:%M}"))
    run.attempts["near miss: " + str(answer.get("code", status))] = 1


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m hallsim.city", description=__doc__.split(
        "\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="4 halls, 1200x, a morning")
    p.add_argument("--halls", type=int, default=None)
    p.add_argument("--speed", type=float, default=None, help="hall seconds per real second")
    p.add_argument("--bookings", type=int, default=None, help="per hall")
    p.add_argument("--walk-ins", type=int, default=None, help="per hall")
    p.add_argument("--no-cuts", action="store_true", help="links never cut")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--workdir", type=Path, default=None, help="keep logs and databases here")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("hub", "kiosk", "caller_display", "protocol", "printing"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    base = Plan.small() if args.small else Plan()
    plan = Plan(halls=args.halls or base.halls, speed=args.speed or base.speed,
                until=base.until, bookings=args.bookings or base.bookings,
                walk_ins=args.walk_ins if args.walk_ins is not None else base.walk_ins,
                cuts=not args.no_cuts, seed=args.seed, workdir=args.workdir,
                startup_s=base.startup_s)
    report = simulate(plan)
    print("\n".join(report.lines))
    if report.failures:
        print("FAILED:\n  " + "\n  ".join(report.failures))
        raise SystemExit(1)
    print("all checks held")


if __name__ == "__main__":
    main()
