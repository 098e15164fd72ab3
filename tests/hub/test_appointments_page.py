"""预约管理 acting on the page: a manager confirms and refuses out-of-hours bookings, excuses
a no-show and lifts a blacklisting, each with its reason and name in the audit log; a
viewer sees and changes nothing; search by phone tail and the Excel file stay masked."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from hub.app import Hub
from hub.db.schema import appointments, audit_log, blacklist
from hub.no_shows import mark_no_shows
from tests.helpers import csrf_token, signed_in_client
from tests.hub.test_appointment_admin import hub_ooh, ooh_booking  # noqa: F401 (fixture)
from tests.hub.test_booking import at, booking, on_hub


def token(web: FlaskClient, path: str = "/appointments") -> str:
    return csrf_token(web.get(path).get_data(as_text=True))


def statuses(hub: Hub) -> dict[str, str]:
    with hub.engine.connect() as conn:
        return {r.id: r.status for r in conn.execute(select(appointments.c.id,
                                                             appointments.c.status))}


def test_out_of_hours_bookings_confirmed_and_refused_on_the_page(hub_ooh: Hub) -> None:  # noqa: F811
    first = ooh_booking(hub_ooh, date(2026, 11, 25), "18:00")
    second = ooh_booking(hub_ooh, date(2026, 11, 26), "18:00")
    web = signed_in_client(hub_ooh, "zhang")
    page = web.get("/appointments").get_data(as_text=True)
    assert f"/appointments/{first}/confirm" in page
    done = web.post(f"/appointments/{first}/confirm", data={"accept": "yes",
                                                            "csrf_token": token(web)})
    assert done.status_code == 303
    assert "已确认，已短信通知预约人" in web.get(done.headers["Location"]).get_data(as_text=True)
    no_reason = web.post(f"/appointments/{second}/confirm", data={"accept": "no", "note": " ",
                                                                  "csrf_token": token(web)})
    assert no_reason.status_code == 400 and "请填写原因" in no_reason.get_data(as_text=True)
    refused = web.post(f"/appointments/{second}/confirm", data={
        "accept": "no", "note": "当天部门无人值守", "csrf_token": token(web)})
    assert refused.status_code == 303
    assert statuses(hub_ooh) == {first: "booked", second: "refused"}
    with hub_ooh.engine.connect() as conn:
        log = conn.execute(select(audit_log.c.who, audit_log.c.action, audit_log.c.reason)
                           .where(audit_log.c.action.startswith("appointment."))).all()
    assert [tuple(r) for r in log] == [("zhang", "appointment.confirm", None),
                                       ("zhang", "appointment.refuse", "当天部门无人值守")]


def test_a_blacklisting_lifted_and_a_no_show_excused_on_the_page(hub: Hub) -> None:
    no_shows = []
    for day in (date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 26)):
        at(hub, day, "09:00")
        no_shows.append(booking(hub, day=day).id)
        at(hub, day, "11:00")
        on_hub(hub, lambda conn: mark_no_shows(conn, hub.consumer.ctx, hub.clock.now()))
    with hub.engine.connect() as conn:
        entry = conn.scalar(select(blacklist.c.id))
    viewer = signed_in_client(hub, "zhao", "viewer")
    seen = viewer.get("/appointments?day=2026-11-26").get_data(as_text=True)
    assert "预约未到" in seen and "/lift" not in seen and "/excuse" not in seen
    assert viewer.post(f"/blacklist/{entry}/lift", data={
        "reason": "误判", "csrf_token": token(viewer)}).status_code == 403

    web = signed_in_client(hub, "zhang")
    page = web.get("/appointments?day=2026-11-26").get_data(as_text=True)
    assert f"/blacklist/{entry}/lift" in page and f"/appointments/{no_shows[2]}/excuse" in page
    excused = web.post(f"/appointments/{no_shows[2]}/excuse?day=2026-11-26", data={
        "reason": "当日停电临时闭馆", "csrf_token": token(web)})
    assert excused.status_code == 303 and statuses(hub)[no_shows[2]] == "excused"
    lifted = web.post(f"/blacklist/{entry}/lift", data={"reason": "",
                                                        "csrf_token": token(web)})
    assert lifted.status_code == 400 and "请填写原因" in lifted.get_data(as_text=True)

    found = web.get("/appointments?q=5678").get_data(as_text=True)  # the phone's tail
    assert found.count("张*女士") >= 3 and "13812345678" not in found
    book = load_workbook(BytesIO(web.get("/appointments.xlsx?q=5678").data))
    rows = [[c.value for c in r] for r in book["预约"].iter_rows(min_row=4)]
    assert [r[0] for r in rows] == ["2026-11-24", "2026-11-25", "2026-11-26"]
    assert {r[5] for r in rows} == {"138****5678"} and {r[7] for r in rows} >= {"预约未到"}
