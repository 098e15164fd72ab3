"""A simulated day: 10 windows and 统一出件, a morning peak, accelerated time; the estimate's error.

    .venv/bin/python bench/simulated_day.py [--speed 120] [--seed 1]

The real hub, broker, kiosk and caller cores; the hall's clock runs --speed times
faster than real time from 08:30 of a working day. Citizens arrive on a curve with a
morning peak; the staff are the demo's window robots (hallsim/devices.py SimWindow) on
hall times: one citizen in eight is late and recalled after a minute, a third of those
never come (no-show); a quarter of the cases of the items 统一出件 (window 16) hands
out are sent there after their intake (to collect the result, about 2 minutes: window
16 only hands out here, its items taken off it as a manager would); one case in fifteen
is followed by a pause or a post away of 1-5 minutes. Each case takes a lognormal time
around its service's mean. The windows serve until the queue is empty after 17:30
(late service). Prints each service's average and p90 wait, and the median absolute
error of the wait estimate printed on the ticket against the real wait (issue -> first
call; target <= 3 minutes); asserts every ticket ended finished, no-show or still
waiting, and that its history is one call per stay at a window and one end.
"""

from __future__ import annotations

import argparse
import logging
import math
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench.figures import percentile  # noqa: E402
from hallsim.broker import Broker  # noqa: E402
from hallsim.devices import Pace, SimWindow  # noqa: E402
from hub import hall_state, wait_estimate  # noqa: E402
from hub.app import Hub  # noqa: E402
from hub.clock import ShiftedClock  # noqa: E402
from hub.db.schema import cases, ticket_events, tickets, window_absences  # noqa: E402
from hub.handlers import tickets as ticket_handlers  # noqa: E402
from hub.settings import HubSettings  # noqa: E402
from hub.window_matrix import set_window_services  # noqa: E402
from kiosk.core import KioskCore  # noqa: E402
from kiosk.settings import KioskSettings  # noqa: E402
from printing.printers import FilePrinter  # noqa: E402
from protocol.link import DeviceLink  # noqa: E402
from protocol.messages import Ticket  # noqa: E402
from protocol.settings import DeviceSettings  # noqa: E402
from protocol.topics import DeviceClass  # noqa: E402

# Citizens per hour across the hall, by hour of the day: the morning peak (a county hall).
ARRIVALS_PER_HOUR = {8: 40, 9: 70, 10: 60, 11: 40, 12: 15, 13: 25, 14: 40, 15: 35, 16: 25, 17: 10}
MEAN_CASE_MINUTES = 7.0
HANDING_OUT_MINUTES = 2.0  # at 统一出件, for a case sent on by a front window
LAST_CALL_HOUR = 21  # late service stops here even if someone is still waiting
# A ticket's history: called (recalled…), then sent on and called again or called back
# after a no-show, as often as that happened, and one end: finished or no-show.
HISTORY = re.compile(r"cr*(?:(?:tc|nb)r*)*[fn]")
EVENT_LETTER = {"called": "c", "recalled": "r", "transferred": "t", "no_show": "n",
                "called_back": "b", "finished": "f"}


P = ParamSpec("P")
R = TypeVar("R")



