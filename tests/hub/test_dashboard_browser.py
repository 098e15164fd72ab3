"""The managers' dashboard in a real headless Chromium: what a manager sees, live."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from hub.state_feed import StateFeed
from hub.web import create_web_app
from hub.web.server import WebServer
from tests.helpers import PASSWORD, standalone_auth
from tests.hub.test_dashboard import HALL, queue_state, window

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DEBIAN_PATHS = ("/usr/lib/chromium/chromium", "/usr/lib/chromium/chromium-headless-shell")
CJK_FONTS = {"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC"}  # as in the CSS
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
LIVE_MS = 5000  # the longest a manager should wait for a change to show
# Marks <html> once an event arrived; it listens before the page's code, which renders it.
MARK_EVENTS = """window.EventSource = class extends window.EventSource {
  constructor(...args) {
    super(...args);
    this.addEventListener("message", () => { document.documentElement.dataset.got = "1"; });
  }
};"""


def chromium_path() -> str | None:
    """Debian's Chromium (package chromium or chromium-headless-shell), if installed."""
    found = shutil.which("chromium") or shutil.which("chromium-headless-shell")
    return found or next((p for p in DEBIAN_PATHS if Path(p).is_file()), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module; each test opens its own page."""
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium: apt-get install chromium-headless-shell (or chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def feed() -> StateFeed:
    """The hall as the hub published it: window 2 serving A005."""
    f = StateFeed()
    f.update(queue_state(), [window(1, "1号窗口 户籍综合受理", "open"),
                             window(2, "2号窗口 社保综合受理", "serving", "A005")])
    return f


def sign_in(page: Page, url: str, username: str = "manager") -> None:
    """Open `url` as a manager would: the sign-in page comes first, then `url` itself."""
    page.goto(url)
    expect(page.locator("h1")).to_contain_text("登录")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).not_to_contain_text("登录")


@pytest.fixture
def server(feed: StateFeed, db_url: str) -> Iterator[WebServer]:
    """The dashboard on a real waitress server on a free loopback port."""
    srv = WebServer(create_web_app(feed, standalone_auth(db_url), hall_name=HALL,
                                   keepalive_s=0.5), "127.0.0.1", 0, 4)
    srv.start()
    yield srv
    srv.stop()  # a no-op if the test stopped it already


@pytest.fixture
def page(browser: Browser, server: WebServer) -> Iterator[Page]:
    """The dashboard open in a fresh browser context, its live stream connected."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.add_init_script(MARK_EVENTS)
    sign_in(pg, server.url)
    expect(pg.locator("#conn")).to_have_text("实时连接正常", timeout=LIVE_MS)
    # Wait for the first event, so what is checked was drawn by the script, not the server.
    expect(pg.locator("html")).to_have_attribute("data-got", "1", timeout=LIVE_MS)
    yield pg
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def seen(page: Page) -> str:
    """The page's visible text as one line of words."""
    return " ".join(page.inner_text("body").split())


def test_page_shows_the_hall_live(page: Page) -> None:
    text = seen(page)

    assert f"{HALL} · 实时大厅" in text
    assert "实时连接正常" in text
    assert "今日取号 12 等候 7 已叫号 5 已办结 3 过号 0 开放窗口 2" in text
    assert "户口迁移 A 3 1" in text
    assert "1 1号窗口 户籍综合受理 空闲 —" in text
    assert "2 2号窗口 社保综合受理 办理中 A005" in text
    assert "等待大厅数据…" not in text


def test_changes_show_without_reload(page: Page, feed: StateFeed) -> None:
    page.evaluate("window.__marker = 1")

    serving = window(1, "1号窗口 户籍综合受理", "serving", "B012")
    feed.update(queue_state(hukou_waiting=9), [serving])

    expect(page.locator("body")).to_contain_text("B012", timeout=LIVE_MS)
    text = seen(page)
    assert "等候 13" in text and "等候 7" not in text
    assert "户口迁移 A 9 1" in text
    assert "1 1号窗口 户籍综合受理 办理中 B012" in text
    assert "2 2号窗口 社保综合受理 办理中 A005" in text
    assert page.evaluate("window.__marker") == 1, "the page reloaded instead of updating"


def test_lost_connection_is_shown(page: Page, server: WebServer) -> None:
    server.stop()

    expect(page.locator("#conn")).to_have_text("连接中断，正在重连…", timeout=LIVE_MS)
    assert "实时连接正常" not in seen(page)


def test_screenshot_for_a_person(page: Page, tmp_path: Path) -> None:
    shot = tmp_path / "dashboard.png"

    page.screenshot(path=str(shot), full_page=True)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, SCREENSHOTS / "dashboard.png")  # for a person to look at
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert (SCREENSHOTS / "dashboard.png").stat().st_size > 5_000, "the screenshot looks blank"
    # Chinese drawn with a real CJK font, not boxes: ask Chromium which fonts drew the title.
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    h1 = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": h1})["fonts"]
    families = {f["familyName"] for f in fonts}
    assert families & CJK_FONTS, f"title drawn without a CJK font ({families}): boxes"
