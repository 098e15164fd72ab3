"""The ticket on the citizen's phone (/t/<token>), over a real hub, broker and kiosk.

Tickets come from a real kiosk core through the broker; windows call them through real
callers. The page is read with Flask's test client on the hub's own web app.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from flask.testing import FlaskClient

from hub.app import Hub
from hub.ticket_links import MAC_BYTES, MAC_CHARS, TicketKey, track_url
from kiosk.core import KioskCore
from protocol.messages import (
    IssuePriorityTicket,
    IssueTicket,
    TicketCalled,
    TicketIssued,
    TicketTransferred,
    TicketVoided,
    VoidTicket,
)
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.escpos_reader import read_escpos
from tests.helpers import eventually

SERVICE, OTHER, WINDOW = "GA_HJQY", "RS_SBKSL", 5  # 户口迁移 (A) at window 5; 社保卡 (B)
KEY = TicketKey(bytes(range(32)))


def token_of(issued: TicketIssued) -> str:
    assert issued.track_url is not None
    return issued.track_url.rsplit("/t/", 1)[1]


def take(k: KioskCore, service: str = SERVICE) -> TicketIssued:
    issued = k.take_ticket(service).issued
    assert issued is not None
    return issued


def state(client: FlaskClient, issued: TicketIssued) -> dict[str, Any]:
    reply = client.get(f"/t/{token_of(issued)}.json")
    assert reply.status_code == 200, reply.data
    doc: dict[str, Any] = reply.get_json()
    return doc


def once(client: FlaskClient, issued: TicketIssued, **expected: object) -> dict[str, Any]:
    """The ticket's JSON once it shows `expected` (a kiosk confirms just after printing)."""
    def shows() -> dict[str, Any] | None:
        doc = state(client, issued)
        return doc if all(doc[k] == v for k, v in expected.items()) else None
    found: dict[str, Any] = eventually(shows, what=f"{issued.ticket.number} to show {expected}")
    return found


@pytest.fixture
def client(hub: Hub) -> FlaskClient:
    return hub.web.test_client()


# ------------------------------------------------------------ the token


def test_token_is_signed_and_carries_the_id() -> None:
    token = KEY.token(1234)

    assert re.fullmatch(r"[A-Za-z0-9_-]{22}1234", token)
    mac = hmac.new(bytes(range(32)), b"1234", hashlib.sha256).digest()[:MAC_BYTES]
    assert token[:MAC_CHARS] == base64.urlsafe_b64encode(mac).decode().rstrip("="), "RFC 2104"
    long_key = bytes(100)  # longer than SHA-256's block: hashed first, as RFC 2104 says
    mac = hmac.new(long_key, b"7", hashlib.sha256).digest()[:MAC_BYTES]
    assert TicketKey(long_key).token(7) == base64.urlsafe_b64encode(mac).decode()[:22] + "7"
    assert KEY.ticket_of(token) == 1234
    assert TicketKey(bytes(32)).ticket_of(token) is None, "another hall's key"
    assert KEY.ticket_of(token[:MAC_CHARS] + "1235") is None, "another ticket's id"
    flipped = ("A" if token[0] != "A" else "B") + token[1:]
    assert KEY.ticket_of(flipped) is None
    for bad in ("", "1234", token + "x", token[:-4], token[:MAC_CHARS] + "0", token + "/"):
        assert KEY.ticket_of(bad) is None, bad
    assert track_url("http://192.168.1.10:8080/", token) == f"http://192.168.1.10:8080/t/{token}"


def test_issued_ticket_links_to_its_page_and_prints_it(hub: Hub, make_link: LinkFactory,
                                                      tmp_path: Path) -> None:
    k = kiosk(make_link, tmp_path, hub)

    issued = take(k)

    assert issued.track_url == f"{hub.ticket_base_url.rstrip('/')}/t/{token_of(issued)}"
    assert hub.ticket_pages.key.ticket_of(token_of(issued)) == issued.ticket.id
    printed = read_escpos(k.printer.last)  # type: ignore[attr-defined]
    assert printed.qr == [issued.track_url]


def test_public_url_is_what_tickets_link_to(hub_settings: Any, make_link: LinkFactory,
                                           tmp_path: Path) -> None:
    hub = Hub(hub_settings.model_copy(update={"public_url": "http://192.168.1.10:8080"}))
    hub.start()
    try:
        assert hub.consumer.wait_connected(10)
        issued = take(kiosk(make_link, tmp_path, hub))
        assert issued.track_url is not None
        assert issued.track_url.startswith("http://192.168.1.10:8080/t/")
    finally:
        hub.stop()


