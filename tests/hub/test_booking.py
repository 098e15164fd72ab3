"""Booking, cancelling, no-shows and the blacklist, on the real hub's request thread and its
SQLite file, with the hall's clock moved through the days (the hub's clock decides)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Connection, select

from hub.app import Hub
from hub.appointment_codes import KEY_NAME, verify
from hub.booking import Booking, book, cancel, slots
from hub.clock import ShiftedClock
from hub.db.schema import appointments, blacklist, sms_messages
from hub.hall_keys import hall_key
from hub.identity import check_character
from hub.no_shows import excuse, mark_no_shows
from kiosk.core import KioskCore
from protocol.errors import ErrorCode, UserError
from protocol.messages import TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import database_bytes

SERVICE, WINDOW = "GA_HJQY", 5  # 户口迁移, served at window 5
DAY = date(2026, 11, 24)  # the hub fixture's working morning (09:00)
WOMAN = "11010519491231002X"
MAN = "440308199001011239"
T = TypeVar("T")


def on_hub(hub: Hub, job: Callable[[Connection], T]) -> T:
    """Run a booking function on the hub's request thread, as the booking page does."""
    return hub.consumer.run(job)


def at(hub: Hub, day: date, hh_mm: str) -> None:
    assert isinstance(hub.clock, ShiftedClock)
    hub.clock.set_local(datetime.combine(day, time.fromisoformat(hh_mm)))


def booking(hub: Hub, day: date = DAY, start: str = "10:00", id_number: str = WOMAN,
            name: str = "张丽") -> Booking:
    return on_hub(hub, lambda conn: book(
        conn, hub.consumer.ctx, service=SERVICE, day=day, start=time.fromisoformat(start),
        name=name, id_number=id_number, phone="13812345678", channel="web"))


def refusal(hub: Hub, **kw: object) -> UserError:
    with pytest.raises(UserError) as e:
        booking(hub, **kw)  # type: ignore[arg-type]
    return e.value


def sms(hub: Hub) -> list[tuple[str, str]]:
    with hub.engine.connect() as conn:
        return [(r.kind, r.text) for r in conn.execute(
            select(sms_messages.c.kind, sms_messages.c.text).order_by(sms_messages.c.id))]


def test_slots_cut_the_hours_and_take_seats_per_window(hub: Hub) -> None:
    found = on_hub(hub, lambda conn: slots(conn, hub.consumer.ctx, SERVICE, DAY))
    windows = len(hub.issuing.windows_of[SERVICE])
    assert found[0].text() == "09:30-10:00"  # 09:00 has begun: from the next
    assert found[-1].text() == "17:00-17:30"  # the hall's hours end at 17:30
    assert {s.capacity for s in found} == {2 * windows}
    booking(hub)
    ten = next(s for s in on_hub(hub, lambda conn: slots(conn, hub.consumer.ctx, SERVICE, DAY))
               if s.text() == "10:00-10:30")
    assert ten.booked == 1 and ten.left == 2 * windows - 1


