"""The hall's main screen (大厅综合屏) in Kivy: the call being made, large; the recent calls
with their windows; who waits for what; the windows paused; the complaint line and the
hall's notices; the hall's name and a clock; a broadcast (广播), on a strip of its own under
the title while it is new.

Sizes are pixels on a 1920×1080 screen, scaled to the window (and by `ui_scale`), so one
layout suits any television. What is highlighted, and for how long, is `CallBoard`'s
business; this module only draws it. Calls and states come on the network thread and
reach the screen through Clock triggers.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.widget import Widget

from caller_display.call_board import (
    NO_CALL,
    OFFLINE,
    STORAGE_FULL,
    CallBoard,
    banner_text,
    clock_text,
    paused_text,
    waiting_rows,
    window_name,
)
from caller_display.main_screen import Call, MainScreen
from caller_display.settings import DisplaySettings
from screen_ui.colours import (
    ALERT,
    BACKGROUND,
    BRAND,
    BRAND_DARK,
    GO,
    INK,
    MUTED,
    PANEL,
    WARN,
    WHITE,
    Rgba,
)
from screen_ui.widgets import CachedText, FitLabel, Panel, TextLabel
from screen_ui.window import open_window, save_screen

log = logging.getLogger(__name__)

HIGHLIGHT: Rgba = GO  # the band while a call is new: the one red thing on the screen
HIGHLIGHT_ROW: Rgba = (1.0, 0.89, 0.87, 1)  # the same call's row in the list
ROW_ALT: Rgba = (0.93, 0.95, 0.98, 1)
NOTICE_EVERY_S = 10  # each notice of the hall stays this long
COUNT_EM = 3.4  # the width of "999人", in ems

# Pixels at 1920×1080; "*_h" are heights, the rest text sizes.
SIZES = {
    "bar_h": 88, "hall": 48, "clock": 38, "banner_h": 64, "banner": 38, "band_h": 200,
    "band": 140, "head_h": 52, "head": 38, "col_h": 36, "col": 28, "number": 62,
    "window": 52, "service": 34, "paused_h": 60, "paused": 34, "foot_h": 64, "foot": 32,
    "broadcast_h": 124, "broadcast": 42,  # two lines: a broadcast's 80 characters
    "pad": 16,
}


class CallRow(Panel):
    """One line of the list: the number, and the window it is called to."""

    def __init__(self, size: Callable[[str], float], bg: Rgba) -> None:
        super().__init__(bg=bg, padding=(size("pad"), 0))
        self.bg = bg
        self.number = CachedText(font_size=size("number"), bold=True)
        self.window = CachedText(font_size=size("window"), color=BRAND, bold=True)
        self.add_widget(self.number)
        self.add_widget(self.window)

    def show(self, call: Call | None, highlighted: bool) -> None:
        """Show a call (None: an empty line); the highlighted one stands out."""
        self.number.text = call.number if call else ""
        self.window.text = window_name(call.window) if call else ""
        self.number.color = HIGHLIGHT if highlighted else INK
        self.set_bg(HIGHLIGHT_ROW if highlighted else self.bg)


class CallList(Panel):
    """最近叫号: the recent calls in two columns of 号码 | 窗口, newest first, top down."""

    def __init__(self, size: Callable[[str], float], rows: int, **kwargs: Any) -> None:
        pad = size("pad")
        super().__init__(orientation="vertical", padding=pad, spacing=pad / 2, **kwargs)
        self.add_widget(FitLabel("最近叫号", font_size=size("head"), color=BRAND, bold=True,
                                 halign="left", size_hint_y=None, height=size("head_h")))
        columns = BoxLayout(spacing=pad * 2)
        self.rows: list[CallRow] = []
        for _ in range(2):
            column = BoxLayout(orientation="vertical")
            heads = BoxLayout(size_hint_y=None, height=size("col_h"), padding=(pad, 0))
            for text in ("号码", "窗口"):
                heads.add_widget(FitLabel(text, font_size=size("col"), color=MUTED))
            column.add_widget(heads)
            for i in range(rows):
                row = CallRow(size, ROW_ALT if i % 2 else PANEL)
                column.add_widget(row)
                self.rows.append(row)
            columns.add_widget(column)
        self.add_widget(columns)

    def show(self, calls: Sequence[Call], current: Call | None) -> None:
        """The calls, newest first; `current`'s row is marked."""
        for i, row in enumerate(self.rows):
            call = calls[i] if i < len(calls) else None
            row.show(call, call is not None and call == current)


