"""While a ticket is on its way: 正在出票…, and when the hub is silent, 系统正在重新连接 with a
way to give up (the request stays queued; a ticket that comes after that is voided)."""

from __future__ import annotations

from kivy.uix.widget import Widget

from kiosk.screens.base import KioskScreen
from kiosk.ui import texts
from screen_ui.colours import BRAND, MUTED
from screen_ui.widgets import TextLabel, TouchButton


class PrintingScreen(KioskScreen):
    """Parameter `state`: "printing" (the hub is asked) or "pending" (the hub is silent)."""

    transient = True

    @property
    def pending(self) -> bool:
        return self.params.get("state") == "pending"

    def build_body(self) -> None:
        t = self.theme
        self.body.add_widget(Widget())
        if not self.pending:
            self.body.add_widget(TextLabel(texts.PRINTING, font_size=t.size("title") * 1.5,
                                           bold=True, halign="center"))
            where = ("请稍候，号票将从出票口送出" if self.core.printing_offered
                     else "请稍候，号码将显示在屏幕上")
            self.body.add_widget(TextLabel(where, font_size=t.size("heading"), color=MUTED,
                                           halign="center"))
            self.body.add_widget(Widget())
            return
        self.body.add_widget(TextLabel(texts.RECONNECTING, font_size=t.size("title") * 1.3,
                                       bold=True, halign="center"))
        self.body.add_widget(TextLabel(texts.RECONNECTING_NOTE, font_size=t.size("heading"),
                                       color=MUTED, halign="center"))
        self.body.add_widget(Widget())
        self.body.add_widget(TouchButton(texts.CANCEL, font_size=t.size("action") * 0.8,
                                         bg=BRAND, on_tap=self.on_back, size_hint=(0.5, None),
                                         height=t.size("action") * 2,
                                         pos_hint={"center_x": 0.5}))
        self.body.add_widget(Widget(size_hint_y=0.3))

    def idle_limit(self) -> float | None:
        """Never while the hub is being asked (that ends within reply_timeout)."""
        if self.kiosk.flow is None:  # reached through 返回 after the ticket came: move on
            return 0.0
        return self.core.settings.idle_timeout_s if self.pending else None

    def on_idle(self) -> None:
        """The citizen walked away from a silent hub: give the request up."""
        self.on_back()

    def on_back(self) -> None:
        """返回 or 取消取号: the citizen does not wait any longer."""
        self.kiosk.cancel_ticket()
        self.kiosk.home()

    def on_home(self) -> None:
        """首页 gives up too."""
        self.on_back()
