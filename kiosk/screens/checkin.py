"""预约签到: the citizen holds the appointment's QR code to the camera.

The camera scanner (built separately) puts its preview widget into the
`camera_area` with `set_camera_view()` and calls `on_code(text)` for each code it reads,
from any thread. The hub decides what a code is worth; the ticket (or the refusal)
comes as for 取号.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.screens.base import KioskScreen
from kiosk.ui import texts
from screen_ui.colours import CAMERA, MUTED, WHITE
from screen_ui.widgets import Panel, TextLabel

if TYPE_CHECKING:
    from kiosk.app import KioskApp

log = logging.getLogger(__name__)


class CheckInScreen(KioskScreen):
    """The camera's picture on one side, what to do on the other."""

    def __init__(self, kiosk: KioskApp, name: str) -> None:
        super().__init__(kiosk, name)
        self.camera_area = Panel(bg=CAMERA, orientation="vertical")
        self.camera_view: Widget | None = None
        self.last_code: str | None = None

    def build_body(self) -> None:
        t = self.theme
        self.body.add_widget(TextLabel("预约签到", font_size=t.size("title"), bold=True))
        row = BoxLayout(spacing=t.pad() * 2)
        if self.camera_area.parent is not None:
            self.camera_area.parent.remove_widget(self.camera_area)
        self.camera_area.clear_widgets()
        if self.camera_view is not None:
            self.camera_area.add_widget(self.camera_view)
        else:  # where the scanner's picture goes
            self.camera_area.add_widget(TextLabel(texts.CAMERA_AREA, font_size=t.size("heading"),
                                                  color=WHITE, halign="center", size_hint_y=1))
        self.camera_area.size_hint_x = 0.5
        row.add_widget(self.camera_area)
        side = BoxLayout(orientation="vertical", spacing=t.pad(), size_hint_x=0.5)
        side.add_widget(Widget())
        side.add_widget(TextLabel(texts.SCAN_HINT, font_size=t.size("title"), bold=True,
                                  halign="center"))
        side.add_widget(TextLabel("请在手机上打开预约二维码",
                                  font_size=t.size("body"), color=MUTED, halign="center"))
        side.add_widget(Widget())
        side.add_widget(TextLabel(texts.NO_CODE, font_size=t.size("body"), halign="center"))
        row.add_widget(side)
        self.body.add_widget(row)

    def set_camera_view(self, view: Widget | None) -> None:
        """The scanner's preview widget, shown in the camera area (None: the placeholder)."""
        self.camera_view = view
        self._built_for = None
        if self.manager is not None and self.manager.current == self.name:
            self.refresh()

    def on_code(self, text: str) -> None:
        """A code the scanner read; safe to call from the scanner's thread."""
        Clock.schedule_once(lambda _dt: self._show_code(text))

    def _show_code(self, text: str) -> None:
        if self.kiosk.page() is not self:  # the scanner saw it again after the page was left
            return
        self.last_code = text
        log.info("appointment code read (%d characters)", len(text))  # never the code itself
        self.kiosk.check_in(text)
