"""A city hall's busiest day in a minute (issue 11, "Load"): 3,000 tickets from 10 kiosks, 40
windows calling and finishing them, reviews on 60 % of the cases, through the real broker
and the hub as its own process.

    .venv/bin/python bench/busiest_day.py [--tickets 3000] [--seconds 60] [--windows 40]

The hall: the county catalogue with windows added up to --windows (综合窗口 serving every
item, each with its own A post; the county's 17 keep theirs). Every device is a real
DeviceLink (on-disk outbox, fsync, QoS 1):

- 10 kiosks issue --tickets in --seconds, evenly, each ticket confirmed as printed, as a
  kiosk does (the number joins the queue only then);
- each window signs in, opens, and loops: call the next ticket; when there is one, serve
  it 0.2-1.2 s, finish, and on 60 % of the cases the citizen presses the evaluator; when
  the queue is empty, try again 0.3 s later. The windows go on until every ticket is
  finished.

Prints the latency (send → reply) of each kind of request (p50, p90, p99), the hub's CPU
(share of one core) and RSS sampled every second, the broker's CPU, and checks the end:
every ticket finished once, one review per reviewed case, no error reply but "nothing to
call". The bench process (50 device links) shares the machine's 2 cores with hub and
broker: the figures are the whole hall on one machine, the hub's head room is its CPU.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import report  # noqa: E402
from bench.hall import BenchHall, bench_hall  # noqa: E402
from hub.catalogue import DEFAULT_CATALOGUE, load_catalogue  # noqa: E402
from protocol.link import DeviceLink  # noqa: E402
from protocol.messages import (  # noqa: E402
    CallNext,
    CaseFinished,
    ConfirmTicket,
    ErrorReply,
    FinishCase,
    IssueTicket,
    OpenWindow,
    Request,
    ReviewRecorded,
    SignIn,
    SubmitReview,
    TicketCalled,
    TicketIssued,
    WindowChanged,
)
from protocol.topics import DeviceClass  # noqa: E402

PIN = "123456"  # every demo PIN of the county catalogue
REVIEWED = 0.60


def city_catalogue(folder: Path, windows: int) -> tuple[Path, list[tuple[int, str]]]:
    """The county catalogue with windows added up to `windows`: (file, [(window, A post)])."""
    county = load_catalogue()
    items = [s.code for s in county.services]
    pin_hash = next(p.pin_hash for p in county.staff)
    text = DEFAULT_CATALOGUE.read_text(encoding="utf-8")
    posts = [(w.number, w.post_a) for w in county.windows if w.post_a]
    for n in range(max(w.number for w in county.windows) + 1, windows + 1):
        staff = f"C{n:03d}"
        text += (f'\n[[staff]]\nnumber = "{staff}"\nname = "综合{n}"\ndepartment = "ZW"\n'
                 f'title = "综合受理"\nphoto = "photos/{staff}.jpg"\npin_hash = "{pin_hash}"\n'
                 f'\n[[windows]]\nnumber = {n}\nname = "{n}号窗口 综合受理"\n'
                 f'kind = "综合窗口"\npost_a = "{staff}"\nservices = {items!r}\n'
                 .replace("'", '"'))
        posts.append((n, staff))
    path = folder / "city_hall.toml"
    path.write_text(text, encoding="utf-8")
    load_catalogue(path)  # checked as the hub will
    return path, posts[:windows]


def proc_figures(pid: int) -> tuple[float, int]:
    """(CPU seconds so far, RSS in kB) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text()
               .splitlines() if line.startswith("VmRSS:"))
    return cpu, rss


