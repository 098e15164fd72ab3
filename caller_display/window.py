"""`python -m caller_display`: the program of the Pi at one window.

It joins the window's parts: the device link to the hub, the CallerCore (staff actions and
the window's state), the staff buttons and LED on GPIO (a StaffPanel), the evaluator, the
printer for 补正 notices, and the screen. Settings come from HALLQ_CALLER_* (the window's
number at least: HALLQ_CALLER_WINDOW=5, HALLQ_CALLER_DEVICE_ID=caller-5).
"""

from __future__ import annotations

import logging
import signal
from dataclasses import dataclass
from typing import Any

from kivy.clock import Clock

from caller_display.adapters.buttons import GpioPanel
from caller_display.caller_core import CallerCore
from caller_display.evaluator import Evaluator
from caller_display.staff_panel import StaffPanel
from caller_display.window_app import WindowApp
from caller_display.window_settings import CallerSettings
from printing.printers import Printer, open_printer
from protocol.link import DeviceLink, State
from protocol.systemd import watch_kivy
from protocol.topics import DeviceClass

log = logging.getLogger(__name__)


@dataclass
class WindowProgram:
    """Every part of one window's program, joined; `run()` blocks in the screen's loop."""

    settings: CallerSettings
    link: DeviceLink
    core: CallerCore
    evaluator: Evaluator
    panel: StaffPanel
    gpio: GpioPanel | None
    app: WindowApp

    def run(self) -> None:
        """Connect, show the screen until it closes, then let go of everything."""
        self.link.start()
        try:
            self.app.run()
        finally:
            self.close()

    def close(self) -> None:
        if self.gpio is not None:
            self.gpio.close()  # closes the panel too
        else:
            self.panel.close()
        self.link.stop()


def build_printer(settings: CallerSettings) -> Printer | None:
    if settings.printer == "none":
        return None
    return open_printer(settings.printer, settings.printer_file
                        or settings.data_dir / f"{settings.device_id}.escpos",
                        settings.usb_vendor_id, settings.usb_product_id)


def build_window(settings: CallerSettings, pin_factory: Any = None) -> WindowProgram:
    """The window's program from its settings; `pin_factory` None: gpiozero's default (on a
    Pi the real pins, elsewhere GPIOZERO_PIN_FACTORY=mock)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    link = DeviceLink(settings, DeviceClass.CALLER, windows=(settings.window,))
    core = CallerCore(link, settings.window, settings.reply_timeout,
                      printer=build_printer(settings), paper_mm=settings.paper_mm,
                      hall_name=settings.hall_name)
    evaluator = Evaluator(core, thanks_s=settings.thanks_s)
    app = WindowApp(settings, core, evaluator)

    def on_state(state: State, live: bool) -> None:
        core.on_state(state, live)
        app.on_state(state, live)

    link.on_state = on_state
    panel = StaffPanel(core, app.show_feedback, debounce_s=settings.panel.bounce_s,
                       menu_idle_s=settings.menu_idle_s)
    panel.on_menu = app.show_menu
    gpio = GpioPanel(panel, settings.panel, pin_factory) if settings.buttons == "gpio" else None
    return WindowProgram(settings, link, core, evaluator, panel, gpio, app)


def main() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    program = build_window(CallerSettings())  # from HALLQ_CALLER_*
    # systemd stops the window with SIGTERM: leave the main loop, so the link says offline.
    signal.signal(signal.SIGTERM,
                  lambda *_: Clock.schedule_once(lambda _dt: program.app.stop()))
    watch_kivy(Clock)  # READY=1 at the first frame, then systemd's watchdog from the UI loop
    program.run()
