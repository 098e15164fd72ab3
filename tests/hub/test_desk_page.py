"""导办台 on the dashboard: a priority ticket called before the walk-ins, a ticket taken for
someone, a booking checked in by its number; a second click gives the same ticket; each
slip carries the number and the ticket page's QR code; every one is in the audit log."""

from __future__ import annotations

import re
from datetime import date
from datetime import time as clock_time
from io import BytesIO
from pathlib import Path

from flask.testing import FlaskClient
from PIL import Image
from playwright.sync_api import Browser, expect
from pyzbar.pyzbar import decode
from sqlalchemy import func, select

from hub.app import Hub
from hub.db.schema import audit_log, tickets
from protocol.messages import TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import booked_code, csrf_token, make_account, signed_in_client
from tests.hub import test_dashboard_browser
from tests.hub.test_dashboard_browser import SCREENSHOTS, sign_in

DAY = date(2026, 11, 24)  # the hub's day in tests, 09:00


def desk_form(web: FlaskClient) -> dict[str, str]:
    page = web.get("/desk").get_data(as_text=True)
    request_id = re.search(r'name="request_id" value="([^"]+)"', page)
    assert request_id, "no request id on the desk's form"
    return {"csrf_token": csrf_token(page), "request_id": request_id.group(1)}


def slip_number(html: str) -> str:
    found = re.search(r'<p class="slip-number">([A-Z0-9]+)</p>', html)
    assert found, "no number on the slip"
    return found.group(1)


def test_a_priority_ticket_goes_first_and_a_second_click_gives_the_same(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    walk_in = kiosk(make_link, tmp_path, hub).take_ticket("GA_HJQY").issued
    assert walk_in is not None and walk_in.ticket.number == "A001"
    web = signed_in_client(hub, "wang", "guide")
    form = {**desk_form(web), "service": "GA_HJQY", "group": "elderly"}
    first = web.post("/desk/ticket", data=form)
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and slip_number(html) == "A002"
    assert "优先（老年人） · 前方等候 0 人" in html and "户口迁移" in html
    again = web.post("/desk/ticket", data=form)  # a double click, a reload
    assert slip_number(again.get_data(as_text=True)) == "A002"
    with hub.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(tickets)) == 2

    window = caller(make_link, 5)
    window.sign_in("S051", "123456")
    window.open()
    called = window.call_next()
    assert isinstance(called, TicketCalled) and called.ticket.number == "A002"
    with hub.engine.connect() as conn:
        entry = conn.execute(select(audit_log).where(audit_log.c.action == "desk.priority")
                             ).one()
    assert (entry.who, entry.target, entry.after) == \
        ("wang", "A002", {"service": "GA_HJQY", "group": "elderly"})


def test_a_ticket_for_someone_joins_the_queue_with_its_qr_code(hub: Hub) -> None:
    web = signed_in_client(hub, "wang", "guide")
    done = web.post("/desk/ticket", data={**desk_form(web), "service": "BDC_CX", "group": ""})
    html = done.get_data(as_text=True)
    assert slip_number(html) == "F001" and "导办台代取 · 前方等候 0 人" in html
    assert "data-print" in html and "print.js" in html
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    assert svg is not None
    with hub.engine.connect() as conn:
        status, how = conn.execute(select(tickets.c.status, tickets.c.handed_over)).one()
    assert (status, how) == ("waiting", "desk")  # in hand at once: no ghost ticket
    refused = web.post("/desk/ticket", data={**desk_form(web), "service": "", "group": ""})
    assert refused.status_code == 400 and "未取号" in refused.get_data(as_text=True)
    viewer = signed_in_client(hub, "zhao", "viewer")
    assert viewer.get("/desk").status_code == 403


def test_a_booking_checked_in_by_its_number(hub: Hub) -> None:
    booked_code(hub, "GA_HJQY", DAY, clock_time(9, 0), clock_time(9, 30),
                appointment_id="Bk7Qw2Zp")
    web = signed_in_client(hub, "wang", "guide")
    token = desk_form(web)["csrf_token"]
    wrong = web.post("/desk/check-in", data={"appointment": "Nope1234", "csrf_token": token})
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 400 and "未签到" in page and 'value="Nope1234"' in page
    done = web.post("/desk/check-in", data={"appointment": "Bk7Qw2Zp", "csrf_token": token})
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and slip_number(html) == "A001" and "预约签到" in html
    twice = web.post("/desk/check-in", data={"appointment": "Bk7Qw2Zp", "csrf_token": token})
    assert twice.status_code == 400


browser = test_dashboard_browser.browser  # one headless Chromium a module


def test_the_printed_slip_leads_the_phone_to_the_ticket(hub: Hub, browser: Browser) -> None:
    """In Chromium, as the desk works: choose, take, and the slip's QR code (decoded from
    the screen) opens the ticket's own page."""
    make_account(hub.engine, "wang", "guide")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, f"{hub.dashboard_url.rstrip('/')}/desk", "wang")
    page.select_option("select[name=service]", "GA_HJQY")
    page.select_option("select[name=group]", "pregnant")
    page.get_by_role("button", name="取号", exact=True).click()
    expect(page.locator(".slip-number")).to_have_text("A001")
    page.screenshot(path=str(SCREENSHOTS / "desk-slip.png"), full_page=True)
    png = page.locator(".slip-qr").screenshot()
    found = decode(Image.open(BytesIO(png)))
    assert found, "the slip's QR code does not decode"
    phone = browser.new_page()
    phone.goto(found[0].data.decode())
    expect(phone.locator("body")).to_contain_text("A001")
    page.close()
    phone.close()
