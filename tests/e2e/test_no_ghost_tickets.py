"""No ghost tickets: a number joins the queue only once the citizen has it.

Through the real broker and hub with a kiosk whose printer has a paper roll that runs
out and can fall silent (printing.printers.FilePrinter): what the citizen sees on the
screen, what the hub's queue holds, and what the dashboard shows about the kiosk.
"""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from sqlalchemy import select

from hub.app import Hub
from hub.day_close import close_past_days
from hub.db.schema import tickets
from hub.settings import HubSettings
from kiosk.core import KioskCore, TicketResult
from kiosk.settings import KioskSettings
from printing.printers import FilePrinter
from protocol.messages import ConfirmTicket, ErrorReply, IssueTicket, TicketCalled, TicketIssued
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.e2e.devices import caller
from tests.escpos_reader import read_tickets
from tests.helpers import eventually, signed_in_client

SERVICE = "GA_HJQY"  # 户口迁移 at window 5


def make_kiosk(make_link: LinkFactory, tmp_path: Path, hall_id: str, printer: FilePrinter,
               device_id: str = "kiosk-1", **settings: object) -> KioskCore:
    link = make_link(DeviceClass.KIOSK, device_id, resend_after=0.3)
    core = KioskCore(KioskSettings(hall_id=hall_id, device_id=device_id,
                                   data_dir=tmp_path / "devices", **settings), link, printer)
    return core


def status_of(hub: Hub, number: str) -> tuple[str, str | None, str | None]:
    """(status, handed_over, closed_reason) of today's ticket; ("", None, None) if none."""
    with hub.engine.connect() as conn:
        row = conn.execute(select(tickets.c.status, tickets.c.handed_over,
                                  tickets.c.closed_reason)
                           .where(tickets.c.number == number)).first()
    return (row[0], row[1], row[2]) if row else ("", None, None)


def kiosk_row(hub: Hub) -> dict[str, object] | None:
    return next((d for d in hub.feed.snapshot()[1]["devices"] if d["device_id"] == "kiosk-1"),
                None)


def test_a_printed_ticket_joins_the_queue(hub: Hub, make_link: LinkFactory,
                                          tmp_path: Path) -> None:
    printer = FilePrinter(tmp_path / "kiosk.escpos")
    result = make_kiosk(make_link, tmp_path, hub.settings.hall_id, printer).take_ticket(SERVICE)
    assert result.printed and not result.on_screen
    assert "A001" in read_tickets(printer.path.read_bytes())[0].big
    assert status_of(hub, "A001") == ("waiting", "printed", None)
    eventually(lambda: (kiosk_row(hub) or {}).get("problem", "x") is None,
               what="the dashboard lists the kiosk as fine")


