"""The staff buttons at a window as logic: which press runs which CallerCore action, and
what the LED and the window screen say about it. No pins here (`adapters/buttons.py` wires
gpiozero to it), so it runs and tests anywhere.

Made for ~200 presses a day: a press edge within `debounce_s` of the last accepted one on
the same button is contact bounce and ignored; 过号 needs a hold (a short press only says
"长按确认过号"); every press gets feedback at once; the network round trip runs on the
panel's own worker thread, never on gpiozero's, one action at a time per window (a press
while one is in flight is answered "处理中…").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, Protocol

from caller_display.caller_core import CallerCore
from protocol.messages import (
    AnyReply,
    CaseFinished,
    CaseOutcome,
    ErrorReply,
    NoShowRecorded,
    TicketCalled,
    WindowChanged,
)

log = logging.getLogger(__name__)

ButtonName = Literal["call_next", "recall", "no_show", "finish", "pause"]
BUTTONS: tuple[ButtonName, ...] = ("call_next", "recall", "no_show", "finish", "pause")
HOLD_BUTTONS: frozenset[ButtonName] = frozenset({"no_show"})  # confirmed by a hold only
NEEDS_TICKET: frozenset[ButtonName] = frozenset({"recall", "no_show", "finish"})

# What feedback means: the LED shows it as a pattern, the screen as text.
Signal = Literal["sending", "ok", "refused", "queued", "hint", "busy"]

BUSY = "处理中…"
HOLD_HINT = "长按确认过号"
OFFLINE = "网络中断，已暂存，恢复后自动发送"
NOBODY_SERVED = "当前没有正在办理的群众"
FAILED = "操作失败，请重试"
SENDING: dict[ButtonName, str] = {
    "call_next": "正在叫号…",
    "recall": "正在重呼…",
    "no_show": "正在标记过号…",
    "finish": "正在办结…",
    "pause": "正在提交…",
}
WINDOW_STATUS: dict[str, str] = {
    "paused": "已暂停服务",
    "away": "已暂离",
    "open": "已恢复服务",
    "serving": "已恢复服务",
    "closed": "窗口已关闭",
}


@dataclass(frozen=True)
class Feedback:
    """What one press led to: the button, the LED's signal and the screen's Chinese text."""

    button: ButtonName
    signal: Signal
    text: str


class Indicator(Protocol):
    """Something that shows a signal to the staff member, e.g. the window's LED."""

    def show(self, signal: Signal) -> None: ...


FeedbackHandler = Callable[[Feedback], None]


