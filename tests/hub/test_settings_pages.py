"""设置 on the dashboard: a manager gives a window an item and its next call follows; a
change that would strand people is refused with the reason; holidays are entered all or
none, the typed lines kept on a mistake; every change is in the audit log by name."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from hub.app import Hub
from hub.db.schema import audit_log
from protocol.messages import ErrorReply, TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import csrf_token, signed_in_client


def token(web: FlaskClient) -> str:
    return csrf_token(web.get("/settings").get_data(as_text=True))


def test_a_window_given_an_item_on_the_page_calls_it_next(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    assert kiosk(make_link, tmp_path, hub).take_ticket("BDC_CX").issued
    window = caller(make_link, 5)  # 公安户政: no 不动产 items
    window.open()
    assert isinstance(window.call_next(), ErrorReply)

    web = signed_in_client(hub, "zhang")
    page = web.get("/settings").get_data(as_text=True)
    assert "5号窗口 公安户政" in page and 'value="BDC_CX"' in page
    services = [s for s in next(r.services for r in hub.live.matrix() if r.window == 5)]
    answer = web.post("/settings/window/5", data={"services": [*services, "BDC_CX"],
                                                  "csrf_token": token(web)})
    assert answer.status_code == 303
    shown = web.get(answer.headers["Location"]).get_data(as_text=True)
    assert "5号窗口已更新，下一次叫号起生效。新增：BDC_CX；移除：无" in shown
    called = window.call_next()
    assert isinstance(called, TicketCalled) and called.ticket.number == "F001"

    with hub.engine.connect() as conn:
        entry = conn.execute(select(audit_log).where(audit_log.c.action == "matrix.set")).one()
    assert entry.who == "zhang" and entry.target == "window 5"
    assert "BDC_CX" not in entry.before["services"] and "BDC_CX" in entry.after["services"]


def test_stranding_an_item_is_refused_with_the_reason(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    assert kiosk(make_link, tmp_path, hub).take_ticket("ZW_BBCS").issued  # 办不成事反映: 15 only
    web = signed_in_client(hub)
    refused = web.post("/settings/window/15", data={"csrf_token": token(web)})  # none ticked
    assert refused.status_code == 400
    assert "15号窗口未修改：「办不成事反映」只有15号窗口办理（现有1人等候）" in \
        refused.get_data(as_text=True)
    assert next(r.services for r in hub.live.matrix() if r.window == 15) == ["ZW_BBCS"]
    guide = signed_in_client(hub, "wang", "guide")
    own = csrf_token(guide.get("/").get_data(as_text=True))  # a valid token, the wrong role
    assert guide.post("/settings/window/15", data={"services": ["ZW_BBCS"],
                                                   "csrf_token": own}).status_code == 403


def test_holidays_all_or_none_and_cleared(hub: Hub) -> None:
    web = signed_in_client(hub, "zhang")
    typed = "2027-01-01 off 元旦\n2027-02-06..2027-02-12 off 春节\n2027-02-14 wrok 春节调休"
    bad = web.post("/settings/calendar", data={"holidays": typed, "csrf_token": token(web)})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "节假日未录入：第3行看不懂" in page
    assert "2027-02-06..2027-02-12 off 春节" in page  # what was typed stays
    assert hub.live.calendar_days(2027) == []
    good = web.post("/settings/calendar", data={"holidays": typed.replace("wrok", "work"),
                                                "csrf_token": token(web)})
    assert good.status_code == 303
    page = web.get(good.headers["Location"]).get_data(as_text=True)
    assert "已录入9天" in page and "上班（调休）" in page and "2027-02-10" in page
    assert len(hub.live.calendar_days(2027)) == 9
    cleared = web.post("/settings/calendar/2027-01-01/clear", data={"csrf_token": token(web)})
    assert cleared.status_code == 303 and len(hub.live.calendar_days(2027)) == 8
    with hub.engine.connect() as conn:
        actions = list(conn.scalars(select(audit_log.c.action).where(audit_log.c.who == "zhang")
                                    .order_by(audit_log.c.id)))
    assert actions == ["signin", "calendar.set", "calendar.clear"]
