"""The result of a tap: the printed ticket's number shown large too; a ticket that could not
print, on the screen with its QR code until the citizen taps 我已记下号码; or a refusal."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.core import TicketResult
from kiosk.screens.base import KioskScreen
from kiosk.ui import texts
from protocol.messages import TicketIssued
from screen_ui.colours import ALERT, BRAND, GO, INK, MUTED, OK_GREEN, PANEL
from screen_ui.widgets import BigNumber, Panel, QrCode, TextLabel, TouchButton

if TYPE_CHECKING:
    from kiosk.app import KioskApp


class TicketScreen(KioskScreen):
    """Shows `result` (set by `present()`); parameter `mode`: printed, on_screen, noted, error."""

    transient = True

    def __init__(self, kiosk: KioskApp, name: str) -> None:
        super().__init__(kiosk, name)
        self.result: TicketResult | None = None
        self.countdown: TextLabel | None = None

    def present(self, result: TicketResult) -> None:
        """Show this result of a tap (the app calls it on the UI thread)."""
        self.result = result
        if result.error is not None or result.issued is None:
            mode = "error"
        else:
            mode = "printed" if result.printed else "on_screen"
        self.kiosk.show(self.name, mode=mode,
                        ticket=str(result.issued.ticket.id) if result.issued else "")

    @property
    def mode(self) -> str:
        return self.params.get("mode", "error")

    def build_body(self) -> None:
        self.countdown = None
        result = self.result
        if result is None or result.issued is None or self.mode == "error":
            self._build_error(result)
        elif self.mode == "on_screen":
            self._build_on_screen(result)
        else:
            self._build_printed(result)

    def _number(self, issued: TicketIssued, scale: float = 1.0) -> BigNumber:
        """The ticket's number, as large as the page allows."""
        return BigNumber(issued.ticket.number, font_size=self.theme.size("number") * scale,
                         color=GO)

    def _about(self, issued: TicketIssued, box: BoxLayout) -> None:
        """What the number means: the wait, the item."""
        t = self.theme
        box.add_widget(TextLabel(texts.issued_text(issued), font_size=t.size("title"), bold=True,
                                 halign="center"))
        box.add_widget(TextLabel(texts.issued_wait(issued), font_size=t.size("heading"),
                                 halign="center"))
        box.add_widget(TextLabel(f"{issued.ticket.service_name}　{issued.ticket.department}",
                                 font_size=t.size("body"), color=MUTED, halign="center"))

    def _row(self) -> BoxLayout:
        """Side by side on a wide screen, one above the other on a tall one."""
        return BoxLayout(orientation="horizontal" if self.kiosk.landscape else "vertical",
                         spacing=self.theme.pad() * 2)

    def _build_printed(self, result: TicketResult) -> None:
        t, issued = self.theme, result.issued
        assert issued is not None
        row = self._row()
        left = BoxLayout(orientation="vertical", size_hint_x=0.42)
        left.add_widget(Widget())
        heading = "请取走号票" if self.mode == "printed" else "号码已确认"
        left.add_widget(TextLabel(heading, font_size=t.size("title"), bold=True,
                                  color=OK_GREEN, halign="center"))
        left.add_widget(self._number(issued))
        left.add_widget(Widget())
        right = BoxLayout(orientation="vertical", spacing=t.pad(), size_hint_x=0.58)
        right.add_widget(Widget())
        self._about(issued, right)
        right.add_widget(Widget())
        row.add_widget(left)
        row.add_widget(right)
        self.body.add_widget(row)
        self._add_done_row()

    def _build_on_screen(self, result: TicketResult) -> None:
        t, issued = self.theme, result.issued
        assert issued is not None
        heading = texts.TO_PHONE if result.to_phone else (result.printer_problem
                                                          or texts.NO_PRINTER)
        self.body.add_widget(TextLabel(heading, font_size=t.size("heading"), bold=True,
                                       color=INK if result.to_phone else ALERT,
                                       halign="center"))
        row = self._row()
        left = BoxLayout(orientation="vertical", spacing=t.pad() * 0.5)
        left.add_widget(Widget())
        left.add_widget(self._number(issued, 0.8))
        self._about(issued, left)
        left.add_widget(Widget())
        row.add_widget(left)
        right = Panel(bg=PANEL, orientation="vertical", padding=t.pad(), spacing=t.pad() * 0.5,
                      size_hint_x=0.36 if self.kiosk.landscape else 1)
        right.add_widget(QrCode(self.core.ticket_qr(issued)))
        right.add_widget(TextLabel("可拍下号码，或用手机扫码保存", font_size=t.size("small"),
                                   color=INK, halign="center"))
        row.add_widget(right)
        self.body.add_widget(row)
        buttons = BoxLayout(size_hint_y=None, height=t.size("action") * 1.8,
                            spacing=t.pad() * 2)
        if result.to_phone:
            buttons.add_widget(TouchButton(texts.SAVED_ON_PHONE, font_size=t.size("action") * 0.8,
                                           bg=GO, on_tap=self._saved, size_hint_x=0.5))
            if self.core.printing_offered:
                buttons.add_widget(TouchButton(texts.PRINT_INSTEAD, font_size=t.size("button"),
                                               bg=BRAND, size_hint_x=0.5,
                                               on_tap=lambda: self.kiosk.print_instead(issued)))
        else:
            buttons.add_widget(TouchButton(texts.NOTED, font_size=t.size("action") * 0.8, bg=GO,
                                           on_tap=self._noted, size_hint_x=0.62))
            buttons.add_widget(TouchButton(texts.NOT_WANTED, font_size=t.size("button"),
                                           bg=BRAND, on_tap=self.kiosk.home, size_hint_x=0.38))
        self.body.add_widget(buttons)

    def _build_error(self, result: TicketResult | None) -> None:
        t = self.theme
        message = result.error.message if result and result.error else "取号没有成功"
        self.body.add_widget(Widget())
        self.body.add_widget(TextLabel("暂时不能取号", font_size=t.size("title") * 1.3,
                                       bold=True, color=ALERT, halign="center"))
        self.body.add_widget(TextLabel(message, font_size=t.size("heading"), halign="center"))
        self.body.add_widget(TextLabel("可返回选择其他事项，或到导办台咨询",
                                       font_size=t.size("body"), color=MUTED, halign="center"))
        self.body.add_widget(Widget())
        self._add_done_row()

    def _add_done_row(self) -> None:
        t = self.theme
        row = BoxLayout(size_hint_y=None, height=t.size("action") * 1.6, spacing=t.pad() * 2)
        self.countdown = TextLabel("", font_size=t.size("body"), color=MUTED, size_hint_y=1,
                                   halign="right")
        row.add_widget(self.countdown)
        row.add_widget(TouchButton(texts.DONE, font_size=t.size("button"), bg=BRAND,
                                   on_tap=self.kiosk.home, size_hint_x=0.8))
        self.body.add_widget(row)

    def tick(self, remaining: float) -> None:
        """Show the seconds left before the page goes home by itself."""
        if self.countdown is not None:
            self.countdown.text = f"{max(0, math.ceil(remaining))}秒后自动返回首页"

    def idle_limit(self) -> float | None:
        """A printed ticket's page goes soon; one on the screen waits as long as any page."""
        s = self.core.settings
        return s.ticket_shown_s if self.mode in ("printed", "noted") else s.idle_timeout_s

    def on_back(self) -> None:
        """返回 goes home as 首页 and idle do: the number is in the hand, or (on the screen,
        not confirmed) it is voided by `KioskApp.home()`."""
        self.kiosk.home()

    def _saved(self) -> None:
        if self.result is not None and self.result.issued is not None:
            self.kiosk.confirm_on_phone(self.result.issued.ticket.id)
            self.kiosk.show(self.name, mode="noted", ticket=self.params.get("ticket", ""))

    def _noted(self) -> None:
        if self.result is not None and self.result.issued is not None:
            self.kiosk.confirm_on_screen(self.result.issued.ticket.id)
            self.kiosk.show(self.name, mode="noted", ticket=self.params.get("ticket", ""))
