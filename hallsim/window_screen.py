"""`python -m hallsim.window_screen`: the demo's staffed window as the real window program
(caller_display/window.py: screen, staff buttons, evaluator) with robots at its two sides.

The staff robot presses the buttons on gpiozero's mock pins, as a hand would; the citizen
robot taps the evaluator's grades on the screen (through the screen's own handlers), picks
a reason for a bad grade, or skips now and then. Settings from HALLQ_CALLER_*, as on a Pi.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import threading

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")

from gpiozero.pins.mock import MockFactory  # noqa: E402
from kivy.clock import Clock  # noqa: E402

from caller_display.evaluator import DEFAULT_REASONS  # noqa: E402
from caller_display.window import WindowProgram, build_window  # noqa: E402
from caller_display.window_settings import CallerSettings  # noqa: E402
from hallsim.devices import DEMO_PIN  # noqa: E402
from protocol.messages import BAD_GRADES, Grade  # noqa: E402

log = logging.getLogger(__name__)

# How citizens grade in the demo (most are content, a few are not), and how many skip.
GRADES: tuple[tuple[Grade, float], ...] = (
    ("very_satisfied", 0.55), ("satisfied", 0.25), ("basic", 0.10), ("unsatisfied", 0.06),
    ("very_unsatisfied", 0.04))
SKIPS = 0.15


class WindowRobots:
    """The staff member and the citizens at the demo's staffed window."""

    def __init__(self, program: WindowProgram, factory: MockFactory, staff_no: str,
                 rng: random.Random, serve_s: tuple[float, float] = (4.0, 9.0)) -> None:
        self.program, self.factory, self.staff_no = program, factory, staff_no
        self.rng, self.serve_s = rng, serve_s
        self.stop = threading.Event()

    def press(self, button: str) -> None:
        """A short press of a staff button, released after a human moment."""
        pin = self.factory.pin(getattr(self.program.settings.panel.buttons, button))
        pin.drive_low()
        self.stop.wait(0.12)
        pin.drive_high()
        self.program.panel.wait_idle(10)

    def run(self) -> None:
        core = self.program.core
        self.program.link.wait_connected(10)
        core.sign_in(self.staff_no, DEMO_PIN)
        core.open()
        while not self.stop.is_set():
            self.press("call_next")
            state = core.state
            if state is None or state.status != "serving":
                self.stop.wait(1.0)  # nobody waiting
                continue
            if self.stop.wait(self.rng.uniform(*self.serve_s)):
                break
            self.press("finish")
            if self.stop.wait(self.rng.uniform(1.0, 3.0)):  # the citizen reads the prompt
                break
            self.citizen_reviews()
            self.stop.wait(self.rng.uniform(1.0, 2.5))

    def citizen_reviews(self) -> None:
        """Tap a grade (and a reason for a bad one), or 不评价, on the screen's thread."""
        evaluator = self.program.evaluator
        if self.rng.random() < SKIPS:
            Clock.schedule_once(lambda _dt: evaluator.skip())
            return
        grade = self.rng.choices([g for g, _ in GRADES], [w for _, w in GRADES])[0]
        Clock.schedule_once(lambda _dt: evaluator.grade(grade))
        if grade in BAD_GRADES:
            self.stop.wait(1.5)  # reading the reasons
            reasons = self.program.app.review_reasons or list(DEFAULT_REASONS)
            reason = self.rng.choice(reasons)
            Clock.schedule_once(lambda _dt: evaluator.reason(reason))


def main() -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    factory = MockFactory()
    program = build_window(CallerSettings(), pin_factory=factory)
    robots = WindowRobots(program, factory, os.environ.get("HALLQ_DEMO_STAFF_NO", "S051"),
                          random.Random(int(os.environ.get("HALLQ_DEMO_SEED", "0")) or None))

    def stop(*_: object) -> None:  # SIGTERM: the robots first, then the screen's loop
        robots.stop.set()
        Clock.schedule_once(lambda _dt: program.app.stop())

    signal.signal(signal.SIGTERM, stop)
    worker = threading.Thread(target=robots.run, daemon=True, name="window-robots")
    Clock.schedule_once(lambda _dt: worker.start(), 0.5)
    try:
        program.run()
    finally:
        robots.stop.set()


if __name__ == "__main__":
    main()
