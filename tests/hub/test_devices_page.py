"""设备管理 on the dashboard, against a real hub, broker and device links: a manager registers
a kiosk by form and sees it online by its name, then offline when it stops; a registered
device that never started shows 未上线 on the live hall; a device that reports but is not
registered is listed apart and registered with one button; bad input is refused in Chinese
with nothing changed; removing an online device asks again; the hub remembers over a
restart which devices were online today; every change is in the audit log in words."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from playwright.sync_api import Browser, expect
from sqlalchemy import func, select

from hub.app import Hub
from hub.db.schema import audit_log, devices
from hub.settings import HubSettings
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.helpers import csrf_token, eventually, make_account, signed_in_client
from tests.hub import test_dashboard_browser
from tests.hub.test_dashboard import visible_text
from tests.hub.test_dashboard_browser import LIVE_MS, SCREENSHOTS, sign_in

KIOSK = {"device_class": "kiosk", "device_id": "kiosk-7", "name": "东门1号取号机",
         "location": "东门入口左侧", "note": "2026年11月更换打印机"}


def post(web: FlaskClient, path: str, **data: str) -> tuple[int, str]:
    """(status, page shown) of a form sent from /devices; a redirect is followed."""
    token = csrf_token(web.get("/devices").get_data(as_text=True))
    answer = web.post(path, data={**data, "csrf_token": token})
    if answer.status_code == 303:
        return 303, web.get(answer.headers["Location"]).get_data(as_text=True)
    return answer.status_code, answer.get_data(as_text=True)


def row(page: str, device_id: str, section: str = "device") -> str:
    """The visible text of one device's row on 设备管理 ("" when it is not listed)."""
    start = page.find(f'<tr id="{section}-{device_id}"')
    return "" if start < 0 else visible_text(page[start:page.index("</tr>", start)])


def live(hub: Hub, device_id: str) -> dict[str, Any] | None:
    """The device's row as the live hall gets it (the state every event carries)."""
    return next((d for d in hub.feed.snapshot()[1]["devices"] if d["device_id"] == device_id),
                None)


def live_hall(web: FlaskClient) -> str:
    """The live hall's devices panel, as rendered."""
    page = web.get("/").get_data(as_text=True)
    start = page.index('<tbody id="devices">')
    return visible_text(page[start:page.index("</tbody>", start)])


def registry(hub: Hub) -> list[tuple[str, ...]]:
    with hub.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(devices.c.device_id, devices.c.device_class, devices.c.name,
                   devices.c.location, devices.c.note).order_by(devices.c.device_id))]


def test_a_kiosk_registered_by_form_shows_online_by_name_then_offline(
        hub: Hub, make_link: LinkFactory) -> None:
    web = signed_in_client(hub, "zhang")
    status, page = post(web, "/devices", **KIOSK)
    assert status == 303, page
    assert "已登记设备 kiosk-7「东门1号取号机」，实时大厅按此名称显示它" in page
    assert row(page, "kiosk-7").startswith("东门1号取号机 位置：东门入口左侧 "
                                           "备注：2026年11月更换打印机 zhang 登记于")
    assert "取号机 kiosk-7 从未上线 从未上线" in row(page, "kiosk-7")
    assert "东门1号取号机 取号机 未上线" in live_hall(web)

    link = make_link(DeviceClass.KIOSK, "kiosk-7")
    eventually(lambda: (live(hub, "kiosk-7") or {}).get("status") == "online",
               timeout=10, what="the kiosk online on the live hall")
    assert "取号机 kiosk-7 在线 当前在线" in row(web.get("/devices").get_data(as_text=True),
                                                "kiosk-7")
    assert "东门1号取号机 取号机 正常" in live_hall(web)

    link.set_status(printer="no_paper")  # its own report: shown as it said it
    eventually(lambda: (live(hub, "kiosk-7") or {}).get("problem") == "打印机缺纸",
               timeout=10, what="out of paper on the live hall")
    assert "在线 打印机缺纸" in row(web.get("/devices").get_data(as_text=True), "kiosk-7")

    link.stop()
    eventually(lambda: (live(hub, "kiosk-7") or {}).get("status") == "offline",
               timeout=10, what="the kiosk offline on the live hall")
    assert "取号机 kiosk-7 离线 刚刚" in row(web.get("/devices").get_data(as_text=True),
                                           "kiosk-7")
    assert live(hub, "kiosk-7")["problem"] == "离线"  # type: ignore[index]
    assert "东门1号取号机 取号机 离线 最后在线" in live_hall(web)

    with hub.engine.connect() as conn:
        entry = conn.execute(select(audit_log).where(audit_log.c.action == "device.add")).one()
    assert (entry.who, entry.target) == ("zhang", "device kiosk-7")
    assert entry.after == {"device_name": "东门1号取号机", "device_class": "kiosk",
                           "location": "东门入口左侧", "note": "2026年11月更换打印机"}
    log = visible_text(web.get("/audit").get_data(as_text=True))
    assert "登记设备 device kiosk-7" in log
    assert "设备名称：东门1号取号机；设备类型：取号机；安装位置：东门入口左侧" in log


