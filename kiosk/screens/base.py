"""What every page of the kiosk has: its parameters, a body rebuilt when the hall's catalogue
or 长辈模式 changes, figures refreshed in place, and what it does on 返回 and when idle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.ui.theme import Theme

if TYPE_CHECKING:
    from kiosk.app import KioskApp
    from kiosk.core import KioskCore


class KioskScreen(Screen):
    """One page; subclasses fill `body` in `build_body()` and refresh figures in `update()`."""

    transient = False  # a page 返回 never goes back to (printing, the ticket)
    show_back = True
    show_home = True

    def __init__(self, kiosk: KioskApp, name: str) -> None:
        super().__init__(name=name)
        self.kiosk = kiosk
        self.params: dict[str, str] = {}
        self._built_for: object = None
        self.body = BoxLayout(orientation="vertical")
        self.add_widget(self.body)

    @property
    def theme(self) -> Theme:
        return self.kiosk.theme

    @property
    def core(self) -> KioskCore:
        return self.kiosk.core

    def load(self, **params: str) -> None:
        """Show the page for these parameters (a department, an item…)."""
        self.params = params
        self._built_for = None
        self.refresh()

    def refresh(self) -> None:
        """Rebuild when the catalogue, the mode or the parameters changed; else update."""
        key = (self.kiosk.catalogue_version, self.theme.elder, sorted(self.params.items()))
        if key != self._built_for:
            self._built_for = key
            self.body.clear_widgets()
            self.body.padding = self.theme.pad() * 1.5
            self.body.spacing = self.theme.pad()
            self.build_body()
        self.update()

    def build_body(self) -> None:
        """Put the page's widgets into `self.body`."""
        raise NotImplementedError

    def update(self) -> None:
        """Refresh what changes often (waits, whether tickets are issued) without a rebuild."""

    def idle_limit(self) -> float | None:
        """Seconds without a touch before `on_idle()`; None: never."""
        return self.core.settings.idle_timeout_s

    def on_idle(self) -> None:
        """Nobody touched the screen for a while: the next citizen starts at home."""
        self.kiosk.home()

    def on_back(self) -> None:
        """The 返回 button."""
        self.kiosk.back()

    def on_home(self) -> None:
        """The 首页 button."""
        self.kiosk.home()

    def tick(self, remaining: float) -> None:
        """Called about twice a second with the seconds left before `on_idle()`."""
