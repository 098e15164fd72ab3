"""A ticket from a kiosk is numbered by the hub, called by a window and shown on the main screen."""

from __future__ import annotations

import threading
from pathlib import Path
from uuid import uuid4

import pytest

from caller_display.main_screen import Call, MainScreen
from hub.app import Hub
from protocol.messages import (
    CaseFinished,
    ErrorReply,
    IssueTicket,
    QueueState,
    TicketCalled,
    TicketIssued,
    WindowState,
)
from protocol.topics import DeviceClass
from tests.e2e.devices import caller, kiosk
from tests.escpos_reader import read_escpos
from tests.helpers import eventually

# On SQLite and PostgreSQL (tests/conftest.py): numbering, calling and replays end to end.
pytestmark = pytest.mark.databases

# From the shipped catalogue: window 5 (公安户政) serves 户口迁移 (GA_HJQY, prefix A).
SERVICE, WINDOW = "GA_HJQY", 5


def test_ticket_is_numbered_called_shown_and_finished(hub: Hub, make_link, tmp_path: Path):
    calls: list[Call] = []
    screen = MainScreen(calls.append)
    make_link(DeviceClass.DISPLAY, "main-screen", on_state=screen.on_state)
    k = kiosk(make_link, tmp_path, hub)
    window = caller(make_link, WINDOW)
    assert isinstance(window.open(), type(window.open()))

    result = k.take_ticket(SERVICE)
    assert result.issued is not None, result
    ticket = result.issued.ticket
    assert ticket.number == "A001"
    assert ticket.service_name == "户口迁移"
    assert result.issued.waiting_before == 0
    printed = read_escpos(k.printer.last)  # type: ignore[attr-defined]
    assert "A001" in printed.big
    assert any("户口迁移" in line for line in printed.lines)
    assert any("前方等待0人" in line for line in printed.lines)

    called = window.call_next()
    assert isinstance(called, TicketCalled)
    assert called.ticket.id == ticket.id and called.window.serving == "A001"
    eventually(lambda: calls, what="the main screen to announce the call")
    assert calls[0].text == f"请A001号到{WINDOW}号窗口办理"
    assert screen.windows[WINDOW].status == "serving"

    finished = window.finish()
    assert isinstance(finished, CaseFinished)
    assert finished.ticket.status == "finished"
    eventually(lambda: screen.windows[WINDOW].status == "open", what="the window to show free")
    q = eventually(lambda: screen.queue if screen.queue and screen.queue.finished == 1 else None,
                   what="queue totals")
    assert (q.issued, q.waiting, q.called, q.finished) == (1, 0, 1, 1)
    assert len(calls) == 1, "finishing is not a call"


def test_numbers_follow_each_prefix_and_wait_counts(hub: Hub, make_link, tmp_path: Path):
    k = kiosk(make_link, tmp_path, hub)
    numbers = [k.take_ticket(s).issued for s in ("GA_HJQY", "GA_SFZHL", "RS_SBKSL", "GA_HJQY")]
    assert [t.ticket.number for t in numbers if t] == ["A001", "A002", "B001", "A003"]
    assert [t.waiting_before for t in numbers if t] == [0, 0, 0, 1]


def test_window_calls_oldest_ticket_of_its_services_only(hub: Hub, make_link, tmp_path: Path):
    k = kiosk(make_link, tmp_path, hub)
    for s in ("RS_SBKSL", "GA_HJQY", "GA_SFZHL"):
        assert k.take_ticket(s).issued
    window = caller(make_link, WINDOW)  # 公安户政: not 社保卡
    window.open()
    first = window.call_next()
    assert isinstance(first, TicketCalled) and first.ticket.number == "A001"
    window.finish()
    second = window.call_next()
    assert isinstance(second, TicketCalled) and second.ticket.number == "A002"
    window.finish()
    empty = window.call_next()
    assert isinstance(empty, ErrorReply) and empty.code == "QUEUE_EMPTY"
    assert empty.message == "当前没有等候的群众"


def test_staff_actions_refused_with_chinese_reason(hub: Hub, make_link, tmp_path: Path):
    window = caller(make_link, WINDOW)
    closed = window.call_next()
    assert isinstance(closed, ErrorReply) and closed.message == "窗口尚未开放，请先开窗"
    kiosk(make_link, tmp_path, hub).take_ticket(SERVICE)
    window.open()
    assert isinstance(window.call_next(), TicketCalled)
    busy = window.call_next()
    assert isinstance(busy, ErrorReply) and busy.code == "WINDOW_BUSY"
    refused_close = window.close()
    assert isinstance(refused_close, ErrorReply) and refused_close.code == "WINDOW_BUSY"


def test_two_windows_calling_at_once_get_different_tickets(hub: Hub, make_link, tmp_path: Path):
    k = kiosk(make_link, tmp_path, hub)
    for _ in range(2):
        assert k.take_ticket(SERVICE).issued
    windows = [caller(make_link, 5), caller(make_link, 6)]  # both 公安户政
    for w in windows:
        w.open()
    replies: list[object] = [None, None]
    go = threading.Barrier(2)

    def press(i: int) -> None:
        go.wait()
        replies[i] = windows[i].call_next()

    threads = [threading.Thread(target=press, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(r, TicketCalled) for r in replies)
    assert {r.ticket.number for r in replies} == {"A001", "A002"}  # type: ignore[union-attr]


def test_same_request_published_twice_gives_one_ticket(hub: Hub, make_link):
    link = make_link(DeviceClass.KIOSK, "kiosk-1")
    request = IssueTicket(request_id=uuid4(), service=SERVICE)
    first = link.send(request).wait(5)
    second = link.send(request).wait(5)  # e.g. a QoS 1 redelivery or a resend
    assert isinstance(first, TicketIssued)
    assert first == second
    with hub.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.scalar(text("SELECT count(*) FROM tickets")) == 1


def test_screen_that_restarts_shows_the_truth_at_once(hub: Hub, make_link, tmp_path: Path):
    kiosk(make_link, tmp_path, hub).take_ticket(SERVICE)
    window = caller(make_link, WINDOW)
    window.open()
    window.call_next()
    calls: list[Call] = []
    screen = MainScreen(calls.append)
    make_link(DeviceClass.DISPLAY, "screen-restarted", on_state=screen.on_state)
    state = eventually(lambda: screen.windows.get(WINDOW), timeout=1.0,
                       what="retained window state within a second")
    assert isinstance(state, WindowState) and state.serving == "A001"
    assert isinstance(screen.queue, QueueState | None)
    assert calls == [], "a screen that starts does not announce old calls again"


def test_main_screen_knows_when_the_hub_is_down(hub: Hub, make_link) -> None:
    screen = MainScreen(lambda call: None)
    make_link(DeviceClass.DISPLAY, "main-screen", on_state=screen.on_state)
    eventually(lambda: screen.hub_online is True, what="the hub's retained online status")
    hub.stop()
    eventually(lambda: screen.hub_online is False, what="offline status after the hub stops")
