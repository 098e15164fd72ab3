"""A department's items (or the 一件事一次办 bundles), each with how many wait for it."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from kivy.utils import escape_markup

from kiosk.screens.base import KioskScreen
from kiosk.ui import texts
from protocol.messages import ServiceInfo
from screen_ui.colours import BRAND, BUNDLE
from screen_ui.widgets import TextLabel, TileGrid, TouchButton

if TYPE_CHECKING:
    from kiosk.app import KioskApp


class DepartmentScreen(KioskScreen):
    """Parameters: `department` (its code) or `bundles` (any value: the 一件事 list)."""

    def __init__(self, kiosk: KioskApp, name: str) -> None:
        super().__init__(kiosk, name)
        self._tiles: dict[str, TouchButton] = {}

    def services_shown(self) -> list[ServiceInfo]:
        """The items of the department, or the bundles."""
        if "bundles" in self.params:
            return [s for s in self.core.services() if s.kind == "bundle"]
        code = self.params.get("department")
        return [s for s in self.core.services() if s.kind == "item" and s.department == code]

    def title(self) -> str:
        """The department's name, or 一件事一次办."""
        if "bundles" in self.params:
            return texts.BUNDLES
        catalogue = self.core.catalogue
        code = self.params.get("department")
        names = {d.code: d.name for d in catalogue.departments} if catalogue else {}
        return names.get(code or "", "")

    def build_body(self) -> None:
        t = self.theme
        self._tiles = {}
        self.body.add_widget(TextLabel(self.title(), font_size=t.size("title"), bold=True))
        services = self.services_shown()
        if not services:
            self.body.add_widget(TextLabel("暂无可取号的事项，请到导办台咨询",
                                           font_size=t.size("heading"), size_hint_y=1))
            return
        self.body.add_widget(TextLabel("请选择要办理的事项", font_size=t.size("body")))
        grid = TileGrid(tile_width=400 * t.scale, tile_height=140 * t.scale,
                        spacing=t.pad(), min_cols=1, max_cols=4)
        for service in services:
            tile = TouchButton("", font_size=t.size("tile"),
                               bg=BUNDLE if service.kind == "bundle" else BRAND,
                               on_tap=partial(self.kiosk.show, "item", code=service.code))
            self._tiles[service.code] = tile
            grid.add(tile)
        self.body.add_widget(grid)

    def update(self) -> None:
        small = self.theme.size("small")
        for service in self.services_shown():
            tile = self._tiles.get(service.code)
            if tile is None:
                continue
            note = texts.short_wait(self.core.queue_of(service.code))
            if service.kind == "bundle":
                note = f"{len(service.items)}个事项一次办" + (f"，{note}" if note else "")
            text = f"[b]{escape_markup(service.name)}[/b]"
            if note:
                text += f"\n[size={small}]{escape_markup(note)}[/size]"
            tile.text = text
