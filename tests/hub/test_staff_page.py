"""人员与岗位 on the dashboard: a manager adds a member of staff and gives them a window's B
post, and they sign in there with their PIN; a PIN reset ends the old PIN; a disabled
person cannot sign in; the catalogue file undoes none of it over a restart; bad input is
refused in Chinese with what was typed kept (never a PIN); the audit log names the
manager and holds no PIN."""

from __future__ import annotations

import json

from flask.testing import FlaskClient
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from caller_display.caller_core import CallerCore
from hub.app import Hub
from hub.db.schema import audit_log, staff, windows
from hub.settings import HubSettings
from protocol.errors import ErrorCode
from protocol.messages import ErrorReply, WindowChanged
from tests.conftest import LinkFactory
from tests.e2e.devices import caller
from tests.helpers import csrf_token, eventually, make_account, signed_in_client
from tests.hub import test_dashboard_browser
from tests.hub.test_dashboard_browser import SCREENSHOTS, sign_in

PIN, NEW_PIN = "246810", "135790"
PERSON = {"number": "S501", "name": "周晓梅", "department": "GA", "title": "窗口工作人员"}


def post(web: FlaskClient, path: str, **data: str) -> tuple[int, str, str]:
    """(status, page shown, redirect target or "") of a form sent from /staff."""
    token = csrf_token(web.get("/staff").get_data(as_text=True))
    answer = web.post(path, data={**data, "csrf_token": token})
    if answer.status_code == 303:
        target = answer.headers["Location"]
        return 303, web.get(target).get_data(as_text=True), target
    return answer.status_code, answer.get_data(as_text=True), ""


def add_and_post(web: FlaskClient) -> None:
    """Add 周晓梅 and give her window 5's B post (its A post stays 林国庆, S051)."""
    status, page, _ = post(web, "/staff", **PERSON, pin=PIN)
    assert status == 303, page
    assert "已添加工作人员 S501 周晓梅" in page and "管理人员已修改" in page
    status, page, _ = post(web, "/staff/posts/5", post_a="S051", post_b="S501")
    assert status == 303, page
    assert "5号窗口岗位已更新：A岗 S051，B岗 S501" in page


def signs_in(window: CallerCore, pin: str, staff_no: str = "S501") -> bool:
    reply = window.sign_in(staff_no, pin)
    if isinstance(reply, ErrorReply):
        assert reply.code == ErrorCode.BAD_SIGN_IN, reply
        return False
    assert isinstance(reply, WindowChanged), reply
    return True