# ------------------------------------------------------------ where the ticket stands


def test_position_and_window_follow_the_calls(hub: Hub, make_link: LinkFactory,
                                              tmp_path: Path, client: FlaskClient) -> None:
    k = kiosk(make_link, tmp_path, hub)
    first, second = take(k), take(k)  # A001, A002
    other = take(k, OTHER)  # B001: another item's line
    unconfirmed = make_link(DeviceClass.KIOSK, "kiosk-2").send(
        IssueTicket(request_id=uuid4(), service=SERVICE)).wait(5)  # A003, never handed over
    assert isinstance(unconfirmed, TicketIssued) and unconfirmed.ticket.status == "pending"
    third, mine = take(k), take(k)  # A004, A005

    doc = once(client, mine, status="waiting")
    assert (doc["number"], doc["service_name"], doc["status_zh"]) == ("A005", "户口迁移", "等候中")
    assert (doc["ahead"], doc["ahead_zh"]) == (3, "前方等待3人"), "A001, A002, A004"
    assert doc["wait_s"] is None and doc["wait_zh"] == "暂无窗口办理该事项，无法预计"
    assert doc["alert"] == "near" and "前方还有3人" in doc["alert_zh"]
    assert re.fullmatch(r"\d\d:\d\d:\d\d", doc["updated_at"])
    assert once(client, first, status="waiting")["ahead"] == 0
    assert once(client, other, status="waiting")["ahead"] == 0
    # (A003's own page is not opened here: opening it on a phone is taking the ticket,
    # see tests/e2e/test_no_ghost_tickets.py)

    guide = make_link(DeviceClass.GUIDE, "guide-desk")
    elder = guide.send(IssuePriorityTicket(request_id=uuid4(), service=SERVICE,
                                           group="elderly")).wait(5)  # A006, called first
    assert isinstance(elder, TicketIssued)
    assert state(client, mine)["ahead"] == 4
    assert state(client, elder)["ahead"] == 0 and state(client, elder)["priority"] is True

    window = caller(make_link, WINDOW)
    window.open()
    doc = state(client, mine)
    assert doc["ahead"] == 4 and doc["wait_s"] is not None and doc["wait_s"] > 0
    assert doc["wait_zh"].startswith("预计") and doc["wait_zh"].endswith("分钟")
    seen = []
    for expected in (elder, first, second, third):
        called = window.call_next()
        assert isinstance(called, TicketCalled) and called.ticket.id == expected.ticket.id
        seen.append(state(client, mine)["ahead"])
        window.finish()
    assert seen == [3, 2, 1, 0], "each call moves A005 up; A003 (pending) never counts"
    assert state(client, mine)["alert_zh"] == "下一位就是您"

    called = window.call_next()
    assert isinstance(called, TicketCalled) and called.ticket.id == mine.ticket.id
    doc = state(client, mine)
    assert (doc["status"], doc["window"], doc["status_zh"]) == ("called", WINDOW, "请到5号窗口办理")
    assert (doc["alert"], doc["alert_zh"]) == ("called", "轮到您了，请到5号窗口办理")
    assert doc["ahead"] is None and doc["final"] is False

    window.finish()
    doc = state(client, mine)
    assert (doc["status_zh"], doc["final"], doc["alert"]) == ("已办结", True, None)
    assert state(client, other)["ahead"] == 0, "B001 waits in its own line"


def test_ticket_sent_on_to_a_window_waits_in_that_windows_line(
        hub: Hub, make_link: LinkFactory, tmp_path: Path, client: FlaskClient) -> None:
    k = kiosk(make_link, tmp_path, hub)
    first, second = take(k, "SC_GSDJ"), take(k, "SC_GSDJ")  # E001, E002 公司设立登记, window 3
    once(client, second, status="waiting")
    front, issue = caller(make_link, 3), caller(make_link, 16)  # 16号 统一出件
    front.open()
    issue.open()
    assert isinstance(front.call_next(), TicketCalled)
    assert isinstance(issue.call_next(), TicketCalled), "16 serves 公司设立 too: E002"

    assert isinstance(front.transfer(to_window=16), TicketTransferred)
    doc = state(client, first)
    assert (doc["status_zh"], doc["ahead"]) == ("等候中", 0)
    assert doc["wait_s"] is not None and doc["wait_s"] > 0, "after E002 at window 16"
    issue.finish()
    assert state(client, first)["wait_s"] == 0, "window 16 is free: E001 is next there"
    called = issue.call_next()
    assert isinstance(called, TicketCalled) and called.ticket.id == first.ticket.id
    assert state(client, first)["status_zh"] == "请到16号窗口办理"


