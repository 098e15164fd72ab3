"""A manager runs the hall from the dashboard, in headless Chromium against a real hub,
broker and devices: signs in, watches a call appear live when the window's staff press
call next, gives a window another item on 设置 and sees its next call follow it, and
downloads the ranking's Excel file and opens it."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Browser, expect

from hub.app import Hub
from protocol.messages import ErrorReply, TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import make_account
from tests.hub import test_dashboard_browser
from tests.hub.test_dashboard_browser import LIVE_MS, SCREENSHOTS, sign_in

browser = test_dashboard_browser.browser  # one headless Chromium a module


def test_a_manager_runs_the_hall_from_the_dashboard(
        hub: Hub, browser: Browser, make_link: LinkFactory, tmp_path: Path) -> None:
    make_account(hub.engine, "zhang")
    base = hub.dashboard_url.rstrip("/")
    page = browser.new_page(viewport={"width": 1920, "height": 1080}, accept_downloads=True)
    sign_in(page, base + "/", "zhang")
    expect(page.locator("#conn")).to_have_text("实时连接正常", timeout=LIVE_MS)

    machine = kiosk(make_link, tmp_path, hub)
    assert machine.take_ticket("GA_HJQY").issued is not None
    window = caller(make_link, 5)
    window.sign_in("S051", "123456")
    window.open()
    page.evaluate("window.__marker = 1")
    called = window.call_next()  # the staff press 叫号
    assert isinstance(called, TicketCalled) and called.ticket.number == "A001"
    row = page.locator("#windows tr", has_text="5号窗口 公安户政")
    expect(row).to_contain_text("办理中", timeout=LIVE_MS)
    expect(row).to_contain_text("A001", timeout=LIVE_MS)
    expect(page.locator("#calls tr").first).to_contain_text("A001")
    expect(page.locator("#calls tr").first).to_contain_text("5号窗口 公安户政")
    assert page.evaluate("window.__marker") == 1, "shown live, not by a reload"

    assert machine.take_ticket("BDC_CX").issued is not None  # 不动产: not window 5's
    window.finish()
    assert isinstance(window.call_next(), ErrorReply)
    page.goto(base + "/settings")
    page.locator("#window-5 summary").click()
    page.locator("#window-5 input[value=BDC_CX]").check()
    page.locator("#window-5").get_by_role("button", name="保存").click()
    expect(page.locator(".notice")).to_contain_text("5号窗口已更新，下一次叫号起生效。新增：BDC_CX")
    page.screenshot(path=str(SCREENSHOTS / "settings.png"), full_page=True)
    again = window.call_next()
    assert isinstance(again, TicketCalled) and again.ticket.number == "F001"

    page.goto(base + "/ranking")
    with page.expect_download() as download:
        page.get_by_text("下载 Excel").click()
    book = load_workbook(BytesIO(Path(download.value.path()).read_bytes()))
    assert book.sheetnames == ["周通报", "好差评明细", "各窗口", "月评比"]
    assert book["各窗口"]["A4"].value == "5号窗口 公安户政"  # the case finished above
    page.goto(base + "/audit")
    expect(page.locator("table")).to_contain_text("调整窗口事项")
    page.screenshot(path=str(SCREENSHOTS / "audit.png"), full_page=True)
    page.close()
