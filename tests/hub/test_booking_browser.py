"""Booking on a phone in Debian's headless Chromium (phone-sized): the citizen reads the
item's conditions, picks a slot, types who they are, gets the QR code, and the code the
page gives checks in at the kiosk. Screenshots in var/test-artifacts/phone/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect
from pyzbar.pyzbar import decode

from hub.app import Hub
from tests.conftest import LinkFactory
from tests.e2e.devices import kiosk
from tests.hub import test_dashboard_browser
from tests.hub.test_booking import at
from tests.hub.test_ticket_page_browser import PHONE, shot

browser = test_dashboard_browser.browser  # one headless Chromium a module


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], errors


def test_a_citizen_books_on_a_phone_and_checks_in_with_its_qr(
        hub: Hub, phone: Page, make_link: LinkFactory, tmp_path: Path) -> None:
    base = hub.dashboard_url.rstrip("/")
    phone.goto(f"{base}/book")
    phone.get_by_role("link", name="户口迁移").click()
    expect(phone.locator("h1")).to_have_text("户口迁移")
    expect(phone.get_by_text("所需材料（一次性告知）")).to_be_visible()
    shot(phone, "book-item.png")
    phone.get_by_role("link", name="10:00-10:30").click()
    phone.get_by_label("姓名").fill("张丽")
    phone.get_by_label("身份证号码").fill("11010519491231002x")
    phone.get_by_label("手机号码").fill("13812345678")
    shot(phone, "book-form.png")
    phone.get_by_role("button", name="确认预约").click()
    expect(phone.locator("#status")).to_have_text("预约成功")
    expect(phone.get_by_text("张*女士")).to_be_visible()
    shot(phone, "book-done.png")

    png_url = phone.get_by_role("link", name="保存二维码图片").get_attribute("href")
    assert png_url is not None
    image = requests.get(base + png_url, timeout=10)
    from io import BytesIO

    from PIL import Image
    code = decode(Image.open(BytesIO(image.content)))[0].data.decode()
    at(hub, date(2026, 11, 24), "09:45")
    assert kiosk(make_link, tmp_path, hub).check_in(code).issued is not None
    phone.reload()
    expect(phone.locator("#status")).to_have_text("已取号")