class WaitingList(Panel):
    """等候人数: each service with people waiting or a window open, and how many wait, in
    the columns that keep most names largest (a rare long name is made smaller alone)."""

    def __init__(self, size: Callable[[str], float], **kwargs: Any) -> None:
        pad = size("pad")
        super().__init__(orientation="vertical", padding=pad, spacing=pad / 2, **kwargs)
        self.size_of = size
        head = BoxLayout(size_hint_y=None, height=size("head_h"))
        head.add_widget(FitLabel("等候人数", font_size=size("head"), color=BRAND, bold=True,
                                 halign="left"))
        self.total = FitLabel(font_size=size("col"), color=MUTED, halign="right")
        head.add_widget(self.total)
        self.add_widget(head)
        self.grid = GridLayout(cols=1, spacing=(pad, 0))
        self.add_widget(self.grid)
        self.items: list[tuple[str, int, bool]] = []
        self.cells: list[tuple[FitLabel, FitLabel]] = []
        self._relayout = Clock.create_trigger(lambda _dt: self._build(), 0)
        self.grid.bind(size=lambda *_: self._relayout())

    def show(self, items: list[tuple[str, int, bool]], total: int | None) -> None:
        """(name, waiting, window open) per service, and everybody waiting."""
        self.total.text = f"共 {total} 人等候" if total is not None else ""
        same_names = [i[0] for i in items] == [i[0] for i in self.items]
        self.items = items
        if same_names and len(self.cells) == len(items):
            for (name, count), item in zip(self.cells, items, strict=True):
                self._fill(name, count, item)
        else:
            self._build()

    @staticmethod
    def _fill(name: FitLabel, count: FitLabel, item: tuple[str, int, bool]) -> None:
        name.text, count.text = item[0], f"{item[1]}人"
        name.color = INK if item[2] else MUTED  # no window open for it now: greyed
        count.color = BRAND if item[1] else MUTED

    def _build(self) -> None:
        grid, items = self.grid, self.items
        grid.clear_widgets()
        self.cells = []
        if not items or grid.width < 2:
            return
        cols, font = self._columns(items)
        grid.cols = cols
        rows = grid.rows = math.ceil(len(items) / cols)
        pad = self.size_of("pad") / 2
        panels: list[Panel] = []
        for i, item in enumerate(items):
            panel = Panel(bg=ROW_ALT if i % rows % 2 else PANEL, padding=(pad, 0))
            name = FitLabel(font_size=font, halign="left")
            count = FitLabel(font_size=font, bold=True, halign="right", size_hint_x=None,
                             width=font * COUNT_EM)
            self._fill(name, count, item)
            panel.add_widget(name)
            panel.add_widget(count)
            panels.append(panel)
            self.cells.append((name, count))
        # Down each column in the catalogue's order; a GridLayout fills row by row.
        for r in range(rows):
            for c in range(cols):
                i = c * rows + r
                grid.add_widget(panels[i] if i < len(panels) else Widget())

    def _columns(self, items: list[tuple[str, int, bool]]) -> tuple[int, float]:
        """The columns that give most names the largest text, and that text's size."""
        wanted, pad = self.size_of("service"), self.size_of("pad")
        ems = sorted(CoreLabel(font_size=100).get_extents(i[0])[0] / 100 for i in items)
        # The longest tenth of the names may shrink alone, but to no less than 3/4.
        typical, longest = ems[int((len(ems) - 1) * 0.9)], ems[-1]
        best = (1, 0.0)
        for cols in range(1, 5):
            rows = math.ceil(len(items) / cols)
            width = (self.grid.width - self.grid.spacing[0] * (cols - 1)) / cols - pad
            font = min(wanted, self.grid.height / rows * 0.68, width / (typical + COUNT_EM),
                       width / (longest * 0.75 + COUNT_EM))
            if font > best[1] * 1.05:  # a column more only for clearly larger text
                best = (cols, font)
        return best