def test_out_of_paper_shows_the_ticket_and_stops_printing(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    printer = FilePrinter(tmp_path / "kiosk.escpos", paper_left=1)
    kiosk = make_kiosk(make_link, tmp_path, hub.settings.hall_id, printer)
    assert kiosk.take_ticket(SERVICE).printed
    window = caller(make_link, 5)
    window.open()

    on_screen = kiosk.take_ticket(SERVICE)
    assert on_screen.on_screen and on_screen.issued is not None
    assert on_screen.printer_problem == "打印机缺纸，号票显示在屏幕上：请拍照或记下号码"
    assert on_screen.issued.ticket.number == "A002"
    assert not kiosk.printing_offered
    eventually(lambda: (kiosk_row(hub) or {}).get("problem") == "打印机缺纸",
               what="the dashboard shows the kiosk out of paper")
    page = signed_in_client(hub).get("/").get_data(as_text=True)
    assert "取号机 <span class=\"window-name\">kiosk-1</span>" in page and "打印机缺纸" in page
    assert status_of(hub, "A002")[0] == "pending"
    first = window.call_next()
    assert isinstance(first, TicketCalled) and first.ticket.number == "A001"
    window.finish()
    empty = window.call_next()
    assert isinstance(empty, ErrorReply), "A002 is not in anyone's hand yet: never called"

    kiosk.confirm_on_screen(on_screen.issued.ticket.id)  # the citizen tapped 我已记下号码
    assert status_of(hub, "A002") == ("waiting", "screen", None)
    second = window.call_next()
    assert isinstance(second, TicketCalled) and second.ticket.number == "A002"


def test_a_ticket_nobody_took_is_void_and_never_called(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    printer = FilePrinter(tmp_path / "kiosk.escpos")
    printer.answering = False
    kiosk = make_kiosk(make_link, tmp_path, hub.settings.hall_id, printer)
    shown = kiosk.take_ticket(SERVICE)
    assert shown.printer_problem == "打印机无响应，号票显示在屏幕上：请拍照或记下号码"
    assert shown.issued is not None
    kiosk.void_unseen(shown.issued.ticket.id)  # the screen timed out, nobody tapped
    eventually(lambda: status_of(hub, "A001")[0] == "void", what="A001 voided")
    assert status_of(hub, "A001") == ("void", None, "not_taken")
    window = caller(make_link, 5)
    window.open()
    assert isinstance(window.call_next(), ErrorReply)


def test_printing_comes_back_when_the_paper_does(hub: Hub, make_link: LinkFactory,
                                                 tmp_path: Path) -> None:
    printer = FilePrinter(tmp_path / "kiosk.escpos", paper_left=0)
    kiosk = make_kiosk(make_link, tmp_path, hub.settings.hall_id, printer,
                       printer_check_s=0.1)
    kiosk.start()
    try:
        assert not kiosk.printing_offered
        printer.refill()
        eventually(lambda: kiosk.printing_offered, what="printing offered again")
        eventually(lambda: (kiosk_row(hub) or {}).get("problem", "x") is None,
                   what="the dashboard sees the printer fixed")
        assert kiosk.take_ticket(SERVICE).printed
    finally:
        kiosk.stop()


def test_an_answer_after_the_citizen_left_is_voided_not_printed(
        hub_settings: HubSettings, make_link: LinkFactory, tmp_path: Path) -> None:
    printer = FilePrinter(tmp_path / "kiosk.escpos")
    kiosk = make_kiosk(make_link, tmp_path, hub_settings.hall_id, printer)
    late: list[TicketResult] = []
    kiosk.on_late_ticket = late.append
    waited = kiosk.take_ticket(SERVICE, timeout=0.3)  # no hub yet
    assert waited.pending and waited.request_id is not None
    kiosk.give_up(waited.request_id)  # the citizen walked away from "正在连接…"
    hub = Hub(hub_settings)
    hub.start()
    try:
        eventually(lambda: hub.feed.snapshot()[1]["queue"] is not None, what="hub up")
        eventually(lambda: status_of(hub, "A001")[0] == "void", timeout=10,
                   what="the late ticket voided")
        assert status_of(hub, "A001")[2] == "citizen_left"
        assert not printer.path.exists() and late == []
    finally:
        hub.stop()


def test_a_kiosk_that_died_while_printing_confirms_the_ticket(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    link = make_link(DeviceClass.KIOSK, "kiosk-1")
    issued = link.send(IssueTicket(request_id=uuid4(), service=SERVICE)).wait(5)
    assert isinstance(issued, TicketIssued)
    journal = tmp_path / "devices" / "kiosk-1.printing"  # what _hand_over writes first
    journal.mkdir(parents=True)
    (journal / str(issued.ticket.id)).write_text(str(issued.ticket.id))
    link.stop()
    make_kiosk(make_link, tmp_path, hub.settings.hall_id,
               FilePrinter(tmp_path / "kiosk.escpos"), device_id="kiosk-1")
    eventually(lambda: status_of(hub, "A001")[0] == "waiting",
               what="the ticket counted as in the citizen's hand")
    assert status_of(hub, "A001")[1] == "unsure"
    assert not any(journal.iterdir())


def test_only_the_kiosk_that_issued_a_ticket_confirms_it(
        hub: Hub, make_link: LinkFactory) -> None:
    own = make_link(DeviceClass.KIOSK, "kiosk-1")
    issued = own.send(IssueTicket(request_id=uuid4(), service=SERVICE)).wait(5)
    assert isinstance(issued, TicketIssued) and issued.ticket.status == "pending"
    other = make_link(DeviceClass.KIOSK, "kiosk-2")
    refused = other.send(ConfirmTicket(request_id=uuid4(), ticket_id=issued.ticket.id,
                                       how="printed")).wait(5)
    assert isinstance(refused, ErrorReply) and refused.message == "没有找到这张号票，请重新取号"
    assert status_of(hub, "A001")[0] == "pending"


def test_numbers_never_confirmed_are_voided_at_the_end_of_the_day(
        hub: Hub, make_link: LinkFactory) -> None:
    link = make_link(DeviceClass.KIOSK, "kiosk-1")
    issued = link.send(IssueTicket(request_id=uuid4(), service=SERVICE)).wait(5)
    assert isinstance(issued, TicketIssued)
    day = issued.ticket.service_day
    with hub.engine.begin() as conn:
        from datetime import timedelta

        close_past_days(conn, day + timedelta(days=1), hub.clock.now())
    assert status_of(hub, "A001") == ("void", None, "unconfirmed")




def test_paperless_the_ticket_goes_on_the_phone_or_on_paper_if_asked(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    printer = FilePrinter(tmp_path / "kiosk.escpos")
    kiosk = make_kiosk(make_link, tmp_path, hub.settings.hall_id, printer, paperless=True)
    shown = kiosk.take_ticket(SERVICE)
    assert shown.to_phone and shown.on_screen and shown.issued is not None
    assert shown.printer_problem is None and not printer.path.exists(), "no paper used"
    assert kiosk.ticket_qr(shown.issued) == shown.issued.track_url, "the QR opens its live page"
    assert status_of(hub, "A001")[0] == "pending"
    kiosk.confirm_on_phone(shown.issued.ticket.id)  # 已存到手机
    assert status_of(hub, "A001") == ("waiting", "phone", None)

    asked = kiosk.take_ticket(SERVICE)
    assert asked.issued is not None and asked.to_phone
    printed = kiosk.print_instead(asked.issued)  # 打印纸质号票
    assert printed.printed and "A002" in read_tickets(printer.path.read_bytes())[0].big
    assert status_of(hub, "A002") == ("waiting", "printed", None)


def test_opening_the_page_on_a_phone_is_taking_the_ticket(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    """Paperless: whoever scanned the QR code has the ticket, tap or no tap at the kiosk."""
    kiosk = make_kiosk(make_link, tmp_path, hub.settings.hall_id,
                       FilePrinter(tmp_path / "kiosk.escpos"), paperless=True)
    shown = kiosk.take_ticket(SERVICE)
    assert shown.issued is not None and shown.issued.track_url is not None
    path = "/t/" + shown.issued.track_url.rsplit("/t/", 1)[1]
    page = hub.web.test_client().get(path + ".json")
    assert page.status_code == 200 and page.json is not None
    assert page.json["status"] == "waiting", "the phone has it: it is in the queue"
    assert status_of(hub, "A001") == ("waiting", "phone", None)
    kiosk.void_unseen(shown.issued.ticket.id)  # the kiosk's screen timed out meanwhile
    eventually(lambda: len(kiosk.link.outbox) == 0, what="the void answered")
    assert status_of(hub, "A001")[0] == "waiting", "a ticket in hand is never voided"
