"""The hub's disk fills up: the database lives on a small tmpfs of its own, which the test
fills with a file until the kernel says ENOSPC, and empties again.

While it is full the hub keeps running: every screen shows it (kiosk: 暂停取号, window and
hall screens, the dashboard's warning), new work is refused at once with a Chinese reason,
what devices keep for later (a printed ticket's confirmation, a review) waits in their
outboxes, and nothing committed is lost (PRAGMA integrity_check, every number in place).
Once there is room again the hub says so by itself and those requests are applied once.
Needs root (mount); the figures are printed (pytest -s).
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from caller_display.call_board import STORAGE_FULL as HALL_SCREEN_STORAGE_FULL
from caller_display.call_board import banner_text
from caller_display.caller_core import CallerCore
from caller_display.main_screen import MainScreen
from caller_display.window_app import STORAGE_FULL as WINDOW_STORAGE_FULL
from caller_display.window_app import banner_for
from hallsim.broker import Broker
from hallsim.hub_process import WORKING_MORNING, HubProcess
from hub import audit
from hub.app import Hub
from hub.settings import HubSettings
from kiosk.core import KioskCore
from kiosk.settings import KioskSettings
from kiosk.ui import texts
from printing.printers import FilePrinter
from protocol.errors import STORAGE_FULL_STAFF, ZH, ErrorCode, UserError
from protocol.link import DeviceLink, PendingReply, State
from protocol.messages import (
    CaseFinished,
    ConfirmTicket,
    ErrorReply,
    HubStatus,
    IssueTicket,
    TicketCalled,
    TicketConfirmed,
    TicketIssued,
)
from protocol.topics import DeviceClass
from screen_ui.colours import ALERT
from tests.conftest import LinkFactory
from tests.helpers import PASSWORD, csrf_token, eventually, make_account, signed_in_client

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")

DISK_MB = 16
SERVICE = "GA_HJQY"  # A, served at windows 5 and 6
KIOSK_FULL = ZH[ErrorCode.STORAGE_FULL]
PACE_S = 0.01  # between two requests of one kiosk in the bursts


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of DISK_MB for the database alone, unmounted after the test."""
    where = tmp_path / "small-disk"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs",
                              str(where)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], check=True)  # a reader still open


def fill(disk: Path) -> int:
    """Write a file until the file system has no byte left; its size."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for chunk in (1 << 20, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * chunk)
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
    finally:
        os.close(fd)
    return (disk / "filler").stat().st_size


def integrity(db: Path) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(sql).fetchall()


class HubWatch:
    """What a screen's link hears of the hub: its last HubStatus."""

    def __init__(self) -> None:
        self.status: HubStatus | None = None

    def __call__(self, state: State, live: bool) -> None:
        if isinstance(state, HubStatus):
            self.status = state

    @property
    def problem(self) -> str | None:
        return self.status.problem if self.status else None


@pytest.fixture
def hub(small_disk: Path, hub_settings: HubSettings) -> Iterator[Hub]:
    h = Hub(hub_settings.model_copy(update={"db_url": f"sqlite:///{small_disk / 'hub.db'}"}))
    h.start()
    assert h.consumer.wait_connected(10)
    yield h
    h.stop()


