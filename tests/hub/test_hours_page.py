"""办公时间 (/hours): a manager adds a lunch break and a kiosk at 12:30 is refused with the
next opening 14:00, at 14:05 given its ticket; a duty window's weekend hours open its items
on a Saturday and no others; the change outlives a restart over the same catalogue file
until handed back to it; bad hours are refused in Chinese with what was typed kept and
nothing changed; who may change what; each change in the audit log by name."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask.testing import FlaskClient
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select

from hub.app import Hub
from hub.clock import ShiftedClock
from hub.db.schema import audit_log, managed_hours
from hub.settings import HubSettings
from kiosk.core import KioskCore
from tests.conftest import LinkFactory
from tests.e2e.devices import kiosk
from tests.helpers import csrf_token, eventually, make_account, signed_in_client
from tests.hub import test_dashboard_browser
from tests.hub.test_dashboard_browser import SCREENSHOTS, sign_in

LUNCH = "08:30-12:00、14:00-17:30"
SATURDAY = datetime(2026, 11, 28, 10, 0)  # an ordinary one


def token(web: FlaskClient) -> str:
    return csrf_token(web.get("/hours").get_data(as_text=True))


def hours(web: FlaskClient, owner: str, workday: str, weekend: str = "",
          holiday: str = "") -> dict[str, str]:
    return {"owner": owner, "workday": workday, "weekend": weekend, "holiday": holiday,
            "csrf_token": token(web)}


def set_time(hub: Hub, local: datetime) -> None:
    assert isinstance(hub.clock, ShiftedClock)
    hub.clock.set_local(local)


def row(page: str, owner: str) -> str:
    """The table row of an owner ("hall", "window-1") in the page's HTML."""
    start = page.index(f'<tr id="hours-{owner}"')
    return page[start:page.index("</tr>", start)]


def refusal(machine: KioskCore, code: str) -> str | None:
    """The kiosk's refusal of a ticket now (None: it was issued)."""
    result = machine.take_ticket(code)
    assert not result.pending
    return None if result.error is None else result.error.message


def shown_notice(machine: KioskCore, code: str) -> str | None:
    queue = machine.queue_of(code)
    return queue.notice if queue is not None and queue.issuing == "outside_hours" else None


def test_a_lunch_break_reaches_the_kiosks_and_outlives_a_restart(
        hub_settings: HubSettings, make_link: LinkFactory, tmp_path: Path) -> None:
    hub = Hub(hub_settings)
    hub.start()
    try:
        assert hub.consumer.wait_connected(10)
        machine = kiosk(make_link, tmp_path, hub)
        set_time(hub, datetime(2026, 11, 24, 12, 30))  # a Tuesday, 午间服务 by the file
        assert refusal(machine, "GA_HJQY") is None
        web = signed_in_client(hub, "zhang")
        page = web.get("/hours").get_data(as_text=True)
        assert "08:30-17:30" in row(page, "hall") and "目录文件" in row(page, "hall")
        duty = row(page, "window-1")
        assert "1号窗口 社会事务综合受理" in duty and "09:00-17:00" in duty
        assert "12:30" in page and "工作日" in page

        answer = web.post("/hours", data=hours(web, "hall", LUNCH))
        assert answer.status_code == 303
        done = web.get(answer.headers["Location"]).get_data(as_text=True)
        assert "「大厅」的取号时间已更新，各取号机即时生效" in done
        assert "1号窗口 社会事务综合受理另有取号时间，不随大厅变化" in done
        assert "下次取号时间" in done and "今天14:00" in done and "不在取号时间" in done
        assert "08:30-12:00、14:00-17:30" in row(done, "hall")
        assert "管理人员已修改" in row(done, "hall")

        eventually(lambda: shown_notice(machine, "GA_HJQY") ==
                   "现在不在取号时间，下次取号时间：今天14:00",
                   what="the kiosk showing the lunch break without a restart")
        assert refusal(machine, "GA_HJQY") == "现在不在取号时间，下次取号时间：今天14:00"
        assert refusal(machine, "RS_SBKSL") is None, "window 1 keeps its own hours"
        set_time(hub, datetime(2026, 11, 24, 14, 5))
        assert refusal(machine, "GA_HJQY") is None
        eventually(lambda: shown_notice(machine, "GA_HJQY") is None, what="open again")
    finally:
        hub.stop()

    again = Hub(hub_settings)  # the same database, the same catalogue file
    again.start()
    try:
        assert again.consumer.wait_connected(10)
        machine = kiosk(make_link, tmp_path, again, "kiosk-2")
        set_time(again, datetime(2026, 11, 25, 12, 30))
        assert refusal(machine, "GA_HJQY") == "现在不在取号时间，下次取号时间：今天14:00"
        web = signed_in_client(again, "li2")
        page = web.get("/hours").get_data(as_text=True)
        assert "08:30-12:00、14:00-17:30" in row(page, "hall") and "恢复目录文件" in page
        reset = web.post("/hours/reset", data={"owner": "hall", "csrf_token": token(web)})
        assert reset.status_code == 303
        page = web.get(reset.headers["Location"]).get_data(as_text=True)
        assert "「大厅」的取号时间已恢复为目录文件的设置" in page
        assert "08:30-17:30" in row(page, "hall") and "目录文件" in row(page, "hall")
        assert refusal(machine, "GA_HJQY") is None, "the file's hours again: no lunch break"

        with again.engine.connect() as conn:
            entries = conn.execute(select(audit_log).where(audit_log.c.action.like("hours.%"))
                                   .order_by(audit_log.c.id)).all()
        assert [(e.who, e.action, e.target) for e in entries] == [
            ("zhang", "hours.set", "hall"), ("li2", "hours.reset", "hall")]
        assert entries[0].before["workday"] == ["08:30-17:30"]
        assert entries[0].after["workday"] == ["08:30-12:00", "14:00-17:30"]
        log = web.get("/audit?action=hours").get_data(as_text=True)
        for said in ("修改取号时间", "取号时间恢复目录文件", "工作日：08:30-17:30",
                     "工作日：08:30-12:00、14:00-17:30", "双休日：不取号"):
            assert said in log, said
    finally:
        again.stop()


