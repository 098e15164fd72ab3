"""The main screen's notices and complaint line, changed on 设置: every screen has them at
once (retained catalogue state), the hub keeps them over a restart, a too-long notice is
refused with the typed text kept, and the change is in the audit log."""

from __future__ import annotations

from sqlalchemy import select

from hub.app import Hub
from hub.db.schema import audit_log
from hub.settings import HubSettings
from tests.conftest import LinkFactory
from tests.e2e.devices import caller
from tests.helpers import csrf_token, eventually, signed_in_client

NOTICES = "今日下午16:00后不动产登记暂停受理\n午间（12:00-14:00）不间断服务"


def test_new_notices_reach_every_screen_and_outlive_a_restart(
        hub_settings: HubSettings, make_link: LinkFactory) -> None:
    hub = Hub(hub_settings)
    hub.start()
    try:
        assert hub.consumer.wait_connected(10)
        screen = caller(make_link, 5)  # any device: the catalogue state reaches them all
        eventually(lambda: screen.catalogue is not None, what="the first catalogue state")
        assert screen.catalogue is not None and screen.catalogue.complaint_phone == "12345"
        web = signed_in_client(hub, "zhang")
        token = csrf_token(web.get("/settings").get_data(as_text=True))
        too_long = web.post("/settings/public-info", data={
            "complaint_phone": "0371-12345678", "notices": "长" * 61, "csrf_token": token})
        page = too_long.get_data(as_text=True)
        assert too_long.status_code == 400 and "每条公告最多60字" in page and "长" * 61 in page
        done = web.post("/settings/public-info", data={
            "complaint_phone": "0371-12345678", "notices": NOTICES + "\n\n", "csrf_token": token})
        assert done.status_code == 303
        eventually(lambda: screen.catalogue is not None
                   and screen.catalogue.notices == NOTICES.split("\n"),
                   what="the new notices on the screen")
        assert screen.catalogue is not None
        assert screen.catalogue.complaint_phone == "0371-12345678"
        assert len(screen.catalogue.services) > 10, "the rest of the catalogue unchanged"
        with hub.engine.connect() as conn:
            entry = conn.execute(select(audit_log).where(
                audit_log.c.action == "public_info.set")).one()
        assert entry.who == "zhang" and entry.before["complaint_phone"] == "12345"
    finally:
        hub.stop()
    again = Hub(hub_settings)  # the same database, the same catalogue file
    again.start()
    try:
        assert again.consumer.wait_connected(10)
        assert again.consumer.catalogue is not None
        assert again.consumer.catalogue.notices == NOTICES.split("\n")
        settings = signed_in_client(again, "li2").get("/settings").get_data(as_text=True)
        assert "今日下午16:00后不动产登记暂停受理" in settings
    finally:
        again.stop()
