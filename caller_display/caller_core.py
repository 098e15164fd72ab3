"""The window caller without its buttons and screen: open, call next, finish, close.

gpiozero buttons and the Kivy window screen (a later issue) call these methods. A case
finished as 补正 prints its one-time notice (一次性告知单) on the window's printer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Literal
from uuid import uuid4

from printing.notice_slip import render_notice_slip
from printing.paper import PaperWidth
from printing.printers import Printer
from protocol.link import DeviceLink, State
from protocol.messages import (
    AnyReply,
    CallNext,
    CallNumber,
    CaseFinished,
    CaseOutcome,
    CatalogueState,
    CloseWindow,
    ErrorReply,
    FinishCase,
    Grade,
    NoShow,
    OpenWindow,
    PauseWindow,
    Recall,
    Request,
    ResumeWindow,
    SignIn,
    SignOut,
    StepAway,
    SubmitReview,
    TicketCalled,
    TransferTicket,
    WindowState,
)

log = logging.getLogger(__name__)

NOTICE_PRINT_FAILED = "告知单打印失败，请手写或重新打印"
NO_NOTICE_PRINTER = "本窗口未配置打印机，请手写告知单"
NO_NOTICE = "没有可重新打印的告知单"


class CallerCore:
    """One window's staff actions, and the window's state as the hub last told it.

    With a printer, a case finished as 补正 prints its one-time notice. The finish stands
    whether or not the slip prints (the hub has recorded it): `notice_error` then holds
    what the screen says, and `reprint_notice()` tries again.
    """

    def __init__(self, link: DeviceLink, window: int, reply_timeout: float = 5.0, *,
                 printer: Printer | None = None, paper_mm: PaperWidth = 80,
                 hall_name: str = "") -> None:
        self.link = link
        self.window = window
        self.reply_timeout = reply_timeout
        self.printer = printer
        self.paper_mm = paper_mm
        self.hall_name = hall_name
        self.state: WindowState | None = None
        self.catalogue: CatalogueState | None = None  # the hall's items, for the staff menu
        self.last_notice: CaseFinished | None = None  # the last 补正 finish, for reprints
        self.last_case: CaseFinished | None = None  # the case the evaluator may review
        self.notice_error: str | None = None  # Chinese, for the screen; None: it printed
        self._state_lock = threading.Lock()
        self._broadcasts = 0  # our window's states heard from the hub's broadcasts
        self._print_lock = threading.Lock()
        link.on_state = self.on_state
        link.on_late_reply = self._on_late_reply

    def on_state(self, state: State, live: bool) -> None:
        """Keep our window's retained state (after a restart we know whom we serve) and the
        hall's catalogue."""
        if isinstance(state, CatalogueState):
            self.catalogue = state  # published whole: the latest is the truth
        elif isinstance(state, WindowState) and state.window == self.window:
            with self._state_lock:  # the hub's broadcasts come in the order it made them
                self.state = state
                self._broadcasts += 1

    def _keep_reply_window(self, state: object, heard: int) -> None:
        """A reply's window state (it often comes before the broadcast), unless a broadcast
        newer than it came first. Its time decides only when a broadcast came while the
        request was out (`heard`: how many before): after a step back of the hub's clock
        (a restart once the system clock was set back) every state looks older than the
        last, and the screen must not stop following the hub."""
        if not isinstance(state, WindowState) or state.window != self.window:
            return
        with self._state_lock:
            if (self.state is None or self._broadcasts == heard
                    or state.updated_at >= self.state.updated_at):
                self.state = state

    def sign_in(self, staff_no: str, pin: str) -> AnyReply | None:
        """Staff number and PIN; the staff card appears on the window screen."""
        return self._ask(SignIn(request_id=uuid4(), window=self.window, staff_no=staff_no,
                                pin=pin))

    def sign_out(self) -> AnyReply | None:
        return self._ask(SignOut(request_id=uuid4(), window=self.window))

    def open(self) -> AnyReply | None:
        return self._ask(OpenWindow(request_id=uuid4(), window=self.window))

    def close(self) -> AnyReply | None:
        return self._ask(CloseWindow(request_id=uuid4(), window=self.window))

    @property
    def service_code(self) -> str | None:
        """The code of the item being served; None when nobody is served."""
        state = self.state
        return state.service if state is not None and state.ticket_id is not None else None

    @property
    def review_open(self) -> bool:
        """The evaluator's buttons are live: a case finished here, not yet reviewed."""
        return self.last_case is not None

    def call_next(self) -> AnyReply | None:
        """Call the longest-waiting ticket this window serves (the evaluator closes)."""
        self.last_case = None
        return self._ask(CallNext(request_id=uuid4(), window=self.window))

    def finish(self, outcome: CaseOutcome = "on_the_spot", *, reason: str | None = None,
               missing: Sequence[str] = (), departments: Sequence[str] = ()) -> AnyReply | None:
        """Finish the case being served with its outcome (五件制); None when we serve nobody."""
        ticket_id = self._serving()
        if ticket_id is None:
            return None
        reply = self._ask(FinishCase(request_id=uuid4(), window=self.window,
                                     ticket_id=ticket_id, outcome=outcome, reason=reason,
                                     missing=list(missing), departments=list(departments)))
        if isinstance(reply, CaseFinished):
            self.last_case = reply  # the evaluator may now take its review
            if reply.case.outcome == "incomplete":
                self._print_notice(reply)
        return reply

    def review(self, grade: Grade, reason: str | None = None) -> AnyReply | None:
        """The citizen's review of the case just finished (一事一评); None when none is open.

        One press, one review: the evaluator closes whatever the hub answers, and a second
        press (or a QoS 1 duplicate) never makes a second review.
        """
        done, self.last_case = self.last_case, None
        if done is None:
            return None
        return self._ask(SubmitReview(request_id=uuid4(), window=self.window,
                                      case_id=done.case.id, grade=grade, reason=reason))

    def reprint_notice(self) -> str | None:
        """Print the last 补正 notice again; None when it printed, else what the screen says."""
        if self.last_notice is None:
            return NO_NOTICE
        return self._print_notice(self.last_notice)

    def recall(self) -> AnyReply | None:
        """Call the person being served once more; None when we serve nobody."""
        ticket_id = self._serving()
        if ticket_id is None:
            return None
        return self._ask(Recall(request_id=uuid4(), window=self.window, ticket_id=ticket_id))

    def no_show(self) -> AnyReply | None:
        """过号: the person did not come after the recalls; None when we serve nobody."""
        ticket_id = self._serving()
        if ticket_id is None:
            return None
        return self._ask(NoShow(request_id=uuid4(), window=self.window, ticket_id=ticket_id))

    def call_number(self, number: str) -> AnyReply | None:
        """Call a no-show back by its number (the person returned late)."""
        return self._ask(CallNumber(request_id=uuid4(), window=self.window, number=number))

    def transfer(self, *, to_service: str | None = None,
                 to_window: int | None = None) -> AnyReply | None:
        """Send the person being served on to a service or a window; None when we serve nobody."""
        ticket_id = self._serving()
        if ticket_id is None:
            return None
        return self._ask(TransferTicket(request_id=uuid4(), window=self.window,
                                        ticket_id=ticket_id, to_service=to_service,
                                        to_window=to_window))

    def pause(self, reason: str) -> AnyReply | None:
        """暂停服务 with a reason, between cases."""
        return self._ask(PauseWindow(request_id=uuid4(), window=self.window, reason=reason))

    def step_away(self, post: Literal["A", "B"]) -> AnyReply | None:
        """The A or B post leaves the window for a moment."""
        return self._ask(StepAway(request_id=uuid4(), window=self.window, post=post))

    def resume(self) -> AnyReply | None:
        """Back at the window."""
        return self._ask(ResumeWindow(request_id=uuid4(), window=self.window))

    def _print_notice(self, done: CaseFinished) -> str | None:
        """Print a 补正 notice, keeping the case for reprints; the error text, or None."""
        with self._print_lock:
            self.last_notice = done
            case = done.case
            if self.printer is None:
                log.warning("window %s: no printer for the notice of %s", self.window,
                            case.number)
                self.notice_error = NO_NOTICE_PRINTER
                return self.notice_error
            try:
                self.printer.print_bytes(render_notice_slip(
                    case, hall_name=self.hall_name, window_name=done.window.name,
                    paper_mm=self.paper_mm))
            except Exception:  # any printer failure: USB, paper, python-escpos missing
                log.exception("window %s: notice of %s did not print", self.window,
                              case.number)
                self.notice_error = NOTICE_PRINT_FAILED
            else:
                log.info("window %s: notice of %s printed", self.window, case.number)
                self.notice_error = None
            return self.notice_error

    def _on_late_reply(self, reply: AnyReply) -> None:
        """A 补正 finish answered after a timeout or a restart still prints its notice."""
        if (isinstance(reply, CaseFinished) and reply.case.window == self.window
                and reply.case.outcome == "incomplete"):
            log.info("late finish of %s", reply.case.number)
            self._print_notice(reply)

    def _serving(self) -> int | None:
        return self.state.ticket_id if self.state else None

    def _ask(self, request: Request) -> AnyReply | None:
        heard = self._broadcasts
        reply = self.link.send(request).wait(self.reply_timeout)
        if isinstance(reply, ErrorReply):
            log.info("window %s: %s refused: %s", self.window, request.ACTION, reply.code)
        elif reply is not None and hasattr(reply, "window"):
            self._keep_reply_window(reply.window, heard)
        if isinstance(reply, TicketCalled):
            log.info("window %s calls %s", self.window, reply.ticket.number)
        return reply
