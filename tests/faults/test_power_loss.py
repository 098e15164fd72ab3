"""A device loses power: what its outbox took is sent again after the restart, applied once.

The device runs in a process of its own (tests/faults/power_cut_device.py) on the real
DeviceLink and outbox, and dies by SIGKILL: at the very moment it would publish a request
it has just written to its outbox, or once the broker has it but before the hub's answer
arrives. Started again on the same data directory it sends the request again; the hub
applies it once and answers it, whichever of the two cuts it was.

The stream test cuts a kiosk's power at random moments while its citizens take tickets,
3 times by default and 50 times with `--run-slow`.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from hallsim.broker import Broker
from hub.app import Hub
from hub.db.schema import requests, reviews, ticket_events, tickets
from protocol.messages import (
    AnyReply,
    CallNext,
    CaseFinished,
    ErrorReply,
    IssueTicket,
    Request,
    ReviewRecorded,
    SubmitReview,
    TicketCalled,
    TicketIssued,
    parse_reply,
)
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.faults.power_cut_device import ENV
from tests.helpers import eventually

ROOT = Path(__file__).resolve().parents[2]
DEVICE = [sys.executable, "-m", "tests.faults.power_cut_device"]


def device_env(broker: Broker, hall_id: str, device_class: DeviceClass, device_id: str,
               data_dir: Path) -> dict[str, str]:
    mqtt = broker.settings_for(device_class)
    assert mqtt.password is not None
    return {**os.environ, ENV: json.dumps({
        "hall_id": hall_id, "device_class": device_class.value, "device_id": device_id,
        "data_dir": str(data_dir), "port": mqtt.port, "username": mqtt.username,
        "password": mqtt.password.get_secret_value()})}


def run_device(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DEVICE, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def answers(stdout: str) -> list[AnyReply]:
    return [parse_reply(line.split(" ", 1)[1].encode()) for line in stdout.splitlines()
            if line.startswith("answer ")]


def outbox(data_dir: Path, device_id: str) -> list[str]:
    """The request ids in a device's outbox file, as the disk has them."""
    with sqlite3.connect(data_dir / f"{device_id}.outbox.sqlite") as db:
        return [rid for (rid,) in db.execute("SELECT request_id FROM outbox ORDER BY seq")]


def count(hub: Hub, table: object, *where: object) -> int:
    with hub.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def recorded(hub: Hub, request_id: str) -> int:
    return count(hub, requests, requests.c.request_id == request_id)


# ------------------------------------------------------------ one request, one cut

Scene = tuple[DeviceClass, str, Request, type[AnyReply], Callable[[], int]]


def scene(kind: str, hub: Hub, make_link: LinkFactory, tmp_path: Path) -> Scene:
    """(device class, device id, the request, its answer's type, how many times it applied)."""
    if kind == "kiosk":
        return (DeviceClass.KIOSK, "kiosk-9", IssueTicket(request_id=uuid4(), service="GA_HJQY"),
                TicketIssued, lambda: count(hub, tickets))
    kiosk(make_link, tmp_path, hub).take_ticket("GA_HJQY")
    window = caller(make_link, 5)
    assert not isinstance(window.sign_in("S051", "123456"), ErrorReply)
    window.open()
    if kind == "caller":
        window.link.stop()  # the same caller, about to lose its power
        return (DeviceClass.CALLER, "caller-5", CallNext(request_id=uuid4(), window=5),
                TicketCalled, lambda: count(hub, ticket_events, ticket_events.c.event == "called"))
    assert isinstance(window.call_next(), TicketCalled)
    done = window.finish()
    assert isinstance(done, CaseFinished)
    return (DeviceClass.CALLER, "evaluator-5",
            SubmitReview(request_id=uuid4(), window=5, case_id=done.case.id, grade="satisfied"),
            ReviewRecorded, lambda: count(hub, reviews))


@pytest.mark.parametrize(("kind", "cut"), [("kiosk", "cut-before"), ("kiosk", "cut-after"),
                                           ("caller", "cut-before"),
                                           ("evaluator", "cut-before")])
