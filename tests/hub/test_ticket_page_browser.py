"""The ticket page in a real headless Chromium sized as a phone, over a real hub and broker.

Nothing is stubbed on the server. In the page, `navigator.vibrate` and the start of each
Web Audio tone are counted (a test can neither feel nor hear them); the page itself says
how many alerts it gave (<html data-alerts>), and shows them as a banner.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from hub.app import Hub
from kiosk.core import KioskCore
from protocol.messages import TicketCalled, TicketIssued
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually
from tests.hub import test_dashboard_browser
from tests.hub.test_dashboard_browser import CJK_FONTS

SERVICE, WINDOW = "GA_HJQY", 5  # 户口迁移 at window 5
browser = test_dashboard_browser.browser  # the same fixture: one headless Chromium a module
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "phone"
POLL_WAIT_MS = 9000  # the page asks every 5 s; one poll and some slack
PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
COUNT_ALERTS = """
window.__vibrations = [];
window.__tones = 0;
Object.defineProperty(Navigator.prototype, "vibrate", {configurable: true, value: function (p) {
  window.__vibrations.push(p); return true;
}});
if (window.OscillatorNode) {
  var start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function () {
    window.__tones += 1; return start.apply(this, arguments);
  };
}
"""


def waiting(hub: Hub, issued: TicketIssued) -> None:
    """Wait until the kiosk's confirmation put the ticket in the queue."""
    client = hub.web.test_client()
    assert issued.track_url is not None
    path = "/t/" + issued.track_url.rsplit("/t/", 1)[1] + ".json"
    eventually(lambda: client.get(path).get_json()["status"] == "waiting",
               what=f"{issued.ticket.number} to be waiting")


def take(k: KioskCore) -> TicketIssued:
    issued = k.take_ticket(SERVICE).issued
    assert issued is not None
    return issued


@pytest.fixture
def errors() -> list[str]:
    """Script errors and console errors (CSP violations, failed loads) of the test's page."""
    return []


@pytest.fixture
def phone(browser: Browser, errors: list[str]) -> Iterator[Page]:
    """A fresh phone-sized browser; fails the test on any script error or CSP violation."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.add_init_script(COUNT_ALERTS)
    yield page
    context.close()
    assert errors == [], f"errors on the page: {errors}"


def seen(page: Page) -> str:
    return " ".join(page.inner_text("body").split())


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000, "the screenshot looks blank"
    return path


def test_page_follows_the_queue_and_alerts_once_each(
        hub: Hub, make_link: LinkFactory, tmp_path: Path, phone: Page, errors: list[str]
) -> None:
    k = kiosk(make_link, tmp_path, hub)
    ahead = [take(k) for _ in range(4)]  # A001-A004
    mine = take(k)  # A005
    waiting(hub, mine)
    window = caller(make_link, WINDOW)
    window.open()

    assert mine.track_url is not None
    phone.goto(mine.track_url)
    expect(phone.locator("html")).to_have_attribute("data-ready", "1")
    expect(phone.locator("#number")).to_have_text("A005")
    expect(phone.locator("#status")).to_have_text("等候中")
    expect(phone.locator("#ahead")).to_have_text("前方等待4人")
    expect(phone.locator("#wait")).to_contain_text("预计")
    expect(phone.locator("#alert")).to_be_hidden()
    shot(phone, "ticket-waiting.png")

    phone.locator("#remind").tap()
    expect(phone.locator("#remind-on")).to_be_visible()
    expect(phone.locator("#remind")).to_be_hidden()
    assert phone.locator("html").get_attribute("data-alerts") == "0", "4 ahead: not yet"
    assert phone.evaluate("window.__tones") >= 1, "the tap plays a tone (it unlocks sound)"

    assert isinstance(window.call_next(), TicketCalled)  # A001: three are left ahead
    expect(phone.locator("#ahead")).to_have_text("前方等待3人", timeout=POLL_WAIT_MS)
    expect(phone.locator("#alert")).to_have_text("快轮到您了：前方还有3人")
    expect(phone.locator("html")).to_have_attribute("data-alerts", "1")
    assert phone.locator("html").get_attribute("data-last-alert") == "near"
    assert phone.evaluate("window.__vibrations") == [80, [300, 150, 300]]
    shot(phone, "ticket-near.png")

    window.finish()
    for expected in ahead[1:]:  # A002-A004: no second "near" alert
        called = window.call_next()
        assert isinstance(called, TicketCalled) and called.ticket.id == expected.ticket.id
        window.finish()
    called = window.call_next()
    assert isinstance(called, TicketCalled) and called.ticket.id == mine.ticket.id

    expect(phone.locator("#alert")).to_have_text("轮到您了，请到5号窗口办理",
                                                 timeout=POLL_WAIT_MS)
    expect(phone.locator("#status")).to_have_text("请到5号窗口办理")
    expect(phone.locator("#figures")).to_be_hidden()
    expect(phone.locator("html")).to_have_attribute("data-alerts", "2")
    assert phone.locator("html").get_attribute("data-last-alert") == "called"
    vibrations: list[Any] = phone.evaluate("window.__vibrations")
    assert vibrations[-1] == [600, 200, 600, 200, 600] and len(vibrations) == 3
    assert phone.title().startswith("轮到您了")
    shot(phone, "ticket-called.png")
    # Chinese drawn with a real CJK font, not boxes: ask Chromium which fonts drew the number.
    cdp = phone.context.new_cdp_session(phone)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#status"})["nodeId"]
    families = {f["familyName"] for f in cdp.send("CSS.getPlatformFontsForNode",
                                                  {"nodeId": node})["fonts"]}
    assert families & CJK_FONTS, f"status drawn without a CJK font ({families}): boxes"

    window.finish()
    # Finished: the page comes again with the review form (好差评), and rings no more.
    expect(phone.locator("#status")).to_have_text("已办结", timeout=POLL_WAIT_MS)
    expect(phone.locator("#review h2")).to_have_text("请对本次服务做出评价")
    expect(phone.locator("#alert")).to_be_hidden()
    assert phone.locator("html").get_attribute("data-alerts") == "0"  # none since the reload
    phone.get_by_label("不满意", exact=False).first.check()
    phone.get_by_role("button", name="提交评价").click()
    expect(phone.locator("#review-error")).to_have_text("请选择不满意的原因")
    assert [e for e in errors if "400" in e], errors  # the refusal came as a 400 page
    errors.clear()
    phone.locator("select[name=reason]").select_option("等候时间太长")
    shot(phone, "ticket-review.png")
    phone.get_by_role("button", name="提交评价").click()
    expect(phone.locator(".review-done")).to_contain_text("您已评价：不满意")
    assert phone.evaluate("window.__vibrations") in ([], None)  # the reload rang nothing


def test_forged_link_shows_a_chinese_404(hub: Hub, phone: Page, errors: list[str]) -> None:
    reply = phone.goto(f"{hub.dashboard_url.rstrip('/')}/t/{'A' * 22}1")

    assert reply is not None and reply.status == 404
    assert "没有找到这张号票" in seen(phone)
    assert "请重新扫描号票上的二维码" in seen(phone)
    shot(phone, "ticket-missing.png")
    assert [e for e in errors if "status of 404" not in e] == []  # the page's own 404 only
    errors.clear()
