"""Every dashboard page on a tablet held upright (800×1280) and at 1080p: nothing wider than
the screen (wide tables scroll inside their own box), and every form field has its label."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from hallsim.review_history import write_cases
from hub.app import Hub
from hub.web.auth import MENU
from tests.helpers import make_account
from tests.hub import test_dashboard_browser
from tests.hub.test_dashboard_browser import SCREENSHOTS, sign_in
from tests.hub.test_weekly_ranking import FIXTURE_WEEK

browser = test_dashboard_browser.browser  # one headless Chromium a module
FIELDS = "main input:not([type=hidden]), main select, main textarea"
UNLABELLED = f"""() => [...document.querySelectorAll("{FIELDS}")].filter((el) =>
  !el.closest("label") && !el.getAttribute("aria-label") && !el.getAttribute("placeholder")
  ).map((el) => el.name)"""


@pytest.mark.parametrize(("width", "height"), [(800, 1280), (1920, 1080)])
def test_no_page_is_wider_than_the_screen(hub: Hub, browser: Browser, width: int,
                                          height: int) -> None:
    with hub.engine.begin() as conn:
        write_cases(conn, FIXTURE_WEEK)
    make_account(hub.engine, "zhang", "admin")
    hub.voice.add("各位办事群众：本中心实行午间不休息、延时服务制度，请有序取号、耐心等候叫号；"
                  "如有疑问请到一楼导办台咨询，投诉请拨打12345，衷心感谢您的理解、配合与支持！",
                  "11:50 16:50", "zhang")  # the longest a broadcast may be, in its list
    base = hub.dashboard_url.rstrip("/")
    page = browser.new_page(viewport={"width": width, "height": height})
    sign_in(page, base + "/", "zhang")
    for path, name, _ in MENU:
        page.goto(base + path + ("?week=2026-11-16" if path == "/ranking" else ""))
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name} is {wide}px wide on a {width}px screen"
        assert page.evaluate(UNLABELLED) == [], f"{name}: fields without a label"
        if width == 800:
            page.screenshot(path=str(SCREENSHOTS / f"tablet{path.replace('/', '-')}.png"),
                            full_page=True)
    page.close()