def test_no_show_and_void_read_in_words(hub: Hub, make_link: LinkFactory, tmp_path: Path,
                                       client: FlaskClient) -> None:
    k = kiosk(make_link, tmp_path, hub)
    gone = take(k)
    link = make_link(DeviceClass.KIOSK, "kiosk-2")
    unseen = link.send(IssueTicket(request_id=uuid4(), service=SERVICE)).wait(5)
    assert isinstance(unseen, TicketIssued)
    voided = link.send(VoidTicket(request_id=uuid4(), ticket_id=unseen.ticket.id,
                                  reason="not_taken")).wait(5)
    assert isinstance(voided, TicketVoided)
    once(client, gone, status="waiting")
    window = caller(make_link, WINDOW)
    window.open()
    assert isinstance(window.call_next(), TicketCalled)
    window.recall()
    window.no_show()

    doc = state(client, gone)
    assert (doc["status_zh"], doc["final"], doc["window"]) == ("已过号", False, None)
    assert "导办台" in doc["note_zh"]
    doc = state(client, unseen)
    assert (doc["status_zh"], doc["final"]) == ("已作废", True)


def test_page_is_served_whole_in_chinese(hub: Hub, make_link: LinkFactory, tmp_path: Path,
                                        client: FlaskClient) -> None:
    mine = take(kiosk(make_link, tmp_path, hub))
    once(client, mine, status="waiting")

    reply = client.get(f"/t/{token_of(mine)}")

    assert reply.status_code == 200 and reply.mimetype == "text/html"
    html = reply.get_data(as_text=True)
    for words in ("A001", "户口迁移", "等候中", "前方等待0人", "开启提醒", "更新于"):
        assert words in html, words
    # Everything it loads comes from the hub: the CSP forbids the rest, the hall has no internet.
    assert re.findall(r'(?:src|href)="([^"]+)"', html) == [
        "/static/phone.css", "/static/ticket.css", "/static/ticket.js"]
    for path in ("/static/phone.css", "/static/ticket.css", "/static/ticket.js"):
        assert client.get(path).status_code == 200
    assert "default-src 'self'" in reply.headers["Content-Security-Policy"]


@pytest.mark.parametrize("suffix", ["", ".json"])
def test_private_headers(hub: Hub, make_link: LinkFactory, tmp_path: Path,
                         client: FlaskClient, suffix: str) -> None:
    mine = take(kiosk(make_link, tmp_path, hub))

    for path in (f"/t/{token_of(mine)}{suffix}", f"/t/{'A' * 22}1{suffix}"):
        reply = client.get(path)
        assert reply.headers["Cache-Control"] == "no-store", path
        assert reply.headers["Referrer-Policy"] == "no-referrer", path


# ------------------------------------------------------------ wrong links


def test_forged_or_wrong_tokens_get_a_404_that_says_nothing(
        hub: Hub, make_link: LinkFactory, tmp_path: Path, client: FlaskClient) -> None:
    mine = take(kiosk(make_link, tmp_path, hub))
    good = token_of(mine)
    ticket_id = str(mine.ticket.id)
    forged = [
        good[:MAC_CHARS] + str(mine.ticket.id + 1),  # someone else's number, same signature
        ("A" if good[0] != "A" else "B") + good[1:],  # a signature one character off
        TicketKey(bytes(32)).token(mine.ticket.id),  # signed with another key
        ticket_id, "A001", "x" * 40, good + "0",
    ]
    for token in forged:
        page = client.get(f"/t/{token}")
        assert page.status_code == 404, token
        html = page.get_data(as_text=True)
        assert "没有找到这张号票" in html and "A001" not in html and "户口迁移" not in html
        data = client.get(f"/t/{token}.json")
        assert data.status_code == 404, token
        assert data.get_json() == {"ok": False, "code": "UNKNOWN_TICKET",
                                   "message": "没有找到这张号票"}
    assert client.get(f"/t/{good}.json").status_code == 200


# ------------------------------------------------------------ the hall is not slowed


def test_page_reads_while_the_hub_holds_the_write_lock(
        hub: Hub, make_link: LinkFactory, tmp_path: Path, client: FlaskClient) -> None:
    mine = take(kiosk(make_link, tmp_path, hub))
    once(client, mine, status="waiting")
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        with hub.engine.begin():  # BEGIN IMMEDIATE, as the hub's request thread does
            held.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert held.wait(5)
        started = time.monotonic()
        assert state(client, mine)["status"] == "waiting"
        assert time.monotonic() - started < 1.0, "the page waited for the writer"
    finally:
        release.set()
        thread.join()

