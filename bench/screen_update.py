"""A staff button press until a screen has drawn it: the window screen, or the main screen.

    SDL_VIDEODRIVER=offscreen .venv/bin/python bench/screen_update.py --screen window
    SDL_VIDEODRIVER=offscreen .venv/bin/python bench/screen_update.py --screen main

The real programs' parts in this process (Kivy allows one window per process): the window
program of window 5 (its screen, StaffPanel, CallerCore, the buttons on gpiozero's mock
pins), or for "main" the main screen (HallScreenApp, MainScreen; no voice) with window 5's
panel beside it. The hub is its own process committing with SQLite FULL; the broker is
real. Presses alternate 叫号 and 办结 (即办件). The time runs from the pin edge that acts
(办结 acts on release) to the end of the first frame that shows the result: Kivy draws at
most 60 frames a second, as the screens do, so up to 16.7 ms of it is the wait for the
next frame. Also printed: the network part alone (edge → state at the screen's link).
Target (issue 6): p99 <= 15 ms on loopback.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

from gpiozero.pins.mock import MockFactory  # noqa: E402
from kivy.clock import Clock  # noqa: E402

from bench.figures import report  # noqa: E402
from bench.hall import BenchHall, bench_hall, tickets_in_hand  # noqa: E402
from caller_display.adapters.buttons import GpioPanel, PanelSettings  # noqa: E402
from caller_display.caller_core import CallerCore  # noqa: E402
from caller_display.hall_screen import assemble  # noqa: E402
from caller_display.settings import DisplaySettings  # noqa: E402
from caller_display.staff_panel import StaffPanel  # noqa: E402
from caller_display.window import build_window  # noqa: E402
from caller_display.window_settings import CallerSettings  # noqa: E402
from protocol.link import DeviceLink, State, StateHandler  # noqa: E402
from protocol.messages import WindowState  # noqa: E402
from protocol.topics import DeviceClass  # noqa: E402

WINDOW, SERVICE = 5, "GA_HJQY"




class Marks:
    """When the screen's link got a window state and when a frame first drew it, by key."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.arrived: dict[tuple[int, bool], float] = {}
        self.drawn: dict[tuple[int, bool], float] = {}
        self.numbers: dict[str, tuple[int, bool]] = {}  # a called number: its state's key

    @staticmethod
    def key(state: WindowState) -> tuple[int, bool]:
        return state.call_seq, state.ticket_id is not None

    def on_state(self, state: State) -> None:
        if isinstance(state, WindowState) and state.window == WINDOW:
            with self.cond:
                self.arrived.setdefault(self.key(state), time.monotonic())
                if state.serving is not None:
                    self.numbers.setdefault(state.serving, self.key(state))
                self.cond.notify_all()

    def wrap(self, handler: StateHandler | None) -> StateHandler:
        """The screen's state handler, noting each arrival first."""
        def on_state(state: State, live: bool) -> None:
            self.on_state(state)
            if handler is not None:
                handler(state, live)
        return on_state

    def frame(self, key: tuple[int, bool] | None) -> None:
        """A frame was drawn showing `key`."""
        if key is None:
            return
        with self.cond:
            if key not in self.drawn:
                self.drawn[key] = time.monotonic()
                self.cond.notify_all()


