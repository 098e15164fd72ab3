"""Staff sign-in on the window screen (工作人员签到): the window's A or B post, then the PIN
on a number pad, then the window opens.

The screen faces the citizen, so the PIN is drawn as dots only, a pad left open goes away
by itself after `idle_s`, and a wrong PIN is cleared. The hub checks the PIN (and locks a
staff number after repeated failures); this only collects it. `SignInPad` is the logic (no
Kivy); `sign_in_panel` draws it with the screens' widgets.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kivy.uix.gridlayout import GridLayout

from caller_display.caller_core import CallerCore
from protocol.messages import ErrorReply, WindowChanged, WindowState
from screen_ui.colours import ALERT, BRAND, MUTED, OK_GREEN, PANEL
from screen_ui.widgets import Panel, TextLabel, TouchButton

log = logging.getLogger(__name__)

TITLE = "工作人员签到"
CHOOSE_POST = "请选择您的岗位"
ENTER_PIN = "请输入密码"
SENDING = "正在签到…"
NO_ANSWER = "叫号系统未响应，请稍后再试"
NO_POSTS = "本窗口未设置A/B岗，请联系管理员"
CANCEL = "取消"
PIN_MAX = 12


@dataclass(frozen=True)
class PadView:
    """What the sign-in page shows now."""

    staff_no: str | None  # None: the post is still to be chosen
    dots: int  # digits typed (never the digits)
    message: str
    busy: bool


class SignInPad:
    """The sign-in page's state; `on_change` is called (from any thread) when it changes."""

    def __init__(self, core: CallerCore, on_change: Callable[[], None] = lambda: None, *,
                 idle_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.core = core
        self.on_change = on_change
        self.idle_s = idle_s
        self._clock = clock
        self._lock = threading.Lock()
        self.active = False
        self._staff_no: str | None = None
        self._pin = ""
        self._message = ""
        self._busy = False
        self._touched = 0.0

    def view(self) -> PadView | None:
        """The page, or None when closed (also once it has been left alone for idle_s)."""
        with self._lock:
            if self.active and not self._busy and self._clock() - self._touched > self.idle_s:
                self.active = False
            if not self.active:
                return None
            return PadView(self._staff_no, len(self._pin), self._message, self._busy)

    def open(self) -> None:
        self._change(active=True, staff_no=None, pin="", message="")

    def cancel(self) -> None:
        self._change(active=False, pin="")

    def choose(self, staff_no: str) -> None:
        self._change(staff_no=staff_no, pin="", message=ENTER_PIN)

    def back(self) -> None:
        """From the PIN pad to the choice of post."""
        self._change(staff_no=None, pin="", message="")

    def digit(self, d: str) -> None:
        with self._lock:
            pin = (self._pin + d)[:PIN_MAX] if d.isdigit() and len(d) == 1 else self._pin
        self._change(pin=pin)

    def delete(self) -> None:
        with self._lock:
            pin = self._pin[:-1]
        self._change(pin=pin)

    def submit(self) -> None:
        """确定: sign in on a thread of its own (the hub may be slow); open the window."""
        with self._lock:
            if self._busy or self._staff_no is None:
                return
            if not self._pin:
                self._message = ENTER_PIN
                staff_no = None
            else:
                staff_no, pin = self._staff_no, self._pin
                self._busy, self._pin, self._message = True, "", SENDING
        self.on_change()
        if staff_no is not None:
            threading.Thread(target=self._sign_in, args=(staff_no, pin), daemon=True,
                             name="sign-in").start()

    def _sign_in(self, staff_no: str, pin: str) -> None:
        message = ""
        try:
            reply = self.core.sign_in(staff_no, pin)
            if isinstance(reply, WindowChanged):
                self.core.open()  # signed in: the window takes citizens
            elif isinstance(reply, ErrorReply):
                message = reply.message
            else:
                message = NO_ANSWER  # the request waits in the outbox; the PIN is not kept
        except Exception:
            log.exception("sign-in at window %s failed", self.core.window)
            message = NO_ANSWER
        with self._lock:
            self._busy, self._message = False, message
            self.active = bool(message)
            self._touched = self._clock()
        self.on_change()

    def _change(self, **changes: object) -> None:
        with self._lock:
            for name, value in changes.items():
                setattr(self, "active" if name == "active" else f"_{name}", value)
            self._touched = self._clock()
        self.on_change()


def posts_of(state: WindowState | None) -> list[tuple[str, str]]:
    """(label, staff number) of the window's posts: [("A岗 S051", "S051"), …]."""
    if state is None:
        return []
    return [(f"{post}岗 {no}", no) for post, no in (("A", state.post_a), ("B", state.post_b))
            if no]


def sign_in_panel(pad: SignInPad, view: PadView, state: WindowState | None,
                  px: Callable[[float], float]) -> Panel:
    """The page: the posts to choose from, or the PIN as dots over a number pad."""
    panel = Panel(bg=PANEL, orientation="vertical", padding=px(20), spacing=px(12))
    panel.add_widget(TextLabel(TITLE, font_size=px(44), bold=True, halign="center",
                               size_hint_y=None))
    if view.staff_no is None:
        posts = posts_of(state)
        panel.add_widget(TextLabel(CHOOSE_POST if posts else NO_POSTS, font_size=px(30),
                                   color=MUTED, halign="center", size_hint_y=None))
        for label, staff_no in posts:
            panel.add_widget(TouchButton(label, font_size=px(40), bg=BRAND,
                                         on_tap=functools.partial(pad.choose, staff_no)))
        panel.add_widget(TouchButton(CANCEL, font_size=px(30), bg=MUTED, on_tap=pad.cancel,
                                     size_hint_y=0.6))
        return panel
    line = f"工号 {view.staff_no}　" + ("●" * view.dots if view.dots else "")
    panel.add_widget(TextLabel(line, font_size=px(40), halign="center", size_hint_y=None))
    panel.add_widget(TextLabel(view.message, font_size=px(28), halign="center",
                               color=ALERT if view.message not in (ENTER_PIN, SENDING)
                               else MUTED, size_hint_y=None))
    keys = GridLayout(cols=3, spacing=px(10))
    for key in ("1", "2", "3", "4", "5", "6", "7", "8", "9", "删除", "0", "确定"):
        if key == "删除":
            button = TouchButton(key, font_size=px(34), bg=MUTED, on_tap=pad.delete)
        elif key == "确定":
            button = TouchButton(key, font_size=px(34), bg=OK_GREEN, on_tap=pad.submit)
        else:
            button = TouchButton(key, font_size=px(44), bg=BRAND,
                                 on_tap=functools.partial(pad.digit, key))
        button.disabled = view.busy
        keys.add_widget(button)
    panel.add_widget(keys)
    panel.add_widget(TouchButton(f"← {CANCEL}", font_size=px(30), bg=MUTED, on_tap=pad.back,
                                 size_hint_y=None, height=px(64)))
    return panel
