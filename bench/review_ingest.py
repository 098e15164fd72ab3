"""Review ingest: 一事一评 reviews per second from the windows' evaluators, and each one's
round trip (issue 8).

    .venv/bin/python bench/review_ingest.py [--reviews 2000] [--windows 4] [--in-flight 20]

Set-up (not timed): a kiosk link takes the tickets, each window's caller link signs in
its A post, opens, and calls and finishes 2 × --reviews / --windows cases of its own
item, one at a time; the case ids come from the hub's `CaseFinished` replies.

Then the reviews, `SubmitReview` as the caller program sends it (CallerCore.review): a
real device link per window (outbox fsync, MQTT QoS 1 to the broker), the hub a separate
process checking the case and committing the review and its provincial outbox row (a bad
one also its follow-up) with SQLite FULL. About 3 % are bad, with a reason. Twice, each
on a half of the cases, from all windows at once:

- one at a time: each window sends its next review when the last is answered (a citizen
  pressing the evaluator; the round trip is the one a person waits for);
- pipelined: each window keeps up to --in-flight reviews unanswered, as fast as its
  device link takes them (the hub's head room).

Prints reviews per second (first send to last reply) and the round trip from `send()` to
the reply (p50, p90, p99). No target is set by the issue: a county hall takes a few
thousand reviews a day.
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import sqlite3
import sys
import threading
import time
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import report  # noqa: E402
from bench.hall import bench_hall, tickets_in_hand  # noqa: E402
from hub.rules import ReviewRules  # noqa: E402
from protocol.link import DeviceLink, PendingReply  # noqa: E402
from protocol.messages import (  # noqa: E402
    CallNext,
    CaseFinished,
    FinishCase,
    Grade,
    OpenWindow,
    ReviewRecorded,
    SignIn,
    SubmitReview,
    TicketCalled,
    WindowChanged,
)
from protocol.topics import DeviceClass  # noqa: E402

# (window, its A post, an item no other of these windows serves): 部门窗口 of the county
# catalogue, so each window calls only its own tickets
WINDOWS = ((5, "S051", "GA_HJQY"), (7, "S071", "BDC_ZYDJ"), (9, "S091", "SW_FPLY"),
           (10, "S101", "MZ_JHDJ"), (11, "S111", "YJS_KBCG"), (12, "S121", "YJS_XSECS"),
           (15, "S151", "ZW_BBCS"), (17, "S171", "ZW_ZCZX"))
PIN = "123456"  # every demo PIN of the county catalogue
GRADES: tuple[Grade, ...] = ("very_satisfied", "satisfied", "basic", "unsatisfied",
                             "very_unsatisfied")
WEIGHTS = (0.72, 0.20, 0.05, 0.02, 0.01)


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def finish_cases(caller: DeviceLink, window: int, staff_no: str, count: int) -> list[int]:
    """Sign in, open, then call and finish `count` cases one at a time: their case ids."""
    for request in (SignIn(request_id=uuid4(), window=window, staff_no=staff_no, pin=PIN),
                    OpenWindow(request_id=uuid4(), window=window)):
        reply = caller.send(request).wait(10)
        assert isinstance(reply, WindowChanged), reply
    ids = []
    for _ in range(count):
        called = caller.send(CallNext(request_id=uuid4(), window=window)).wait(10)
        assert isinstance(called, TicketCalled), called
        done = caller.send(FinishCase(request_id=uuid4(), window=window,
                                      ticket_id=called.ticket.id)).wait(10)
        assert isinstance(done, CaseFinished), done
        ids.append(done.case.id)
    return ids


def send_reviews(links: list[DeviceLink], windows: list[int], case_ids: list[list[int]],
                 in_flight: int, seed: int) -> tuple[float, list[float], list[str]]:
    """Every window sends its cases' reviews at once, up to `in_flight` unanswered each:
    (reviews per second, each round trip in ms, what went wrong)."""
    reasons = ReviewRules().bad_review_reasons
    lat: list[float] = []
    wrong: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(links) + 1)

    def window_sends(link: DeviceLink, window: int, ids: list[int], rng: random.Random) -> None:
        slots = threading.Semaphore(in_flight)
        sent: queue.Queue[tuple[float, PendingReply] | None] = queue.Queue()

        def collect() -> None:  # the hub answers a device's requests in order
            while (item := sent.get()) is not None:
                t0, pending = item
                reply = pending.wait(30)
                ms = (time.perf_counter() - t0) * 1000
                slots.release()
                with lock:
                    lat.append(ms)
                    if not isinstance(reply, ReviewRecorded):
                        wrong.append(repr(reply)[:120])

        collector = threading.Thread(target=collect)
        collector.start()
        start.wait()
        for case_id in ids:
            grade = rng.choices(GRADES, WEIGHTS)[0]
            review = SubmitReview(request_id=uuid4(), window=window, case_id=case_id,
                                  grade=grade,
                                  reason=rng.choice(reasons) if grade in GRADES[3:] else None)
            slots.acquire()
            sent.put((time.perf_counter(), link.send(review)))
        sent.put(None)
        collector.join()

    threads = [threading.Thread(target=window_sends,
                                args=(link, window, ids, random.Random(seed + window)))
               for link, window, ids in zip(links, windows, case_ids, strict=True)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return len(lat) / (time.perf_counter() - t0), lat, wrong


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reviews", type=int, default=2000, help="reviews in each of the two runs")
    p.add_argument("--windows", type=int, default=4, choices=range(1, len(WINDOWS) + 1))
    p.add_argument("--in-flight", type=int, default=20,
                   help="unanswered reviews per window in the pipelined run")
    p.add_argument("--seed", type=int, default=8)
    args = p.parse_args()
    chosen = WINDOWS[:args.windows]
    per_window = -(-args.reviews // args.windows)  # each run: this many from each window
    with bench_hall() as hall:
        kiosk = hall.link(DeviceClass.KIOSK, "kiosk-1")
        callers = [hall.link(DeviceClass.CALLER, f"caller-{w}") for w, _, _ in chosen]
        t0 = time.perf_counter()
        for _, _, service in chosen:
            tickets_in_hand(kiosk, service, 2 * per_window)
        done: dict[int, list[int]] = {}

        def serve(caller: DeviceLink, window: int, staff_no: str) -> None:
            done[window] = finish_cases(caller, window, staff_no, 2 * per_window)

        setup = [threading.Thread(target=serve, args=(c, w, s))
                 for c, (w, s, _) in zip(callers, chosen, strict=True)]
        for t in setup:
            t.start()
        for t in setup:
            t.join()
        windows = [w for w, _, _ in chosen]
        if sorted(done) != windows:
            raise SystemExit("the set-up did not finish every window's cases")
        print(f"set-up: {2 * per_window * len(windows)} tickets taken, called and finished at "
              f"windows {windows} in {time.perf_counter() - t0:.1f} s")
        runs = {"one at a time": (1, [done[w][:per_window] for w in windows]),
                f"{args.in_flight} in flight": (args.in_flight,
                                                [done[w][per_window:] for w in windows])}
        assert hall.hub.proc is not None
        hub_pid = hall.hub.proc.pid
        results, cpu = {}, {}
        for i, (name, (in_flight, ids)) in enumerate(runs.items()):
            hub0, own0, t0 = cpu_s(hub_pid), time.process_time(), time.perf_counter()
            results[name] = send_reviews(callers, windows, ids, in_flight, args.seed + i)
            wall = time.perf_counter() - t0
            cpu[name] = ((cpu_s(hub_pid) - hub0) / wall, (time.process_time() - own0) / wall)
        for link in (kiosk, *callers):
            link.stop()
        db = sqlite3.connect(f"file:{hall.db}?mode=ro", uri=True)
        stored = db.execute("SELECT count(*), sum(grade IN ('unsatisfied', 'very_unsatisfied'))"
                            " FROM reviews").fetchone()
        followups = db.execute("SELECT count(*) FROM review_followups").fetchone()[0]
        db.close()
    print(f"reviews: {per_window * len(windows)} per run from {len(windows)} windows at once "
          f"over MQTT (QoS 1, device link with outbox fsync), hub SQLite FULL, loopback")
    for name, (rate, lat, wrong) in results.items():
        print(f"{name:<14} {rate:6.0f} reviews/s   (CPU: hub {cpu[name][0]:.0%} of a core, "
              f"the windows' links {cpu[name][1]:.0%})")
        report("  round trip", lat, 14)
        if wrong:
            raise SystemExit(f"{name}: {len(wrong)} not recorded, e.g. {wrong[:3]}")
    print(f"stored: {stored[0]} reviews, {stored[1]} bad, {followups} follow-ups opened")
    if stored[0] != 2 * per_window * len(windows) or followups != stored[1]:
        raise SystemExit("the hub did not keep every review once")


if __name__ == "__main__":
    main()
