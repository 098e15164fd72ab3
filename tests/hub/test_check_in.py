"""Appointment check-in at the hub: signed codes, the day and slot by the hub's clock, once.

The codes themselves (hub/appointment_codes.py) first, then through the real broker
and hub: each refusal names what is wrong in words a citizen understands and leaves
no ticket behind.
"""

from __future__ import annotations

import base64
from datetime import date, datetime, time
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from hub import appointment_codes
from hub.app import Hub
from hub.appointment_codes import (
    KEY_NAME,
    MAX_CHARS,
    AppointmentCode,
    Refusal,
    new_appointment_id,
    sign,
    verify,
)
from hub.catalogue import load_catalogue
from hub.catalogue_sync import sync_catalogue
from hub.clock import ShiftedClock
from hub.context import HallContext
from hub.db.engine import make_engine, migrate
from hub.db.schema import tickets
from hub.dispatch import dispatch
from hub.hall_keys import hall_key
from protocol import topics
from protocol.codes import ticket_code
from protocol.errors import ErrorCode
from protocol.link import DeviceLink
from protocol.messages import (
    CheckIn,
    ConfirmTicket,
    ErrorReply,
    IssueTicket,
    TicketConfirmed,
    TicketIssued,
    VoidTicket,
)
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.helpers import booked_code, record_booking, ticket_count

KEY = bytes(range(32))
DAY = date(2026, 11, 24)  # the hub fixture's working morning (hallsim WORKING_MORNING)
SERVICE = "GA_HJQY"  # 户口迁移, prefix A


def appointment(hall_id: str = "hall-1", *, day: date = DAY, start: str = "09:00",
                end: str = "09:30", service: str = SERVICE,
                appointment_id: str | None = None) -> AppointmentCode:
    return AppointmentCode(hall_id, appointment_id or new_appointment_id(), service, day,
                           time.fromisoformat(start), time.fromisoformat(end))


# ---------------------------------------------------------------- the codes


def test_a_signed_code_verifies_back() -> None:
    a = appointment(appointment_id="Xq3v9Jk2")
    code = sign(KEY, a)
    assert code.startswith("HALLQ:A:hall-1:")
    assert verify(code, KEY, "hall-1") == a
    assert verify(f"  {code}\n", KEY) == a, "a scanner's stray whitespace does no harm"
    assert a.slot_text() == "09:00-09:30"


def test_a_code_is_short_and_names_no_one() -> None:
    code = sign(KEY, appointment("county-hall", appointment_id=new_appointment_id()))
    assert len(code) <= 105, f"{len(code)} characters: a bigger QR version"
    assert len(code) < MAX_CHARS
    assert len({new_appointment_id() for _ in range(1000)}) == 1000


@pytest.mark.parametrize("text", [
    "HALLQ:T:hall-1:2026-11-24:A005:17",  # a ticket's own QR code
    "http://192.168.1.10:8080/t/abcdefghijklmnopqrstuv17",  # a ticket's page
    "https://www.gov.cn/", "hello", "HALLQ:a:hall-1:xx.yy",
])
def test_anything_else_is_not_an_appointment(text: str) -> None:
    found = verify(text, KEY, "hall-1")
    assert isinstance(found, Refusal) and found.code == ErrorCode.NOT_APPOINTMENT


def test_forged_damaged_and_other_halls_codes_are_refused() -> None:
    code = sign(KEY, appointment())
    head, mac = code.rsplit(".", 1)
    other_key = sign(bytes(32), appointment())
    flipped = f"{head}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}"
    swapped = sign(KEY, appointment(service="GA_SFZHL")).rsplit(".", 1)[0] + "." + mac
    for forged in (other_key, flipped, swapped, code[:-3], code + "A", code[:20] + code[21:]):
        found = verify(forged, KEY, "hall-1")
        assert isinstance(found, Refusal), forged
        assert found.code == ErrorCode.APPOINTMENT_BAD_SIGNATURE, (forged, found)
    moved = code.replace("HALLQ:A:hall-1:", "HALLQ:A:hall-2:")  # the hall id is signed too
    assert verify(moved, KEY) == Refusal(ErrorCode.APPOINTMENT_BAD_SIGNATURE,
                                         "bad signature, hall hall-2")
    for text in (moved, sign(KEY, appointment("hall-2"))):  # ours first, then the signature
        elsewhere = verify(text, KEY, "hall-1")
        assert isinstance(elsewhere, Refusal)
        assert elsewhere.code == ErrorCode.APPOINTMENT_WRONG_HALL


