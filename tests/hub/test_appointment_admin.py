"""What managers see and do about appointments: the 预约管理 page (masked), out-of-hours
bookings confirmed or refused, a no-show excused and a blacklisting lifted through
`./hallq admin appointments` against the running hub, each in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from hub import admin
from hub.app import Hub
from hub.booking import book
from hub.db.schema import appointments, audit_log, blacklist, sms_messages, tickets
from hub.no_shows import mark_no_shows
from hub.rules import AppointmentRules
from hub.settings import HubSettings
from protocol.errors import ErrorCode, UserError
from tests.helpers import signed_in_client
from tests.hub.test_booking import MAN, SERVICE, WOMAN, at, booking, on_hub

DAY = date(2026, 11, 24)  # a Tuesday


@pytest.fixture
def hub_ooh(hub_settings: HubSettings) -> Iterator[Hub]:
    """A hub where 户口迁移 is on the out-of-hours list (清单制)."""
    h = Hub(hub_settings.model_copy(update={
        "appointments": AppointmentRules(out_of_hours_items=(SERVICE,))}))
    h.start()
    assert h.consumer.wait_connected(10)
    yield h
    h.stop()


def ooh_booking(hub: Hub, day: date, start: str, purpose: str | None = "补办落户手续") -> str:
    return on_hub(hub, lambda conn: book(
        conn, hub.consumer.ctx, service=SERVICE, day=day, start=time.fromisoformat(start),
        name="张丽", id_number=WOMAN, phone="13812345678", channel="phone",
        form={"purpose": purpose} if purpose else None)).id


def test_out_of_hours_slots_from_one_to_five_working_days_ahead(hub_ooh: Hub) -> None:
    def ooh_days() -> list[date]:
        from hub.booking import slots
        found = []
        for n in range(0, 12):
            day = date.fromordinal(DAY.toordinal() + n)
            if any(s.out_of_hours for s in on_hub(
                    hub_ooh, lambda conn, d=day: slots(conn, hub_ooh.consumer.ctx, SERVICE, d))):
                found.append(day)
        return found
    # Tue 24th: working days ahead are 25, 26, 27 (Fri), 30 (Mon), 1 Dec; Saturday the 28th
    # is no working day but its out-of-hours (weekend) slots fall inside that range.
    days = ooh_days()
    assert days[0] == date(2026, 11, 25) and days[-1] == date(2026, 12, 1)
    assert DAY not in days  # not the same day

    with pytest.raises(UserError) as e:
        ooh_booking(hub_ooh, date(2026, 11, 25), "18:00", purpose=None)
    assert "预约登记表" in e.value.zh
    assert on_hub(hub_ooh, lambda conn: conn.scalar(select(appointments.c.id))) is None


def test_out_of_hours_booking_is_pending_until_a_manager_confirms(
        hub_ooh: Hub, capsys: pytest.CaptureFixture[str]) -> None:
    first = ooh_booking(hub_ooh, date(2026, 11, 25), "18:00")
    url = hub_ooh.dashboard_url
    assert admin.main(["--url", url, "appointments", "confirm", first, "yes",
                       "--who", "王主任"]) == 0
    assert "已确认" in capsys.readouterr().out
    second = ooh_booking(hub_ooh, date(2026, 11, 26), "18:30")
    assert admin.main(["--url", url, "appointments", "confirm", second, "no"]) == 1
    assert "请填写原因" in capsys.readouterr().err  # a refusal says why
    assert admin.main(["--url", url, "appointments", "confirm", second, "no",
                       "部门当天无人值守", "--who", "王主任"]) == 0
    with hub_ooh.engine.connect() as conn:
        statuses = dict(conn.execute(select(appointments.c.id, appointments.c.status)).all())
        kinds = list(conn.scalars(select(sms_messages.c.kind).order_by(sms_messages.c.id)))
        audits = conn.execute(select(audit_log.c.who, audit_log.c.action,
                                     audit_log.c.reason)).all()
    assert statuses == {first: "booked", second: "refused"}
    assert kinds == ["booked", "confirmed", "booked", "refused"]
    assert [tuple(a) for a in audits] == [("王主任", "appointment.confirm", None),
                                          ("王主任", "appointment.refuse", "部门当天无人值守")]


def test_the_page_shows_bookings_blacklist_and_sms_masked_and_lift_is_audited(
        hub: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for day in (date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 26)):
        at(hub, day, "09:00")
        booking(hub, day=day)
        at(hub, day, "11:00")
        on_hub(hub, lambda conn: mark_no_shows(conn, hub.consumer.ctx, hub.clock.now()))
    booking(hub, day=date(2026, 11, 27), id_number=MAN, name="欧阳建国")
    web: FlaskClient = signed_in_client(hub)
    page = web.get("/appointments?day=2026-11-26").get_data(as_text=True)
    for shown in ("预约未到", "张*女士", "110105********002X", "138****5678", "黑名单通知",
                  "2027-11-26", "已记录（未接短信网关）"):
        assert shown in page, shown
    for hidden in ("张丽", WOMAN, "13812345678"):
        assert hidden not in page, hidden
    assert "欧***先生" in web.get("/appointments?day=2026-11-27").get_data(as_text=True)

    with hub.engine.connect() as conn:
        entry = conn.scalar(select(blacklist.c.id))
    with pytest.raises(UserError) as e:
        booking(hub, day=date(2026, 11, 27), start="10:30")
    assert e.value.code == ErrorCode.BLACKLISTED
    url = hub.dashboard_url
    assert admin.main(["--url", url, "appointments", "lift", str(entry)]) == 1
    assert admin.main(["--url", url, "appointments", "lift", str(entry), "误判：当天已办结",
                       "--who", "王主任"]) == 0
    assert booking(hub, day=date(2026, 11, 27), start="10:30").status == "booked"  # open again
    page = web.get("/appointments").get_data(as_text=True)
    assert "blacklist.lift" in page and "误判：当天已办结" in page


def test_out_of_hours_working_days_skip_national_day_and_count_its_make_up_saturday(
        hub_ooh: Hub) -> None:
    from hub.booking import slots
    at(hub_ooh, date(2026, 9, 30), "09:00")  # the eve of 国庆节 (1-7 October off)

    def kinds(day: date) -> set[bool]:
        return {s.out_of_hours for s in on_hub(
            hub_ooh, lambda conn: slots(conn, hub_ooh.consumer.ctx, SERVICE, day))}

    offered = [date(2026, 10, d) for d in range(1, 16) if True in kinds(date(2026, 10, d))]
    # 1 to 5 working days ahead: 8, 9, 10 (the 调休 Saturday works), 12, 13 October; the
    # Sunday between them has weekend out-of-hours slots; the holiday has none at all.
    assert offered == [date(2026, 10, d) for d in (8, 9, 10, 11, 12, 13)]
    # (were the Saturday not counted, the fifth working day would be the 14th.)
    assert kinds(date(2026, 10, 3)) == set()  # a holiday: no slot of any kind


def test_the_guide_desk_checks_a_booking_in_by_its_number(
        hub: Hub, capsys: pytest.CaptureFixture[str]) -> None:
    done = booking(hub)  # today 10:00-10:30
    url = hub.dashboard_url
    assert admin.main(["--url", url, "appointments", "check-in", done.id]) == 1  # 09:00
    assert "请于09:30以后取号" in capsys.readouterr().err  # the kiosk's rules, word for word
    at(hub, DAY, "09:40")
    assert admin.main(["--url", url, "appointments", "check-in", done.id, "--who", "导办员"]) == 0
    assert "已取号：A001（户口迁移）" in capsys.readouterr().out
    with hub.engine.connect() as conn:
        ticket = conn.execute(select(tickets.c.status, tickets.c.handed_over)).one()
        status = conn.scalar(select(appointments.c.status))
        action = conn.scalar(select(audit_log.c.action))
    assert tuple(ticket) == ("waiting", "desk") and status == "checked_in"
    assert action == "appointment.check_in"
    assert admin.main(["--url", url, "appointments", "check-in", done.id]) == 1
    assert "该预约已取号：A001" in capsys.readouterr().err
