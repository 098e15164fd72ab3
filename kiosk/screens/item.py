"""An item's page: conditions and materials (一次性告知) before the ticket, the wait now, and
the 取号 button, greyed out with the hub's reason when no ticket is issued."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.screens.base import KioskScreen
from kiosk.ui import texts
from kiosk.ui.theme import Role
from protocol.messages import ServiceInfo
from screen_ui.colours import ALERT, GO, INK, MUTED, PANEL
from screen_ui.widgets import Panel, TextLabel, TouchButton

if TYPE_CHECKING:
    from kiosk.app import KioskApp


class ItemScreen(KioskScreen):
    """Parameter: `code`, the item's (or bundle's) service code."""

    def __init__(self, kiosk: KioskApp, name: str) -> None:
        super().__init__(kiosk, name)
        self.wait_label: TextLabel | None = None
        self.notice_label: TextLabel | None = None
        self.take_button: TouchButton | None = None

    @property
    def service(self) -> ServiceInfo | None:
        return self.core.service(self.params.get("code", ""))

    def build_body(self) -> None:
        self.wait_label = self.notice_label = self.take_button = None
        service = self.service
        if service is None:  # the catalogue changed under the citizen's finger
            self.body.add_widget(TextLabel("该事项已暂停办理，请返回重新选择或到导办台咨询",
                                           font_size=self.theme.size("heading"),
                                           size_hint_y=1))
            return
        landscape = self.kiosk.landscape
        row = BoxLayout(orientation="horizontal" if landscape else "vertical",
                        spacing=self.theme.pad() * 1.5)
        guide = self._guide(service)
        action = self._action_panel()
        if landscape:
            guide.size_hint_x, action.size_hint_x = 0.6, 0.4
        else:
            action.size_hint_y = 0.42
        row.add_widget(guide)
        row.add_widget(action)
        self.body.add_widget(row)

    def _guide(self, service: ServiceInfo) -> ScrollView:
        """The 办事指南: what is needed, as the hall publishes it."""
        t = self.theme
        scroll = ScrollView(do_scroll_x=False, bar_width=14, scroll_type=["bars", "content"])
        column = BoxLayout(orientation="vertical", size_hint_y=None, spacing=t.pad() * 0.75)
        column.bind(minimum_height=column.setter("height"))
        catalogue = self.core.catalogue
        departments = {d.code: d.name for d in catalogue.departments} if catalogue else {}
        column.add_widget(TextLabel(service.name, font_size=t.size("title"), bold=True))
        where = texts.BUNDLES if service.kind == "bundle" else ""
        where = "　".join(x for x in (where, departments.get(service.department, "")) if x)
        column.add_widget(TextLabel(where, font_size=t.size("small"), color=MUTED))

        def section(heading: str, text: str) -> None:
            column.add_widget(Widget(size_hint_y=None, height=t.pad() * 0.5))
            column.add_widget(TextLabel(heading, font_size=t.size("heading"), bold=True))
            column.add_widget(TextLabel(text, font_size=t.size("body"), color=INK,
                                        line_height=1.25))

        if service.kind == "bundle" and service.items:
            names = [s.name if (s := self.core.service(code)) else code for code in service.items]
            section("一次办好以下事项", texts.numbered(names))
        if service.conditions:
            section("办理条件", texts.numbered(service.conditions))
        section("所需材料（一次性告知）", texts.numbered(service.materials) or "无需提交材料")
        section("办理时限", texts.time_limits(service))
        section("收费标准", service.fee)
        scroll.add_widget(column)
        return scroll

    def _action_panel(self) -> Panel:
        """The wait now and the one button that takes a ticket."""
        t = self.theme
        panel = Panel(bg=PANEL, orientation="vertical", padding=t.pad(), spacing=t.pad() * 0.75)
        panel.add_widget(TextLabel("当前排队", font_size=t.size("small"), color=MUTED))
        self.wait_label = TextLabel("", font_size=t.size("heading"), bold=True)
        panel.add_widget(self.wait_label)
        self.notice_label = TextLabel("", font_size=t.size("body"), color=ALERT)
        panel.add_widget(self.notice_label)
        panel.add_widget(Widget())  # the button sits low, where a hand reaches
        panel.add_widget(TextLabel("请先看清所需材料", font_size=t.size("small"),
                                   color=MUTED, halign="center"))
        self.take_button = TouchButton(texts.TAKE, font_size=t.size("action"), bg=GO,
                                       on_tap=self._take, size_hint_y=None,
                                       height=t.size("action") * 2.2)
        panel.add_widget(self.take_button)
        return panel

    def update(self) -> None:
        service = self.service
        if service is None or self.wait_label is None or self.notice_label is None \
                or self.take_button is None:
            return
        queue = self.core.queue_of(service.code)
        self.wait_label.text = texts.wait_text(queue)
        reason = texts.not_issuing_text(queue)
        self.notice_label.text = reason
        self.take_button.disabled = bool(reason)
        role: Role
        if reason:
            text, role = "暂停取号", "action"
        elif self.core.printing_offered:
            text, role = texts.TAKE, "action"
        else:  # the ticket will come on the screen: say so before the tap
            text, role = texts.TAKE_ON_SCREEN, "button"
        self.take_button.text = text
        self.take_button.set_size(self.theme.size(role))

    def _take(self) -> None:
        service = self.service
        if service is not None:
            self.kiosk.take_ticket(service.code)