def run(hall: BenchHall, presses: int, screen: str) -> None:
    factory = MockFactory()
    marks = Marks()
    buttons = PanelSettings()
    data_dir = hall.workdir / "devices"
    app: Any
    gpio: GpioPanel | None
    if screen == "window":
        program = build_window(CallerSettings(
            hall_id=hall.hall_id, device_id="caller-5", window=WINDOW, data_dir=data_dir,
            mqtt=hall.broker.settings_for(DeviceClass.CALLER)), pin_factory=factory)
        app, link, core, panel, gpio = (program.app, program.link, program.core, program.panel,
                                        program.gpio)
        others: list[DeviceLink] = []

        def drawn() -> tuple[int, bool] | None:  # the state the window screen drew last
            state = app.drawn[0] if app.drawn else None
            return Marks.key(state) if isinstance(state, WindowState) else None
    else:
        hall_screen = assemble(DisplaySettings(
            hall_id=hall.hall_id, device_id="main-screen", data_dir=data_dir, announce=False,
            min_highlight_s=1.0, max_queued=40,
            mqtt=hall.broker.settings_for(DeviceClass.DISPLAY)))
        app, link = hall_screen.app, hall_screen.link
        caller = hall.link(DeviceClass.CALLER, "caller-5")
        core = CallerCore(caller, WINDOW)
        caller.on_state = core.on_state
        panel = StaffPanel(core)
        gpio = GpioPanel(panel, buttons, pin_factory=factory)
        others = [caller]

        def drawn() -> tuple[int, bool] | None:  # the newest call in the list, as drawn
            return marks.numbers.get(app.view.calls.rows[0].number.text) if app.view else None
    link.on_state = marks.wrap(link.on_state)
    kiosk = hall.link(DeviceClass.KIOSK, "kiosk-1")
    tickets_in_hand(kiosk, SERVICE, (presses + 1) // 2 + 1)
    to_screen: list[float] = []
    to_link: list[float] = []

    def watch_frames(_dt: float) -> None:  # after each frame: what it showed
        from kivy.core.window import Window

        Window.bind(on_flip=lambda *_: marks.frame(drawn()))

    def press(button: str) -> float:
        """Press and release like a hand; the time of the edge that acts."""
        pin = factory.pin(getattr(buttons.buttons, button))
        pin.drive_low()
        t0 = time.monotonic()  # 叫号 acts on the press
        time.sleep(buttons.bounce_s + 0.01)  # a press outlasts the bounce time
        if button == "finish":  # 办结 acts on release (a hold opens its menu)
            t0 = time.monotonic()
        pin.drive_high()
        return t0

    failed: list[BaseException] = []

    def bench_or_fail() -> None:
        try:
            bench()
        except BaseException as e:  # noqa: BLE001  (SystemExit too: shown after the run)
            failed.append(e)
        Clock.schedule_once(lambda _dt: app.stop())

    def bench() -> None:
        core.sign_in("S051", "123456")
        core.open()
        time.sleep(1.0)
        for i in range(presses):
            button = "call_next" if i % 2 == 0 else "finish"
            state = core.state
            assert state is not None
            want = (state.call_seq + 1, True) if button == "call_next" \
                else (state.call_seq, False)
            # The main screen shows calls; a finish changes nothing on it.
            measured = screen == "window" or button == "call_next"
            t0 = press(button)
            seen = marks.drawn if measured else marks.arrived
            with marks.cond:
                if not marks.cond.wait_for(lambda: want in seen, 5):  # noqa: B023
                    raise SystemExit(f"press {i} ({button}) never shown")
                if measured:
                    to_screen.append((marks.drawn[want] - t0) * 1000)
                    to_link.append((marks.arrived[want] - t0) * 1000)
            panel.wait_idle(5)
            time.sleep(buttons.bounce_s + 0.03)  # a hand's presses are further apart

    Clock.schedule_once(watch_frames, 0)
    Clock.schedule_once(lambda _dt: threading.Thread(target=bench_or_fail, daemon=True).start(),
                        1)
    link.start()
    try:
        app.run()
    finally:
        if gpio is not None:
            gpio.close()
        for dl in [link, *others, kiosk]:
            dl.stop()
        factory.reset()
    if failed:
        raise SystemExit(f"the bench failed: {failed[0]!r}")
    print(f"presses: {presses}, screen: {screen} (pin edge -> first frame showing it, "
          "loopback, Kivy at 60 frames/s)")
    report("edge -> state at screen", to_link, 24)
    report("edge -> frame drawn", to_screen, 24)
    print("target: p99 <= 15 ms")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--presses", type=int, default=200)
    p.add_argument("--screen", choices=("window", "main"), default="window")
    args = p.parse_args()
    with bench_hall() as hall:
        run(hall, args.presses, args.screen)


if __name__ == "__main__":
    main()