class HallView(Panel):
    """The whole screen: title bar, banner, the call band, the lists, paused windows, and the
    public information at the foot."""

    def __init__(self, scale: float, recent_calls: int) -> None:
        super().__init__(bg=BACKGROUND, orientation="vertical")
        self.scale = scale
        size, pad = self.size_of, self.size_of("pad")
        title = Panel(bg=BRAND_DARK, size_hint_y=None, height=size("bar_h"),
                      padding=(pad * 2, 0))
        self.hall = FitLabel(font_size=size("hall"), color=WHITE, bold=True, halign="left")
        self.clock = FitLabel(font_size=size("clock"), color=WHITE, halign="right",
                              size_hint_x=0.6)
        title.add_widget(self.hall)
        title.add_widget(self.clock)
        self.banner_box = BoxLayout(orientation="vertical", size_hint_y=None, height=0)
        self.broadcast_box = BoxLayout(orientation="vertical", size_hint_y=None, height=0)
        body = BoxLayout(orientation="vertical", padding=pad, spacing=pad)
        self.band = Panel(bg=PANEL, size_hint_y=None, height=size("band_h"),
                          padding=(pad * 2, 0))
        self.band_text = CachedText(NO_CALL, font_size=size("band"), color=MUTED, bold=True)
        self.band.add_widget(self.band_text)
        lists = BoxLayout(spacing=pad)
        self.calls = CallList(size, math.ceil(recent_calls / 2), size_hint_x=0.45)
        self.waiting = WaitingList(size, size_hint_x=0.55)
        lists.add_widget(self.calls)
        lists.add_widget(self.waiting)
        self.paused_box = BoxLayout(orientation="vertical", size_hint_y=None, height=0)
        for part in (self.band, lists, self.paused_box):
            body.add_widget(part)
        foot = Panel(bg=BRAND_DARK, size_hint_y=None, height=size("foot_h"),
                     padding=(pad * 2, 0), spacing=pad * 3)
        self.phone = FitLabel(font_size=size("foot"), color=WHITE, bold=True, halign="left",
                              size_hint_x=0.3)
        self.notice = FitLabel(font_size=size("foot"), color=WHITE, halign="left")
        foot.add_widget(self.phone)
        foot.add_widget(self.notice)
        for part in (title, self.banner_box, self.broadcast_box, body, foot):
            self.add_widget(part)
        self.shown: dict[str, str] = {}  # banner and paused text drawn now

    def size_of(self, role: str) -> float:
        """Pixels of a text size or height, at this screen's scale."""
        return round(SIZES[role] * self.scale)

    def set_banner(self, text: str) -> None:
        """A warning under the title bar (系统维护中… red, 正在连接… blue); "" for none."""
        if self.shown.get("banner") == text:
            return
        self.shown["banner"] = text
        alert = text in (OFFLINE, STORAGE_FULL)
        self._set_strip(self.banner_box, text, ALERT if alert else BRAND, WHITE, "banner",
                        "banner_h")

    def set_broadcast(self, text: str) -> None:
        """The hall's broadcast on a blue strip of up to two lines; "" for none."""
        if self.shown.get("broadcast") == text:
            return
        self.shown["broadcast"] = text
        box, pad = self.broadcast_box, self.size_of("pad")
        box.clear_widgets()
        box.height = self.size_of("broadcast_h") if text else 0
        if text:
            strip = Panel(bg=BRAND, padding=(pad * 2, pad / 2))
            strip.add_widget(TextLabel(text, font_size=self.size_of("broadcast"), color=WHITE,
                                       bold=True, halign="center", size_hint_y=1))
            box.add_widget(strip)

    def set_paused(self, text: str) -> None:
        """The windows paused, on an amber band above the foot; "" for none."""
        if self.shown.get("paused") != text:
            self.shown["paused"] = text
            self._set_strip(self.paused_box, text, WARN, INK, "paused", "paused_h")

    def _set_strip(self, box: BoxLayout, text: str, bg: Rgba, fg: Rgba, font: str,
                   height: str) -> None:
        """A full-width band of one line of text in `box`, or nothing for ""."""
        box.clear_widgets()
        box.height = self.size_of(height) if text else 0
        if text:
            band = Panel(bg=bg, padding=(self.size_of("pad"), 0))
            band.add_widget(FitLabel(text, font_size=self.size_of(font), color=fg, bold=True))
            box.add_widget(band)

    def set_band(self, current: Call | None, last: Call | None) -> None:
        """The call highlighted now (red), else the last call (calm), else 请留意叫号."""
        call = current or last
        self.band_text.text = call.text if call else NO_CALL
        self.band_text.want(self.size_of("band") * (1 if call else 0.7))
        self.band.set_bg(HIGHLIGHT if current else PANEL)
        self.band_text.color = WHITE if current else BRAND if last else MUTED

    def set_info(self, phone: str, notice: str) -> None:
        """投诉电话 and the notice shown now."""
        self.phone.text = f"投诉电话：{phone}" if phone else ""
        self.phone.size_hint_x = 0.3 if phone else None
        if not phone:  # the notice takes the whole bar
            self.phone.width = 0
        self.notice.text = notice


