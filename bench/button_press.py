"""Button press latency: a staff button's pin edge → the main screen has the window's state.

    .venv/bin/python bench/button_press.py [--presses 500]

The pins are gpiozero's MockFactory (the edge runs gpiozero's callback as a real pin's
would, minus the kernel), the panel the real StaffPanel and CallerCore on their worker
thread, the hub a separate process committing with SQLite FULL, the display a real device
link receiving the retained window state. Presses alternate call next and finish (即办件).
Target: p99 <= 15 ms on loopback.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gpiozero import Device  # noqa: E402
from gpiozero.pins.mock import MockFactory  # noqa: E402

from bench.figures import report  # noqa: E402
from bench.hall import bench_hall, tickets_in_hand  # noqa: E402
from caller_display.adapters.buttons import GpioPanel, PanelSettings  # noqa: E402
from caller_display.caller_core import CallerCore  # noqa: E402
from caller_display.staff_panel import Feedback, StaffPanel  # noqa: E402
from protocol.link import State  # noqa: E402
from protocol.messages import OpenWindow, WindowState  # noqa: E402
from protocol.topics import DeviceClass  # noqa: E402

WINDOW, SERVICE = 5, "GA_HJQY"




def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--presses", type=int, default=500)
    args = p.parse_args()
    latest: WindowState | None = None
    arrived = threading.Condition()
    bad: list[Feedback] = []

    def on_state(state: State, live: bool) -> None:
        nonlocal latest
        if isinstance(state, WindowState) and state.window == WINDOW:
            with arrived:
                latest = state
                arrived.notify_all()

    def on_feedback(fb: Feedback) -> None:
        if fb.signal not in ("sending", "ok"):
            bad.append(fb)

    factory = MockFactory()
    Device.pin_factory = factory
    settings = PanelSettings()
    with bench_hall() as hall:
        kiosk, caller, display = (hall.link(DeviceClass.KIOSK, "kiosk-1"),
                                  hall.link(DeviceClass.CALLER, "caller-5"),
                                  hall.link(DeviceClass.DISPLAY, "main-screen", on_state))
        tickets_in_hand(kiosk, SERVICE, (args.presses + 1) // 2)
        caller.send(OpenWindow(request_id=uuid4(), window=WINDOW)).wait(5)
        core = CallerCore(caller, WINDOW)
        panel = StaffPanel(core, on_feedback)
        gpio = GpioPanel(panel, settings, pin_factory=factory)
        time.sleep(0.5)
        lat: dict[str, list[float]] = {"call_next": [], "finish": []}
        last_press = {"call_next": 0.0, "finish": 0.0}
        for i in range(args.presses):
            button = "call_next" if i % 2 == 0 else "finish"
            pin = factory.pin(getattr(settings.buttons, button))
            # a hand never presses a button again within the debounce time of its release
            time.sleep(max(0.0, last_press[button] + settings.bounce_s + 0.005
                           - time.monotonic()))
            with arrived:
                before = latest.call_seq if latest else 0
            pin.drive_low()
            if button == "finish":  # 办结 acts on release: a hold opens the 办结方式 menu
                time.sleep(settings.bounce_s + 0.01)  # a press outlasts the bounce time
                t0 = time.perf_counter()
                pin.drive_high()
            else:
                t0 = time.perf_counter()
            with arrived:
                ok = arrived.wait_for(
                    (lambda: latest is not None and latest.call_seq > before)  # noqa: B023
                    if button == "call_next" else
                    (lambda: latest is not None and latest.ticket_id is None), timeout=5)
            lat[button].append((time.perf_counter() - t0) * 1000)
            pin.drive_high()
            last_press[button] = time.monotonic()  # the last edge: the release
            if not ok:
                raise SystemExit(f"press {i} ({button}): the display never saw it; {bad}")
            if not panel.wait_idle(5):
                raise SystemExit(f"press {i} ({button}): the panel stayed busy")
        gpio.close()
        for dl in (kiosk, caller, display):
            dl.stop()
    factory.reset()
    if bad:
        raise SystemExit(f"unexpected feedback: {bad[:5]}")
    print(f"presses: {args.presses} (pin edge -> main screen window state, loopback)")
    report("call next", lat["call_next"])
    report("finish", lat["finish"])
    report("all", lat["call_next"] + lat["finish"])
    print("target: p99 <= 15 ms")


if __name__ == "__main__":
    main()