def test_a_new_person_signs_in_at_their_post_until_the_pin_is_reset_or_they_are_disabled(
        hub: Hub, make_link: LinkFactory) -> None:
    window = caller(make_link, 5)
    web = signed_in_client(hub, "zhang")
    add_and_post(web)
    eventually(lambda: window.state is not None and window.state.post_b == "S501",
               timeout=10, what="the new B post on window 5's state (all states published)")

    assert signs_in(window, PIN)
    card = eventually(lambda: window.state and window.state.staff, what="the staff card")
    assert (card.number, card.name, card.unit, card.title, card.post, card.photo) == (
        "S501", "周晓梅", "县公安局", "窗口工作人员", "B", "")
    listing = web.get("/staff").get_data(as_text=True)
    assert "在5号窗口签到" in listing and PIN not in listing

    status, page, _ = post(web, "/staff/S501/edit", name="周晓梅", department="GA",
                           title="首席事务代表")
    assert status == 303 and "S501 已更新" in page
    eventually(lambda: window.state is not None and window.state.staff is not None
               and window.state.staff.title == "首席事务代表", timeout=10,
               what="the new title on the window's screen")

    status, page, _ = post(web, "/staff/S501/disable")
    assert status == 400
    assert "S501未停用：周晓梅正在5号窗口签到值守，不能停用：请先在窗口签退后再停用" in page
    assert isinstance(window.sign_out(), WindowChanged)

    status, page, _ = post(web, "/staff/S501/pin", pin=NEW_PIN)
    assert status == 303 and "S501 的密码已重置" in page
    assert not signs_in(window, PIN), "the old PIN no longer signs in"
    assert signs_in(window, NEW_PIN)
    assert isinstance(window.sign_out(), WindowChanged)

    status, page, _ = post(web, "/staff/S501/disable")
    assert status == 303 and "S501 已停用，不能再在窗口签到" in page
    assert not signs_in(window, NEW_PIN), "a disabled person cannot sign in"
    status, page, _ = post(web, "/staff/S501/enable")
    assert status == 303 and signs_in(window, NEW_PIN)

    with hub.engine.connect() as conn:
        rows = conn.execute(select(audit_log).where(audit_log.c.target.in_(
            ["staff S501", "window 5"])).order_by(audit_log.c.id)).all()
    assert [(r.who, r.action) for r in rows] == [
        ("zhang", "staff.add"), ("zhang", "posts.set"), ("zhang", "staff.edit"),
        ("zhang", "staff.pin"), ("zhang", "staff.disable"), ("zhang", "staff.enable")]
    assert rows[1].before == {"A": "S051", "B": "S052"}
    assert rows[1].after == {"A": "S051", "B": "S501"}
    assert rows[2].before["title"] == "窗口工作人员" and rows[2].after["title"] == "首席事务代表"
    written = json.dumps([(r.before, r.after, r.reason) for r in rows], ensure_ascii=False)
    assert PIN not in written and NEW_PIN not in written and "pbkdf2" not in written
    log = web.get("/audit?who=zhang").get_data(as_text=True)
    assert "staff S501" in log and PIN not in log and NEW_PIN not in log


def test_the_catalogue_file_undoes_nothing_over_a_restart(
        hub_settings: HubSettings, make_link: LinkFactory) -> None:
    hub = Hub(hub_settings)
    hub.start()
    try:
        assert hub.consumer.wait_connected(10)
        web = signed_in_client(hub, "zhang")
        add_and_post(web)
        assert post(web, "/staff/S061/edit", name="莫建华", department="GA",
                    title="值班长")[0] == 303
        assert post(web, "/staff/S062/disable")[0] == 303  # a person of the file
        assert post(web, "/staff/posts/6", post_a="S061", post_b="")[0] == 303
    finally:
        hub.stop()
    again = Hub(hub_settings)  # the same database, the same catalogue file
    again.start()
    try:
        assert again.consumer.wait_connected(10)
        with again.engine.connect() as conn:
            people = {r.number: r for r in conn.execute(select(staff))}
            posts = {r.number: (r.post_a, r.post_b) for r in conn.execute(select(windows))}
        assert people["S501"].active and people["S501"].name == "周晓梅"
        assert people["S061"].title == "值班长" and not people["S062"].active
        assert people["S051"].edited_at is None, "the rest still the file's"
        assert posts[5] == ("S051", "S501") and posts[6] == ("S061", None)
        assert posts[7] == ("S071", "S072")
        signed = caller(make_link, 5).sign_in("S501", PIN)  # (the test clock restarted:
        assert isinstance(signed, WindowChanged)  # the reply, not the retained state)
        assert signed.window.staff is not None and signed.window.staff.post == "B"

        web = signed_in_client(again, "li")
        status, page, _ = post(web, "/staff/posts/6", reset="1")
        assert status == 303 and "6号窗口岗位已更新：A岗 S061，B岗 S062" in page
        with again.engine.connect() as conn:
            row = conn.execute(select(windows).where(windows.c.number == 6)).one()
            entry = conn.execute(select(audit_log).where(
                audit_log.c.action == "posts.reset")).one()
        assert (row.post_a, row.post_b, row.posts_edited_at) == ("S061", "S062", None)
        assert entry.who == "li" and entry.after == {"A": "S061", "B": "S062"}
    finally:
        again.stop()


