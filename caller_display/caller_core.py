"""The window caller without its buttons and screen: open, call next, finish, close.

gpiozero buttons and the Kivy window screen (a later issue) call these methods.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Literal
from uuid import uuid4

from protocol.link import DeviceLink, State
from protocol.messages import (
    AnyReply,
    CallNext,
    CallNumber,
    CaseOutcome,
    CloseWindow,
    ErrorReply,
    FinishCase,
    NoShow,
    OpenWindow,
    PauseWindow,
    Recall,
    Request,
    ResumeWindow,
    SignIn,
    SignOut,
    StepAway,
    TicketCalled,
    TransferTicket,
    WindowState,
)

log = logging.getLogger(__name__)


class CallerCore:
    """One window's staff actions, and the window's state as the hub last told it."""

    def __init__(self, link: DeviceLink, window: int, reply_timeout: float = 5.0) -> None:
        self.link = link
        self.window = window
        self.reply_timeout = reply_timeout
        self.state: WindowState | None = None
        self._state_lock = threading.Lock()
        link.on_state = self.on_state

    def on_state(self, state: State, live: bool) -> None:
        """Keep our window's retained state: after a restart we know whom we serve."""
        if isinstance(state, WindowState) and state.window == self.window:
            with self._state_lock:
                if self.state is None or state.updated_at >= self.state.updated_at:
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

    def call_next(self) -> AnyReply | None:
        """Call the longest-waiting ticket this window serves."""
        return self._ask(CallNext(request_id=uuid4(), window=self.window))

    def finish(self, outcome: CaseOutcome = "on_the_spot", *, reason: str | None = None,
               missing: Sequence[str] = (), departments: Sequence[str] = ()) -> AnyReply | None:
        """Finish the case being served with its outcome (五件制); None when we serve nobody."""
        ticket_id = self._serving()
        if ticket_id is None:
            return None
        return self._ask(FinishCase(request_id=uuid4(), window=self.window, ticket_id=ticket_id,
                                    outcome=outcome, reason=reason, missing=list(missing),
                                    departments=list(departments)))

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

    def _serving(self) -> int | None:
        return self.state.ticket_id if self.state else None

    def _ask(self, request: Request) -> AnyReply | None:
        reply = self.link.send(request).wait(self.reply_timeout)
        if isinstance(reply, ErrorReply):
            log.info("window %s: %s refused: %s", self.window, request.ACTION, reply.code)
        elif reply is not None and hasattr(reply, "window"):
            self.on_state(reply.window, True)  # the reply is fresher than the broadcast
        if isinstance(reply, TicketCalled):
            log.info("window %s calls %s", self.window, reply.ticket.number)
        return reply
