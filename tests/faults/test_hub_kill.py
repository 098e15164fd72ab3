"""SIGKILL the hub during a burst of ticket requests: nothing duplicated, nothing lost.

Devices keep every request in their outbox until the hub answers it, and the
hub numbers a ticket in the transaction that records the request id, so after
any number of kills every request has exactly one ticket and every prefix's
numbers run 1..n without a gap.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path
from uuid import uuid4

import pytest

from hallsim.broker import Broker
from hallsim.hub_process import HubProcess
from protocol.link import PendingReply
from protocol.messages import IssueTicket, TicketIssued
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.helpers import eventually

SERVICES = ["GA_HJQY", "RS_SBKSL", "YB_CBDJ", "MZ_DB", "GA_SFZHL"]  # prefixes A, B, C, D


def run_burst(broker: Broker, make_link: LinkFactory, hall_id: str, tmp_path: Path,
              total: int, kiosks: int, kills: int, seed: int, pace_s: float = 0.0,
              gap_s: tuple[float, float] = (0.2, 1.2)) -> None:
    """`total` requests from `kiosks` kiosks (one every `pace_s` each, so the requests span
    the kills), the hub SIGKILLed `kills` times, `gap_s` apart (uniform)."""
    rng = random.Random(seed)
    db = tmp_path / "hub.db"
    hub = HubProcess(broker, hall_id, db, tmp_path / "hub.log")
    hub.start()
    links = [make_link(DeviceClass.KIOSK, f"kiosk-{i}", resend_after=0.5) for i in range(kiosks)]
    pending: dict[str, PendingReply] = {}
    lock = threading.Lock()

    def send(i: int) -> None:
        for n in range(total // kiosks):
            req = IssueTicket(request_id=uuid4(), service=SERVICES[(i + n) % len(SERVICES)])
            p = links[i].send(req)
            with lock:
                pending[str(req.request_id)] = p
            if pace_s:
                time.sleep(pace_s)

    senders = [threading.Thread(target=send, args=(i,)) for i in range(kiosks)]
    for t in senders:
        t.start()
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(*gap_s))
            hub.kill()
            integrity = sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0]
            assert integrity == "ok"
            hub.start()
        for t in senders:
            t.join()
        eventually(lambda: sum(len(link.outbox) for link in links) == 0, timeout=120,
                   what="every outbox to empty")
    finally:
        hub.stop()
    assert hub.starts == kills + 1

    replies = {rid: p.wait(10, abandon=False) for rid, p in pending.items()}
    assert all(isinstance(r, TicketIssued) for r in replies.values()), "every request answered"
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT request_id, id, number, prefix, seq FROM tickets").fetchall()
    assert len(rows) == total, "one ticket per request, none lost, none extra"
    by_request = {r[0]: r for r in rows}
    assert len(by_request) == total
    for rid, reply in replies.items():
        assert isinstance(reply, TicketIssued)
        _, tid, number, _, _ = by_request[rid]
        assert (reply.ticket.id, reply.ticket.number) == (tid, number), "acknowledged = stored"
    numbers = Counter(r[2] for r in rows)
    assert max(numbers.values()) == 1, "no duplicate number"
    for prefix in {r[3] for r in rows}:
        seqs = sorted(r[4] for r in rows if r[3] == prefix)
        assert seqs == list(range(1, len(seqs) + 1)), f"prefix {prefix} has a gap"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_hub_killed_during_a_burst_of_2000_loses_and_duplicates_nothing(
        broker: Broker, make_link: LinkFactory, hall_id: str, tmp_path: Path) -> None:
    run_burst(broker, make_link, hall_id, tmp_path, total=2000, kiosks=4, kills=3, seed=3)


@pytest.mark.slow
def test_hub_killed_100_times_while_8_kiosks_send_10000_requests(
        broker: Broker, make_link: LinkFactory, hall_id: str, tmp_path: Path) -> None:
    """Issue 11's figure: the kiosks send for about a minute (8 × one every 45 ms), the
    hub is killed every 0.1–0.9 s meanwhile, at whatever point it is."""
    run_burst(broker, make_link, hall_id, tmp_path, total=10000, kiosks=8, kills=100,
              seed=11, pace_s=0.045, gap_s=(0.1, 0.9))