def test_a_registered_device_never_started_is_shown_missing_on_the_live_hall(
        hub: Hub, make_link: LinkFactory) -> None:
    make_link(DeviceClass.KIOSK, "kiosk-1")  # reports, not registered: shown as before
    web = signed_in_client(hub, "zhang")
    assert post(web, "/devices", device_class="display", device_id="main-screen",
                name="大厅综合屏", location="大厅北墙", note="")[0] == 303
    eventually(lambda: live(hub, "kiosk-1"), timeout=10, what="the kiosk on the live hall")
    missing = live(hub, "main-screen")
    assert missing is not None
    assert (missing["name"], missing["status"], missing["problem"]) == (
        "大厅综合屏", "offline", "未上线")
    rows = hub.feed.snapshot()[1]["devices"]
    assert rows[0]["device_id"] == "main-screen", "what is missing comes first"
    panel = live_hall(web)
    assert panel.index("大厅综合屏 大厅显示屏 未上线") < panel.index("取号机 kiosk-1 正常")


def test_an_unregistered_device_is_listed_apart_and_registered_with_its_button(
        hub: Hub, make_link: LinkFactory) -> None:
    make_link(DeviceClass.CALLER, "caller-5")
    make_link(DeviceClass.KIOSK, "kiosk-2")
    make_link(DeviceClass.DISPLAY, "main-screen")
    eventually(lambda: all(live(hub, d) for d in ("caller-5", "kiosk-2", "main-screen")),
               timeout=10, what="three devices reporting")
    web = signed_in_client(hub, "zhang")
    page = web.get("/devices").get_data(as_text=True)
    assert "还没有登记设备：可从下方“未登记设备”一键登记" in visible_text(page)
    assert row(page, "caller-5", "unregistered") == \
        "窗口叫号器 caller-5 在线 当前在线 名称 位置 登记"
    assert 'value="5号窗口叫号器"' in page and 'value="2号取号机"' in page  # suggested names
    assert "全部登记（3台，按建议名称）" in page

    status, page = post(web, "/devices", **{"from": "row"}, device_class="caller",
                        device_id="caller-5", name=" ", location="5号窗口上方")
    assert status == 400 and "设备未登记：请填写设备名称" in page
    assert 'value="5号窗口上方"' in page[page.index('id="unregistered-caller-5"'):], \
        "what was typed stays in the device's own row"
    status, page = post(web, "/devices", **{"from": "row"}, device_class="caller",
                        device_id="caller-5", name="5号窗口叫号器", location="")
    assert status == 303 and "已登记设备 caller-5「5号窗口叫号器」" in page
    assert row(page, "caller-5", "unregistered") == ""
    assert row(page, "caller-5").startswith("5号窗口叫号器 zhang 登记于")
    assert (live(hub, "caller-5") or {}).get("name") == "5号窗口叫号器"

    status, page = post(web, "/devices/register-all")
    assert status == 303, page
    assert "已登记2台设备：2号取号机、大厅显示屏 main-screen；名称可在下方修改" in page, \
        visible_text(page)[:400]
    assert "没有未登记的设备" in visible_text(page)
    assert [r[:3] for r in registry(hub)] == [("caller-5", "caller", "5号窗口叫号器"),
                                              ("kiosk-2", "kiosk", "2号取号机"),
                                              ("main-screen", "display", "大厅显示屏 main-screen")]
    with hub.engine.connect() as conn:
        reasons = conn.scalars(select(audit_log.c.reason).where(
            audit_log.c.action == "device.add").order_by(audit_log.c.id)).all()
    assert reasons == [None, "登记全部未登记设备", "登记全部未登记设备"]

    status, page = post(web, "/devices/main-screen/edit", name="大厅综合屏",
                        location="大厅北墙", note="")
    assert status == 303 and "main-screen 已更新为「大厅综合屏」" in page
    assert row(page, "main-screen").startswith("大厅综合屏 位置：大厅北墙")
    assert "大厅综合屏 大厅显示屏 正常" in live_hall(web)
    log = visible_text(web.get("/audit").get_data(as_text=True))
    assert "修改设备 device main-screen" in log and "设备名称：大厅综合屏" in log


