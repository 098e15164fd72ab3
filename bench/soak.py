"""Soak (issue 11, "Load"): 30 minutes at 10× a busy hall's rate, then every screen is asked
whether it still shows the truth.

    .venv/bin/python bench/soak.py [--minutes 30] [--per-minute 60] [--windows 20]

A busy county hall issues about 3,000 tickets in a day of 8 hours, 6 a minute; ten times
that is 60 a minute. The traffic is bench/busiest_day.py's (kiosks issuing evenly,
windows calling, serving, finishing, reviews on 60 %), spread over --minutes, with a hall
main screen (caller_display.main_screen.MainScreen on its own device link) following it
all the way, and the dashboard's state read every minute as a manager's browser would.

Sampled every 10 s: the hub's RSS and open files (and CPU). The verdict:

- no growth: the hub's RSS in the last quarter of the run is within 10 MB of the first
  quarter's after warm-up, its open files the same;
- the truth at the end, each screen against the hub's database: the main screen's every
  window (status, number served, call count) and queue figures; the dashboard's windows
  and queue (GET /api/state); a citizen's phone page (/t/<token>.json) of the last ticket;
  and the window screens' own states (each caller's retained window state).

Peers' displays were reported to go stale after days of running; this is the run that
would show it in half an hour.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.busiest_day import Day, city_catalogue, served  # noqa: E402
from bench.hall import BenchHall, bench_hall  # noqa: E402
from caller_display.main_screen import MainScreen  # noqa: E402
from hub import accounts  # noqa: E402
from hub.db.engine import make_engine  # noqa: E402
from hub.ticket_links import load_key  # noqa: E402
from protocol.link import State  # noqa: E402
from protocol.messages import WindowState  # noqa: E402
from protocol.topics import DeviceClass  # noqa: E402

PASSWORD = "Long-run-2026"


def truth(db_path: Path) -> tuple[dict[int, tuple[str, str | None, int]], dict[str, int]]:
    """The hub's database: each window's (status, number served, call count), and the day's
    figures a screen shows."""
    db = sqlite3.connect(db_path)
    windows = {n: (status, number, seq) for n, status, number, seq in db.execute(
        "SELECT w.number, w.status, t.number, w.call_seq FROM windows w "
        "LEFT JOIN tickets t ON t.id = w.serving_ticket_id")}
    counts = dict(db.execute("SELECT status, count(*) FROM tickets GROUP BY status"))
    db.close()
    return windows, {"issued": sum(counts.values()), "waiting": counts.get("waiting", 0),
                     "finished": counts.get("finished", 0)}


def shown(state: WindowState | dict[str, Any]) -> tuple[str, str | None, int]:
    if isinstance(state, WindowState):
        return state.status, state.serving, state.call_seq
    return state["status"], state.get("serving"), state.get("call_seq", 0)


def dashboard(hall: BenchHall) -> requests.Session:
    """A manager's browser, signed in."""
    engine = make_engine(f"sqlite:///{hall.db}")
    with engine.begin() as conn:
        accounts.add(conn, "soak", "测试", "manager", None, PASSWORD, "bench", datetime.now())
    engine.dispose()
    s = requests.Session()
    form = s.get(f"{hall.hub.dashboard_url}/signin", timeout=10).text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = s.post(f"{hall.hub.dashboard_url}/signin", timeout=10, allow_redirects=False,
                    data={"username": "soak", "password": PASSWORD, "next": "/",
                          "csrf_token": token})
    assert signed.status_code == 302, signed.text[:200]
    return s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--per-minute", type=float, default=60)
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--kiosks", type=int, default=4)
    args = parser.parse_args()
    tickets = round(args.minutes * args.per_minute)
    with tempfile.TemporaryDirectory() as tmp:
        catalogue, posts = city_catalogue(Path(tmp), args.windows)
        items = served(catalogue, posts)
        with bench_hall(catalogue=catalogue) as hall:
            screen = MainScreen(announce=lambda call: None, keep=10)

            def on_state(state: State, live: bool) -> None:
                screen.on_state(state, live)

            main_link = hall.link(DeviceClass.DISPLAY, "main-screen", on_state=on_state)
            manager = dashboard(hall)
            window_states: dict[int, WindowState] = {}
            lock = threading.Lock()

            def keep_window(state: State, live: bool) -> None:  # the window screens' view
                if isinstance(state, WindowState):
                    with lock:
                        old = window_states.get(state.window)
                        if old is None or state.updated_at >= old.updated_at:
                            window_states[state.window] = state

            day = Day(hall, posts, items, tickets=tickets, seconds=args.minutes * 60,
                      kiosks=args.kiosks, seed=7, sample_s=10, window_screen=keep_window)
            reads: list[float] = []
            stop = threading.Event()

            def browse() -> None:
                while not stop.wait(60):
                    t0 = time.perf_counter()
                    assert manager.get(f"{hall.hub.dashboard_url}/api/state",
                                       timeout=30).status_code == 200
                    reads.append((time.perf_counter() - t0) * 1000)

            browser = threading.Thread(target=browse, daemon=True)
            browser.start()
            print(f"soak: {tickets} tickets over {args.minutes:.0f} min, {args.windows} windows,"
                  f" {args.kiosks} kiosks", flush=True)
            day.play()
            stop.set()
            time.sleep(2)  # the last states on their way
            print(f"played in {day.total_s / 60:.1f} min; dashboard reads p50 "
                  f"{statistics.median(reads) if reads else 0:.0f} ms")
            day.check()
            verdict(hall, day, screen, manager, window_states)
            main_link.stop()
            day.close()


