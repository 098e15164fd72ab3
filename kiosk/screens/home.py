"""Home: the departments as large tiles and 一件事一次办; in 长辈模式 only the items older
people come for most, and a big way to the 导办台."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.utils import escape_markup

from kiosk.screens.base import KioskScreen
from kiosk.ui import texts
from protocol.messages import ServiceInfo
from screen_ui.colours import BRAND, BUNDLE, GO, HELP, OK_GREEN, WHITE, Rgba
from screen_ui.widgets import TextLabel, TileGrid, TouchButton

ELDER_MAX_ITEMS = 4  # fewer choices: two rows of two tiles, each name on one line


class HomeScreen(KioskScreen):
    """The first page; every idle page comes back here."""

    show_back = False
    show_home = False

    def build_body(self) -> None:
        if self.core.catalogue is None:
            self.body.add_widget(TextLabel(texts.LOADING, font_size=self.theme.size("title"),
                                           halign="center", size_hint_y=1))
            return
        if self.theme.elder:
            self._build_elder()
        else:
            self._build_standard()

    def _top_row(self, title: str, *buttons: TouchButton) -> BoxLayout:
        t = self.theme
        row = BoxLayout(size_hint_y=None, height=t.size("title") * 2.2, spacing=t.pad())
        row.add_widget(TextLabel(title, font_size=t.size("title"), bold=True, size_hint_y=1))
        for button in buttons:
            row.add_widget(button)
        return row

    def _build_standard(self) -> None:
        t = self.theme
        self.body.add_widget(self._top_row(
            "请选择办理部门",
            TouchButton(texts.APPOINTMENT, font_size=t.size("button"), bg=OK_GREEN,
                        on_tap=lambda: self.kiosk.show("checkin"), size_hint_x=0.45),
            TouchButton(f"[b]{texts.ELDER_ON}[/b]\n[size={t.size('small')}]{texts.ELDER_NOTE}"
                        "[/size]", font_size=t.size("button"), bg=GO,
                        on_tap=lambda: self.kiosk.set_elder(True), size_hint_x=0.45),
        ))
        grid = TileGrid(tile_width=240 * t.scale, tile_height=170 * t.scale,
                        spacing=t.pad(), min_cols=2, max_cols=6)
        catalogue = self.core.catalogue
        assert catalogue is not None
        bundles = [s for s in catalogue.services if s.kind == "bundle"]
        if bundles:
            grid.add(self._tile(texts.BUNDLES, f"{len(bundles)}件事 一次办好", BUNDLE,
                                lambda: self.kiosk.show("department", bundles="1")))
        for dept in catalogue.departments:
            items = [s for s in catalogue.services if s.department == dept.code
                     and s.kind == "item"]
            if items:
                grid.add(self._tile(dept.name, f"{len(items)}个事项", BRAND,
                                    partial(self.kiosk.show, "department", department=dept.code)))
        self.body.add_widget(grid)

    def _build_elder(self) -> None:
        """A few large tiles that fill the page, no scrolling, and the way to a person."""
        t = self.theme
        self.body.add_widget(self._top_row(
            "请选择您要办的事",
            TouchButton(texts.ELDER_OFF, font_size=t.size("small"), bg=BRAND,
                        on_tap=lambda: self.kiosk.set_elder(False), size_hint_x=0.4),
        ))
        grid = GridLayout(cols=2, spacing=t.pad())
        for service in self.elder_services():
            grid.add_widget(self._tile(service.name, "", BRAND,
                                       partial(self.kiosk.show, "item", code=service.code)))
        self.body.add_widget(grid)
        self.body.add_widget(TouchButton(
            f"[b]不会操作？{texts.HELP_DESK}[/b]", font_size=t.size("title"), bg=HELP,
            on_tap=self.kiosk.help, size_hint_y=None, height=t.size("title") * 2.2))

    def elder_services(self) -> list[ServiceInfo]:
        """The items 长辈模式 offers: the configured ones, else those most waited for now."""
        chosen = [s for code in self.core.settings.elder_items
                  if (s := self.core.service(code)) is not None]
        if not chosen:  # another hall's catalogue: the busiest items are the most used
            def waiting(s: ServiceInfo) -> int:
                queue = self.core.queue_of(s.code)
                return queue.waiting if queue else 0
            chosen = sorted((s for s in self.core.services() if s.kind == "item"),
                            key=waiting, reverse=True)
        return chosen[:ELDER_MAX_ITEMS]

    def _tile(self, name: str, note: str, bg: Rgba, tap: Callable[[], None]) -> TouchButton:
        t = self.theme
        text = f"[b]{escape_markup(name)}[/b]"
        if note:
            text += f"\n[size={t.size('small')}]{escape_markup(note)}[/size]"
        return TouchButton(text, font_size=t.size("tile"), bg=bg, fg=WHITE, on_tap=tap)

    def on_idle(self) -> None:
        """The next citizen finds the standard home page, scrolled to the top."""
        if self.theme.elder:
            self.kiosk.set_elder(False)
        else:
            self._built_for = None
            self.refresh()
        self.kiosk.touched()