@pytest.mark.timeout(120)
def test_a_full_disk_refuses_new_work_shows_it_everywhere_loses_nothing_and_recovers(
        hub: Hub, small_disk: Path, make_link: LinkFactory, tmp_path: Path) -> None:
    db = small_disk / "hub.db"
    hall = hub.settings.hall_id
    kiosk_link = make_link(DeviceClass.KIOSK, "kiosk-1", resend_after=0.5, start=False)
    machine = KioskCore(KioskSettings(hall_id=hall, device_id="kiosk-1",
                                      data_dir=tmp_path / "devices", reply_timeout=3.0),
                        kiosk_link, FilePrinter(tmp_path / "kiosk-1.escpos"))
    kiosk_link.start()
    printing = make_link(DeviceClass.KIOSK, "kiosk-2", resend_after=0.5)  # a ticket in print
    window_link = make_link(DeviceClass.CALLER, "caller-5", resend_after=0.5, start=False)
    window = CallerCore(window_link, 5, reply_timeout=2.0)
    window_link.start()
    window_screen = HubWatch()
    make_link(DeviceClass.CALLER, "caller-6", on_state=window_screen)  # the window's screen
    hall_screen = MainScreen(announce=lambda call: None)
    make_link(DeviceClass.DISPLAY, "display-1", on_state=hall_screen.on_state)
    assert kiosk_link.wait_connected(10) and window_link.wait_connected(10)
    dashboard = signed_in_client(hub)  # signed in before, as a manager on duty would be
    desk = signed_in_client(hub, "wang", "guide")  # the guide desk, where citizens are sent
    make_account(hub.engine, "zhao", "manager")  # signs in while the disk is full

    # Before: three tickets in hand, one more printing (numbered, not yet confirmed), one
    # case finished at window 5 whose review is still to come.
    for n in ("A001", "A002", "A003"):
        got = machine.take_ticket(SERVICE).issued
        assert got is not None and got.ticket.number == n
    in_print = printing.send(IssueTicket(request_id=uuid4(), service=SERVICE)).wait(5)
    assert isinstance(in_print, TicketIssued) and in_print.ticket.number == "A004"
    assert not isinstance(window.sign_in("S051", "123456"), ErrorReply)
    window.open()
    called = window.call_next()
    assert isinstance(called, TicketCalled) and called.ticket.number == "A001"
    finished = window.finish()
    assert isinstance(finished, CaseFinished)
    eventually(lambda: kiosk_link.outbox.pending() == [], what="the confirmations in")
    before = rows(db, "SELECT id, number, status FROM tickets ORDER BY id")
    eventually(lambda: machine.hub_problem is None and hall_screen.hub_online, what="online")

    filled = fill(small_disk)
    full_at = time.monotonic()

    # a citizen at the kiosk: refused at once, sent to the guide desk
    taken_after_fill = 0
    for _ in range(200):  # the WAL may still have room for a few: until the disk says no
        tapped = time.monotonic()
        result = machine.take_ticket(SERVICE)
        answered_s = time.monotonic() - tapped
        if result.error is not None:
            break
        assert result.issued is not None
        taken_after_fill += 1
    else:
        pytest.fail("the full disk never refused a ticket")
    assert result.error.code == ErrorCode.STORAGE_FULL and result.error.message == KIOSK_FULL
    assert answered_s < 2.0, f"answered after {answered_s:.2f} s"

    # every screen says so
    eventually(lambda: machine.hub_problem == "storage_full", what="the kiosk to hear it")
    assert machine.hub_online
    assert texts.banners(machine.hub_online, machine.hub_problem,
                         machine.printing_offered) == [texts.STORAGE_FULL]
    eventually(lambda: window_screen.problem == "storage_full" and hall_screen.hub_problem,
               what="the window and hall screens to hear it")
    assert banner_for(True, window_screen.problem, False) == (WINDOW_STORAGE_FULL, ALERT)
    assert banner_text(hall_screen.hub_online, hall_screen.hub_problem, True) \
        == HALL_SCREEN_STORAGE_FULL
    page = dashboard.get("/").get_data(as_text=True)
    assert "服务器存储空间不足" in page and "有空间后自动恢复" in page
    signed_in_at = hub.web.test_client()
    form = signed_in_at.get("/signin").get_data(as_text=True)
    answer = signed_in_at.post("/signin", data={"username": "zhao", "password": PASSWORD,
                                                "next": "/", "csrf_token": csrf_token(form)})
    assert answer.status_code == 302, "a manager can still sign in and read the warning"

    # the citizen at window 5 presses the evaluator: kept in the window's outbox
    assert window.review("satisfied") is None and len(window_link.outbox) == 1

    # staff: refused, in words for staff; the guide desk too
    refused = window.call_next()
    assert isinstance(refused, ErrorReply) and refused.code == ErrorCode.STORAGE_FULL
    assert refused.message == STORAGE_FULL_STAFF
    page = desk.get("/desk").get_data(as_text=True)
    request_id = re.search(r'name="request_id" value="([^"]+)"', page)
    assert request_id is not None
    refused_page = desk.post("/desk/ticket", data={
        "csrf_token": csrf_token(page), "request_id": request_id.group(1), "service": SERVICE})
    assert refused_page.status_code == 400
    assert f"未取号：{STORAGE_FULL_STAFF}" in refused_page.get_data(as_text=True)
    with pytest.raises(UserError) as job_refused:  # an edit on the dashboard, 2 MB of it
        hub.consumer.run(lambda conn: audit.record(conn, hub.clock.now(), "manager", "test",
                                                   "big", None, {"text": "字" * 700_000}))
    assert job_refused.value.code == ErrorCode.STORAGE_FULL

    # what devices keep for later: the ticket that finished printing (and the review, above)
    confirm = printing.send(ConfirmTicket(request_id=uuid4(), ticket_id=in_print.ticket.id,
                                          how="printed"))
    assert confirm.wait(1.0, abandon=False) is None
    assert len(window_link.outbox) == 1 and len(printing.outbox) == 1

    # nothing committed is lost
    assert integrity(db) == "ok"
    assert rows(db, "SELECT id, number, status FROM tickets ORDER BY id")[:len(before)] == before
    assert len(rows(db, "SELECT id FROM tickets")) == len(before) + taken_after_fill
    full_for = time.monotonic() - full_at

    # room again
    (small_disk / "filler").unlink()
    freed_at = time.monotonic()
    eventually(lambda: machine.hub_problem is None, timeout=10, what="the hub to say it is well")
    back_s = time.monotonic() - freed_at
    assert texts.banners(machine.hub_online, machine.hub_problem, machine.printing_offered) == []
    eventually(lambda: window_screen.problem is None and hall_screen.hub_problem is None,
               what="the screens to clear")
    assert "服务器存储空间不足" not in dashboard.get("/").get_data(as_text=True)
    eventually(lambda: len(window_link.outbox) == 0 and len(printing.outbox) == 0, timeout=15,
               what="the kept requests to go")
    drained_s = time.monotonic() - freed_at
    assert isinstance(confirm.wait(1.0), TicketConfirmed)
    reviews = rows(db, f"SELECT grade FROM reviews WHERE case_id = {finished.case.id}")
    assert reviews == [("satisfied",)], "the review pressed while full, applied once"
    assert rows(db, f"SELECT status, handed_over FROM tickets WHERE id = {in_print.ticket.id}") \
        == [("waiting", "printed")], "the ticket printed while full joined the queue"
    after = machine.take_ticket(SERVICE).issued
    assert after is not None
    numbers = [n for (n,) in rows(db, "SELECT number FROM tickets WHERE prefix = 'A' ORDER BY seq")]
    assert numbers == [f"A{i:03d}" for i in range(1, len(numbers) + 1)], "no gap, no repeat"
    assert after.ticket.number == numbers[-1]
    again = window.call_next()
    assert isinstance(again, TicketCalled) and again.ticket.number == "A002"
    assert integrity(db) == "ok"
    print(f"\n[disk full] tmpfs {DISK_MB} MiB, filler {filled / 2**20:.1f} MiB; tickets taken "
          f"after the fill before the first refusal: {taken_after_fill}; refusal answered in "
          f"{answered_s * 1000:.0f} ms; full for {full_for:.1f} s; hub well again "
          f"{back_s:.2f} s after the filler went; kept requests applied {drained_s:.2f} s "
          f"after; integrity ok")