def test_a_signed_payload_that_is_not_an_appointment_is_refused() -> None:
    """What only a bug where codes are made could produce: signed, yet no appointment."""
    for payload in (b'{"i":"x"}', b'["Xq3v9Jk2","GA_HJQY","2026-11-24","09:30","09:00"]',
                    b"\xff\xfe" * 6):
        head = f"HALLQ:A:hall-1:{base64.urlsafe_b64encode(payload).decode().rstrip('=')}"
        found = verify(f"{head}.{appointment_codes._mac(KEY, head)}", KEY, "hall-1")
        assert isinstance(found, Refusal) and found.code == ErrorCode.APPOINTMENT_BAD_SIGNATURE
        assert found.detail.startswith("signed but unreadable")


def test_sign_refuses_what_it_cannot_vouch_for() -> None:
    for bad in (appointment(start="09:30", end="09:00"), appointment(service="gA"),
                appointment("Hall One"), appointment(appointment_id="a b")):
        with pytest.raises(ValueError):
            sign(KEY, bad)


# ---------------------------------------------------------------- through the hub


def code_for(hub: Hub, **kw: object) -> str:
    """The code of a booking on record, signed with the hub's own appointment key."""
    hall = str(kw.pop("hall_id", hub.settings.hall_id))
    a = appointment(hall, **kw)  # type: ignore[arg-type]
    return booked_code(hub, a.service, a.day, a.start, a.end, a.appointment_id, hall)


def at(hub: Hub, hh_mm: str, day: date = DAY) -> None:
    """Set the hall's clock (the hub's: the kiosk's own clock decides nothing)."""
    assert isinstance(hub.clock, ShiftedClock)
    hub.clock.set_local(datetime.combine(day, time.fromisoformat(hh_mm)))


def check_in(link: DeviceLink, code: str) -> TicketIssued | ErrorReply:
    reply = link.send(CheckIn(request_id=uuid4(), code=code)).wait(5)
    assert isinstance(reply, TicketIssued | ErrorReply), reply
    return reply


def appointment_of(hub: Hub, ticket_id: int) -> str | None:
    with hub.engine.connect() as conn:
        return conn.scalar(select(tickets.c.appointment_id).where(tickets.c.id == ticket_id))


def test_check_in_numbers_a_pending_ticket_like_a_walk_in(hub: Hub,
                                                          make_link: LinkFactory) -> None:
    kiosk = make_link(DeviceClass.KIOSK, "kiosk-1")
    walk_in = kiosk.send(IssueTicket(request_id=uuid4(), service=SERVICE)).wait(5)
    assert isinstance(walk_in, TicketIssued) and walk_in.ticket.number == "A001"
    at(hub, "08:45")  # 15 minutes before the slot
    booked = check_in(kiosk, code_for(hub, appointment_id="Appt0001"))
    assert isinstance(booked, TicketIssued), booked
    assert booked.ticket.number == "A002", "the same counter as the walk-ins"
    assert booked.ticket.status == "pending", "no ghost tickets: joins once in hand"
    assert booked.ticket.service == SERVICE and booked.ticket.service_name == "户口迁移"
    assert appointment_of(hub, booked.ticket.id) == "Appt0001"
    confirmed = kiosk.send(ConfirmTicket(request_id=uuid4(), ticket_id=booked.ticket.id,
                                         how="printed")).wait(5)
    assert isinstance(confirmed, TicketConfirmed) and confirmed.ticket.status == "waiting"


