"""SIGKILL the broker again and again while kiosks, callers and evaluators work the hall.

The broker is transport, not a store. A plain QoS 1 publisher and a persistent subscriber
run through the same kills as the hall and measure what the broker alone loses: the
messages it acknowledged and never delivered. The hall's devices keep each request in
their on-disk outbox until the hub answers, and the hub applies a request id once, so
every ticket, confirmation, call, finished case and review is applied exactly once.

Run with Mosquitto's persistence off (its default) and on (autosave every second). The
default run kills the broker 3 times in each; `--run-slow` 50 times.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import pytest

from hallsim.broker import Broker
from hallsim.hub_process import HubProcess
from protocol.errors import ErrorCode
from protocol.link import DeviceLink
from protocol.messages import (
    AnyReply,
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
    TicketConfirmed,
    TicketIssued,
    WindowChanged,
)
from protocol.settings import DeviceSettings
from protocol.topics import DeviceClass
from tests.faults.probes import HubWatch, RawPublisher, RawSubscriber, Resends

HALL = "kills"
KIOSK_SERVICES = ["GA_HJQY", "GA_SFZHL", "RS_SBKSL", "YB_CBDJ", "MZ_DB"]
WINDOWS = {1: "S011", 2: "S021", 5: "S051", 6: "S061"}  # window: staff on duty (PIN 123456)
GRADES = ("very_satisfied", "satisfied", "basic")
REPLY_DEADLINE = 120.0  # seconds one request may wait for its answer before the test fails


@dataclass
class Ledger:
    """Every request the devices sent and the one answer each got."""

    sent: dict[str, Request] = field(default_factory=dict)
    replies: dict[str, AnyReply] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def answered(self) -> int:
        with self.lock:
            return len(self.replies)

    def ask(self, link: DeviceLink, request: Request) -> AnyReply | None:
        """Send through the link (outbox first) and wait for the answer however many broker
        restarts it takes; None, with a failure noted, past REPLY_DEADLINE."""
        rid = str(request.request_id)
        with self.lock:
            self.sent[rid] = request
        pending = link.send(request)
        deadline = time.monotonic() + REPLY_DEADLINE
        while time.monotonic() < deadline:
            reply = pending.wait(1.0, abandon=False)
            if reply is not None:
                with self.lock:
                    self.replies[rid] = reply
                return reply
        with self.lock:
            self.failures.append(f"{link.settings.device_id}: no answer to {request!r}")
        return None


def kiosk_work(link: DeviceLink, ledger: Ledger, stop: threading.Event, rng: random.Random
               ) -> None:
    """Citizens take tickets one after another; each printed ticket is confirmed."""
    while not stop.is_set():
        issued = ledger.ask(link, IssueTicket(request_id=uuid4(),
                                              service=rng.choice(KIOSK_SERVICES)))
        if isinstance(issued, TicketIssued):
            ledger.ask(link, ConfirmTicket(request_id=uuid4(), ticket_id=issued.ticket.id,
                                           how="printed"))
        elif issued is not None:
            ledger.failures.append(f"ticket refused: {issued!r}")
        stop.wait(rng.uniform(0.01, 0.08))


def window_work(window: int, caller: DeviceLink, evaluator: DeviceLink, ledger: Ledger,
                stop: threading.Event, rng: random.Random) -> None:
    """Staff sign in, open, then call, finish, and the citizen reviews at the evaluator."""
    for request in (SignIn(request_id=uuid4(), window=window, staff_no=WINDOWS[window],
                           pin="123456"), OpenWindow(request_id=uuid4(), window=window)):
        answer = ledger.ask(caller, request)
        if not isinstance(answer, WindowChanged):
            ledger.failures.append(f"window {window}: {answer!r}")
            return
    while not stop.is_set():
        called = ledger.ask(caller, CallNext(request_id=uuid4(), window=window))
        if isinstance(called, ErrorReply) and called.code == ErrorCode.QUEUE_EMPTY:
            stop.wait(0.05)
            continue
        if not isinstance(called, TicketCalled):
            ledger.failures.append(f"window {window} call: {called!r}")
            continue
        done = ledger.ask(caller, FinishCase(request_id=uuid4(), window=window,
                                             ticket_id=called.ticket.id))
        if not isinstance(done, CaseFinished):
            ledger.failures.append(f"window {window} finish: {done!r}")
            continue
        review = ledger.ask(evaluator, SubmitReview(request_id=uuid4(), window=window,
                                                    case_id=done.case.id,
                                                    grade=rng.choice(GRADES)))
        if not isinstance(review, ReviewRecorded):
            ledger.failures.append(f"window {window} review: {review!r}")


@dataclass
class Baseline:
    """The broker alone through the same kills."""

    published: int
    acknowledged: int
    delivered: int  # of those acknowledged
    redelivered: int  # delivered more than once (QoS 1 duplicates)

    @property
    def lost(self) -> int:
        return self.acknowledged - self.delivered


def hall_works(ledger: Ledger, answers: int = 10, timeout: float = 60) -> None:
    """Wait until the devices have had `answers` more answers from the hub."""
    deadline = time.monotonic() + timeout
    before = ledger.answered
    while ledger.answered < before + answers:
        assert time.monotonic() < deadline, f"the hall did not work again within {timeout}s"
        time.sleep(0.02)


def run_kills(tmp_path: Path, persistence: bool, kills: int, seed: int,
              resends: Resends, kiosks: int = 3) -> None:
    rng = random.Random(seed)
    broker = Broker(tmp_path / "broker", persistence=persistence)
    broker.start()
    db = tmp_path / "hub.db"
    hub = HubProcess(broker, HALL, db, tmp_path / "hub.log")
    watch = HubWatch(broker, HALL)
    mark = watch.mark()
    hub.start()
    watch.wait("online", mark)
    watch.close()

    def link(device_class: DeviceClass, device_id: str) -> DeviceLink:
        settings = DeviceSettings(hall_id=HALL, device_id=device_id,
                                  mqtt=broker.settings_for(device_class),
                                  data_dir=tmp_path / "devices", resend_after=0.5)
        return DeviceLink(settings, device_class)

    kiosk_links = [link(DeviceClass.KIOSK, f"kiosk-{i}") for i in range(kiosks)]
    callers = {w: link(DeviceClass.CALLER, f"caller-{w}") for w in WINDOWS}
    evaluators = {w: link(DeviceClass.CALLER, f"evaluator-{w}") for w in WINDOWS}
    links = [*kiosk_links, *callers.values(), *evaluators.values()]
    for device in links:
        device.start()
    sub = RawSubscriber(broker, "raw-hall", "raw-hub")
    sub.connect()
    pub = RawPublisher(broker, "raw-hall", "raw-kiosk")

    ledger = Ledger()
    stop = threading.Event()
    workers = [threading.Thread(target=kiosk_work, args=(k, ledger, stop, random.Random(i)))
               for i, k in enumerate(kiosk_links)]
    workers += [threading.Thread(target=window_work,
                                 args=(w, callers[w], evaluators[w], ledger, stop,
                                       random.Random(w)))
                for w in WINDOWS]

    def publish_raw() -> None:
        seq = 0
        while not stop.wait(0.01):
            pub.publish(seq)
            seq += 1

    workers.append(threading.Thread(target=publish_raw))
    started = time.monotonic()
    for t in workers:
        t.start()
    try:
        for _ in range(kills):
            hall_works(ledger)  # kill a working hall, not one still finding its feet
            time.sleep(rng.uniform(0.0, 0.5))
            broker.kill()
            time.sleep(rng.uniform(0.0, 0.5))
            broker.start()
        hall_works(ledger)
    finally:
        stop.set()
        for t in workers:
            t.join(timeout=REPLY_DEADLINE + 10)
        elapsed = time.monotonic() - started
        pub.wait_acknowledged()
        sub.wait_quiet()
        acknowledged = pub.acknowledged()
        baseline = Baseline(len(pub.sent), len(acknowledged),
                            len(acknowledged & set(sub.received)),
                            sum(1 for n in sub.received.values() if n > 1))
        pub.close()
        sub.disconnect()
        outboxes = sum(len(device.outbox) for device in links)
        for device in links:
            device.stop()
        hub.stop()
        broker.stop()
    saved = (tmp_path / "broker" / "data" / "mosquitto.db").exists()
    assert saved == persistence, "the broker kept its state on disk, or not, as configured"
    replays = (tmp_path / "hub.log").read_text().count("replay of ")
    check_hall(db, ledger, outboxes, persistence, kills, elapsed, baseline, resends.count,
               replays)


def check_hall(db: Path, ledger: Ledger, outboxes: int, persistence: bool, kills: int,
               elapsed: float, baseline: Baseline, resends: int, replays: int) -> None:
    """Every request answered, and applied once: the hub's database against the answers."""
    conn = sqlite3.connect(db)
    replies = ledger.replies
    by_kind: Counter[str] = Counter(type(r).__name__ for r in replies.values())
    recorded = Counter(rid for (rid,) in conn.execute("SELECT request_id FROM requests"))
    tickets = {rid: (tid, number, status) for rid, tid, number, status in
               conn.execute("SELECT request_id, id, number, status FROM tickets")}
    calls = Counter(tid for (tid,) in conn.execute(
        "SELECT ticket_id FROM ticket_events WHERE event = 'called'"))
    cases = dict(conn.execute("SELECT id, ticket_id FROM cases").fetchall())
    reviews = dict(conn.execute("SELECT case_id, id FROM reviews").fetchall())

    issued = {rid: r for rid, r in replies.items() if isinstance(r, TicketIssued)}
    called = [r for r in replies.values() if isinstance(r, TicketCalled)]
    finished = [r for r in replies.values() if isinstance(r, CaseFinished)]
    reviewed = [r for r in replies.values() if isinstance(r, ReviewRecorded)]
    confirmed = [r for r in replies.values() if isinstance(r, TicketConfirmed)]
    lost = len(set(ledger.sent) - set(recorded))
    twice = (sum(n - 1 for n in calls.values()) + len(tickets) - len(issued)
             + len(cases) - len(finished) + len(reviews) - len(reviewed))
    print(f"\nbroker persistence {'on' if persistence else 'off'}: {kills} SIGKILLs in "
          f"{elapsed:.0f} s\n"
          f"  broker alone: {baseline.published} published at QoS 1, {baseline.acknowledged} "
          f"acknowledged, {baseline.delivered} delivered, {baseline.lost} lost "
          f"({baseline.redelivered} delivered twice)\n"
          f"  hall: {len(ledger.sent)} requests ({len(issued)} tickets, {len(confirmed)} "
          f"confirmations, {len(called)} calls, {len(finished)} cases finished, "
          f"{len(reviewed)} reviews; {by_kind['ErrorReply']} '当前没有等候的群众'), "
          f"{len(replies)} answered, {lost} lost, {twice} applied twice; "
          f"{resends} resends after a silence (besides each outbox sent again on every "
          f"reconnect), {replays} duplicates answered from the record")

    assert not ledger.failures, ledger.failures[:5]
    assert outboxes == 0, "every outbox empty"
    assert set(replies) == set(ledger.sent), "every request answered"
    assert set(recorded) == set(ledger.sent) and max(recorded.values()) == 1, \
        "every request recorded by the hub, once"
    assert lost == 0 and twice == 0
    for r in replies.values():
        assert not isinstance(r, ErrorReply) or r.code == ErrorCode.QUEUE_EMPTY, r
    # tickets: one per request, the one the kiosk was told, all confirmed
    assert {rid: (r.ticket.id, r.ticket.number) for rid, r in issued.items()} == \
        {rid: (tid, number) for rid, (tid, number, _) in tickets.items()}
    assert len(confirmed) == len(issued)
    assert not [rid for rid, (_, _, status) in tickets.items() if status == "pending"]
    # calls: each called ticket called once, as the caller was told
    assert sorted(calls) == sorted(r.ticket.id for r in called)
    assert set(calls.values()) <= {1}
    # cases and reviews: one per answer, the ones the answers named
    assert cases == {r.case.id: r.ticket.id for r in finished}
    assert reviews == {r.review.case_id: r.review.id for r in reviewed}
    assert len(issued) > 0 and len(called) > 0 and len(reviewed) > 0


@pytest.mark.parametrize("persistence", [False, True], ids=["persistence-off", "persistence-on"])
def test_broker_killed_3_times_while_the_hall_works(
        tmp_path: Path, persistence: bool, resends: Resends) -> None:
    run_kills(tmp_path, persistence, kills=3, seed=3, resends=resends)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("persistence", [False, True], ids=["persistence-off", "persistence-on"])
def test_broker_killed_50_times_while_the_hall_works(
        tmp_path: Path, persistence: bool, resends: Resends) -> None:
    run_kills(tmp_path, persistence, kills=50, seed=50, resends=resends)