def test_a_duty_windows_weekend_hours_open_its_items_on_saturday(
        hub_settings: HubSettings, make_link: LinkFactory, tmp_path: Path) -> None:
    hub = Hub(hub_settings.model_copy(update={"start_at": datetime(2026, 10, 3, 10, 0)}))
    hub.start()  # 国庆, a Saturday: a statutory holiday
    try:
        assert hub.consumer.wait_connected(10)
        machine = kiosk(make_link, tmp_path, hub)
        web = signed_in_client(hub, "zhang")
        page = web.get("/hours").get_data(as_text=True)
        assert 'value="window-5"' in page, "window 5 can be given hours of its own"
        answer = web.post("/hours", data=hours(web, "window-5", "08:30-17:30",
                                               "09:00-12:00, 13:00-16:00"))
        assert answer.status_code == 303
        page = web.get(answer.headers["Location"]).get_data(as_text=True)
        assert "「5号窗口 公安户政」的取号时间已更新" in page
        assert "09:00-12:00、13:00-16:00" in row(page, "window-5")
        assert refusal(machine, "GA_CSDJ") is not None, "a holiday is no weekend duty"

        set_time(hub, SATURDAY)
        assert refusal(machine, "GA_CSDJ") is None, "出生登记 (window 5 only) opens on Saturday"
        assert refusal(machine, "BDC_CX") == \
            "现在不在取号时间，下次取号时间：11月30日（周一）08:30", "other windows' items do not"
        web = signed_in_client(hub, "wang")  # eight weeks on: a new session
        assert "正在取号" in web.get("/hours?shown=window-5").get_data(as_text=True)
        set_time(hub, datetime(2026, 11, 28, 12, 30))
        assert refusal(machine, "GA_CSDJ") == "现在不在取号时间，下次取号时间：今天13:00"
        set_time(hub, datetime(2026, 12, 1, 12, 30))  # a Tuesday: as the hall, 午间服务
        assert refusal(machine, "GA_CSDJ") is None

        web = signed_in_client(hub, "zhao")
        follow = web.post("/hours/follow", data={"owner": "window-5", "csrf_token": token(web)})
        assert follow.status_code == 303
        assert "「5号窗口 公安户政」不再单独设置取号时间，按大厅的取号时间" in web.get(
            follow.headers["Location"]).get_data(as_text=True)
        set_time(hub, datetime(2026, 12, 5, 10, 0))
        assert refusal(machine, "GA_CSDJ") == \
            "现在不在取号时间，下次取号时间：12月7日（周一）08:30"
        with hub.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(managed_hours)) == 0
    finally:
        hub.stop()