def burst(hub: HubProcess, db: Path, disk: Path, make_link: LinkFactory, total: int,
          cycles: int) -> dict[str, float]:
    """`total` IssueTickets from two kiosks, one every PACE_S each, while the disk fills
    `cycles` times: each time the hub is killed (SIGKILL) while full, started again on the
    full disk, then the filler goes. Every answer is a ticket on record or a STORAGE_FULL
    refusal, nothing is lost or doubled, the numbers run without a gap."""
    links = [make_link(DeviceClass.KIOSK, f"kiosk-{i}", resend_after=0.5) for i in range(2)]
    screen = HubWatch()
    make_link(DeviceClass.DISPLAY, "display-1", on_state=screen)
    pending: dict[str, PendingReply] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def send(link: DeviceLink) -> None:
        for _ in range(total // len(links)):
            request = IssueTicket(request_id=uuid4(), service=SERVICE)
            with lock:
                pending[str(request.request_id)] = link.send(request)
            stop.wait(PACE_S)

    def refusals() -> int:
        with lock:
            answers = [p.wait(0, abandon=False) for p in pending.values()]
        return sum(isinstance(a, ErrorReply) for a in answers)

    senders = [threading.Thread(target=send, args=(link,)) for link in links]
    started = time.monotonic()
    for t in senders:
        t.start()
    figures: dict[str, float] = {"restarts_while_full": 0, "full_s": 0.0}
    try:
        for _ in range(cycles):
            stop.wait(1.0)
            refused_before = refusals()
            fill(disk)
            full_at = time.monotonic()
            eventually(lambda: refusals() > refused_before, timeout=20,  # noqa: B023
                       what="a refusal")
            hub.kill()
            assert integrity(db) == "ok"
            hub.start()  # on the full disk: it comes up and says so
            figures["restarts_while_full"] += 1
            eventually(lambda: screen.problem == "storage_full", what="the restarted hub's word")
            stop.wait(0.5)
            (disk / "filler").unlink()
            figures["full_s"] += time.monotonic() - full_at
            eventually(lambda: screen.status is not None and screen.status.status == "online"
                       and screen.problem is None, what="the hub well again")
        for t in senders:
            t.join(timeout=300)
        eventually(lambda: all(len(link.outbox) == 0 for link in links), timeout=60,
                   what="every outbox to empty")
    finally:
        stop.set()
    figures["seconds"] = round(time.monotonic() - started, 1)
    answers = {rid: p.wait(5, abandon=False) for rid, p in pending.items()}
    issued = {rid: a for rid, a in answers.items() if isinstance(a, TicketIssued)}
    refused = [a for a in answers.values() if isinstance(a, ErrorReply)]
    assert len(issued) + len(refused) == total, "every request answered"
    assert {a.code for a in refused} == {ErrorCode.STORAGE_FULL}
    stored = {r[0]: r for r in rows(db, "SELECT request_id, id, number, seq FROM tickets")}
    assert len(stored) == len(issued), "a ticket for every one issued, none for a refusal"
    for rid, reply in issued.items():
        assert (stored[rid][1], stored[rid][2]) == (reply.ticket.id, reply.ticket.number)
    assert max(Counter(r[2] for r in stored.values()).values()) == 1, "no number twice"
    assert sorted(r[3] for r in stored.values()) == list(range(1, len(stored) + 1)), "no gap"
    assert integrity(db) == "ok"
    figures.update(issued=len(issued), refused=len(refused), full_s=round(figures["full_s"], 1))
    return figures


@pytest.mark.parametrize(("total", "cycles"), [
    pytest.param(600, 1, marks=pytest.mark.timeout(180), id="a-burst-a-kill-a-start-while-full"),
    pytest.param(4000, 6, marks=[pytest.mark.slow, pytest.mark.timeout(600)],
                 id="a-long-burst-through-six-full-disks-with-kills"),
])
def test_bursts_through_full_disks(broker: Broker, hall_id: str, small_disk: Path,
                                   make_link: LinkFactory, tmp_path: Path, total: int,
                                   cycles: int) -> None:
    db = small_disk / "hub.db"
    hub = HubProcess(broker, hall_id, db, tmp_path / "hub.log", start_at=WORKING_MORNING)
    hub.start()
    try:
        figures = burst(hub, db, small_disk, make_link, total=total, cycles=cycles)
    finally:
        hub.stop()
    print(f"\n[disk full, {total} requests, {cycles} full disks] {figures}")
    assert figures["refused"] > 0 and figures["issued"] > 0
