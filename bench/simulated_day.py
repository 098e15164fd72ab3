"""A simulated day: 10 windows, a morning peak, accelerated time; waits and the estimate's error.

    .venv/bin/python bench/simulated_day.py [--speed 120] [--seed 1]

The real hub, broker, kiosk and caller cores; the hall's clock runs --speed times
faster than real time from 08:30 of a working day. Citizens arrive on a curve with
a morning peak; each case takes a lognormal time around its service's mean. The
windows call, serve and finish until the queue is empty after 17:30 (late
service). Prints each service's average and p90 wait, and the median absolute
error of the wait estimate the kiosk printed against the real wait (target
<= 3 minutes); asserts every ticket ended once and none was served twice.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from caller_display.caller_core import CallerCore  # noqa: E402
from hallsim.broker import Broker  # noqa: E402
from hub.app import Hub  # noqa: E402
from hub.clock import ShiftedClock  # noqa: E402
from hub.db.schema import ticket_events, tickets  # noqa: E402
from hub.settings import HubSettings  # noqa: E402
from kiosk.core import KioskCore  # noqa: E402
from kiosk.settings import KioskSettings  # noqa: E402
from printing.printers import FilePrinter  # noqa: E402
from protocol.link import DeviceLink  # noqa: E402
from protocol.messages import TicketCalled  # noqa: E402
from protocol.settings import DeviceSettings  # noqa: E402
from protocol.topics import DeviceClass  # noqa: E402

# Citizens per hour across the hall, by hour of the day: the morning peak (a county hall).
ARRIVALS_PER_HOUR = {8: 40, 9: 70, 10: 60, 11: 40, 12: 15, 13: 25, 14: 40, 15: 35, 16: 25, 17: 10}
MEAN_CASE_MINUTES = 7.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--speed", type=float, default=120.0, help="simulated seconds per second")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    rng = random.Random(args.seed)
    speed = args.speed
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
        windows = hub.catalogue.windows[:10]
        services = sorted({c for w in windows for c in w.services})
        mean_case = {s: MEAN_CASE_MINUTES * rng.uniform(0.6, 1.5) for s in services}
        stop = threading.Event()
        estimates: dict[int, int] = {}

        def link(cls: DeviceClass, device: str) -> DeviceLink:
            dl = DeviceLink(DeviceSettings(hall_id="day", device_id=device, data_dir=root,
                                           mqtt=broker.settings_for(cls)), cls)
            dl.start()
            dl.wait_connected(10)
            return dl

        def citizens() -> None:
            kiosk_link = link(DeviceClass.KIOSK, "kiosk-1")
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
                result = kiosk.take_ticket(rng.choice(services))
                if result.issued and result.issued.est_wait_s is not None:
                    estimates[result.issued.ticket.id] = result.issued.est_wait_s
            kiosk_link.stop()

        def staff(number: int, staff_no: str | None) -> None:
            core = CallerCore(link(DeviceClass.CALLER, f"caller-{number}"), number)
            if staff_no:
                core.sign_in(staff_no, "123456")
            core.open()
            while not stop.is_set():
                called = core.call_next()
                if isinstance(called, TicketCalled):
                    minutes = rng.lognormvariate(math.log(mean_case[called.ticket.service]), 0.4)
                    stop.wait(minutes * 60 / speed)
                    core.finish()
                else:
                    stop.wait(30 / speed)  # look again in half a (simulated) minute
            core.close()
            core.link.stop()

        threads = [threading.Thread(target=citizens)] + [
            threading.Thread(target=staff, args=(w.number, w.post_a)) for w in windows]
        for t in threads:
            t.start()
        threads[0].join()  # arrivals end at 18:00 (issuing stopped at 17:30)
        while True:  # late service: serve everyone who came before closing
            with hub.engine.connect() as conn:
                left = conn.scalar(select(func.count()).where(
                    tickets.c.status.in_(("waiting", "called"))))
            if not left:
                break
            time.sleep(0.5)
        stop.set()
        for t in threads[1:]:
            t.join()
        with hub.engine.connect() as conn:
            rows = conn.execute(select(tickets.c.id, tickets.c.service_code, tickets.c.status,
                                       tickets.c.wait_seconds)).all()
            calls: dict[int, int] = dict(conn.execute(
                select(ticket_events.c.ticket_id, func.count())
                .where(ticket_events.c.event == "called")
                .group_by(ticket_events.c.ticket_id)).all())
        ended_at = clock.local(clock.now())
        hub.stop()
        broker.stop()

    statuses = {r.status for r in rows}
    assert statuses <= {"finished"}, f"every ticket served by the end of the day: {statuses}"
    assert all(calls.get(r.id) == 1 for r in rows), "each ticket called exactly once"
    print(f"simulated day 08:30-{ended_at:%H:%M} at {speed:g}x, {len(windows)} windows, "
          f"{len(rows)} tickets, all finished, none served twice")
    names = {s.code: s.name for s in hub.catalogue.all_services()}
    print(f"{'service':<28} {'tickets':>7} {'avg wait':>9} {'p90 wait':>9}")
    for service in sorted({r.service_code for r in rows}):
        waits = [r.wait_seconds / 60 for r in rows if r.service_code == service]
        print(f"{names[service][:14]:<28} {len(waits):>7} {statistics.mean(waits):>7.1f} m "
              f"{percentile(waits, 0.9):>7.1f} m")
    errors = [abs(estimates[r.id] - r.wait_seconds) / 60 for r in rows if r.id in estimates]
    all_waits = [r.wait_seconds / 60 for r in rows]
    print(f"all: avg wait {statistics.mean(all_waits):.1f} min, p90 "
          f"{percentile(all_waits, 0.9):.1f} min")
    print(f"wait estimate vs real wait, {len(errors)} tickets: median absolute error "
          f"{statistics.median(errors):.1f} min, p90 {percentile(errors, 0.9):.1f} min "
          f"(target median <= 3 min)")


if __name__ == "__main__":
    main()