def timed(fn: Callable[P, R], into: list[float]) -> Callable[P, R]:
    """`fn`, appending each call's duration in milliseconds to `into`."""
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            into.append((time.perf_counter() - started) * 1000)
    return wrapper


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--speed", type=float, default=120.0, help="simulated seconds per second")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)  # (补正 notices have no printer here)
    rng = random.Random(args.seed)
    speed: float = args.speed
    on_ticket: list[float] = []  # the estimate's cost in the hub, ms: on each ticket issued
    on_summary: list[float] = []  # … and for each queue summary (every service at once)
    # (the hub runs in this process: its two calls of the estimate, timed)
    ticket_handlers.estimate_for = timed(  # type: ignore[attr-defined]
        wait_estimate.estimate_for, on_ticket)
    hall_state.estimates_now = timed(  # type: ignore[attr-defined]
        wait_estimate.estimates_now, on_summary)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        broker = Broker(root / "broker")
        broker.start()
        clock = ShiftedClock("Asia/Shanghai", datetime(2026, 11, 24, 8, 30), speed=speed)
        hub = Hub(HubSettings(hall_id="day", db_url=f"sqlite:///{root / 'hub.db'}",
                              mqtt=broker.settings_for(DeviceClass.HUB), http_port=0),
                  clock=clock)
        hub.start()
        hub.consumer.wait_connected(10)
        front = hub.catalogue.windows[:10]
        services = sorted({c for w in front for c in w.services})
        issue = next(w for w in hub.catalogue.windows if w.kind == "统一出件")
        windows = [*front, issue] if issue not in front else front
        with hub.engine.begin() as conn:  # 统一出件 calls only the tickets sent to it
            set_window_services(conn, issue.number, [], clock.now())
        mean_case = {s: MEAN_CASE_MINUTES * rng.uniform(0.6, 1.5) for s in services}
        stop = threading.Event()
        estimates: dict[int, int] = {}
        round_trips: list[float] = []  # a kiosk request, in hall seconds

        def case_seconds(ticket: Ticket, window_rng: random.Random) -> float:
            """Real seconds a case takes: its service's time, or handing out a result."""
            minutes = HANDING_OUT_MINUTES if ticket.target_window is not None \
                else mean_case[ticket.service]
            return window_rng.lognormvariate(math.log(minutes), 0.4) * 60 / speed

        def citizens() -> None:
            kiosk_link = DeviceLink(DeviceSettings(
                hall_id="day", device_id="kiosk-1", data_dir=root,
                mqtt=broker.settings_for(DeviceClass.KIOSK)), DeviceClass.KIOSK)
            kiosk_link.start()
            kiosk_link.wait_connected(10)
            kiosk = KioskCore(KioskSettings(hall_id="day", device_id="kiosk-1", data_dir=root),
                              kiosk_link, FilePrinter(root / "tickets.escpos"))
            while not stop.is_set():
                local = clock.local(clock.now())
                rate = ARRIVALS_PER_HOUR.get(local.hour, 0) / 3600  # per simulated second
                if local.hour >= 18:
                    break
                gap = rng.expovariate(rate) if rate else 60.0
                if stop.wait(gap / speed):
                    break
                sent = time.monotonic()
                result = kiosk.take_ticket(rng.choice(services))
                round_trips.append((time.monotonic() - sent) * speed)
                if result.issued and result.issued.est_wait_s is not None:
                    estimates[result.issued.ticket.id] = result.issued.est_wait_s
            kiosk_link.stop()

        hall_pace = Pace(look_again=30 / speed, citizen_late=60 / speed,
                         step_out=(60 / speed, 300 / speed))
        materials = {s.code: s.materials for s in hub.catalogue.all_services()}
        staff = [SimWindow(w.number, "day", broker.settings_for(DeviceClass.CALLER), root,
                           case_seconds, random.Random(rng.random()), materials,
                           (issue.number, set(issue.services)), w.post_a, pace=hall_pace)
                 for w in windows]
        threads = [threading.Thread(target=citizens)] + [
            threading.Thread(target=w.run, args=(stop,)) for w in staff]
        for t in threads:
            t.start()
        threads[0].join()  # arrivals end at 18:00 (issuing stopped at 17:30)
        while clock.local(clock.now()).hour < LAST_CALL_HOUR:  # late service
            with hub.engine.connect() as conn:
                left = conn.scalar(select(func.count()).where(
                    tickets.c.status.in_(("waiting", "called"))))
            if not left:
                break
            time.sleep(0.5)
        stop.set()
        for t in threads[1:]:
            t.join()
        for w in staff:
            w.close()
        with hub.engine.connect() as conn:
            rows = conn.execute(select(tickets.c.id, tickets.c.service_code, tickets.c.status,
                                       tickets.c.wait_seconds)).all()
            history: dict[int, str] = {}
            for tid, event in conn.execute(select(ticket_events.c.ticket_id,
                                                  ticket_events.c.event)
                                           .order_by(ticket_events.c.id)):
                history[tid] = history.get(tid, "") + EVENT_LETTER[event]
            case_of: dict[int, int] = dict(conn.execute(
                select(cases.c.ticket_id, func.count()).group_by(cases.c.ticket_id)).all())
            absences = conn.scalar(select(func.count()).select_from(window_absences))
        ended_at = clock.local(clock.now())
        hub.stop()
        broker.stop()

    by_status = {s: sum(1 for r in rows if r.status == s) for s in ("finished", "no_show",
                                                                     "waiting")}
    assert sum(by_status.values()) == len(rows), \
        f"every ticket finished, no-show or still waiting: {sorted({r.status for r in rows})}"
    for r in rows:
        seen = history.get(r.id, "")
        if r.status == "waiting":  # never called, or sent on and not called again
            assert (seen == "") == (r.wait_seconds is None) and seen[-1:] in ("", "t"), \
                f"ticket {r.id}: waiting, history {seen!r}"
            continue
        assert HISTORY.fullmatch(seen), f"ticket {r.id} history {seen!r}: served twice?"
        assert seen.endswith("f") == (r.status == "finished") == (case_of.get(r.id) == 1), \
            f"ticket {r.id}: {r.status}, {case_of.get(r.id, 0)} case(s), history {seen!r}"
    letters = "".join(history.values())
    print(f"simulated day 08:30-{ended_at:%H:%M} at {speed:g}x, {len(front)} windows and "
          f"{issue.name}; {len(rows)} tickets: {by_status['finished']} finished, "
          f"{by_status['no_show']} no-shows, {by_status['waiting']} still waiting; "
          f"{letters.count('r')} recalls, {letters.count('t')} sent on to 统一出件, "
          f"{absences} pauses or posts away; none served twice")
    names = {s.code: s.name for s in hub.catalogue.all_services()}
    called = [r for r in rows if r.wait_seconds is not None]
    print(f"{'service':<28} {'tickets':>7} {'avg wait':>9} {'p90 wait':>9}")
    for service in sorted({r.service_code for r in called}):
        waits = [r.wait_seconds / 60 for r in called if r.service_code == service]
        print(f"{names[service][:14]:<28} {len(waits):>7} {statistics.mean(waits):>7.1f} m "
              f"{percentile(waits, 0.9):>7.1f} m")
    all_waits = [r.wait_seconds / 60 for r in called]
    print(f"all: avg wait {statistics.mean(all_waits):.1f} min, p90 "
          f"{percentile(all_waits, 0.9):.1f} min")
    print(f"the estimate's cost in the hub: per ticket p50 {percentile(on_ticket, 0.5):.2f} ms, "
          f"p99 {percentile(on_ticket, 0.99):.2f} ms; per queue summary p50 "
          f"{percentile(on_summary, 0.5):.2f} ms, p99 {percentile(on_summary, 0.99):.2f} ms")
    worst = max(range(len(round_trips)), key=round_trips.__getitem__)
    print(f"kiosk request round trip in hall time: p50 {percentile(round_trips, 0.5):.1f} s, "
          f"p99 {percentile(round_trips, 0.99):.1f} s, max {round_trips[worst]:.1f} s "
          f"(request {worst + 1} of {len(round_trips)})")
    signed = [(estimates[r.id] - r.wait_seconds) / 60 for r in called if r.id in estimates]
    errors = [abs(e) for e in signed]
    print(f"wait estimate vs real wait (issue -> first call), {len(errors)} tickets: "
          f"median absolute error {statistics.median(errors):.1f} min, p90 "
          f"{percentile(errors, 0.9):.1f} min (target median <= 3 min); median of "
          f"estimate - real {statistics.median(signed):+.1f} min")


if __name__ == "__main__":
    main()