def test_one_ticket_per_appointment(hub: Hub, make_link: LinkFactory) -> None:
    kiosk = make_link(DeviceClass.KIOSK, "kiosk-1")
    code = code_for(hub)
    request = CheckIn(request_id=uuid4(), code=code)
    first = kiosk.send(request).wait(5)
    assert isinstance(first, TicketIssued)
    again = kiosk.send(request).wait(5)  # the same request resent: its first answer
    assert again == first
    rescanned = check_in(make_link(DeviceClass.KIOSK, "kiosk-2"), code)
    assert isinstance(rescanned, ErrorReply)
    assert rescanned.code == ErrorCode.APPOINTMENT_USED
    assert rescanned.message == f"该预约已取号：{first.ticket.number}"
    assert ticket_count(hub.engine) == 1


def test_a_voided_ticket_gives_the_appointment_back(hub: Hub, make_link: LinkFactory) -> None:
    kiosk = make_link(DeviceClass.KIOSK, "kiosk-1")
    code = code_for(hub, appointment_id="Appt0002")
    first = check_in(kiosk, code)
    assert isinstance(first, TicketIssued)
    voided = kiosk.send(VoidTicket(request_id=uuid4(), ticket_id=first.ticket.id,
                                   reason="not_taken")).wait(5)  # the printer failed, unseen
    assert voided is not None and voided.ok
    second = check_in(kiosk, code)
    assert isinstance(second, TicketIssued), second
    assert second.ticket.number == "A002"
    assert appointment_of(hub, first.ticket.id) is None
    assert appointment_of(hub, second.ticket.id) == "Appt0002"


@pytest.mark.parametrize(("now", "kw", "code", "message"), [
    ("09:00", {"day": date(2026, 11, 25)}, ErrorCode.APPOINTMENT_WRONG_DAY,
     "您预约的是11月25日，请当天再来"),
    ("09:00", {"day": date(2027, 1, 5)}, ErrorCode.APPOINTMENT_WRONG_DAY,
     "您预约的是2027年1月5日，请当天再来"),
    ("09:00", {"day": date(2026, 11, 23)}, ErrorCode.APPOINTMENT_WRONG_DAY,
     "您预约的是11月23日，预约日期已过，请现场取号或重新预约"),
    ("09:29", {"start": "10:00", "end": "10:30"}, ErrorCode.APPOINTMENT_TOO_EARLY,
     "您预约的时段是10:00-10:30，请于09:30以后取号"),
    ("08:46", {"start": "08:00", "end": "08:30"}, ErrorCode.APPOINTMENT_TOO_LATE,
     "您预约的时段08:00-08:30已过，请现场取号或重新预约"),
])
def test_outside_its_day_and_time_nothing_is_issued(
        hub: Hub, make_link: LinkFactory, now: str, kw: dict[str, object], code: ErrorCode,
        message: str) -> None:
    at(hub, now)
    refused = check_in(make_link(DeviceClass.KIOSK, "kiosk-1"), code_for(hub, **kw))
    assert isinstance(refused, ErrorReply), refused
    assert (refused.code, refused.message) == (code, message)
    assert ticket_count(hub.engine) == 0


def test_the_check_in_window_opens_and_closes_on_the_minute(
        hub: Hub, make_link: LinkFactory) -> None:
    kiosk = make_link(DeviceClass.KIOSK, "kiosk-1")
    at(hub, "09:30")  # 30 minutes before 10:00 (QueueRules.check_in_before_minutes)
    assert isinstance(check_in(kiosk, code_for(hub, start="10:00", end="10:30")), TicketIssued)
    at(hub, "08:44")  # 15 minutes after 08:30 (check_in_after_minutes), less a few seconds
    assert isinstance(check_in(kiosk, code_for(hub, start="08:00", end="08:30")), TicketIssued)


