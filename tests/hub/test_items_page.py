"""事项与办事指南 (/items): a manager changes an item's 一次性告知 and the kiosks show it at
once, the other items as they were; a bad change is refused in Chinese with the typed text
kept; the manager's text outlives a restart over the same catalogue file until it is
handed back to the file; a department lead changes its own department's items only; each
change is in the audit log by name."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from hub.app import Hub
from hub.catalogue import load_catalogue
from hub.db.schema import audit_log, services
from hub.settings import HubSettings
from protocol.messages import ServiceInfo
from tests.conftest import LinkFactory
from tests.e2e.devices import kiosk
from tests.helpers import csrf_token, eventually, make_account, signed_in_client
from tests.hub import test_dashboard_browser
from tests.hub.test_dashboard_browser import SCREENSHOTS, sign_in

NEW_MATERIALS = ["居民身份证原件", "居民户口簿原件",
                 "迁入地住所证明（不动产权证书、购房合同或租赁备案）"]
FILE = {s.code: s for s in load_catalogue().all_services()}


def token(web: FlaskClient) -> str:
    return csrf_token(web.get("/items").get_data(as_text=True))


def guide(web: FlaskClient, materials: str, legal: str = "20", promised: str = "1",
          conditions: str = "符合本县户口迁入政策\n省内迁移“一站式”办理") -> dict[str, str]:
    return {"conditions": conditions, "materials": materials, "legal_days": legal,
            "promised_days": promised, "fee": "不收费", "csrf_token": token(web)}


def shown(services: list[ServiceInfo], code: str) -> ServiceInfo:
    return next(s for s in services if s.code == code)


def test_new_materials_reach_the_kiosks_and_outlive_a_restart(
        hub_settings: HubSettings, make_link: LinkFactory, tmp_path: Path) -> None:
    hub = Hub(hub_settings)
    hub.start()
    try:
        assert hub.consumer.wait_connected(10)
        machine = kiosk(make_link, tmp_path, hub)
        eventually(lambda: machine.catalogue is not None, what="the first catalogue state")
        assert machine.catalogue is not None
        before = list(machine.catalogue.services)
        web = signed_in_client(hub, "zhang")
        page = web.get("/items").get_data(as_text=True)
        assert "县公安局" in page and "户口迁移" in page and "投靠类提供亲属关系证明" in page

        empty = web.post("/items/GA_HJQY", data=guide(web, "\n  \n", conditions="新条件甲"))
        text = empty.get_data(as_text=True)
        assert empty.status_code == 400
        assert "「户口迁移」未修改：申请材料至少填写一条（每行一条）" in text
        assert "新条件甲" in text  # what was typed stays
        late = web.post("/items/GA_HJQY", data=guide(web, "新材料乙", legal="5", promised="10"))
        text = late.get_data(as_text=True)
        assert late.status_code == 400
        assert "承诺办结时限（10个工作日）不能超过法定办结时限（5个工作日）" in text
        assert "新材料乙" in text and 'value="10"' in text
        assert machine.catalogue.services == before, "nothing changed on a refusal"

        done = web.post("/items/GA_HJQY",
                        data=guide(web, "\n".join(NEW_MATERIALS) + "\n\n", promised="3"))
        assert done.status_code == 303
        assert "「户口迁移」的办事指南已更新" in web.get(done.headers["Location"]).get_data(
            as_text=True)
        eventually(lambda: machine.catalogue is not None and shown(
            machine.catalogue.services, "GA_HJQY").materials == NEW_MATERIALS,
            what="the new materials on the kiosk")
        item = shown(machine.catalogue.services, "GA_HJQY")
        assert item.promised_days == 3 and item.conditions[1] == "省内迁移“一站式”办理"
        assert [s for s in machine.catalogue.services if s.code != "GA_HJQY"] == \
            [s for s in before if s.code != "GA_HJQY"], "the other items unchanged"
        assert machine.catalogue.complaint_phone == "12345"
        assert "管理人员已修改" in web.get("/items").get_data(as_text=True)
    finally:
        hub.stop()

    again = Hub(hub_settings)  # the same database, the same catalogue file
    again.start()
    try:
        assert again.consumer.wait_connected(10)
        assert again.consumer.catalogue is not None
        assert shown(again.consumer.catalogue.services, "GA_HJQY").materials == NEW_MATERIALS
        web = signed_in_client(again, "li2")
        page = web.get("/items").get_data(as_text=True)
        assert NEW_MATERIALS[2] in page and "恢复目录文件" in page
        reset = web.post("/items/GA_HJQY/reset", data={"csrf_token": token(web)})
        assert reset.status_code == 303
        assert again.consumer.catalogue is not None
        item = shown(again.consumer.catalogue.services, "GA_HJQY")
        assert item.materials == FILE["GA_HJQY"].materials and item.promised_days == 1
        with again.engine.connect() as conn:
            assert conn.scalar(select(services.c.edited_at)
                               .where(services.c.code == "GA_HJQY")) is None
            entries = conn.execute(select(audit_log).where(audit_log.c.action.like("item.%"))
                                   .order_by(audit_log.c.id)).all()
        assert [(e.who, e.action, e.target) for e in entries] == [
            ("zhang", "item.edit", "GA_HJQY"), ("li2", "item.reset", "GA_HJQY")]
        assert entries[0].before["materials"] == FILE["GA_HJQY"].materials
        assert entries[0].after["materials"] == NEW_MATERIALS
        assert entries[1].after["promised_days"] == 1
        assert "管理人员已修改" not in web.get("/items").get_data(as_text=True)
    finally:
        again.stop()


def test_a_department_lead_changes_its_own_items_only(hub: Hub) -> None:
    lead = signed_in_client(hub, "li", "department", "GA")
    page = lead.get("/items").get_data(as_text=True)
    assert "居民身份证换领、补领" in page and "不动产登记资料查询" not in page
    assert "修改办事指南" in page
    answer = lead.post("/items/GA_SFZHL", data={
        "conditions": "本县常住户口居民", "materials": "居民户口簿原件\n原居民身份证",
        "legal_days": "15", "promised_days": "0", "fee": "换领20元，补领40元",
        "csrf_token": token(lead)})
    assert answer.status_code == 303
    assert hub.consumer.catalogue is not None
    item = shown(hub.consumer.catalogue.services, "GA_SFZHL")
    assert item.fee == "换领20元，补领40元" and item.promised_days == 0

    refused = lead.post("/items/BDC_CX", data={
        "conditions": "任何人", "materials": "无", "legal_days": "5", "promised_days": "0",
        "fee": "", "csrf_token": token(lead)})
    assert refused.status_code == 403
    assert lead.post("/items/BDC_CX/reset",
                     data={"csrf_token": token(lead)}).status_code == 403
    assert shown(hub.consumer.catalogue.services, "BDC_CX").materials == \
        FILE["BDC_CX"].materials

    viewer = signed_in_client(hub, "zhao", "viewer")
    read = viewer.get("/items").get_data(as_text=True)
    assert "不动产登记资料查询" in read and "修改办事指南" not in read
    assert viewer.post("/items/GA_SFZHL/reset", data={"csrf_token": token(viewer)}
                       ).status_code == 403
    with hub.engine.connect() as conn:
        actions = list(conn.scalars(select(audit_log.c.action).where(audit_log.c.who == "li")
                                    .order_by(audit_log.c.id)))
    assert actions == ["signin", "item.edit"]


browser = test_dashboard_browser.browser  # one headless Chromium a module


def test_a_manager_edits_an_item_in_the_browser(hub: Hub, browser: Browser) -> None:
    make_account(hub.engine)
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    sign_in(page, f"{hub.dashboard_url}/items")
    expect(page.locator("h1")).to_contain_text("事项与办事指南")
    section = page.locator("#item-GA_HJQY")
    section.locator("summary", has_text="修改办事指南").click()
    section.locator("textarea[name=materials]").fill("\n".join(NEW_MATERIALS))
    section.locator("button[type=submit]", has_text="保存并显示").click()
    expect(page.locator("p.notice").first).to_contain_text("办事指南已更新")
    expect(page.locator("#item-GA_HJQY .tag.edited")).to_have_text("管理人员已修改")
    expect(page.locator("#item-GA_HJQY")).to_contain_text(NEW_MATERIALS[2])
    page.locator("#item-GA_SFZHL summary", has_text="修改办事指南").click()
    page.locator("#item-GA_SFZHL input[name=legal_days]").fill("10")  # 承诺15
    page.locator("#item-GA_SFZHL button", has_text="保存并显示").click()
    expect(page.locator("#item-GA_SFZHL p.error")).to_contain_text("不能超过法定办结时限")
    page.screenshot(path=str(SCREENSHOTS / "items-refused.png"))
    page.evaluate("window.scrollTo(0, 0)")
    expect(page.locator("p.error[role=alert]")).to_contain_text("「居民身份证换领、补领」未修改")
    page.screenshot(path=str(SCREENSHOTS / "items.png"))
    setup = page.locator("#item-BDC_CX")
    setup.locator("summary", has_text="事项设置").click()
    setup.locator("input[name=daily_cap]").fill("80")
    setup.locator("button", has_text="保存事项设置").click()
    expect(page.locator("p.notice").first).to_contain_text("的事项设置已保存")
    expect(page.locator("#item-BDC_CX p.limits").first).to_contain_text("每日放号量：80个")
    page.close()