class Timings:
    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def ask(self, link: DeviceLink, kind: str, request: Request) -> object:
        t0 = time.perf_counter()
        reply = link.send(request).wait(60)
        ms = (time.perf_counter() - t0) * 1000
        with self.lock:
            self.ms[kind].append(ms)
            if isinstance(reply, ErrorReply) or reply is None:
                self.errors[f"{kind}: {getattr(reply, 'code', 'no reply')}"] += 1
        return reply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--windows", type=int, default=40)
    parser.add_argument("--kiosks", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        catalogue, posts = city_catalogue(Path(tmp), args.windows)
        items = [s.code for s in load_catalogue(catalogue).services]
        with bench_hall(catalogue=catalogue) as hall:
            run(hall, posts, items, args, rng)


def run(hall: BenchHall, posts: list[tuple[int, str]], items: list[str],
        args: argparse.Namespace, rng: random.Random) -> None:
    timings = Timings()
    kiosks = [hall.link(DeviceClass.KIOSK, f"kiosk-{i}") for i in range(args.kiosks)]
    callers = [hall.link(DeviceClass.CALLER, f"caller-{w}") for w, _ in posts]
    for (window, staff), link in zip(posts, callers, strict=True):
        for request in (SignIn(request_id=uuid4(), window=window, staff_no=staff, pin=PIN),
                        OpenWindow(request_id=uuid4(), window=window)):
            assert isinstance(link.send(request).wait(20), WindowChanged)
    assert hall.hub.proc is not None
    hub_pid, broker_pid = hall.hub.proc.pid, hall.broker.proc.pid  # type: ignore[union-attr]
    issued_all = threading.Event()
    finished = [0]
    reviewed = [0]
    count_lock = threading.Lock()
    samples: list[tuple[float, int, float]] = []  # (hub CPU share, hub RSS kB, broker CPU)

    def kiosk_loop(link: DeviceLink, n: int, krng: random.Random) -> None:
        gap = args.seconds * args.kiosks / args.tickets
        next_at = time.perf_counter() + krng.uniform(0, gap)
        for _ in range(n):
            time.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += gap
            reply = timings.ask(link, "issue", IssueTicket(request_id=uuid4(),
                                                            service=krng.choice(items)))
            if isinstance(reply, TicketIssued):
                timings.ask(link, "confirm", ConfirmTicket(
                    request_id=uuid4(), ticket_id=reply.ticket.id, how="printed"))

    def window_loop(link: DeviceLink, window: int, wrng: random.Random) -> None:
        while True:
            called = timings.ask(link, "call", CallNext(request_id=uuid4(), window=window))
            if not isinstance(called, TicketCalled):
                with count_lock:
                    if issued_all.is_set() and finished[0] >= args.tickets:
                        return
                time.sleep(0.3)
                continue
            time.sleep(wrng.uniform(0.2, 1.2))
            done = timings.ask(link, "finish", FinishCase(
                request_id=uuid4(), window=window, ticket_id=called.ticket.id))
            assert isinstance(done, CaseFinished), done
            with count_lock:
                finished[0] += 1
            if wrng.random() < REVIEWED:
                got = timings.ask(link, "review", SubmitReview(
                    request_id=uuid4(), window=window, case_id=done.case.id,
                    grade=wrng.choices(("very_satisfied", "satisfied", "basic"),
                                       (0.75, 0.2, 0.05))[0]))
                if isinstance(got, ReviewRecorded):
                    with count_lock:
                        reviewed[0] += 1

    def sampler(stop: threading.Event) -> None:
        last = (time.perf_counter(), proc_figures(hub_pid)[0], proc_figures(broker_pid)[0])
        while not stop.wait(1.0):
            now, (hub_cpu, hub_rss), (broker_cpu, _) = (
                time.perf_counter(), proc_figures(hub_pid), proc_figures(broker_pid))
            wall = now - last[0]
            samples.append(((hub_cpu - last[1]) / wall, hub_rss, (broker_cpu - last[2]) / wall))
            last = (now, hub_cpu, broker_cpu)

    per_kiosk = [args.tickets // args.kiosks + (i < args.tickets % args.kiosks)
                 for i in range(args.kiosks)]
    stop_sampling = threading.Event()
    threading.Thread(target=sampler, args=(stop_sampling,), daemon=True).start()
    t0 = time.perf_counter()
    workers = [threading.Thread(target=kiosk_loop, args=(k, n, random.Random(rng.random())))
               for k, n in zip(kiosks, per_kiosk, strict=True)]
    windows = [threading.Thread(target=window_loop, args=(c, w, random.Random(rng.random())))
               for c, (w, _) in zip(callers, posts, strict=True)]
    for t in workers + windows:
        t.start()
    for t in workers:
        t.join()
    issuing_s = time.perf_counter() - t0
    issued_all.set()
    for t in windows:
        t.join()
    total_s = time.perf_counter() - t0
    stop_sampling.set()

    print(f"{args.tickets} tickets from {args.kiosks} kiosks in {issuing_s:.1f} s "
          f"(target {args.seconds:.0f} s); {args.windows} windows finished them all in "
          f"{total_s:.1f} s; {reviewed[0]} reviews ({reviewed[0] / args.tickets:.0%} of cases)")
    for kind in ("issue", "confirm", "call", "finish", "review"):
        report(kind, timings.ms[kind])
    cpu = [s[0] for s in samples]
    rss = [s[1] for s in samples]
    print(f"hub CPU: mean {statistics.mean(cpu):.0%} of a core, max {max(cpu):.0%}; "
          f"RSS {min(rss) / 1024:.0f}-{max(rss) / 1024:.0f} MB; "
          f"broker CPU mean {statistics.mean(s[2] for s in samples):.0%}")
    errors = {k: v for k, v in timings.errors.items() if not k.startswith("call:")}
    print(f"error replies: {dict(timings.errors)}")
    db = sqlite3.connect(hall.db)
    states = dict(db.execute("SELECT status, count(*) FROM tickets GROUP BY status"))
    reviews = db.execute("SELECT count(*), count(DISTINCT case_id) FROM reviews").fetchone()
    print(f"tickets by status: {states}; reviews {reviews[0]} on {reviews[1]} cases")
    assert states == {"finished": args.tickets}, states
    assert reviews[0] == reviews[1] == reviewed[0], "one review per reviewed case"
    assert not errors, errors
    for link in kiosks + callers:
        link.stop()


if __name__ == "__main__":
    main()
