"""请到导办台: the way to a person, reachable from every page (国办发〔2020〕45号: manual
service stays, and nobody has to manage the machine alone)."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.screens.base import KioskScreen
from kiosk.ui import texts
from screen_ui.colours import HELP, MUTED
from screen_ui.widgets import Panel, TextLabel, TouchButton


class HelpScreen(KioskScreen):
    """Where the guide desk is and what its staff do."""

    def build_body(self) -> None:
        t = self.theme
        self.body.add_widget(Widget(size_hint_y=0.4))
        sign = Panel(bg=HELP, orientation="vertical", size_hint_y=None,
                     height=t.size("title") * 4, padding=t.pad())
        sign.add_widget(TextLabel(texts.HELP_DESK, font_size=t.size("title") * 1.8, bold=True,
                                  color=(1, 1, 1, 1), halign="center", size_hint_y=1))
        self.body.add_widget(sign)
        place = self.core.settings.help_desk_place
        if place:
            self.body.add_widget(TextLabel(f"导办台在{place}", font_size=t.size("title"),
                                           bold=True, halign="center"))
        self.body.add_widget(TextLabel(texts.HELP_DESK_NOTE, font_size=t.size("heading"),
                                       halign="center"))
        self.body.add_widget(TextLabel(texts.PRIORITY_NOTE, font_size=t.size("body"),
                                       color=MUTED, halign="center"))
        self.body.add_widget(Widget())
        self.body.add_widget(TouchButton(texts.DONE, font_size=t.size("button"),
                                         on_tap=self.kiosk.home, size_hint=(0.5, None),
                                         height=t.size("action") * 1.6,
                                         pos_hint={"center_x": 0.5}))