def test_bad_input_is_refused_in_chinese_with_nothing_changed(hub: Hub) -> None:
    web = signed_in_client(hub, "zhang")
    assert post(web, "/devices", **KIOSK)[0] == 303
    before = registry(hub)
    cases = [
        ({**KIOSK, "device_id": "kiosk-8", "name": "  "}, "设备未登记：请填写设备名称"),
        ({**KIOSK, "device_id": "kiosk-8", "device_class": "printer"},
         "设备未登记：没有这种设备类型：printer（可选：取号机、窗口叫号器、大厅显示屏、导办台）"),
        ({**KIOSK, "device_id": "kiosk-8", "device_class": "hub"}, "没有这种设备类型：hub"),
        ({**KIOSK, "device_id": "kiosk-8", "device_class": ""}, "设备未登记：请选择设备类型"),
        ({**KIOSK, "name": "另一台取号机"},
         "设备未登记：设备编号kiosk-7已登记为取号机“东门1号取号机”，同一编号只能登记一次"),
        ({**KIOSK, "name": "另一台", "device_id": "KIOSK-7"}, "设备编号kiosk-7已登记为取号机"),
        ({**KIOSK, "device_class": "caller", "name": "另一台"}, "设备编号kiosk-7已登记为取号机"),
        ({**KIOSK, "device_id": "kiosk-8"},
         "设备未登记：名称“东门1号取号机”已被设备kiosk-7使用，请换一个名称"),
        ({**KIOSK, "device_id": "1号机"}, "设备未登记：设备编号须为1–32位小写字母、数字或连字符"),
        ({**KIOSK, "device_id": "kiosk-8", "name": "机" * 51}, "设备未登记：设备名称最多50字"),
    ]
    for typed, message in cases:
        status, page = post(web, "/devices", **typed)
        assert status == 400 and message in page, (message, visible_text(page)[:300])
        assert f'value="{typed["device_id"]}"' in page and f'value="{typed["location"]}"' in page
        if typed["device_class"] in ("kiosk", "caller"):
            assert f'<option value="{typed["device_class"]}" selected>' in page
    status, page = post(web, "/devices/kiosk-7/edit", name="", location="西门", note="x")
    assert status == 400 and "kiosk-7未修改：请填写设备名称" in page
    assert 'value="西门"' in page and "<details class=\"inline\" open>" in page
    status, page = post(web, "/devices/kiosk-9/edit", name="无此设备", location="", note="")
    assert status == 400 and "kiosk-9未修改：没有登记编号为kiosk-9的设备" in page
    status, page = post(web, "/devices/kiosk-9/remove")
    assert status == 400 and "kiosk-9未删除：没有登记编号为kiosk-9的设备" in page
    assert registry(hub) == before
    with hub.engine.connect() as conn:
        changes = conn.scalar(select(func.count()).where(audit_log.c.action.startswith("device")))
    assert changes == 1, "only the first registration"


def test_removing_an_online_device_asks_again(hub: Hub, make_link: LinkFactory) -> None:
    web = signed_in_client(hub, "zhang")
    assert post(web, "/devices", **KIOSK)[0] == 303
    assert post(web, "/devices", device_class="guide", device_id="guide-1", name="导办台",
                location="", note="")[0] == 303
    assert post(web, "/devices/guide-1/remove")[0] == 303, "offline: removed at once"
    make_link(DeviceClass.KIOSK, "kiosk-7")
    eventually(lambda: (live(hub, "kiosk-7") or {}).get("status") == "online",
               timeout=10, what="the kiosk online")

    status, page = post(web, "/devices/kiosk-7/remove")
    assert status == 409
    assert "该设备当前在线，正在使用中" in page and "仍然删除“东门1号取号机”（kiosk-7）" in page
    assert [r[0] for r in registry(hub)] == ["kiosk-7"], "not removed yet"
    status, page = post(web, "/devices/kiosk-7/remove", confirm="1")
    assert status == 303
    assert "已删除设备 kiosk-7「东门1号取号机」；它再上线时列在“未登记设备”中" in page
    assert registry(hub) == []
    assert "取号机 kiosk-7 在线" in row(page, "kiosk-7", "unregistered")
    assert (live(hub, "kiosk-7") or {}).get("name") is None
    log = visible_text(web.get("/audit").get_data(as_text=True))
    assert "删除设备 device kiosk-7" in log and "删除设备 device guide-1" in log


