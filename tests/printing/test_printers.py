"""The printer stand-in the demo and the tests use: every slip's bytes, appended to a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.ticket_print import render_ticket
from printing.notice_slip import TITLE, render_notice_slip
from printing.printers import FilePrinter, Printer
from tests.escpos_reader import read_escpos, read_tickets
from tests.kiosk.test_ticket_print import HALL, issued
from tests.printing.test_notice_render import incomplete_case


def test_file_printer_appends_tickets(tmp_path: Path) -> None:
    path = tmp_path / "tickets.bin"
    printer: Printer = FilePrinter(path)
    first = render_ticket(issued("A005", 3), hall_name=HALL, qr_data="q1")
    second = render_ticket(issued("A006", 4), hall_name=HALL, paper_mm=58, qr_data="q2")
    printer.print_bytes(first)
    printer.print_bytes(second)

    assert isinstance(printer, FilePrinter) and printer.last == second
    tickets = read_tickets(path.read_bytes())
    assert [t.big for t in tickets] == [[HALL, "A005"], [HALL, "A006"]]
    assert [t.qr for t in tickets] == [["q1"], ["q2"]]
    assert all(t.cut for t in tickets)
    with pytest.raises(ValueError, match="one ticket"):
        read_escpos(path.read_bytes())


def test_tickets_and_notices_share_the_printer(tmp_path: Path) -> None:
    printer = FilePrinter(tmp_path / "window.bin")
    printer.print_bytes(render_notice_slip(incomplete_case(), hall_name=HALL, paper_mm=58))
    printer.print_bytes(render_ticket(issued("A006", 0), hall_name=HALL, qr_data="q"))
    notice, ticket = read_tickets(printer.path.read_bytes())
    assert notice.big == [TITLE] and "1. 居民户口簿原件" in notice.lines
    assert ticket.big == [HALL, "A006"] and ticket.qr == ["q"]