def test_bad_hours_are_refused_in_chinese_and_change_nothing(hub: Hub) -> None:
    web = signed_in_client(hub, "zhang")
    before = hub.issuing.plan
    for typed, said in [
        ("17:30-08:30", "「大厅」的取号时间未修改：工作日：“17:30-08:30”的开始时间须早于结束时间"),
        ("08:30-12:00、11:30-17:30",
         "「大厅」的取号时间未修改：工作日：08:30-12:00与11:30-17:30重叠"),
        ("abc", "「大厅」的取号时间未修改：工作日：“abc”不是时间段，请写成“08:30-12:00”"),
        ("", "「大厅」的取号时间未修改：大厅工作日至少要有一个取号时间段"),
    ]:
        answer = web.post("/hours", data=hours(web, "hall", typed, "09:00-10:00"))
        page = answer.get_data(as_text=True)
        assert answer.status_code == 400, typed
        assert said in page, typed
        assert f'name="workday" value="{typed}"' in page, "what was typed stays"
        assert 'name="weekend" value="09:00-10:00"' in page
    added = web.post("/hours", data=hours(web, "item-BDC_CX", "08:30-12:00", "x"))
    page = added.get_data(as_text=True)
    assert added.status_code == 400
    assert "「不动产登记资料查询」的取号时间未修改：双休日：“x”不是时间段" in page
    assert '<option value="item-BDC_CX" selected>' in page, "the new row's choice stays"
    assert web.post("/hours", data=hours(web, "window-99", "08:30-12:00")).status_code == 404
    assert hub.issuing.plan == before
    with hub.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(managed_hours)) == 0
        assert conn.scalar(select(func.count()).where(audit_log.c.action.like("hours.%"))) == 0


def test_who_may_change_what(hub: Hub) -> None:
    lead = signed_in_client(hub, "li", "department", "GA")
    page = lead.get("/hours").get_data(as_text=True)
    assert "大厅" in page and 'value="item-GA_HJQY"' in page
    assert 'value="item-BDC_CX"' not in page, "only its own department's items"
    assert 'name="owner" value="hall"' not in page, "the hall's hours are not its to change"
    assert lead.post("/hours", data=hours(lead, "hall", LUNCH)).status_code == 403
    assert lead.post("/hours", data=hours(lead, "window-5", LUNCH)).status_code == 403
    assert lead.post("/hours", data=hours(lead, "item-BDC_CX", LUNCH)).status_code == 403
    wide = lead.post("/hours", data=hours(lead, "item-GA_HJQY", "08:30-12:00", "09:00-12:00"))
    assert wide.status_code == 400
    assert "双休日 09:00-12:00超出了办理窗口的取号时间" in wide.get_data(as_text=True)
    mornings = lead.post("/hours", data=hours(lead, "item-GA_HJQY", "08:30-12:00"))
    assert mornings.status_code == 303
    assert hub.issuing.plan.items["GA_HJQY"].workday == ["08:30-12:00"]
    assert lead.post("/hours/reset", data={"owner": "item-GA_HJQY", "csrf_token": token(lead)}
                     ).status_code == 303
    assert "GA_HJQY" not in hub.issuing.plan.items

    for role in ("guide", "viewer"):
        reader = signed_in_client(hub, f"r-{role}", role)
        page = reader.get("/hours").get_data(as_text=True)
        assert "08:30-17:30" in page and "下次取号时间" in page
        assert 'action="/hours' not in page, role
        for path in ("/hours", "/hours/reset", "/hours/follow"):
            assert reader.post(path, data=hours(reader, "hall", LUNCH)).status_code == 403

    manager = signed_in_client(hub, "zhang")
    assert manager.post("/hours", data=hours(manager, "window-9", "", "09:00-12:00")
                        ).status_code == 303
    with hub.engine.connect() as conn:
        who = list(conn.execute(select(audit_log.c.who, audit_log.c.action)
                                .where(audit_log.c.action.like("hours.%"))
                                .order_by(audit_log.c.id)))
    assert who == [("li", "hours.set"), ("li", "hours.reset"), ("zhang", "hours.set")]


browser = test_dashboard_browser.browser  # one headless Chromium a module


def test_a_manager_adds_a_lunch_break_in_the_browser(hub: Hub, browser: Browser) -> None:
    make_account(hub.engine)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    sign_in(page, f"{hub.dashboard_url}/hours")
    expect(page.locator("h1")).to_contain_text("办公时间")
    page.locator("#hours-hall + tr summary").click()
    form = page.locator("#hours-hall + tr form.hours-form")
    form.locator("input[name=workday]").fill("08:30-12:00、11:00-17:30")
    form.locator("button", has_text="保存").click()
    expect(page.locator("p.error[role=alert]")).to_contain_text("重叠")
    expect(page.locator("#hours-hall + tr input[name=workday]")).to_have_value(
        "08:30-12:00、11:00-17:30")
    page.locator("#hours-hall + tr input[name=workday]").fill("08:30-12:00, 14:00-17:30")
    page.locator("#hours-hall + tr button", has_text="保存").click()
    expect(page.locator("p.notice")).to_contain_text("「大厅」的取号时间已更新")
    expect(page.locator("#hours-hall")).to_contain_text("08:30-12:00、14:00-17:30")
    expect(page.locator("#next-openings + table")).to_contain_text("下次取号时间")
    page.screenshot(path=str(SCREENSHOTS / "hours.png"), full_page=True)
    page.close()