def test_a_booking_keeps_no_clear_id_or_name_and_its_code_checks_in(
        hub: Hub, make_link: LinkFactory, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    done = booking(hub)
    assert (done.status, done.name_masked, done.id_masked) == ("booked", "张*女士",
                                                              "110105********002X")
    with hub.engine.begin() as conn:
        key = hall_key(conn, KEY_NAME, hub.clock.now())
    code = verify(done.code, key, hub.settings.hall_id)
    assert not isinstance(code, type(None)) and code.appointment_id == done.id
    raw = database_bytes(hub, tmp_path)
    for secret in (WOMAN, "张丽", "11010519491231002x"):
        assert secret.encode() not in raw
        assert secret not in caplog.text  # nor in the hub's log
    assert sms(hub)[0][0] == "booked" and "10:00-10:30" in sms(hub)[0][1]

    at(hub, DAY, "09:45")  # in the check-in window (30 min before)
    machine: KioskCore = kiosk(make_link, tmp_path, hub)
    assert machine.check_in(done.code).issued is not None
    with hub.engine.connect() as conn:
        assert conn.scalar(select(appointments.c.status)
                           .where(appointments.c.id == done.id)) == "checked_in"


def test_one_booking_a_day_per_person_and_two_people_of_one_name(hub: Hub) -> None:
    booking(hub)
    assert refusal(hub, start="11:00").code == ErrorCode.ONE_BOOKING_A_DAY
    booking(hub, start="11:00", id_number=MAN)  # another 张丽: another person
    booking(hub, day=date(2026, 11, 25))  # the next day is free


def test_the_last_seat_goes_to_exactly_one_of_many_at_once(hub: Hub) -> None:
    seats = 2 * len(hub.issuing.windows_of[SERVICE])
    people = [f"{110105194912310000 + 10 * i}" for i in range(40)]
    valid = [p[:17] + check_character(p[:17]) for p in people]
    for number in valid[:seats - 1]:
        booking(hub, id_number=number)
    results: list[object] = []

    def try_book(number: str) -> None:
        try:
            results.append(booking(hub, id_number=number))
        except UserError as e:
            results.append(e.code)

    racers = [threading.Thread(target=try_book, args=(n,)) for n in valid[seats - 1:seats + 5]]
    for r in racers:
        r.start()
    for r in racers:
        r.join()
    assert sum(isinstance(r, Booking) for r in results) == 1
    assert results.count(ErrorCode.SLOT_FULL) == 5


def test_cancel_until_an_hour_before_and_a_cancelled_code_is_refused(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    first = booking(hub, start="11:00")
    assert on_hub(hub, lambda conn: cancel(conn, hub.consumer.ctx, first.id)).status \
        == "cancelled"
    late = booking(hub, start="09:30", id_number=MAN)  # 30 minutes ahead: too late to cancel
    with pytest.raises(UserError) as e:
        on_hub(hub, lambda conn: cancel(conn, hub.consumer.ctx, late.id))
    assert e.value.code == ErrorCode.CANCEL_TOO_LATE
    at(hub, DAY, "10:45")
    refused = kiosk(make_link, tmp_path, hub).check_in(first.code)
    assert refused.error is not None and "已取消" in refused.error.message


def test_three_no_shows_blacklist_for_a_year_but_walk_in_stays(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    days = [date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 26)]
    for i, day in enumerate(days, start=1):
        at(hub, day, "09:00")
        booking(hub, day=day)
        at(hub, day, "10:46")  # the 10:00-10:30 slot's check-in closed at 10:45
        assert on_hub(hub, lambda conn: mark_no_shows(conn, hub.consumer.ctx,
                                                      hub.clock.now())) == 1
        kinds = [k for k, _ in sms(hub)]
        if i == 2:
            assert kinds[-1] == "warning" and "2次预约未到" in sms(hub)[-1][1]
    assert kinds[-1] == "blacklisted"
    with hub.engine.connect() as conn:
        entry = conn.execute(select(blacklist.c.since, blacklist.c.until,
                                    blacklist.c.name_masked)).one()
    assert tuple(entry) == (date(2026, 11, 26), date(2027, 11, 26), "张*女士")

    at(hub, date(2026, 11, 27), "09:00")
    refused = refusal(hub, day=date(2026, 11, 27))
    assert refused.code == ErrorCode.BLACKLISTED
    assert "2027年11月26日前暂停预约服务" in refused.zh and "现场取号" in refused.zh
    walk_in = kiosk(make_link, tmp_path, hub).take_ticket(SERVICE)
    assert walk_in.issued is not None  # walk-in service is never refused

    # The hall closed on the 26th for an emergency: that no-show is excused, the ban lifted.
    with hub.engine.connect() as conn:
        third = conn.scalar(select(appointments.c.id).where(appointments.c.day == days[2]))
    assert on_hub(hub, lambda conn: excuse(conn, str(third), "停电闭馆", hub.clock.now()))
    booking(hub, day=date(2026, 11, 27))


def test_an_appointment_in_its_slot_is_called_ahead_of_walk_ins(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    machine = kiosk(make_link, tmp_path, hub)
    window = caller(make_link, WINDOW)
    window.sign_in("S051", "123456")
    window.open()
    walk_ins = [machine.take_ticket(SERVICE).issued for _ in range(2)]  # A001, A002 at 09:00
    booked = booking(hub, start="09:30")
    at(hub, DAY, "09:05")
    checked_in = machine.check_in(booked.code).issued  # A003, early: its slot is 09:30
    assert checked_in is not None and all(w is not None for w in walk_ins)

    def called() -> str:
        reply = window.call_next()
        assert isinstance(reply, TicketCalled), reply
        window.finish()
        return reply.ticket.number

    assert called() == "A001"  # 09:05: the slot has not begun, the appointment waits in line
    at(hub, DAY, "09:30")
    assert called() == "A003"  # its slot has begun: ahead of the walk-in A002
    assert called() == "A002"
