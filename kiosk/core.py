"""The kiosk without its screen: ask the hub for a ticket, print it.

The Kivy screens (a later issue) call this; it never touches the UI.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import uuid4

from kiosk.settings import KioskSettings
from kiosk.ticket_print import render_ticket
from printing.printers import Printer
from protocol.codes import ticket_code
from protocol.link import DeviceLink
from protocol.messages import AnyReply, ErrorReply, IssueTicket, TicketIssued

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TicketResult:
    """What the screen shows after a request: a ticket, a refusal, or 'still waiting'."""

    issued: TicketIssued | None = None
    error: ErrorReply | None = None

    @property
    def pending(self) -> bool:
        """The hub has not answered yet; the request stays queued and will be printed."""
        return self.issued is None and self.error is None


class KioskCore:
    """Takes tickets for citizens and prints them."""

    def __init__(self, settings: KioskSettings, link: DeviceLink, printer: Printer) -> None:
        self.settings = settings
        self.link = link
        self.printer = printer
        link.on_late_reply = self._on_late_reply

    def take_ticket(self, service: str, timeout: float | None = None) -> TicketResult:
        """Ask for a number and print it; a silent hub leaves the request queued."""
        pending = self.link.send(IssueTicket(request_id=uuid4(), service=service))
        reply = pending.wait(self.settings.reply_timeout if timeout is None else timeout)
        if reply is None:
            log.warning("hub silent for ticket request %s; it stays queued", pending.request_id)
            return TicketResult()
        return self._handle(reply)

    def _handle(self, reply: AnyReply) -> TicketResult:
        if isinstance(reply, TicketIssued):
            self.printer.print_bytes(self.render(reply))
            return TicketResult(issued=reply)
        if isinstance(reply, ErrorReply):
            log.warning("ticket refused: %s", reply.code)
            return TicketResult(error=reply)
        raise TypeError(f"unexpected reply to a ticket request: {reply.kind}")

    def render(self, issued: TicketIssued) -> bytes:
        """The ESC/POS bytes of a ticket."""
        return render_ticket(issued, hall_name=self.settings.hall_name,
                             paper_mm=self.settings.paper_mm,
                             qr_data=ticket_code(self.settings.hall_id, issued.ticket))

    def _on_late_reply(self, reply: AnyReply) -> None:
        """A ticket answered after a restart or a long wait is printed all the same."""
        if isinstance(reply, TicketIssued):
            log.info("late ticket %s printed", reply.ticket.number)
            self.printer.print_bytes(self.render(reply))