def test_over_a_restart_the_hub_knows_who_was_online_today(
        hub_settings: HubSettings, make_link: LinkFactory) -> None:
    first = Hub(hub_settings)
    first.start()
    try:
        assert first.consumer.wait_connected(10)
        web = signed_in_client(first, "zhang")
        assert post(web, "/devices", **KIOSK)[0] == 303
        assert post(web, "/devices", device_class="kiosk", device_id="kiosk-8",
                    name="西门取号机", location="", note="")[0] == 303
        link = make_link(DeviceClass.KIOSK, "kiosk-7")
        eventually(lambda: (live(first, "kiosk-7") or {}).get("status") == "online",
                   timeout=10, what="the kiosk online")
        link.stop()
        eventually(lambda: (live(first, "kiosk-7") or {}).get("status") == "offline",
                   timeout=10, what="the kiosk offline")
    finally:
        first.stop()
    again = Hub(hub_settings)  # the broker replays the kiosk's last status: offline
    again.start()
    try:
        assert again.consumer.wait_connected(10)
        eventually(lambda: live(again, "kiosk-7") and live(again, "kiosk-7")["seen_at"],
                   timeout=10, what="the kiosk's retained status")
        assert live(again, "kiosk-7")["problem"] == "离线"  # type: ignore[index]
        assert live(again, "kiosk-8")["problem"] == "未上线"  # type: ignore[index]
        page = signed_in_client(again, "li", "viewer").get("/devices").get_data(as_text=True)
        assert "取号机 kiosk-7 离线" in row(page, "kiosk-7")
        assert "取号机 kiosk-8 从未上线 从未上线" in row(page, "kiosk-8")
        assert "<form" not in page.split("</header>", 1)[1], "a viewer reads only"
    finally:
        again.stop()


def test_who_may_change_the_registry(hub: Hub) -> None:
    for role in ("department", "guide", "viewer"):
        web = signed_in_client(hub, f"u-{role}", role, "GA" if role == "department" else None)
        page = web.get("/devices").get_data(as_text=True)
        assert "已登记设备" in page and "<h2>登记设备</h2>" not in page, role
        answer = web.post("/devices", data={**KIOSK, "csrf_token": csrf_token(page)})
        assert answer.status_code == 403, role
    admin = signed_in_client(hub, "zhang", "admin")
    assert post(admin, "/devices", **KIOSK)[0] == 303
    assert len(registry(hub)) == 1


browser = test_dashboard_browser.browser  # one headless Chromium a module


def test_the_live_hall_shows_a_registered_kiosk_coming_up_in_a_browser(
        hub: Hub, browser: Browser, make_link: LinkFactory) -> None:
    make_account(hub.engine)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, f"{hub.dashboard_url}/devices")
    page.select_option("select[name=device_class]", "kiosk")
    page.fill("form[action='/devices'].filters input[name=device_id]", "kiosk-7")
    page.fill("form[action='/devices'].filters input[name=name]", "东门1号取号机")
    page.get_by_role("button", name="登记", exact=True).last.click()
    expect(page.locator(".notice")).to_contain_text("已登记设备 kiosk-7「东门1号取号机」")
    expect(page.locator("#device-kiosk-7")).to_contain_text("从未上线")

    page.goto(hub.dashboard_url)
    expect(page.locator("#conn")).to_have_text("实时连接正常", timeout=LIVE_MS)
    missing = page.locator("#devices tr", has_text="东门1号取号机")
    expect(missing).to_contain_text("未上线")
    expect(missing).to_have_class("alert")
    page.evaluate("window.__marker = 1")
    make_link(DeviceClass.KIOSK, "kiosk-7")
    expect(missing).to_contain_text("正常", timeout=LIVE_MS)
    expect(missing).not_to_have_class("alert")
    assert page.evaluate("window.__marker") == 1, "shown live, not by a reload"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{hub.dashboard_url}/devices")
    page.screenshot(path=str(SCREENSHOTS / "devices.png"), full_page=True)
    page.close()
