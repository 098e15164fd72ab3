"""The staff buttons at a window as logic: which press runs which CallerCore action, and
what the LED and the window screen say about it. No pins here (`adapters/buttons.py` wires
gpiozero to it), so it runs and tests anywhere.

Made for ~200 presses a day: an edge within `debounce_s` of the last accepted one on the
same button is contact bounce and ignored (a release that early counts only once no press
edge follows it); 过号 needs a hold (a short press only says "长按确认过号"); every press
gets feedback at once; the network round trip runs on the panel's own worker thread, never
on gpiozero's, one action at a time per window (a press while one is in flight is answered
"处理中…").

办结 and 暂停 act on release, so that holding them can mean more: a short press finishes the
case as 即办件 or toggles 暂停/恢复 as ever, a hold opens the keypad menu (`staff_menu`):
办结方式 (the other outcomes, with their reasons, materials or departments, and 转办) or
暂停/暂离. While a menu is open the buttons are its keys: 叫号 next, 重呼 previous, 办结
confirm, 暂停 back, 过号 nothing but the legend. `on_menu` gets every view, and None when the
menu closes: on a choice, on 取消, `menu_idle_s` after the last press, or when the ticket
served changes.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, Protocol

from caller_display.caller_core import CallerCore
from caller_display.staff_menu import (
    PAUSE_REASONS,
    Choice,
    FinishChoice,
    MenuView,
    PauseChoice,
    Refused,
    StaffMenu,
    StepAwayChoice,
    TransferChoice,
    finish_menu,
    pause_menu,
)
from protocol.messages import (
    AnyReply,
    CaseFinished,
    CaseOutcome,
    ErrorReply,
    NoShowRecorded,
    TicketCalled,
    TicketTransferred,
    WindowChanged,
)

log = logging.getLogger(__name__)

ButtonName = Literal["call_next", "recall", "no_show", "finish", "pause"]
BUTTONS: tuple[ButtonName, ...] = ("call_next", "recall", "no_show", "finish", "pause")
HOLD_BUTTONS: frozenset[ButtonName] = frozenset({"no_show"})  # confirmed by a hold only
MENU_BUTTONS: frozenset[ButtonName] = frozenset({"finish", "pause"})  # held: open a menu
NEEDS_TICKET: frozenset[ButtonName] = frozenset({"recall", "no_show", "finish"})

# What feedback means: the LED shows it as a pattern, the screen as text.
Signal = Literal["sending", "ok", "refused", "queued", "hint", "busy"]

BUSY = "处理中…"
HOLD_HINT = "长按确认过号"
OFFLINE = "网络中断，已暂存，恢复后自动发送"
NOBODY_SERVED = "当前没有正在办理的群众"
FAILED = "操作失败，请重试"
SERVING_NO_PAUSE = "请先办结当前办件，再暂停或暂离"
MENU_CLOSED = "已退出菜单"
MENU_CANCELLED = "已取消"
TICKET_CHANGED = "办理的号码已变化，菜单已关闭"
SENDING: dict[ButtonName, str] = {
    "call_next": "正在叫号…",
    "recall": "正在重呼…",
    "no_show": "正在标记过号…",
    "finish": "正在办结…",
    "pause": "正在提交…",
}
TRANSFERRING = "正在转办…"
WINDOW_STATUS: dict[str, str] = {
    "paused": "已暂停服务",
    "away": "已暂离",
    "open": "已恢复服务",
    "serving": "已恢复服务",
    "closed": "窗口已关闭",
}
MENU_WATCH_S = 0.1  # how often an open menu checks its idle time and the ticket served


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
MenuHandler = Callable[[MenuView | None], None]


@dataclass
class _Press:
    """One press of one button, from its accepted press edge to its release."""

    menu: bool  # a key of the open menu: its hold and release mean nothing more
    held: bool = False
    settling: bool = False  # released sooner than debounce_s: bounce, unless no press follows
    edges: int = 0  # edges since the press, so a settling release knows it is still the last


class StaffPanel:
    """One window's buttons: press, hold and release events in, CallerCore actions out.

    `on_feedback` and `on_menu` are called on the thread of the event (gpiozero's, or the
    panel's own for the menu's time-out) and `on_feedback` on the worker thread for the
    result: a screen hands them over to its own UI thread. Menu views arrive in order.
    """

    def __init__(self, core: CallerCore, on_feedback: FeedbackHandler | None = None, *,
                 indicator: Indicator | None = None, debounce_s: float = 0.05,
                 finish_outcome: CaseOutcome = "on_the_spot", pause_reason: str = "暂停服务",
                 on_menu: MenuHandler | None = None, menu_idle_s: float = 20.0,
                 pause_reasons: Sequence[str] = PAUSE_REASONS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.core = core
        self.on_feedback = on_feedback
        self.on_menu = on_menu
        self.indicator = indicator
        self.debounce_s = debounce_s
        self.finish_outcome: CaseOutcome = finish_outcome
        self.pause_reason = pause_reason
        self.pause_reasons = tuple(pause_reasons)
        self.menu_idle_s = menu_idle_s
        self._clock = clock
        # _input (edges, presses, the menu) is taken before _lock (the action in flight),
        # never after it; callbacks for menu presses run under _input, so views keep order.
        self._input = threading.RLock()
        self._lock = threading.Lock()
        self._last_edge: dict[ButtonName, float] = {}
        self._presses: dict[ButtonName, _Press] = {}
        self._menu = StaffMenu()
        self._menu_owner: ButtonName = "finish"
        self._menu_ticket: int | None = None
        self._menu_touched = 0.0
        self._menu_gen = 0  # a new menu (or none) stops the watcher of the one before
        self._busy = False
        self._idle = threading.Event()
        self._idle.set()
        self._stopped = threading.Event()
        self._worker = ThreadPoolExecutor(max_workers=1,
                                          thread_name_prefix=f"staff-panel-{core.window}")

    @property
    def busy(self) -> bool:
        """Whether an action is in flight."""
        return self._busy

    @property
    def menu_view(self) -> MenuView | None:
        """The menu shown, or None (for a screen that starts while one is open)."""
        with self._input:
            return self._menu.view()

    def pressed(self, button: ButtonName) -> None:
        """A press edge: a key of the open menu; else the button's action, a hold button's
        hint, or for 办结 and 暂停 nothing yet (their release or hold decides)."""
        with self._input:
            press = self._presses.get(button)
            if press is not None and press.settling:  # its early release was bounce
                press.settling = False
                press.edges += 1
                return
            if self._bounced(button):
                return
            press = self._presses[button] = _Press(menu=self._menu.is_open)
            if press.menu:
                self._menu_key(button)
            elif button in HOLD_BUTTONS:
                self._feedback(Feedback(button, "busy", BUSY) if self._busy
                               else Feedback(button, "hint", HOLD_HINT))
            elif button not in MENU_BUTTONS:
                self._start(button)

    def held(self, button: ButtonName) -> None:
        """The button was held for its hold time: 过号 runs, 办结 and 暂停 open their menu."""
        with self._input:
            press = self._presses.get(button)
            if press is None or press.menu or press.held or self._menu.is_open:
                return
            press.held = True
            if button in HOLD_BUTTONS:
                self._start(button)
            elif button in MENU_BUTTONS:
                self._open_menu(button)

    def released(self, button: ButtonName) -> None:
        """A release edge: a short press of 办结 or 暂停 acts now."""
        with self._input:
            press = self._presses.get(button)
            if press is None or press.settling:
                return
            now = self._clock()
            early = self._last_edge[button] + self.debounce_s - now
            if early <= 0:
                self._end_press(button, press, now)
                return
            press.settling = True
            press.edges += 1
            timer = threading.Timer(early, self._settled, (button, press, press.edges, now))
            timer.daemon = True
            timer.start()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no action is in flight; False on timeout."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Close the menu, let the action in flight finish and stop the worker thread."""
        self._stopped.set()
        with self._input:
            if self._menu.is_open:
                self._close_menu()
        self._worker.shutdown(wait=True)

    # ---------------------------------------------------------------- edges

    def _bounced(self, button: ButtonName) -> bool:
        now = self._clock()
        last = self._last_edge.get(button)
        if last is not None and now - last < self.debounce_s:
            return True
        self._last_edge[button] = now
        return False

    def _settled(self, button: ButtonName, press: _Press, edges: int, at: float) -> None:
        """An early release that no press edge followed: it was a (very short) press."""
        with self._input:
            if (self._presses.get(button) is press and press.settling and press.edges == edges
                    and not self._stopped.is_set()):
                self._end_press(button, press, at)

    def _end_press(self, button: ButtonName, press: _Press, at: float) -> None:
        self._last_edge[button] = at  # a press edge right after a release is its bounce
        del self._presses[button]
        if button in MENU_BUTTONS and not (press.menu or press.held or self._menu.is_open):
            self._start(button)

    # ---------------------------------------------------------------- the menu

    def _open_menu(self, button: ButtonName) -> None:
        if self._busy:
            self._feedback(Feedback(button, "busy", BUSY))
            return
        state = self.core.state
        if button == "finish":
            if not self._serving():
                self._feedback(Feedback(button, "refused", NOBODY_SERVED))
                return
            menu = finish_menu(self.core.catalogue, self.core.service_code)
        else:
            if state is not None and state.status == "serving":
                self._feedback(Feedback(button, "refused", SERVING_NO_PAUSE))
                return
            menu = pause_menu(self.pause_reasons)
        view = self._menu.open(menu)
        self._menu_owner = button
        self._menu_ticket = state.ticket_id if state is not None else None
        self._menu_touched = self._clock()
        self._menu_gen += 1
        threading.Thread(target=self._watch, args=(self._menu_gen,), daemon=True,
                         name=f"staff-menu-{self.core.window}").start()
        log.info("window %s: menu %s opened", self.core.window, view.title)
        self._show_menu(button, view, f"{view.title}：{view.items[view.selected]}")

    def _menu_key(self, button: ButtonName) -> None:
        self._menu_touched = self._clock()
        if button == "call_next":
            self._show_menu(button, self._menu.next())
        elif button == "recall":
            self._show_menu(button, self._menu.prev())
        elif button == "pause":
            view = self._menu.back()
            if view is None:
                self._close_menu()
                self._feedback(Feedback(button, "hint", MENU_CLOSED))
            else:
                self._show_menu(button, view, view.title)
        elif button == "no_show":
            shown = self._menu.view()
            self._feedback(Feedback(button, "hint", shown.hint if shown else MENU_CLOSED))
        else:
            self._confirm(button)

    def _confirm(self, button: ButtonName) -> None:
        before = self._menu.view()
        result = self._menu.confirm()
        if isinstance(result, MenuView):
            label = result.items[result.selected]
            if before is not None and result.title == before.title:  # (un)ticked
                ticked = result.selected in result.checked
                self._show_menu(button, result, f"{'已勾选' if ticked else '已取消勾选'} {label}")
            else:
                self._show_menu(button, result, f"{result.title}：{label}")
        elif isinstance(result, Refused):
            self._feedback(Feedback(button, "refused", result.text))
        elif result is None:
            self._close_menu()
            self._feedback(Feedback(button, "hint", MENU_CANCELLED))
        elif self._busy:
            self._feedback(Feedback(button, "busy", BUSY))  # the menu stays: press again
        else:
            owner = self._menu_owner
            self._close_menu()
            log.info("window %s: menu choice %s", self.core.window, result)
            self._start(owner, _sending(owner, result),
                        functools.partial(self._act_choice, owner, result))

    def _show_menu(self, button: ButtonName, view: MenuView, text: str | None = None) -> None:
        self._emit_menu(view)
        self._feedback(Feedback(button, "hint", text or view.items[view.selected]))

    def _close_menu(self) -> None:
        self._menu.close()
        self._menu_gen += 1
        self._emit_menu(None)

    def _watch(self, gen: int) -> None:
        """While menu `gen` is open: close it when idle too long or the ticket changed."""
        while not self._stopped.wait(MENU_WATCH_S):
            with self._input:
                if gen != self._menu_gen:
                    return
                if self._clock() - self._menu_touched >= self.menu_idle_s:
                    log.info("window %s: menu closed, idle", self.core.window)
                    self._close_menu()
                    return
                state = self.core.state
                if (state.ticket_id if state is not None else None) != self._menu_ticket:
                    log.info("window %s: menu closed, the ticket changed", self.core.window)
                    self._close_menu()
                    self._feedback(Feedback(self._menu_owner, "hint", TICKET_CHANGED))
                    return

    def _emit_menu(self, view: MenuView | None) -> None:
        if self.on_menu is not None:
            try:
                self.on_menu(view)
            except Exception:
                log.exception("window %s: menu handler failed", self.core.window)

    # ---------------------------------------------------------------- actions

    def _start(self, button: ButtonName, sending: str | None = None,
               act: Callable[[], Feedback] | None = None) -> None:
        with self._lock:
            busy, self._busy = self._busy, True
            if not busy:
                self._idle.clear()
        if busy:
            self._feedback(Feedback(button, "busy", BUSY))
            return
        # The request leaves first; "sending" is shown meanwhile, and always before the result.
        announced = threading.Event()
        self._worker.submit(self._run, button, act or functools.partial(self._act, button),
                            announced)
        self._feedback(Feedback(button, "sending", sending or SENDING[button]))
        announced.set()

    def _run(self, button: ButtonName, act: Callable[[], Feedback],
             announced: threading.Event) -> None:
        try:
            done = act()
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

    def _act_choice(self, button: ButtonName, choice: Choice) -> Feedback:
        """Run what the menu chose, on the worker thread."""
        core = self.core
        reply: AnyReply | None
        ticket_needed = isinstance(choice, FinishChoice | TransferChoice)
        if ticket_needed and not self._serving():
            return Feedback(button, "refused", NOBODY_SERVED)
        if isinstance(choice, FinishChoice):
            reply = core.finish(choice.outcome, reason=choice.reason, missing=choice.missing,
                                departments=choice.departments)
        elif isinstance(choice, TransferChoice):
            reply = core.transfer(to_service=choice.service)
        elif isinstance(choice, PauseChoice):
            reply = core.pause(choice.reason)
        elif isinstance(choice, StepAwayChoice):
            reply = core.step_away(choice.post)
        else:  # 下班签退: close the window, then sign out
            reply = core.close()
            if isinstance(reply, WindowChanged):
                reply = core.sign_out()
        if reply is None and ticket_needed and not self._serving():
            return Feedback(button, "refused", NOBODY_SERVED)
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
        if isinstance(reply, TicketTransferred):
            ticket = reply.ticket
            where = (f"{ticket.target_window}号窗口" if ticket.target_window is not None
                     else ticket.service_name)
            return Feedback(button, "ok", f"已转办 {ticket.number}（{where}）")
        if isinstance(reply, WindowChanged):
            window = reply.window
            text = WINDOW_STATUS.get(window.status, "已完成")
            if window.status == "paused" and window.pause_reason not in (None, self.pause_reason):
                text += f"（{window.pause_reason}）"
            elif window.status == "away" and window.away_post is not None:
                text = f"{window.away_post}岗{text}"
            return Feedback(button, "ok", text)
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


def _sending(button: ButtonName, choice: Choice) -> str:
    """What the screen says while a menu choice is on its way."""
    return TRANSFERRING if isinstance(choice, TransferChoice) else SENDING[button]
