"""A device's outbox: requests survive the device's and the hub's absence, applied once."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
import wave
from pathlib import Path
from uuid import uuid4

import pytest

from hallsim.broker import Broker
from hub.app import Hub
from hub.settings import HubSettings
from kiosk.core import KioskCore
from kiosk.settings import KioskSettings
from printing.printers import FilePrinter
from protocol import topics
from protocol.link import DeviceLink
from protocol.messages import AnyReply, IssueTicket, TicketIssued
from protocol.settings import DeviceSettings
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.escpos_reader import read_tickets
from tests.helpers import eventually, ticket_count

# On SQLite and PostgreSQL (tests/conftest.py): requests answered once across hub restarts.
pytestmark = pytest.mark.databases


def test_request_written_before_a_power_cut_is_sent_after_restart(
        hub: Hub, broker: Broker, tmp_path: Path) -> None:
    """Power lost between writing the outbox and publishing: sent on restart, applied once."""
    settings = DeviceSettings(hall_id=hub.settings.hall_id, device_id="kiosk-9",
                              mqtt=broker.settings_for(DeviceClass.KIOSK), data_dir=tmp_path)
    request = IssueTicket(request_id=uuid4(), service="GA_HJQY")
    topic = topics.request_topic(settings.hall_id, DeviceClass.KIOSK, "kiosk-9", request.ACTION)
    before = DeviceLink(settings, DeviceClass.KIOSK)
    before.outbox.add(str(request.request_id), topic, request.model_dump_json().encode())
    before.outbox.close()  # never started: the device died here

    late: list[AnyReply] = []
    after = DeviceLink(settings, DeviceClass.KIOSK, on_late_reply=late.append)
    after.start()
    try:
        eventually(lambda: late, what="the answer to the request from before the restart")
        assert isinstance(late[0], TicketIssued) and late[0].ticket.number == "A001"
        assert len(after.outbox) == 0
        # the same request again (say the cut hit after publishing too) changes nothing
        again = after.send(request).wait(5)
        assert again == late[0]
        assert ticket_count(hub.engine) == 1
    finally:
        after.stop()


def test_ticket_taken_while_hub_is_down_prints_when_it_returns(
        hub_settings: HubSettings, make_link: LinkFactory, tmp_path: Path) -> None:
    link = make_link(DeviceClass.KIOSK, "kiosk-1", resend_after=0.3)
    settings = KioskSettings(hall_id=hub_settings.hall_id, device_id="kiosk-1",
                             data_dir=tmp_path)
    printer = FilePrinter(tmp_path / "kiosk.escpos")
    kiosk = KioskCore(settings, link, printer)
    result = kiosk.take_ticket("GA_HJQY", timeout=0.5)
    assert result.pending, "no hub: the screen says it is still waiting"
    assert len(link.outbox) == 1

    hub = Hub(hub_settings)
    hub.start()
    try:
        eventually(lambda: printer.last, timeout=10, what="the late ticket to print")
        printed = read_tickets(printer.path.read_bytes())
        assert len(printed) == 1 and "A001" in printed[0].big
        assert ticket_count(hub.engine) == 1
        eventually(lambda: len(link.outbox) == 0, what="the ticket and its confirmation sent")
    finally:
        hub.stop()


def test_the_outbox_goes_again_as_soon_as_the_hub_is_back(
        hub_settings: HubSettings, make_link: LinkFactory, tmp_path: Path) -> None:
    """A request sent while no hub had ever connected is lost by the broker (no session
    holds it). When the hub comes up, the kiosk sends it again at once, not after its resend
    backoff (here 30 s; up to 10 × `resend_after` after a long outage)."""
    link = make_link(DeviceClass.KIOSK, "kiosk-1", resend_after=30.0)
    settings = KioskSettings(hall_id=hub_settings.hall_id, device_id="kiosk-1",
                             data_dir=tmp_path)
    printer = FilePrinter(tmp_path / "kiosk.escpos")
    kiosk = KioskCore(settings, link, printer)
    assert kiosk.take_ticket("GA_HJQY", timeout=0.5).pending
    hub = Hub(hub_settings)
    hub.start()
    try:
        came_back = time.monotonic()
        eventually(lambda: printer.last, timeout=10, what="the late ticket to print")
        assert time.monotonic() - came_back < 10, "long before the 30 s resend"
        assert ticket_count(hub.engine) == 1
    finally:
        hub.stop()


def test_demo_runs_a_hall_and_prints_a_summary(tmp_path: Path) -> None:
    """`./hallq demo --seconds N --kiosk-screen` issues, calls and finishes tickets, runs the
    kiosk's touch app, a window's program (its screen, mock-pin buttons, evaluator) and the
    main screen off screen, speaks the calls into WAV files, and stops by itself."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = subprocess.run(
        [sys.executable, "-m", "hallsim", "--seconds", "20", "--port", "0", "--per-minute", "60",
         "--workdir", str(tmp_path / "demo"), "--seed", "1", "--kiosk-screen"],
        capture_output=True, text=True, timeout=180, check=True, env=env,
    ).stdout
    assert "管理看板 dashboard: http://127.0.0.1:" in out and "用户名 demo  密码 " in out
    assert "3 个屏幕程序已就绪" in out, "the hall opened once its three screens were up"
    figures = {k: int(v) for k, v in re.findall(r"^(\w+) \w+:\s+(\d+)$", out, re.M)}
    spoken = sorted((tmp_path / "demo" / "announcements").glob("*.wav"))
    assert 0 < len(spoken) <= figures["大屏叫号"], "calls spoken (a newer call of a window " \
        "replaces one not yet said)"
    with wave.open(str(spoken[0])) as first:
        assert first.getnframes() / first.getframerate() > 2.0, "a chime and a call, twice"
    shot = tmp_path / "demo" / "kiosk-screen.png"
    assert f"what it shows: {shot}" in out
    assert shot.stat().st_size > 10_000, "the kiosk app drew its home screen"
    assert figures["语音叫号"] == len(spoken)
    for screen in ("window-1", "main-screen"):  # what the screens showed, saved every 2 s
        assert (tmp_path / "demo" / f"{screen}.png").stat().st_size > 20_000, screen
        log = (tmp_path / "demo" / f"{screen}.log").read_text()
        assert "Traceback" not in log, log[-2000:]
    with sqlite3.connect(tmp_path / "demo" / "hub.db") as db:  # window 1's evaluator was used
        reviews = db.execute("SELECT DISTINCT window_number, channel FROM reviews").fetchall()
    assert reviews == [(1, "window")], "the citizens at the real window reviewed its cases"
    assert figures["取号"] > 0 and figures["已叫号"] > 0 and figures["已办结"] > 0, out
    assert figures["大屏叫号"] == figures["叫号次数"], "each call and recall announced once"
    assert "unanswered requests in outboxes: 0" in out
    booked = re.search(r"^预约 appointments: (.+)$", out, re.M)  # booked at the start
    assert booked is not None and booked[1] != "—", out
    supplement = re.search(r"办结结果 outcomes: .*?补正 (\d+)", out)
    notices = re.search(r"notices printed: (\d+)", out)
    assert notices is not None
    assert int(notices[1]) == (int(supplement[1]) if supplement else 0), \
        "each 补正 case printed its one-time notice at the window"
