"""The frame around every page: the hall's name, the banners, and the bar with 返回 /
需要帮助？请到导办台 / 首页 that no page can hide."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.ui import texts
from kiosk.ui.theme import Theme
from screen_ui.colours import ALERT, BACKGROUND, BRAND, BRAND_DARK, HELP, INK, WARN, WHITE
from screen_ui.widgets import Panel, TextLabel, TouchButton


class RootView(Panel):
    """Title bar, banners, the pages (a ScreenManager) and the navigation bar."""

    def __init__(self, theme: Theme, *, on_back: Callable[[], None],
                 on_home: Callable[[], None], on_help: Callable[[], None],
                 **kwargs: Any) -> None:
        super().__init__(bg=BACKGROUND, orientation="vertical", **kwargs)
        self.theme = theme
        self._on_back, self._on_home, self._on_help = on_back, on_home, on_help
        self.hall_name = ""
        self.banners: list[str] = []
        self.nav = (False, False)
        # Elderly people do not read animations as a page change; none is clearer and faster.
        self.pages = ScreenManager(transition=NoTransition())
        self.title_bar = Panel(bg=BRAND_DARK, size_hint_y=None)
        self.banner_box = BoxLayout(orientation="vertical", size_hint_y=None)
        self.nav_bar = Panel(bg=BRAND_DARK, size_hint_y=None)
        for part in (self.title_bar, self.banner_box, self.pages, self.nav_bar):
            self.add_widget(part)
        self.restyle()

    def restyle(self) -> None:
        """Build the bars again for the current text sizes (长辈模式 on or off)."""
        self._build_title()
        self._build_banners()
        self._build_nav()

    def set_hall_name(self, name: str) -> None:
        """The hall's name in the title bar."""
        if name != self.hall_name:
            self.hall_name = name
            self._build_title()

    def set_banners(self, banners: list[str]) -> None:
        """Show these warnings (texts.banners) above every page."""
        if banners != self.banners:
            self.banners = banners
            self._build_banners()

    def set_nav(self, back: bool, home: bool) -> None:
        """Which of 返回 and 首页 the current page offers (the help button always shows)."""
        if (back, home) != self.nav:
            self.nav = (back, home)
            self._build_nav()

    def _build_title(self) -> None:
        bar = self.title_bar
        bar.clear_widgets()
        bar.height = self.theme.size("bar")
        bar.padding = (self.theme.pad() * 2, 0)
        bar.add_widget(TextLabel(self.hall_name, font_size=self.theme.size("heading"),
                                 color=WHITE, bold=True, size_hint_y=1))
        bar.add_widget(TextLabel("自助取号", font_size=self.theme.size("body"), color=WHITE,
                                 halign="right", size_hint_x=0.3, size_hint_y=1))

    def _build_banners(self) -> None:
        box = self.banner_box
        box.clear_widgets()
        height = 0.0
        for text in self.banners:
            alert = text in texts.ALERTS
            banner = Panel(bg=ALERT if alert else WARN, size_hint_y=None,
                           height=self.theme.size("banner") * 1.8,
                           padding=(self.theme.pad(), 0))
            banner.add_widget(TextLabel(text,
                                        font_size=self.theme.size("banner"),
                                        color=WHITE if alert else INK, halign="center",
                                        bold=True, size_hint_y=1))
            box.add_widget(banner)
            height += banner.height
        box.height = height

    def _build_nav(self) -> None:
        bar, pad = self.nav_bar, self.theme.pad()
        bar.clear_widgets()
        bar.height = self.theme.size("nav") * 2.6
        bar.padding = bar.spacing = pad
        size = self.theme.size("nav")
        back, home = self.nav
        bar.add_widget(self._nav_button("← " + texts.BACK, back, self._on_back, size))
        bar.add_widget(TouchButton(texts.HELP, font_size=size, bg=HELP, on_tap=self._on_help,
                                   size_hint_x=2.2))
        bar.add_widget(self._nav_button(texts.HOME, home, self._on_home, size))

    @staticmethod
    def _nav_button(text: str, shown: bool, tap: Callable[[], None], size: float
                    ) -> TouchButton:
        # Hidden buttons keep their place, so the help button never moves under a finger.
        button = TouchButton(text, font_size=size, bg=BRAND, on_tap=tap, size_hint_x=1)
        button.disabled, button.opacity = not shown, 1 if shown else 0
        return button