class StaffPanel:
    """One window's buttons: press, hold and release events in, CallerCore actions out.

    `on_feedback` is called on the thread of the event (gpiozero's) for the immediate
    feedback and on the panel's worker thread for the result: a screen hands it over to
    its own UI thread.
    """

    def __init__(self, core: CallerCore, on_feedback: FeedbackHandler | None = None, *,
                 indicator: Indicator | None = None, debounce_s: float = 0.05,
                 finish_outcome: CaseOutcome = "on_the_spot", pause_reason: str = "暂停服务",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.core = core
        self.on_feedback = on_feedback
        self.indicator = indicator
        self.debounce_s = debounce_s
        self.finish_outcome: CaseOutcome = finish_outcome
        self.pause_reason = pause_reason
        self._clock = clock
        self._lock = threading.Lock()
        self._last_edge: dict[ButtonName, float] = {}
        self._busy = False
        self._idle = threading.Event()
        self._idle.set()
        self._worker = ThreadPoolExecutor(max_workers=1,
                                          thread_name_prefix=f"staff-panel-{core.window}")

    @property
    def busy(self) -> bool:
        """Whether an action is in flight."""
        return self._busy

    def pressed(self, button: ButtonName) -> None:
        """A press edge: run the button's action, or for a hold button only give the hint."""
        if self._bounced(button):
            return
        if button in HOLD_BUTTONS:
            if self._busy:
                self._feedback(Feedback(button, "busy", BUSY))
            else:
                self._feedback(Feedback(button, "hint", HOLD_HINT))
            return
        self._start(button)

    def held(self, button: ButtonName) -> None:
        """The button was held for its hold time: a hold button's action runs now."""
        if button in HOLD_BUTTONS:
            self._start(button)

    def released(self, button: ButtonName) -> None:
        """A release edge; nothing to do (a short press of a hold button had its hint)."""

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no action is in flight; False on timeout."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Let the action in flight finish and stop the worker thread."""
        self._worker.shutdown(wait=True)

    def _bounced(self, button: ButtonName) -> bool:
        now = self._clock()
        with self._lock:
            last = self._last_edge.get(button)
            if last is not None and now - last < self.debounce_s:
                return True
            self._last_edge[button] = now
            return False

    def _start(self, button: ButtonName) -> None:
        with self._lock:
            busy, self._busy = self._busy, True
            if not busy:
                self._idle.clear()
        if busy:
            self._feedback(Feedback(button, "busy", BUSY))
            return
        # The request leaves first; "sending" is shown meanwhile, and always before the result.
        announced = threading.Event()
        self._worker.submit(self._run, button, announced)
        self._feedback(Feedback(button, "sending", SENDING[button]))
        announced.set()

    def _run(self, button: ButtonName, announced: threading.Event) -> None:
        try:
            done = self._act(button)
        except Exception:  # a bug must not leave the panel busy for good
            log.exception("window %s: %s failed", self.core.window, button)
            done = Feedback(button, "refused", FAILED)
        announced.wait(1.0)
        with self._lock:
            self._busy = False
            self._idle.set()
        self._feedback(done)

    def _act(self, button: ButtonName) -> Feedback:
        core = self.core
        if button in NEEDS_TICKET and not self._serving():
            return Feedback(button, "refused", NOBODY_SERVED)
        reply: AnyReply | None
        if button == "call_next":
            reply = core.call_next()
        elif button == "recall":
            reply = core.recall()
        elif button == "no_show":
            reply = core.no_show()
        elif button == "finish":
            reply = core.finish(self.finish_outcome)
        elif core.state is not None and core.state.status in ("paused", "away"):
            reply = core.resume()
        else:
            reply = core.pause(self.pause_reason)
        if reply is None and button in NEEDS_TICKET and not self._serving():
            return Feedback(button, "refused", NOBODY_SERVED)  # the case ended meanwhile
        return self._result(button, reply)

    def _serving(self) -> bool:
        state = self.core.state
        return state is not None and state.ticket_id is not None

    def _result(self, button: ButtonName, reply: AnyReply | None) -> Feedback:
        if reply is None:
            return Feedback(button, "queued", OFFLINE)
        if isinstance(reply, ErrorReply):
            return Feedback(button, "refused", reply.message)
        if isinstance(reply, TicketCalled):
            verb = "已重呼" if button == "recall" else "已叫号"
            return Feedback(button, "ok", f"{verb} {reply.ticket.number}")
        if isinstance(reply, NoShowRecorded):
            return Feedback(button, "ok", f"已过号 {reply.ticket.number}")
        if isinstance(reply, CaseFinished):
            text = f"已办结 {reply.ticket.number}（{reply.case.outcome_name}）"
            if self.core.notice_error is not None and reply.case.outcome == "incomplete":
                text += f"，{self.core.notice_error}"
            return Feedback(button, "ok", text)
        if isinstance(reply, WindowChanged):
            return Feedback(button, "ok", WINDOW_STATUS.get(reply.window.status, "已完成"))
        return Feedback(button, "ok", "已完成")

    def _feedback(self, fb: Feedback) -> None:
        log.debug("window %s: %s %s %s", self.core.window, fb.button, fb.signal, fb.text)
        if self.indicator is not None:
            try:
                self.indicator.show(fb.signal)
            except Exception:  # a broken LED must not stop the buttons
                log.exception("window %s: indicator failed", self.core.window)
        if self.on_feedback is not None:
            try:
                self.on_feedback(fb)
            except Exception:
                log.exception("window %s: feedback handler failed", self.core.window)