def test_power_cut_after_the_outbox_write_is_sent_again_and_applied_once(
        hub: Hub, broker: Broker, make_link: LinkFactory, tmp_path: Path, kind: str,
        cut: str) -> None:
    device_class, device_id, request, answer_type, applied = scene(kind, hub, make_link,
                                                                   tmp_path)
    rid = str(request.request_id)
    data_dir = tmp_path / "power"
    env = device_env(broker, hub.settings.hall_id, device_class, device_id, data_dir)

    died = run_device(env, cut, request.model_dump_json(), request.ACTION)
    assert died.returncode == -signal.SIGKILL, died.stderr[-2000:]
    assert "power cut" in died.stdout
    assert outbox(data_dir, device_id) == [rid], "the request was on disk before the power went"
    if cut == "cut-before":
        assert recorded(hub, rid) == 0 and applied() == 0, "nothing left the device"
    else:
        eventually(lambda: recorded(hub, rid) == 1, what="the hub to apply what reached it")
        assert applied() == 1, "applied while the device was dead; its answer went nowhere"

    back = run_device(env, "resume")
    assert back.returncode == 0, back.stderr[-2000:]
    [answer] = answers(back.stdout)
    assert isinstance(answer, answer_type) and str(answer.request_id) == rid
    assert outbox(data_dir, device_id) == []
    assert recorded(hub, rid) == 1 and applied() == 1, "applied once"


# ------------------------------------------------------------ power cut at random moments


class Lives:
    """The kiosk process's lives: what each printed before it was killed."""

    def __init__(self) -> None:
        self.lines: list[list[str]] = []

    def sending(self) -> set[str]:
        return {line.split()[1] for life in self.lines for line in life
                if line.startswith("sending ")}

    def sent(self) -> set[str]:
        return {line.split()[1] for life in self.lines for line in life
                if line.startswith("sent ")}

    def cut_before_written(self) -> set[str]:
        """The last request of each life, when the life ended before `send` returned: its
        outbox write may or may not have been committed."""
        out = set()
        for life in self.lines:
            last = [line for line in life if line.startswith(("sending ", "sent "))][-1:]
            if last and last[0].startswith("sending "):
                out.add(last[0].split()[1])
        return out


def live_once(env: dict[str, str], rng: random.Random) -> list[str]:
    """Start the kiosk, let its citizens take a few tickets, cut its power at a random
    moment; what it printed."""
    proc = subprocess.Popen([*DEVICE, "stream", "GA_HJQY"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    working = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.strip())
            if line.startswith("answer "):
                working.set()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert working.wait(30), f"the kiosk never got an answer: {lines}"
        time.sleep(rng.uniform(0.0, 0.6))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        reader.join(10)
    return lines


def run_stream(hub: Hub, broker: Broker, tmp_path: Path, cuts: int, seed: int) -> None:
    rng = random.Random(seed)
    data_dir = tmp_path / "power"
    env = device_env(broker, hub.settings.hall_id, DeviceClass.KIOSK, "kiosk-9", data_dir)
    lives = Lives()
    started = time.monotonic()
    for _ in range(cuts):
        lives.lines.append(live_once(env, rng))
    waiting = len(outbox(data_dir, "kiosk-9"))
    back = run_device(env, "resume")
    assert back.returncode == 0, back.stderr[-2000:]
    elapsed = time.monotonic() - started
    assert outbox(data_dir, "kiosk-9") == []

    with hub.engine.connect() as conn:
        rows = conn.execute(select(tickets.c.request_id, tickets.c.seq)).all()
        answered = conn.scalar(select(func.count()).select_from(requests)) or 0
    applied = {rid for rid, _ in rows}
    sending, sent, unsure = lives.sending(), lives.sent(), lives.cut_before_written()
    never_written = sending - applied
    print(f"\nkiosk power cut {cuts} times: {len(sending)} requests begun, {len(sent)} written "
          f"to the outbox before the kiosk went on, {len(applied)} applied "
          f"({len(applied - sent)} of them written just before a cut), {len(never_written)} "
          f"cut before the outbox write committed; {waiting} waiting on disk at the end, "
          f"all answered by the last start; 0 lost, {len(rows) - len(applied)} applied twice; "
          f"{elapsed:.0f} s")
    assert sent <= applied, "every request the outbox took was applied"
    assert applied <= sending, "and nothing else"
    assert never_written <= unsure, "only a request cut short in its own write is missing"
    assert len(rows) == len(applied) == answered, "each applied and answered once"
    assert sorted(seq for _, seq in rows) == list(range(1, len(rows) + 1)), "no gap, no double"


def test_kiosk_power_cut_3_times_while_citizens_take_tickets(
        hub: Hub, broker: Broker, tmp_path: Path) -> None:
    run_stream(hub, broker, tmp_path, cuts=3, seed=3)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_kiosk_power_cut_50_times_while_citizens_take_tickets(
        hub: Hub, broker: Broker, tmp_path: Path) -> None:
    run_stream(hub, broker, tmp_path, cuts=50, seed=50)

