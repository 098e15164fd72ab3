"""事项设置 on /items: a manager renames an item, gives it another ticket letter and a daily
cap (放号量); the kiosk shows the name at once, its next ticket takes the new letter (the
tickets already issued keep theirs, no number twice) and the cap stops it; a bad setting is
refused in Chinese with what was typed kept; the setting outlives a restart over the same
catalogue file until handed back to the file; a department lead may not change them; each
change is in the audit log by name."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from hub.app import Hub
from hub.catalogue import load_catalogue
from hub.db.schema import audit_log, services
from hub.settings import HubSettings
from tests.conftest import LinkFactory
from tests.e2e.devices import kiosk
from tests.helpers import csrf_token, eventually, signed_in_client
from tests.hub.test_items_page import shown

FILE = {s.code: s for s in load_catalogue().all_services()}


def setup_form(web: FlaskClient, name: str, prefix: str, cap: str) -> dict[str, str]:
    return {"name": name, "prefix": prefix, "daily_cap": cap,
            "csrf_token": csrf_token(web.get("/items").get_data(as_text=True))}


def test_a_new_name_letter_and_cap_reach_the_kiosk_and_outlive_a_restart(
        hub_settings: HubSettings, make_link: LinkFactory, tmp_path: Path) -> None:
    hub = Hub(hub_settings)
    hub.start()
    try:
        assert hub.consumer.wait_connected(10)
        machine = kiosk(make_link, tmp_path, hub)
        eventually(lambda: machine.catalogue is not None, what="the first catalogue state")
        assert machine.catalogue is not None
        before = list(machine.catalogue.services)
        first = machine.take_ticket("GA_HJQY").issued
        assert first is not None and first.ticket.number == "A001"

        web = signed_in_client(hub, "zhang")
        page = web.get("/items").get_data(as_text=True)
        assert "号段字母</b>：A" in page and "每日放号量</b>：不限" in page

        new = "户口迁移（省内）"
        for name, prefix, cap, why in [
                ("  ", "Q", "2", "请填写事项名称"),
                (new, "1", "2", "号段字母请填写1到2个英文字母"),
                (new, "Q", "0", "每日放号量请填写1到9999之间的整数，不限量请留空，不能是0"),
                (new, "Q", "两百", "每日放号量请填写1到9999之间的整数")]:
            refused = web.post("/items/GA_HJQY/setup", data=setup_form(web, name, prefix, cap))
            text = refused.get_data(as_text=True)
            assert refused.status_code == 400, (name, prefix, cap)
            assert f"「户口迁移」未修改：{why}" in text
            assert f'value="{cap}"' in text, "what was typed stays"
        assert machine.catalogue.services == before, "nothing changed on a refusal"

        done = web.post("/items/GA_HJQY/setup",
                        data=setup_form(web, " 户口迁移（省内） ", "q", "2"))
        assert done.status_code == 303
        assert "「户口迁移（省内）」的事项设置已保存，下一张号起使用字母Q" in web.get(
            done.headers["Location"]).get_data(as_text=True)
        eventually(lambda: machine.catalogue is not None and shown(
            machine.catalogue.services, "GA_HJQY").name == "户口迁移（省内）",
            what="the new name on the kiosk")
        assert shown(machine.catalogue.services, "GA_HJQY").prefix == "Q"
        assert [s for s in machine.catalogue.services if s.code != "GA_HJQY"] == \
            [s for s in before if s.code != "GA_HJQY"], "the other items unchanged"

        second = machine.take_ticket("GA_HJQY").issued
        assert second is not None and second.ticket.number == "Q001"
        third = machine.take_ticket("GA_HJQY")
        assert third.error is not None, "the cap counts today's tickets, A001 too"
        assert third.error.message == "今日该事项号已发完，可预约其他日期或到导办台咨询"
        other = machine.take_ticket("GA_SFZHL").issued
        assert other is not None and other.ticket.number == "A002", "letter A counts on"
    finally:
        hub.stop()

    again = Hub(hub_settings)  # the same database, the same catalogue file
    again.start()
    try:
        assert again.consumer.wait_connected(10)
        assert again.consumer.catalogue is not None
        item = shown(again.consumer.catalogue.services, "GA_HJQY")
        assert (item.name, item.prefix) == ("户口迁移（省内）", "Q")
        assert again.issuing.cap("GA_HJQY") == 2
        web = signed_in_client(again, "li2")
        page = web.get("/items").get_data(as_text=True)
        assert "每日放号量</b>：2个（取号机）" in page and "管理人员已设置" in page
        reset = web.post("/items/GA_HJQY/setup/reset", data={
            "csrf_token": csrf_token(page)})
        assert reset.status_code == 303
        item = shown(again.consumer.catalogue.services, "GA_HJQY")
        assert (item.name, item.prefix) == (FILE["GA_HJQY"].name, "A")
        assert again.issuing.cap("GA_HJQY") is None
        with again.engine.connect() as conn:
            assert conn.scalar(select(services.c.setup_edited_at)
                               .where(services.c.code == "GA_HJQY")) is None
            entries = conn.execute(select(audit_log).where(audit_log.c.action.like("item.%"))
                                   .order_by(audit_log.c.id)).all()
        assert [(e.who, e.action, e.target) for e in entries] == [
            ("zhang", "item.setup", "GA_HJQY"), ("li2", "item.setup_reset", "GA_HJQY")]
        assert entries[0].before == {"item_name": "户口迁移", "prefix": "A", "daily_cap": "不限"}
        assert entries[0].after == {"item_name": "户口迁移（省内）", "prefix": "Q", "daily_cap": 2}
        audit_page = web.get("/audit").get_data(as_text=True)
        assert "修改事项设置" in audit_page and "事项设置恢复目录文件" in audit_page
    finally:
        again.stop()


def test_only_the_hall_sets_names_letters_and_caps(hub: Hub) -> None:
    lead = signed_in_client(hub, "li", "department", "GA")
    page = lead.get("/items").get_data(as_text=True)
    assert "修改办事指南" in page and "事项设置（名称、号段字母、每日放号量）" not in page
    answer = lead.post("/items/GA_HJQY/setup", data=setup_form(lead, "迁户口", "A", "5"))
    assert answer.status_code == 403
    assert lead.post("/items/GA_HJQY/setup/reset",
                     data={"csrf_token": csrf_token(page)}).status_code == 403
    manager = signed_in_client(hub, "wang", "manager")
    assert manager.post("/items/NOPE/setup",
                        data=setup_form(manager, "x", "A", "")).status_code == 404
    assert hub.consumer.catalogue is not None
    assert shown(hub.consumer.catalogue.services, "GA_HJQY").name == "户口迁移"
    assert hub.issuing.cap("GA_HJQY") is None
