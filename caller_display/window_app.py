"""The screen at a window (Kivy 2.3), facing the citizen: the window, the number served, the
staff card, 暂停服务 / 稍候, and after a finished case the evaluator (好差评).

Under it, a strip for the staff member: what the last button press did, and the staff menu
(办结方式, 转办, 暂停原因) when a button hold opened it. Every change (window state from the
hub, a press, the evaluator) comes from another thread; it only pulls a Clock trigger, and
the screen is drawn again on Kivy's thread from what the core, the panel and the evaluator
hold at that moment.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.widget import Widget

from caller_display.caller_core import CallerCore
from caller_display.evaluator import (
    BACK,
    DEFAULT_REASONS,
    PROMPT,
    REASON_PROMPT,
    SKIP,
    Evaluator,
    EvaluatorView,
)
from caller_display.sign_in_pad import SignInPad, sign_in_panel
from caller_display.staff_menu import MenuView
from caller_display.staff_panel import Feedback
from caller_display.window_settings import CallerSettings
from protocol.link import State
from protocol.messages import (
    GRADE_STARS,
    GRADE_ZH,
    CatalogueState,
    Grade,
    HubProblem,
    HubStatus,
    StaffCard,
    WindowState,
)
from screen_ui.colours import (
    ALERT,
    BACKGROUND,
    BRAND,
    BRAND_DARK,
    GO,
    INK,
    MUTED,
    OK_GREEN,
    PANEL,
    WARN,
    WHITE,
    Rgba,
)
from screen_ui.widgets import (
    BigNumber,
    Panel,
    QrCode,
    TextLabel,
    TouchButton,
)
from screen_ui.window import open_window, save_screen

log = logging.getLogger(__name__)

HUB_OFFLINE = "叫号系统连接中断，按键操作已暂存，恢复后自动发送"
STORAGE_FULL = "叫号系统存储空间不足，暂停叫号和办理：请联系管理员，恢复后自动继续"
QUEUED = "有操作尚未送达叫号系统，恢复后自动发送"
CONNECTING = "正在连接叫号系统…"
SIGN_IN = "工作人员签到"
PHONE_REVIEW = "也可用手机扫码评价"
KEYS_HINT = ("按键：叫号 · 重呼 · 过号（长按）· 办结（长按：办结方式、转办）"
             "· 暂停（长按：原因、暂离、签退）")
GRADES: tuple[Grade, ...] = ("very_satisfied", "satisfied", "basic", "unsatisfied",
                             "very_unsatisfied")
GRADE_COLOURS: dict[Grade, Rgba] = {
    "very_satisfied": OK_GREEN, "satisfied": (0.16, 0.58, 0.36, 1), "basic": BRAND,
    "unsatisfied": (0.80, 0.42, 0.05, 1), "very_unsatisfied": GO,
}
SIGNAL_COLOURS: dict[str, Rgba] = {
    "ok": (0.55, 0.92, 0.65, 1), "refused": (1.0, 0.62, 0.55, 1), "queued": WARN,
    "sending": WHITE, "hint": WHITE, "busy": WHITE,
}
STAFF_BG: Rgba = (0.13, 0.15, 0.19, 1)


def status_lines(state: WindowState | None) -> tuple[str, str | None, str]:
    """(heading, big number or None, line under it) for the window's state."""
    if state is None:
        return CONNECTING, None, ""
    if state.status == "serving" and state.serving:
        return "正在办理", state.serving, state.service_name or ""
    if state.status == "paused":
        reason = state.pause_reason if state.pause_reason not in (None, "", "暂停服务") else None
        return "暂停服务", None, reason or "请到其他窗口办理或稍后再来"
    if state.status == "away":
        return "稍候", None, "工作人员暂时离开，马上回来"
    if state.status == "closed":
        return "本窗口暂未开放", None, "请到其他窗口办理"
    return "欢迎办理", None, "请留意叫号"


def photo_path(photos_dir: Path, card: StaffCard) -> Path:
    """Where a staff member's photo is on this Pi: the card's file name in `photos_dir`."""
    return photos_dir / Path(card.photo).name


def banner_for(hub_online: bool | None, hub_problem: HubProblem | None, stuck: bool
               ) -> tuple[str, Rgba] | None:
    """The warning under the title bar and its colour: the hub away, the hub unable to
    work, or presses waiting to be sent; None for none."""
    if hub_online is False:
        return HUB_OFFLINE, ALERT
    if hub_problem == "storage_full":
        return STORAGE_FULL, ALERT
    if stuck:
        return QUEUED, WARN
    return None


