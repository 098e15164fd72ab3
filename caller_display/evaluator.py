"""The citizen's evaluator at a window (好差评) as logic: what it asks and what it sends.

It opens when a case is finished here and closes at the next call (or when the citizen
skips); one case gets one review, however many times a button is pressed. A good grade is
sent at once; a bad one (不满意, 非常不满意) first asks a reason from the hub's list. The
evaluator never nags: no sound, no timer pushing the citizen, and 不评价 is always there.

No Kivy here: the window screen draws `phase` and calls `grade`, `reason`, `skip`. The
review goes to the hub on a thread of its own (the hub may be slow or away: the outbox then
keeps it), and `on_change` tells the screen to draw again, from that thread too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from caller_display.caller_core import CallerCore
from protocol.errors import ZH
from protocol.messages import BAD_GRADES, AnyReply, ErrorReply, Grade, ReviewRecorded

log = logging.getLogger(__name__)

Phase = Literal["closed", "grades", "reasons", "sending", "done"]

PROMPT = "请对我的服务做出评价"
REASON_PROMPT = "请选择不满意的原因"
SKIP = "不评价"
BACK = "返回"
SENDING = "正在提交评价…"
THANKS = "感谢您的评价！"
SAVED_OFFLINE = "评价已保存，网络恢复后自动提交。感谢您的评价！"
FAILED = "评价未能提交，请扫码在手机上评价"
DEFAULT_REASONS = ("等候时间太长", "服务态度不好", "办事效率低", "一次性告知不清楚",
                   "材料要求不合理", "其他原因")


@dataclass(frozen=True)
class EvaluatorView:
    """What the screen shows of the evaluator now."""

    phase: Phase
    case_number: str | None = None  # the ticket whose case is reviewed, e.g. A005
    grade: Grade | None = None  # with "reasons": the bad grade chosen
    message: str = ""  # with "done" and "sending": what the citizen reads
    review_url: str | None = None  # the case on the citizen's phone (a QR code on the screen)


class Evaluator:
    """The five grade buttons, the reason page and the thanks, over a CallerCore."""

    def __init__(self, core: CallerCore, *, thanks_s: float = 4.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.core = core
        self.thanks_s = thanks_s
        self.on_change: Callable[[], None] = lambda: None
        self._clock = clock
        self._lock = threading.Lock()
        self._view = EvaluatorView("closed")
        self._done_until = 0.0
        self._case_id: int | None = None  # the case on the screen (None: no case)
        self._sent = threading.Event()  # set when a review has had its answer
        self._sent.set()

    @property
    def view(self) -> EvaluatorView:
        """The current view; a thanks past its time has closed."""
        with self._lock:
            if self._view.phase == "done" and self._clock() >= self._done_until:
                self._view = EvaluatorView("closed")
            return self._view

    def sync(self) -> bool:
        """Follow the core: open for a case just finished, close when it has gone (the next
        call). True when the view changed."""
        case = self.core.last_case
        with self._lock:
            before = self._view
            if case is not None and case.case.id != self._case_id:
                self._case_id = case.case.id
                self._view = EvaluatorView("grades", case.ticket.number,
                                           review_url=case.review_url)
            elif case is None and self._view.phase in ("grades", "reasons"):
                self._case_id = None
                self._view = EvaluatorView("closed")
            return self._view != before

    def grade(self, grade: Grade) -> None:
        """A grade button: good grades go to the hub, bad ones ask their reason first."""
        with self._lock:
            if self._view.phase != "grades":
                return  # a second press, or the case has closed
            if grade in BAD_GRADES:
                self._view = EvaluatorView("reasons", self._view.case_number, grade)
                send = False
            else:
                send = True
        if send:
            self._send(grade, None)
        self.on_change()

    def reason(self, reason: str) -> None:
        """A reason button on the bad-review page: the review goes with it."""
        with self._lock:
            view = self._view
            if view.phase != "reasons" or view.grade is None:
                return
        self._send(view.grade, reason)
        self.on_change()

    def back(self) -> None:
        """返回 on the reason page: choose the grade again."""
        with self._lock:
            view = self._view
            if view.phase == "reasons":
                self._view = EvaluatorView("grades", view.case_number,
                                           review_url=view.review_url)
        self.on_change()

    def skip(self) -> None:
        """不评价: the prompt goes; the case may still be reviewed on the phone."""
        with self._lock:
            if self._view.phase not in ("grades", "reasons"):
                return
            self._view = EvaluatorView("closed")
        self.core.last_case = None
        self.on_change()

    def wait_sent(self, timeout: float) -> bool:
        """Wait until the review in flight has its answer (tests, benches)."""
        return self._sent.wait(timeout)

    def _send(self, grade: Grade, reason: str | None) -> None:
        with self._lock:
            number = self._view.case_number
            self._view = EvaluatorView("sending", number, grade, SENDING)
            self._sent.clear()
        threading.Thread(target=self._submit, args=(grade, reason, number), daemon=True,
                         name="evaluator").start()

    def _submit(self, grade: Grade, reason: str | None, number: str | None) -> None:
        try:
            if self.core.last_case is None:  # the next call came first: nothing to review
                message = ""
            else:
                message = self._message(self.core.review(grade, reason))
        except Exception:  # a bug must not leave "正在提交" on the screen for good
            log.exception("review of %s failed", number)
            message = FAILED
        with self._lock:
            if not message:
                self._view = EvaluatorView("closed")
            elif self._view.phase == "sending":  # not closed meanwhile
                self._view = EvaluatorView("done", number, grade, message)
                self._done_until = self._clock() + self.thanks_s
        self._sent.set()
        self.on_change()

    @staticmethod
    def _message(reply: AnyReply | None) -> str:
        if reply is None:
            return SAVED_OFFLINE  # in the outbox: it goes when the hub answers again
        if isinstance(reply, ReviewRecorded):
            return THANKS
        if isinstance(reply, ErrorReply):
            return reply.message or ZH.get(reply.code, FAILED)
        return THANKS
