"""A case finished as 补正 prints its one-time notice (一次性告知单) at the window.

Real broker, hub and caller; the window's printer is a `FilePrinter`, or a jammed one.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from caller_display.caller_core import (
    NO_NOTICE,
    NO_NOTICE_PRINTER,
    NOTICE_PRINT_FAILED,
    CallerCore,
)
from hub.app import Hub
from hub.db.schema import cases
from printing.notice_slip import ASK, TITLE
from printing.printers import FilePrinter, Printer
from protocol.messages import CaseFinished
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.escpos_reader import Printed, read_escpos, read_tickets
from tests.helpers import eventually

SERVICE, WINDOW = "GA_HJQY", 5  # 户口迁移 at 5号窗口 公安户政
MISSING = ["居民户口簿原件", "迁入地合法稳定住所证明（房屋不动产权证书或购房合同）"]


class JammedPrinter(FilePrinter):
    """A printer that fails (paper jam) until cleared, then prints into its file."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.jammed = True

    def print_bytes(self, data: bytes) -> None:
        """Raise while jammed, as a USB printer's write does."""
        if self.jammed:
            raise OSError("paper jam")
        super().print_bytes(data)


def serving(hub: Hub, make_link: LinkFactory, tmp_path: Path, printer: Printer | None
            ) -> CallerCore:
    """Window 5 signed in (S051), serving a fresh ticket."""
    kiosk(make_link, tmp_path, hub).take_ticket(SERVICE)
    window = caller(make_link, WINDOW, printer, hall_name=hub.catalogue.hall_name)
    window.sign_in("S051", "123456")
    window.open()
    window.call_next()
    assert window.state is not None and window.state.status == "serving"
    return window


def materials(printed: Printed) -> list[str]:
    """The missing materials as the slip lists them, wrapped lines joined."""
    lines = printed.lines[printed.lines.index(ASK) + 1:]
    items: list[str] = []
    for line in lines[:lines.index("")]:
        if line.startswith(" "):
            items[-1] += line.strip()
        else:
            items.append(line.split(". ", 1)[1])
    return items


def case_count(hub: Hub) -> int:
    with hub.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(cases)) or 0)


def test_incomplete_finish_prints_the_missing_materials(hub: Hub, make_link: LinkFactory,
                                                       tmp_path: Path) -> None:
    printer = FilePrinter(tmp_path / "window-5.escpos")
    window = serving(hub, make_link, tmp_path, printer)
    done = window.finish("incomplete", missing=MISSING)
    assert isinstance(done, CaseFinished)
    assert window.notice_error is None

    printed = read_escpos(printer.path.read_bytes())
    assert materials(printed) == MISSING
    assert printed.big == [TITLE] and printed.cut
    for line in (hub.catalogue.hall_name, "取号号码：A001", "办理事项：户口迁移",
                 "办理窗口：5号窗口 公安户政", "经办人工号：S051"):
        assert line in printed.lines
    assert any(line.startswith("告知时间：") for line in printed.lines)

    # Other outcomes print nothing.
    kiosk(make_link, tmp_path, hub).take_ticket(SERVICE)
    window.call_next()
    assert isinstance(window.finish(), CaseFinished)
    assert len(read_tickets(printer.path.read_bytes())) == 1


def test_a_failed_print_leaves_the_case_finished_and_can_be_reprinted(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    printer = JammedPrinter(tmp_path / "window-5.escpos")
    window = serving(hub, make_link, tmp_path, printer)
    done = window.finish("incomplete", missing=MISSING)
    assert isinstance(done, CaseFinished)
    assert window.notice_error == NOTICE_PRINT_FAILED
    assert not printer.path.exists()
    assert case_count(hub) == 1  # finished at the hub all the same: the window is free
    assert window.state is not None and window.state.ticket_id is None

    assert window.reprint_notice() == NOTICE_PRINT_FAILED  # still jammed
    printer.jammed = False
    assert window.reprint_notice() is None and window.notice_error is None
    assert materials(read_escpos(printer.path.read_bytes())) == MISSING
    assert window.reprint_notice() is None  # once more, for a lost slip
    assert [materials(t) for t in read_tickets(printer.path.read_bytes())] == [MISSING] * 2
    assert case_count(hub) == 1


def test_without_a_printer_the_screen_says_to_write_the_notice(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    window = serving(hub, make_link, tmp_path, None)
    assert window.reprint_notice() == NO_NOTICE
    done = window.finish("incomplete", missing=MISSING[:1])
    assert isinstance(done, CaseFinished)
    assert window.notice_error == NO_NOTICE_PRINTER
    assert window.last_notice is not None and window.last_notice.case.missing == MISSING[:1]


def test_a_finish_answered_late_still_prints(hub: Hub, make_link: LinkFactory,
                                             tmp_path: Path) -> None:
    printer = FilePrinter(tmp_path / "window-5.escpos")
    window = serving(hub, make_link, tmp_path, printer)
    window.reply_timeout = 0  # the screen gives up at once; the answer comes later
    assert window.finish("incomplete", missing=MISSING) is None
    eventually(printer.path.exists, what="the notice of a late answer")
    assert materials(read_escpos(printer.path.read_bytes())) == MISSING
    assert case_count(hub) == 1