class WindowApp(App):
    """The window screen: draws the core's window state, the evaluator and staff feedback."""

    def __init__(self, settings: CallerSettings, core: CallerCore, evaluator: Evaluator,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.core = core
        self.evaluator = evaluator
        self.pad = SignInPad(core, self.changed)
        self.title = f"HallQ {settings.window}号窗口"
        self.use_kivy_settings = False
        self.scale = settings.ui_scale
        self.zone = settings.zone
        self.hall_name = settings.hall_name
        self.review_reasons: list[str] = []
        self.hub_online: bool | None = None
        self.hub_problem: HubProblem | None = None  # online but unable to work (disk full)
        self.feedback: Feedback | None = None
        self.menu: MenuView | None = None
        self.root_box: Panel | None = None
        self.drawn: tuple[object, ...] = ()
        self._outbox_since: float | None = None  # since when the outbox has held requests
        self._refresh_soon: Callable[..., None] = lambda *_: None

    # ------------------------------------------------------------ from other threads

    def on_state(self, state: State, live: bool) -> None:
        """A retained state: the hub's status and the catalogue matter to this screen."""
        if isinstance(state, HubStatus):
            self.hub_online = state.status == "online"
            self.hub_problem = state.problem
        elif isinstance(state, CatalogueState):
            self.hall_name = state.hall_name
            self.review_reasons = list(state.review_reasons)
        elif not isinstance(state, WindowState) or state.window != self.settings.window:
            return
        self.changed()

    def show_feedback(self, fb: Feedback) -> None:
        """What a staff button press did."""
        self.feedback = fb
        self.changed()

    def show_menu(self, menu: MenuView | None) -> None:
        """The staff menu opened, moved or closed (None)."""
        self.menu = menu
        self.changed()

    def changed(self) -> None:
        """Draw again soon (any thread)."""
        self._refresh_soon()

    # ------------------------------------------------------------ building

    def build(self) -> Panel:
        open_window(self.settings)
        self.root_box = Panel(bg=BACKGROUND, orientation="vertical")
        body = BoxLayout(orientation="horizontal", padding=self.px(20), spacing=self.px(20))
        self.slots = Slots({
            "title": self._slot(self.root_box, size_hint_y=None, height=self.px(84)),
            "banner": self._slot(self.root_box, size_hint_y=None, height=0),
            "card": self._slot(body, size_hint_x=0.3),
            "main": self._slot(body),
            "strip": self._slot(self.root_box, size_hint_y=None, height=self.px(60)),
        })
        self.root_box.add_widget(body, index=1)  # between the banner and the strip
        self._refresh_soon = Clock.create_trigger(lambda _dt: self.refresh(), 0)  # next frame
        self.evaluator.on_change = self.changed
        Clock.schedule_interval(lambda _dt: self.refresh(), 1.0)  # the clock, a thanks' end
        if self.settings.screenshot_every_s:
            Clock.schedule_interval(lambda _dt: self.save_screen(),
                                    self.settings.screenshot_every_s)
        self.refresh()
        return self.root_box

    def save_screen(self) -> None:
        save_screen(self.settings.screenshot_path)

    def open_settings(self, *largs: Any) -> bool:
        return False  # no Kivy settings panel (F1) in public

    def clock(self) -> str:
        """The hall's time of day, 09:30."""
        return datetime.now(self.zone).strftime("%H:%M")

    def px(self, size: float) -> float:
        return round(size * self.scale)

    def refresh(self) -> None:
        """Draw the screen again if anything it shows has changed."""
        if self.root_box is None:
            return
        self.evaluator.sync()
        state = self.core.state
        what = (state, (self.hub_online, self.hub_problem), self._stuck(), self.evaluator.view,
                self.pad.view(),
                self.menu, self.feedback, self.hall_name, self.clock())
        if what == self.drawn:
            return
        self.drawn = what
        # Each part is built again only when what it shows changed: a call redraws the
        # middle, not the staff card or the bars (new text is what costs on a Pi).
        self.slots.show("title", (state.name if state else None,
                                  state.status if state else None, self.hall_name,
                                  self.clock()), lambda: self._title_bar(state))
        self.slots.show("banner", what[1:3], self._banner)
        self.slots.show("card", state.staff if state else None,
                        lambda: self._staff_card(state.staff if state else None))
        self.slots.show("main", what[:1] + what[3:6] + (tuple(self.review_reasons),),
                        lambda: self._main(state))
        self.slots.show("strip", self.feedback, self._staff_strip)

    def _stuck(self) -> bool:
        """Requests wait in the outbox past the reply timeout (each press waits there a few
        milliseconds for its answer: that is no news for the banner)."""
        if not len(self.core.link.outbox):
            self._outbox_since = None
            return False
        now = time.monotonic()
        if self._outbox_since is None:
            self._outbox_since = now
        return now - self._outbox_since > self.settings.reply_timeout

    @staticmethod
    def _slot(parent: BoxLayout, **size: Any) -> BoxLayout:
        slot = BoxLayout(**size)
        parent.add_widget(slot)
        return slot

    # ------------------------------------------------------------ parts

    def _title_bar(self, state: WindowState | None) -> Panel:
        bar = Panel(bg=BRAND_DARK, size_hint_y=None, height=self.px(84),
                    padding=(self.px(24), 0), spacing=self.px(16))
        name = state.name if state else f"{self.settings.window}号窗口"
        bar.add_widget(TextLabel(name, font_size=self.px(40), color=WHITE, bold=True,
                                 size_hint_y=1))
        if state is not None and state.status in ("paused", "away"):  # also over a review
            tag = Panel(bg=GO, size_hint_x=0.3, size_hint_y=0.7, pos_hint={"center_y": 0.5})
            tag.add_widget(TextLabel("暂停服务" if state.status == "paused" else "稍候",
                                     font_size=self.px(32), color=WHITE, bold=True,
                                     halign="center", size_hint_y=1))
            bar.add_widget(tag)
        bar.add_widget(TextLabel(f"{self.hall_name}　{self.clock()}",
                                 font_size=self.px(26), color=WHITE, halign="right",
                                 size_hint_x=0.6, size_hint_y=1))
        return bar

    def _banner(self) -> Panel | None:
        shown = banner_for(self.hub_online, self.hub_problem, self._stuck())
        if shown is None:
            return None
        text, bg = shown
        banner = Panel(bg=bg, size_hint_y=None, height=self.px(56))
        banner.add_widget(TextLabel(text, font_size=self.px(26), bold=True, halign="center",
                                    color=WHITE if bg == ALERT else INK, size_hint_y=1))
        return banner

    def _staff_card(self, card: StaffCard | None) -> Panel:
        panel = Panel(bg=PANEL, orientation="vertical", size_hint_x=0.3,
                      padding=self.px(20), spacing=self.px(10))
        if card is None:
            panel.add_widget(TextLabel("工作人员未签到", font_size=self.px(30), color=MUTED,
                                       halign="center", size_hint_y=1))
            panel.add_widget(TouchButton(SIGN_IN, font_size=self.px(28), bg=BRAND,
                                         on_tap=self.pad.open, size_hint_y=None,
                                         height=self.px(72)))
            return panel
        photo = photo_path(self.settings.photos_dir, card)
        if photo.is_file():
            panel.add_widget(Image(source=str(photo), fit_mode="contain", size_hint_y=1.6))
        else:
            holder = Panel(bg=(0.86, 0.89, 0.94, 1), size_hint_y=1.6)
            holder.add_widget(TextLabel(card.name[:1], font_size=self.px(110), color=BRAND,
                                        halign="center", bold=True, size_hint_y=1))
            panel.add_widget(holder)
        panel.add_widget(TextLabel(card.name, font_size=self.px(40), bold=True,
                                   halign="center"))
        for line in (card.unit, card.title, f"工号 {card.number}"):
            panel.add_widget(TextLabel(line, font_size=self.px(24), color=MUTED,
                                       halign="center"))
        if card.post is not None:
            panel.add_widget(TextLabel(f"{card.post}岗", font_size=self.px(28), color=BRAND,
                                       bold=True, halign="center"))
        return panel

    def _main(self, state: WindowState | None) -> Panel:
        if self.menu is not None:
            return self._menu(self.menu)
        pad = self.pad.view()
        if pad is not None and (state is None or state.staff is None):
            return sign_in_panel(self.pad, pad, state, self.px)
        view = self.evaluator.view
        serving = state is not None and state.status == "serving"
        if view.phase in ("grades", "reasons", "sending", "done") and not serving:
            return self._evaluator(view)
        heading, number, line = status_lines(state)
        panel = Panel(bg=PANEL, orientation="vertical", padding=self.px(24))
        panel.add_widget(TextLabel(heading, font_size=self.px(56 if number else 96),
                                   color=GO if heading == "暂停服务" else INK, bold=True,
                                   halign="center", size_hint_y=1))
        if number:
            panel.add_widget(BigNumber(number, font_size=self.px(220), color=GO))
        panel.add_widget(TextLabel(line, font_size=self.px(36), color=MUTED, halign="center",
                                   size_hint_y=0.6))
        return panel

    def _evaluator(self, view: EvaluatorView) -> Panel:
        panel = Panel(bg=PANEL, orientation="vertical", padding=self.px(20),
                      spacing=self.px(14))
        if view.phase in ("sending", "done"):
            colour = OK_GREEN if view.phase == "done" else MUTED
            panel.add_widget(TextLabel(view.message, font_size=self.px(56), color=colour,
                                       bold=True, halign="center", size_hint_y=1))
            return panel
        if view.phase == "reasons":
            panel.add_widget(TextLabel(REASON_PROMPT, font_size=self.px(44), bold=True,
                                       halign="center", size_hint_y=None))
            grid = GridLayout(cols=2, spacing=self.px(12))
            for reason in self.review_reasons or DEFAULT_REASONS:
                grid.add_widget(TouchButton(reason, font_size=self.px(32), bg=BRAND,
                                            on_tap=_tap(self.evaluator.reason, reason)))
            panel.add_widget(grid)
            panel.add_widget(TouchButton(f"← {BACK}", font_size=self.px(30), bg=MUTED,
                                         on_tap=self.evaluator.back, size_hint_y=None,
                                         height=self.px(72)))
            return panel
        title = PROMPT + (f"（{view.case_number}）" if view.case_number else "")
        panel.add_widget(TextLabel(title, font_size=self.px(44), bold=True, halign="center",
                                   size_hint_y=None))
        row = BoxLayout(orientation="horizontal", spacing=self.px(20))
        buttons = BoxLayout(orientation="vertical", spacing=self.px(14))
        for grade in GRADES:
            stars = "★" * GRADE_STARS[grade] + "☆" * (5 - GRADE_STARS[grade])
            buttons.add_widget(TouchButton(f"{GRADE_ZH[grade]}　{stars}",
                                           font_size=self.px(36), bg=GRADE_COLOURS[grade],
                                           on_tap=_tap(self.evaluator.grade, grade)))
        buttons.add_widget(TouchButton(SKIP, font_size=self.px(28), bg=MUTED,
                                       on_tap=self.evaluator.skip, size_hint_y=0.6))
        row.add_widget(buttons)
        if view.review_url:  # for citizens who prefer their phone
            phone = BoxLayout(orientation="vertical", size_hint_x=0.36, spacing=self.px(8))
            phone.add_widget(QrCode(view.review_url))
            phone.add_widget(TextLabel(PHONE_REVIEW, font_size=self.px(24), color=MUTED,
                                       halign="center"))
            row.add_widget(phone)
        panel.add_widget(row)
        return panel

    def _menu(self, menu: MenuView) -> Panel:
        panel = Panel(bg=STAFF_BG, orientation="vertical", padding=self.px(20),
                      spacing=self.px(6))
        panel.add_widget(TextLabel(menu.title, font_size=self.px(40), color=WHITE, bold=True,
                                   size_hint_y=None))
        shown = 8  # a long list scrolls with the selection
        first = max(0, min(menu.selected - shown // 2, len(menu.items) - shown))
        for i in range(first, min(len(menu.items), first + shown)):
            mark = "☑ " if i in menu.checked else ""
            selected = i == menu.selected
            row = Panel(bg=BRAND if selected else STAFF_BG, size_hint_y=None,
                        height=self.px(54), padding=(self.px(16), 0))
            row.add_widget(TextLabel(("▶ " if selected else "　") + mark + menu.items[i],
                                     font_size=self.px(30), color=WHITE, bold=selected,
                                     size_hint_y=1))
            panel.add_widget(row)
        panel.add_widget(BoxLayout())  # the rest of the height
        panel.add_widget(TextLabel(menu.hint, font_size=self.px(24),
                                   color=(0.75, 0.78, 0.84, 1), size_hint_y=None))
        return panel

    def _staff_strip(self) -> Panel:
        strip = Panel(bg=STAFF_BG, size_hint_y=None, height=self.px(60),
                      padding=(self.px(24), 0))
        fb = self.feedback
        text = fb.text if fb else KEYS_HINT
        colour = SIGNAL_COLOURS.get(fb.signal, WHITE) if fb else (0.7, 0.73, 0.8, 1)
        strip.add_widget(TextLabel(text, font_size=self.px(26), color=colour, size_hint_y=1))
        return strip


class Slots:
    """Places on the screen whose content is built again only when its key changes."""

    def __init__(self, slots: dict[str, BoxLayout]) -> None:
        self.slots = slots
        self.keys: dict[str, object] = {}

    def show(self, name: str, key: object, build: Callable[[], Widget | None]) -> None:
        if name in self.keys and self.keys[name] == key:
            return
        self.keys[name] = key
        slot = self.slots[name]
        slot.clear_widgets()
        content = build()
        if content is not None:
            slot.add_widget(content)
        if slot.size_hint_y is None:  # a bar: as tall as its content, none without
            slot.height = content.height if content is not None else 0


def _tap(action: Callable[[Any], None], value: Any) -> Callable[[], None]:
    return lambda: action(value)