class HallScreenApp(App):
    """The main screen: draws MainScreen's states and CallBoard's calls, redraws on change."""

    def __init__(self, settings: DisplaySettings, screen: MainScreen, *,
                 link_up: Callable[[], bool] = lambda: True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.screen = screen
        self.link_up = link_up  # False: the broker is out of reach, whatever the hub last said
        self.board = CallBoard(highlight_s=settings.highlight_s,
                               min_highlight_s=settings.min_highlight_s,
                               keep=settings.recent_calls, max_queued=settings.max_queued)
        self.title = "HallQ 大厅综合屏"
        self.use_kivy_settings = False
        self.zone = ZoneInfo(settings.timezone)
        self.view: HallView | None = None
        self._refresh_soon: Callable[..., None] = lambda *_: None
        self._calls_soon: Callable[..., None] = lambda *_: None

    def on_call(self, call: Call) -> None:
        """A new call (from MainScreen, on the network thread): on the board, then drawn."""
        self.board.add(call)
        self._calls_soon()

    def changed(self) -> None:
        """A state came (any thread): redraw soon; a burst of states is one redraw."""
        self._refresh_soon()

    def build(self) -> HallView:
        """Register the CJK font, open the window, lay the screen out for its size."""
        Window = open_window(self.settings)  # noqa: N806  (Kivy's name for it)
        scale = min(Window.width / 1920, Window.height / 1080) * self.settings.ui_scale
        log.info("main screen %sx%s, drawn at %.2f of 1920x1080", Window.width,
                 Window.height, scale)
        self.view = HallView(scale, self.settings.recent_calls)
        self._refresh_soon = Clock.create_trigger(lambda _dt: self.refresh(), 0.05)
        self._calls_soon = Clock.create_trigger(lambda _dt: self.show_calls(), 0)
        Clock.schedule_interval(self._advance, 0.1)
        Clock.schedule_interval(lambda _dt: self.tick(), 1.0)
        if self.settings.screenshot_every_s:
            Clock.schedule_interval(lambda _dt: self.save_screen(),
                                    self.settings.screenshot_every_s)
        self.refresh()
        return self.view

    def open_settings(self, *largs: Any) -> bool:
        """No Kivy settings panel (F1) on a public screen."""
        return False

    def save_screen(self) -> None:
        """Write what the screen shows to `screenshot_path` (a demo with no display)."""
        save_screen(self.settings.screenshot_path)

    def _advance(self, _dt: float) -> None:
        if self.board.update():  # (never return False here: Kivy would unschedule it)
            self.show_calls()

    def show_calls(self) -> None:
        """The band and the list, as the board has them now."""
        if self.view is None:
            return
        current = self.board.current
        self.view.set_band(current, self.board.last)
        self.view.calls.show(self.board.recent, current)

    def refresh(self) -> None:
        """Everything but the calls: title, banner, waiting, paused windows, notices."""
        view, screen = self.view, self.screen
        if view is None:
            return
        catalogue = screen.catalogue
        view.hall.text = catalogue.hall_name if catalogue else self.settings.hall_name
        queue = screen.queue
        view.waiting.show(waiting_rows(queue), queue.waiting if queue else None)
        view.set_paused(paused_text(screen.paused_windows()))
        self.tick()
        self.show_calls()

    def tick(self) -> None:
        """Each second: the clock, the banner (the link may have gone), the next notice."""
        view, screen = self.view, self.screen
        if view is None:
            return
        view.clock.text = clock_text(datetime.now(self.zone))
        view.set_banner(banner_text(screen.hub_online, screen.hub_problem, self.link_up()))
        view.set_broadcast(screen.broadcasts.shown())
        catalogue = screen.catalogue
        notices = catalogue.notices if catalogue else []
        notice = notices[int(time.time() // NOTICE_EVERY_S) % len(notices)] if notices else ""
        view.set_info(catalogue.complaint_phone if catalogue else "", notice)
