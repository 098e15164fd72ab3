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
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.figures import report  # noqa: E402
from bench.hall import BenchHall, bench_hall  # noqa: E402
from hub.catalogue import DEFAULT_CATALOGUE, load_catalogue  # noqa: E402
from protocol.link import DeviceLink, StateHandler  # noqa: E402
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


def served(catalogue: Path, posts: list[tuple[int, str]]) -> list[str]:
    """The items (not 一件事) the staffed windows serve: what the kiosks issue."""
    staffed = {w for w, _ in posts}
    loaded = load_catalogue(catalogue)
    items = {s.code for s in loaded.services}
    return sorted({c for w in loaded.windows if w.number in staffed for c in w.services}
                  & items)


def proc_figures(pid: int) -> tuple[float, int, int]:
    """(CPU seconds so far, RSS in kB, open files) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text()
               .splitlines() if line.startswith("VmRSS:"))
    return cpu, rss, len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class Sample:
    at_s: float  # since the start
    hub_cpu: float  # share of one core over the last interval
    hub_rss_kb: int
    hub_files: int
    broker_cpu: float


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


class Day:
    """Kiosks issuing `tickets` evenly over `seconds`, windows serving them all; the hub's
    and the broker's figures sampled every `sample_s`. `window_screen` gets every state the
    windows' device links receive, from their first connection on."""

    def __init__(self, hall: BenchHall, posts: list[tuple[int, str]], items: list[str], *,
                 tickets: int, seconds: float, kiosks: int, seed: int,
                 sample_s: float = 1.0, window_screen: StateHandler | None = None) -> None:
        self.hall, self.posts, self.items = hall, posts, items
        self.tickets, self.seconds, self.sample_s = tickets, seconds, sample_s
        self.rng = random.Random(seed)
        self.timings = Timings()
        self.kiosks = [hall.link(DeviceClass.KIOSK, f"kiosk-{i}", windows=())
                       for i in range(kiosks)]
        self.callers = [hall.link(DeviceClass.CALLER, f"caller-{w}", on_state=window_screen,
                                  windows=(w,)) for w, _ in posts]
        for (window, staff), link in zip(posts, self.callers, strict=True):
            for request in (SignIn(request_id=uuid4(), window=window, staff_no=staff,
                                   pin=PIN), OpenWindow(request_id=uuid4(), window=window)):
                assert isinstance(link.send(request).wait(20), WindowChanged)
        self.issued_all = threading.Event()
        self.finished = 0
        self.reviewed = 0
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.issuing_s = self.total_s = 0.0

    def kiosk_loop(self, link: DeviceLink, n: int, rng: random.Random) -> None:
        gap = self.seconds * len(self.kiosks) / self.tickets
        next_at = time.perf_counter() + rng.uniform(0, gap)
        for _ in range(n):
            time.sleep(max(0.0, next_at - time.perf_counter()))
            next_at += gap
            reply = self.timings.ask(link, "issue", IssueTicket(
                request_id=uuid4(), service=rng.choice(self.items)))
            if isinstance(reply, TicketIssued):
                self.timings.ask(link, "confirm", ConfirmTicket(
                    request_id=uuid4(), ticket_id=reply.ticket.id, how="printed"))

    def window_loop(self, link: DeviceLink, window: int, rng: random.Random) -> None:
        while True:
            called = self.timings.ask(link, "call", CallNext(request_id=uuid4(), window=window))
            if not isinstance(called, TicketCalled):
                with self.lock:
                    if self.issued_all.is_set() and self.finished >= self.tickets:
                        return
                time.sleep(0.3)
                continue
            time.sleep(rng.uniform(0.2, 1.2))
            done = self.timings.ask(link, "finish", FinishCase(
                request_id=uuid4(), window=window, ticket_id=called.ticket.id))
            assert isinstance(done, CaseFinished), done
            with self.lock:
                self.finished += 1
            if rng.random() < REVIEWED:
                got = self.timings.ask(link, "review", SubmitReview(
                    request_id=uuid4(), window=window, case_id=done.case.id,
                    grade=rng.choices(("very_satisfied", "satisfied", "basic"),
                                      (0.75, 0.2, 0.05))[0]))
                if isinstance(got, ReviewRecorded):
                    with self.lock:
                        self.reviewed += 1

    def sampler(self, stop: threading.Event, t0: float) -> None:
        assert self.hall.hub.proc is not None and self.hall.broker.proc is not None
        hub, broker = self.hall.hub.proc.pid, self.hall.broker.proc.pid
        last = (time.perf_counter(), proc_figures(hub)[0], proc_figures(broker)[0])
        while not stop.wait(self.sample_s):
            now, (hub_cpu, rss, files), broker_cpu = (
                time.perf_counter(), proc_figures(hub), proc_figures(broker)[0])
            wall = now - last[0]
            self.samples.append(Sample(now - t0, (hub_cpu - last[1]) / wall, rss, files,
                                       (broker_cpu - last[2]) / wall))
            last = (now, hub_cpu, broker_cpu)

    def play(self) -> None:
        n = len(self.kiosks)
        per_kiosk = [self.tickets // n + (i < self.tickets % n) for i in range(n)]
        stop_sampling = threading.Event()
        t0 = time.perf_counter()
        threading.Thread(target=self.sampler, args=(stop_sampling, t0), daemon=True).start()
        workers = [threading.Thread(target=self.kiosk_loop,
                                    args=(k, c, random.Random(self.rng.random())))
                   for k, c in zip(self.kiosks, per_kiosk, strict=True)]
        windows = [threading.Thread(target=self.window_loop,
                                    args=(link, w, random.Random(self.rng.random())))
                   for link, (w, _) in zip(self.callers, self.posts, strict=True)]
        for t in workers + windows:
            t.start()
        for t in workers:
            t.join()
        self.issuing_s = time.perf_counter() - t0
        self.issued_all.set()
        for t in windows:
            t.join()
        self.total_s = time.perf_counter() - t0
        stop_sampling.set()

    def check(self) -> None:
        """Print the figures and check the end: every ticket finished once, one review per
        reviewed case, no error reply but "nothing to call"."""
        for kind in ("issue", "confirm", "call", "finish", "review"):
            report(kind, self.timings.ms[kind])
        cpu = [s.hub_cpu for s in self.samples]
        rss = [s.hub_rss_kb for s in self.samples]
        print(f"hub CPU: mean {statistics.mean(cpu):.0%} of a core, max {max(cpu):.0%}; "
              f"RSS {min(rss) / 1024:.0f}-{max(rss) / 1024:.0f} MB; open files "
              f"{min(s.hub_files for s in self.samples)}-"
              f"{max(s.hub_files for s in self.samples)}; broker CPU mean "
              f"{statistics.mean(s.broker_cpu for s in self.samples):.0%}")
        errors = {k: v for k, v in self.timings.errors.items() if not k.startswith("call:")}
        print(f"error replies: {dict(self.timings.errors)}")
        db = sqlite3.connect(self.hall.db)
        states = dict(db.execute("SELECT status, count(*) FROM tickets GROUP BY status"))
        reviews = db.execute("SELECT count(*), count(DISTINCT case_id) FROM reviews").fetchone()
        db.close()
        print(f"tickets by status: {states}; reviews {reviews[0]} on {reviews[1]} cases")
        assert states == {"finished": self.tickets}, states
        assert reviews[0] == reviews[1] == self.reviewed, "one review per reviewed case"
        assert not errors, errors

    def close(self) -> None:
        for link in self.kiosks + self.callers:
            link.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--windows", type=int, default=40)
    parser.add_argument("--kiosks", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        catalogue, posts = city_catalogue(Path(tmp), args.windows)
        items = served(catalogue, posts)
        with bench_hall(catalogue=catalogue) as hall:
            day = Day(hall, posts, items, tickets=args.tickets, seconds=args.seconds,
                      kiosks=args.kiosks, seed=args.seed)
            day.play()
            print(f"{args.tickets} tickets from {args.kiosks} kiosks in {day.issuing_s:.1f} s "
                  f"(target {args.seconds:.0f} s); {args.windows} windows finished them all in "
                  f"{day.total_s:.1f} s; {day.reviewed} reviews "
                  f"({day.reviewed / args.tickets:.0%} of cases)")
            day.check()
            day.close()


if __name__ == "__main__":
    main()
