"""What every screen driver of the tests does: a finger's taps and an eye's reading of a
real Kivy app in its own process (Kivy allows one window per process), screenshots, and a
visit run one step per frame, each step yielding a condition to wait for. The kiosk's, the
window screen's and the main screen's drivers build their visits on it; the driver writes
OUT_DIR/report.json at the end, with "error" set if a step failed."""

from __future__ import annotations

import json
import re
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from kivy.clock import Clock

MARKUP = re.compile(r"\[/?(?:b|i|u|s|size|color|font|sub|sup)(?:=[^\]]*)?\]")
Wait = Callable[[], bool]
STEP_TIMEOUT_S = 15.0


def plain(text: str) -> str:
    """A label's text without Kivy markup tags."""
    return MARKUP.sub("", text)


class ScreenDriver:
    """Runs `visit()` one step per frame; a step yields a condition to wait for."""

    def __init__(self, app: Any, out: Path) -> None:
        self.app, self.out = app, out
        self.report: dict[str, Any] = {"steps": {}, "error": None}
        self._steps: Generator[Wait, None, None] = self.visit()
        self._waiting: tuple[Wait, float, str] | None = None
        self.started = time.monotonic()
        self.last_tap = (0.0, 0.0)  # where the last tap touched the window

    def visit(self) -> Iterator[Wait]:
        """The visit: a generator of conditions; overridden by each driver."""
        raise NotImplementedError

    @property
    def place(self) -> str:
        """Where the visit is, for error messages (the kiosk says its page)."""
        return "the screen"

    # ------------------------------------------------------------ what a finger and an eye do

    def labels(self) -> list[Any]:
        """Every label (buttons too) drawn on the window now, in tree order."""
        from kivy.core.window import Window
        from kivy.uix.label import Label

        found: list[Any] = []

        def walk(widget: Any) -> None:
            if widget.opacity == 0:
                return
            if (isinstance(widget, Label) or getattr(widget, "is_text", False)) \
                    and widget.text:
                found.append(widget)
            for child in reversed(widget.children):
                walk(child)

        for child in reversed(Window.children):
            walk(child)
        return found

    def texts(self) -> list[str]:
        """What the citizen can read now, one string per label."""
        return [plain(w.text) for w in self.labels()]

    def sees(self, text: str) -> bool:
        return any(text in t for t in self.texts())

    def tap(self, text: str) -> Iterator[Wait]:
        """Touch the enabled button whose text starts with `text`, at its centre."""
        from kivy.tests.common import UnitTestTouch
        from kivy.uix.button import Button

        yield self.frames(3)  # a page just built is laid out on the next frames
        buttons = [w for w in self.labels() if isinstance(w, Button) and not w.disabled
                   and plain(w.text).startswith(text)]
        assert buttons, f"no enabled button {text!r} on {self.place}: {self.texts()}"
        x, y = buttons[0].to_window(*buttons[0].center)
        self.last_tap = (x, y)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        yield self.frames(2)
        touch.touch_up()
        yield self.frames(2)

    def frames(self, n: int) -> Wait:
        left = [n]

        def count() -> bool:
            left[0] -= 1
            return left[0] < 0
        return count

    def shot(self, name: str) -> Iterator[Wait]:
        """A screenshot once the page has drawn (the first frames after a change are black)."""
        from kivy.core.window import Window

        yield self.frames(10)
        path = Path(Window.screenshot(name=str(self.out / f"{name}.png")))
        path.replace(self.out / f"{name}.png")

    @staticmethod
    def ask(event: str) -> None:
        print(f"@{event}", flush=True)

    # ------------------------------------------------------------ running

    def start(self) -> None:
        Clock.schedule_interval(self._tick, 0)

    def before_step(self) -> None:
        """Called every frame before the step's condition is checked (notes over time)."""

    def _tick(self, _dt: float) -> bool:
        try:
            self.before_step()
            if self._waiting is not None:
                check, deadline, what = self._waiting
                if not check():
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"waited in vain on {self.place} at {what}: "
                                           f"{self.texts()}")
                    return True
            step = next(self._steps)
            self._waiting = (step, time.monotonic() + 15, self._where())
            return True
        except StopIteration:
            self.finish()
        except Exception:
            self.report["error"] = traceback.format_exc()
            self.finish()
        return False

    def _where(self) -> str:
        frame = self._steps.gi_frame
        return f"line {frame.f_lineno}" if frame else "end"

    def finish(self) -> None:
        (self.out / "report.json").write_text(json.dumps(self.report, ensure_ascii=False,
                                                         indent=1))
        self.app.stop()