def test_an_out_of_hours_slot_checks_in_when_walk_ins_cannot(
        hub: Hub, make_link: LinkFactory) -> None:
    kiosk = make_link(DeviceClass.KIOSK, "kiosk-1")
    at(hub, "17:50")  # the hall issues until 17:30
    walk_in = kiosk.send(IssueTicket(request_id=uuid4(), service=SERVICE)).wait(5)
    assert isinstance(walk_in, ErrorReply) and walk_in.code == ErrorCode.OUTSIDE_HOURS
    booked = check_in(kiosk, code_for(hub, start="18:00", end="18:30"))
    assert isinstance(booked, TicketIssued), booked


@pytest.mark.parametrize(("text", "code", "message"), [
    ("HALLQ:T:{hall}:2026-11-24:A005:17", ErrorCode.NOT_APPOINTMENT,
     "这不是预约二维码，请出示预约成功后的二维码"),
    ("http://192.168.1.10:8080/t/abcdefghijklmnopqrstuv17", ErrorCode.NOT_APPOINTMENT,
     "这不是预约二维码，请出示预约成功后的二维码"),
    ("forged", ErrorCode.APPOINTMENT_BAD_SIGNATURE, "预约二维码无效，请到导办台咨询"),
])
def test_not_an_appointment_or_forged_is_refused(hub: Hub, make_link: LinkFactory,
                                                 text: str, code: ErrorCode,
                                                 message: str) -> None:
    if text == "forged":
        text = sign(bytes(32), appointment(hub.settings.hall_id))
    refused = check_in(make_link(DeviceClass.KIOSK, "kiosk-1"),
                       text.format(hall=hub.settings.hall_id))
    assert isinstance(refused, ErrorReply), refused
    assert (refused.code, refused.message) == (code, message)
    assert ticket_count(hub.engine) == 0


def test_a_ticket_code_is_not_an_appointment(hub: Hub, make_link: LinkFactory) -> None:
    kiosk = make_link(DeviceClass.KIOSK, "kiosk-1")
    issued = kiosk.send(IssueTicket(request_id=uuid4(), service=SERVICE)).wait(5)
    assert isinstance(issued, TicketIssued)
    refused = check_in(kiosk, ticket_code(hub.settings.hall_id, issued.ticket))
    assert isinstance(refused, ErrorReply) and refused.code == ErrorCode.NOT_APPOINTMENT
    assert ticket_count(hub.engine) == 1


def test_an_empty_or_huge_code_is_invalid() -> None:
    for text in ("", "x" * (MAX_CHARS + 1)):
        with pytest.raises(ValueError):
            CheckIn(request_id=uuid4(), code=text)


# ---------------------------------------------------------------- another hall's code


def test_another_halls_code_is_named_so_when_the_hub_knows_its_id(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    clock = ShiftedClock("Asia/Shanghai", datetime(2026, 11, 24, 9, 0))
    with engine.begin() as conn:
        sync_catalogue(conn, load_catalogue(), clock.now())
        key = hall_key(conn, KEY_NAME, clock.now())  # halls sharing a key (city mode)
    topic = topics.request_topic("hall-1", DeviceClass.KIOSK, "kiosk-1", CheckIn.ACTION)

    def answer(ctx: HallContext, code: str) -> object:
        payload = CheckIn(request_id=uuid4(), code=code).model_dump_json().encode()
        with engine.begin() as conn:
            found = dispatch(conn, ctx, "hall-1", topic, payload)
        assert found is not None
        return found.outcome.reply

    other = sign(key, appointment("hall-2"))
    refused = answer(HallContext(clock, hall_id="hall-1"), other)
    assert isinstance(refused, ErrorReply)
    assert refused.code == ErrorCode.APPOINTMENT_WRONG_HALL
    assert refused.message == "该预约不在本服务大厅办理，请到预约的服务大厅取号"
    ours = appointment("hall-1")
    with engine.begin() as conn:
        record_booking(conn, ours, clock.now())
    assert isinstance(answer(HallContext(clock, hall_id="hall-1"), sign(key, ours)),
                      TicketIssued)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(tickets)) == 1
    engine.dispose()


def test_appointment_ids_start_with_a_letter_or_digit() -> None:
    # Staff type a booking's number on the command line: "-x…" would read as an option.
    assert all(new_appointment_id()[0].isalnum() for _ in range(2000))
