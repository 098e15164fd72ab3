"""The kiosk without its screen: take a ticket, put it in the citizen's hand, tell the hub.

No ghost tickets: a kiosk's ticket joins the queue only when the kiosk confirms the
citizen has it (`ConfirmTicket`). The printer is asked before every ticket; printed
means confirmed. When it is out of paper or silent, the ticket is shown on the screen
with its QR code and joins the queue when the citizen taps 我已记下号码; a ticket nobody
took is voided. The kiosk then stops offering printing, and tells the hub (the
dashboard shows it), until the printer is back.

A tap is one request in the on-disk outbox: never two tickets for one tap. When the hub
is slow the screen waits ("正在连接…"); if the citizen gives up, a late answer is
voided instead of printed for nobody.

Before printing, the ticket goes into a small journal on disk. A kiosk that restarts
with a ticket in its journal cannot tell whether it printed: it confirms it ("unsure"),
because a citizen holding a ticket must never be stranded; at worst a window calls
someone who is not there (a no-show).

The Kivy screens call this; it never touches the UI. Its callbacks (`on_change`,
`on_late_ticket`) run on the network thread: the UI moves them to its own.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

from kiosk.settings import KioskSettings
from kiosk.ticket_print import render_ticket, ticket_picture
from printing.printers import USABLE, Printer
from protocol.codes import ticket_code
from protocol.link import DeviceLink, State
from protocol.messages import (
    PRINTER_ZH,
    AnyReply,
    CatalogueState,
    CheckIn,
    ConfirmTicket,
    ErrorReply,
    HandOver,
    HubProblem,
    HubStatus,
    IssueTicket,
    PrinterCondition,
    QueueState,
    ServiceInfo,
    ServiceQueue,
    TicketIssued,
    VoidTicket,
)

log = logging.getLogger(__name__)

SHOW_ON_SCREEN = "{problem}，号票显示在屏幕上：请拍照或记下号码"
CONFIRM_WAIT_S = 1.0  # the citizen is still at the screen; the outbox delivers it anyway


@dataclass(frozen=True)
class TicketResult:
    """What the screen shows after a tap: a ticket (printed or on screen), a refusal, or
    'still waiting for the hub'."""

    issued: TicketIssued | None = None
    error: ErrorReply | None = None
    printed: bool = False
    request_id: UUID | None = None
    printer_problem: str | None = None  # Chinese: why the ticket is on the screen instead
    to_phone: bool = False  # on the screen to be saved on the phone (paperless), not printed

    @property
    def pending(self) -> bool:
        """The hub has not answered yet; the request stays queued in the outbox."""
        return self.issued is None and self.error is None

    @property
    def on_screen(self) -> bool:
        """Not printed: the screen shows it until the citizen taps 我已记下 (or walks away)."""
        return self.issued is not None and not self.printed


class KioskCore:
    """Takes tickets for citizens, prints them, and keeps what the screens need to show."""

    def __init__(self, settings: KioskSettings, link: DeviceLink, printer: Printer) -> None:
        self.settings = settings
        self.link = link
        self.printer = printer
        self.catalogue: CatalogueState | None = None
        self.queue: QueueState | None = None
        self.hub_online = False
        self.hub_problem: HubProblem | None = None  # online but unable to work (disk full)
        self.printer_condition: PrinterCondition = "ok"
        self.on_change: Callable[[], None] | None = None  # something a screen shows changed
        self.on_late_ticket: Callable[[TicketResult], None] | None = None  # a waited-for answer
        # taps whose citizen still waits at the screen, and whether for the phone
        self._waiting: dict[str, bool] = {}
        self._print_lock = threading.Lock()
        self._journal = settings.data_dir / f"{settings.device_id}.printing"
        self._journal.mkdir(parents=True, exist_ok=True)
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch_printer, daemon=True,
                                         name=f"printer-{settings.device_id}")
        link.on_state = self._on_state
        link.on_late_reply = self._on_late_reply
        self._recover_journal()
        self.check_printer()

    def start(self) -> None:
        """Watch the printer in the background, so printing comes back once it is fixed."""
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------ what screens show

    def services(self) -> list[ServiceInfo]:
        """The items and 一件事 bundles of the hall, as the hub published them."""
        return list(self.catalogue.services) if self.catalogue else []

    def service(self, code: str) -> ServiceInfo | None:
        return next((s for s in self.services() if s.code == code), None)

    def queue_of(self, code: str) -> ServiceQueue | None:
        """Waiting count, open windows, estimate and whether tickets are issued now."""
        if self.queue is None:
            return None
        return next((q for q in self.queue.services if q.service == code), None)

    @property
    def printing_offered(self) -> bool:
        """False while the printer is out of paper, silent or broken."""
        return self.printer_condition in USABLE

    # ------------------------------------------------------------ a citizen's tap

    def take_ticket(self, service: str, timeout: float | None = None, *,
                    to_phone: bool | None = None) -> TicketResult:
        """Ask for a number and hand it over; a silent hub leaves the request queued.

        For a pending result the screen keeps waiting; `on_late_ticket` brings the ticket,
        or `give_up()` says the citizen left. `to_phone` (default: the `paperless`
        setting) shows the ticket's QR code to save on the phone instead of printing.
        """
        return self._ask(IssueTicket(request_id=uuid4(), service=service), timeout, to_phone)

    def check_in(self, code: str, timeout: float | None = None) -> TicketResult:
        """An appointment's QR code read at the camera: its ticket, handed over as a tap's is.

        The hub decides what the code is worth (an appointment of today, in its time);
        anything else comes back as a refusal to show.
        """
        # longer is no appointment code: cut, it is refused as one (CheckIn takes 512 at most)
        return self._ask(CheckIn(request_id=uuid4(), code=code[:512]), timeout, None)

    def _ask(self, request: IssueTicket | CheckIn, timeout: float | None,
             to_phone: bool | None) -> TicketResult:
        phone = self.settings.paperless if to_phone is None else to_phone
        pending = self.link.send(request)
        rid = pending.request_id
        self._waiting[rid] = phone
        reply = pending.wait(self.settings.reply_timeout if timeout is None else timeout)
        if reply is None:
            log.warning("hub silent for %s request %s; it stays queued", request.ACTION, rid)
            return TicketResult(request_id=UUID(rid))
        self._waiting.pop(rid, None)
        return self._deliver(reply, phone)

    def print_instead(self, issued: TicketIssued) -> TicketResult:
        """A ticket shown for the phone, printed after all (the citizen asked for paper)."""
        return self._hand_over(issued)

    def confirm_on_phone(self, ticket_id: int) -> None:
        """The citizen tapped 已存到手机 under the ticket's QR code (paperless)."""
        self._confirm(ticket_id, "phone", wait=CONFIRM_WAIT_S)

    def give_up(self, request_id: UUID) -> None:
        """The citizen left before the hub answered: its ticket, if it comes, is voided."""
        self._waiting.pop(str(request_id), None)

    def confirm_on_screen(self, ticket_id: int) -> None:
        """The citizen tapped 我已记下号码 under a ticket shown on the screen."""
        self._confirm(ticket_id, "screen", wait=CONFIRM_WAIT_S)

    def void_unseen(self, ticket_id: int) -> None:
        """A ticket shown on the screen that nobody took (the screen timed out)."""
        self.link.send(VoidTicket(request_id=uuid4(), ticket_id=ticket_id, reason="not_taken"))
        log.info("ticket %s shown on screen, not taken: voided", ticket_id)

    def render(self, issued: TicketIssued) -> bytes:
        """The ESC/POS bytes of a ticket."""
        return render_ticket(issued, hall_name=self.settings.hall_name,
                             paper_mm=self.settings.paper_mm, qr_data=self.ticket_qr(issued),
                             chinese=self.settings.chinese)

    def preview_png(self, issued: TicketIssued) -> bytes:
        """The ticket as it prints, as a PNG: the screen shows it (and its QR) when it cannot."""
        picture = ticket_picture(issued, hall_name=self.settings.hall_name,
                                 paper_mm=self.settings.paper_mm, qr_data=self.ticket_qr(issued))
        out = io.BytesIO()
        picture.save(out, format="PNG")
        return out.getvalue()

    def ticket_qr(self, issued: TicketIssued) -> str:
        """What the ticket's QR code says (also shown on screen when it cannot print)."""
        return issued.track_url or ticket_code(self.settings.hall_id, issued.ticket)

    # ------------------------------------------------------------ the printer

    def check_printer(self) -> PrinterCondition:
        """Ask the printer how it is; tell the hub and the screens when that changed."""
        condition = self.printer.condition()
        if condition != self.printer_condition or self.link.status.printer is None:
            if condition != self.printer_condition:
                log.warning("printer now %s (was %s)", condition, self.printer_condition)
            self.printer_condition = condition
            self.link.set_status(printer=condition)
            self._changed()
        return condition

    def _watch_printer(self) -> None:
        while not self._stop.wait(self.settings.printer_check_s):
            try:
                self.check_printer()
            except Exception:  # a driver bug must not stop the watch
                log.exception("printer check failed")

    # ------------------------------------------------------------ handing over

    def _deliver(self, reply: AnyReply, to_phone: bool = False) -> TicketResult:
        if isinstance(reply, TicketIssued):
            if to_phone:  # shown with its QR code; confirmed when saved, or printed after all
                return TicketResult(issued=reply, to_phone=True)
            return self._hand_over(reply)
        if isinstance(reply, ErrorReply):
            log.warning("ticket refused: %s", reply.code)
            return TicketResult(error=reply)
        raise TypeError(f"unexpected reply to a ticket request: {reply.kind}")

    def _hand_over(self, issued: TicketIssued) -> TicketResult:
        """Print and confirm; or, when the printer cannot, show it on the screen."""
        tid = issued.ticket.id
        with self._print_lock:
            if self.check_printer() in USABLE:
                entry = self._journal / str(tid)
                _write_durably(entry, str(tid))
                try:
                    self.printer.print_bytes(self.render(issued))
                except Exception as exc:  # no paper, jammed, unplugged mid-ticket
                    log.warning("ticket %s did not print: %s", issued.ticket.number, exc)
                    entry.unlink(missing_ok=True)
                    self.check_printer()
                    if self.printer_condition in USABLE:  # it says fine, yet failed
                        self.printer_condition = "error"
                        self.link.set_status(printer="error", detail=str(exc)[:200])
                        self._changed()
                else:
                    self._confirm(tid, "printed", wait=CONFIRM_WAIT_S)
                    entry.unlink(missing_ok=True)
                    return TicketResult(issued=issued, printed=True)
        problem = PRINTER_ZH[self.printer_condition]
        return TicketResult(issued=issued, printer_problem=SHOW_ON_SCREEN.format(problem=problem))

    def _confirm(self, ticket_id: int, how: HandOver, wait: float = 0.0) -> None:
        """Tell the hub (through the outbox: it arrives); wait a moment for it to be in."""
        pending = self.link.send(ConfirmTicket(request_id=uuid4(), ticket_id=ticket_id, how=how))
        if wait:
            pending.wait(wait)

    def _recover_journal(self) -> None:
        """Tickets that were printing when the kiosk stopped: count them as handed over."""
        for entry in sorted(self._journal.iterdir()):
            if entry.name.isdigit():
                log.warning("ticket %s was printing at the last stop: confirmed as unsure",
                            entry.name)
                self._confirm(int(entry.name), "unsure")
            entry.unlink(missing_ok=True)

    # ------------------------------------------------------------ from the hub

    def _on_state(self, state: State, live: bool) -> None:
        if isinstance(state, CatalogueState):
            self.catalogue = state
        elif isinstance(state, QueueState):
            self.queue = state
        elif isinstance(state, HubStatus):
            self.hub_online = state.status == "online"
            self.hub_problem = state.problem
        else:
            return
        self._changed()

    def _on_late_reply(self, reply: AnyReply) -> None:
        """An answer nobody waited for: hand it over if the citizen is still there."""
        if not isinstance(reply, TicketIssued):
            return  # confirmations and voids need nothing more
        rid = str(reply.request_id)
        phone = self._waiting.pop(rid, None)
        if phone is None:  # the citizen left, or the kiosk restarted meanwhile
            log.info("late ticket %s: the citizen had left; voided", reply.ticket.number)
            self.link.send(VoidTicket(request_id=uuid4(), ticket_id=reply.ticket.id,
                                      reason="citizen_left"))
            return
        result = self._deliver(reply, phone)
        log.info("late ticket %s handed over (printed=%s)", reply.ticket.number, result.printed)
        if self.on_late_ticket is not None:
            self.on_late_ticket(result)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()


def _write_durably(path: Path, text: str) -> None:
    """Write and fsync a small file, so it is there after a power cut."""
    with path.open("w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