def test_bad_input_is_refused_in_chinese_with_the_typed_values_kept(hub: Hub) -> None:
    web = signed_in_client(hub, "zhang")
    cases = [
        ({**PERSON, "number": "S051"}, "未添加工作人员：工号S051已有人使用"),
        ({**PERSON, "number": "s051"}, "未添加工作人员：工号S051已有人使用"),
        ({**PERSON, "department": "XX"}, "未添加工作人员：没有这个部门：XX"),
        ({**PERSON, "number": "S-5"}, "未添加工作人员：工号须为2–16位字母或数字"),
        ({**PERSON, "name": "  "}, "未添加工作人员：请填写姓名"),
    ]
    for typed, message in cases:
        status, page, _ = post(web, "/staff", **typed, pin=PIN)
        assert status == 400 and message in page, message
        assert f'value="{typed["number"]}"' in page and f'value="{PERSON["title"]}"' in page
        assert PIN not in page, "a PIN is never shown again"
    status, page, _ = post(web, "/staff", **PERSON, pin="12345")
    assert status == 400 and "未添加工作人员：密码须为6位数字" in page
    assert 'value="周晓梅"' in page and "12345" not in page
    status, page, _ = post(web, "/staff", **PERSON, pin="１２３４５６")  # full-width digits
    assert status == 400 and "密码须为6位数字" in page
    status, page, _ = post(web, "/staff/S051/pin", pin="abcdef")
    assert status == 400 and "S051的密码未重置：密码须为6位数字" in page and "abcdef" not in page

    status, page, _ = post(web, "/staff/S051/edit", name="林国庆", department="XX",
                           title="新职务")
    assert status == 400 and "S051未修改：没有这个部门：XX" in page
    assert 'value="新职务"' in page, "the typed title stays in the open form"

    status, page, _ = post(web, "/staff/posts/5", post_a="S052", post_b="S052")
    assert status == 400 and "5号窗口岗位未修改：同一人不能同时担任A岗和B岗" in page
    assert post(web, "/staff/S061/disable")[0] == 303
    status, page, _ = post(web, "/staff/posts/5", post_a="S051", post_b="S061")
    assert status == 400 and "5号窗口岗位未修改：B岗：S061已停用，不能上岗" in page
    status, page, _ = post(web, "/staff/posts/5", post_a="S051", post_b="NOBODY")
    assert status == 400 and "没有工号为NOBODY的工作人员" in page
    with hub.engine.connect() as conn:
        assert conn.execute(select(windows.c.post_a, windows.c.post_b, windows.c.posts_edited_at)
                            .where(windows.c.number == 5)).one() == ("S051", "S052", None)
        assert conn.scalar(select(staff.c.number).where(staff.c.number == "S501")) is None


def test_a_viewer_reads_and_changes_nothing(hub: Hub) -> None:
    viewer = signed_in_client(hub, "zhao", "viewer")
    page = viewer.get("/staff").get_data(as_text=True)
    assert "林国庆" in page and "5号窗口 公安户政" in page
    assert 'action="/staff"' not in page and "重置密码" not in page
    answer = viewer.post("/staff", data={**PERSON, "pin": PIN, "csrf_token": csrf_token(page)})
    assert answer.status_code == 403
    department = signed_in_client(hub, "li", "department", "GA")
    assert department.get("/staff").status_code == 403


browser = test_dashboard_browser.browser  # one headless Chromium a module


def test_the_page_in_a_browser(hub: Hub, browser: Browser) -> None:
    make_account(hub.engine)
    web = signed_in_client(hub, "zhang")
    add_and_post(web)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    sign_in(page, f"{hub.dashboard_url}/staff")
    expect(page.locator("h1")).to_contain_text("人员与岗位")
    row = page.locator("#staff-S501")
    expect(row).to_contain_text("周晓梅")
    expect(row).to_contain_text("管理人员已修改")
    expect(page.locator("#window-5")).to_contain_text("管理人员已调整")
    page.locator("#staff-S501 summary", has_text="修改").click()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "staff.png"), full_page=True)
    page.close()