def verdict(hall: BenchHall, day: Day, screen: MainScreen, manager: requests.Session,
            window_states: dict[int, WindowState]) -> None:
    quarter = max(1, len(day.samples) // 4)
    warm, last = day.samples[1:quarter + 1] or day.samples[:1], day.samples[-quarter:]
    rss_first = max(s.hub_rss_kb for s in warm) / 1024
    rss_last = max(s.hub_rss_kb for s in last) / 1024
    files_first = max(s.hub_files for s in warm)
    files_last = max(s.hub_files for s in last)
    print(f"hub RSS: first quarter max {rss_first:.1f} MB, last quarter max {rss_last:.1f} MB;"
          f" open files {files_first} → {files_last}")
    for s in day.samples[:: max(1, len(day.samples) // 12)]:
        print(f"  {s.at_s / 60:5.1f} min  RSS {s.hub_rss_kb / 1024:6.1f} MB  files "
              f"{s.hub_files:3d}  CPU {s.hub_cpu:4.0%}")
    windows, figures = truth(hall.db)
    state = manager.get(f"{hall.hub.dashboard_url}/api/state", timeout=30).json()
    on_dashboard = {w["window"]: shown(w) for w in state["windows"]}
    on_main = {n: shown(w) for n, w in screen.windows.items()}
    on_windows = {n: shown(w) for n, w in window_states.items()}
    stale = {
        "main screen": {n: (on_main.get(n), t) for n, t in windows.items()
                        if on_main.get(n) != t},
        "dashboard": {n: (on_dashboard.get(n), t) for n, t in windows.items()
                      if on_dashboard.get(n) != t},
        "window screens": {w: (on_windows.get(w), windows[w]) for w, _ in day.posts
                           if on_windows.get(w) != windows[w]},
    }
    queue = screen.queue
    assert queue is not None
    main_figures = {"issued": queue.issued, "waiting": queue.waiting, "finished": queue.finished}
    dash_figures = {k: state["queue"][k] for k in ("issued", "waiting", "finished")}
    last_id = sqlite3.connect(hall.db).execute("SELECT max(id) FROM tickets").fetchone()[0]
    key = load_key(make_engine(f"sqlite:///{hall.db}"), datetime.now())
    phone = requests.get(f"{hall.hub.dashboard_url}/t/{key.token(last_id)}.json",
                         timeout=10).json()
    print(f"the truth: {figures}; main screen {main_figures}; dashboard {dash_figures}; "
          f"phone page of the last ticket: {phone.get('status')}")
    print(f"stale windows: { {k: len(v) for k, v in stale.items()} }")
    assert all(not v for v in stale.values()), stale
    assert main_figures == figures and dash_figures == figures
    assert phone.get("status") == "finished", phone
    assert rss_last <= rss_first + 10, "the hub's memory grew"
    assert files_last <= files_first + 2, "the hub's open files grew"


if __name__ == "__main__":
    main()
