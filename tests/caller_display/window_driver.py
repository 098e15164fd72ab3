"""Drives the real window program (screen, staff buttons on gpiozero's mock pins, evaluator)
in a process of its own; tests/caller_display/test_window_app.py runs it against a real
broker and hub:

    python -m tests.caller_display.window_driver OUT_DIR     (settings from HALLQ_CALLER_*)

The staff member presses the pins; the citizen taps the evaluator on the screen. Screenshots
go to OUT_DIR/<name>.png, and OUT_DIR/report.json says what could be read at each step.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("KIVY_NO_ARGS", "1")

from gpiozero.pins.mock import MockFactory  # noqa: E402
from kivy.clock import Clock  # noqa: E402

from caller_display import evaluator as ev  # noqa: E402
from caller_display import sign_in_pad as pad  # noqa: E402
from caller_display.staff_menu import SIGN_OUT  # noqa: E402
from caller_display.window import WindowProgram, build_window  # noqa: E402
from caller_display.window_app import HUB_OFFLINE, STORAGE_FULL, WindowApp  # noqa: E402
from caller_display.window_settings import CallerSettings  # noqa: E402
from tests.screen_driver import ScreenDriver, Wait  # noqa: E402


class WindowDriver(ScreenDriver):
    """A morning at window 5: sign in, four cases (two reviewed, one skipped, one through
    the staff menu), a pause, and the hub gone."""

    app: WindowApp

    def __init__(self, program: WindowProgram, factory: MockFactory, out: Path) -> None:
        self.program, self.factory = program, factory
        super().__init__(program.app, out)

    def pin_of(self, button: str) -> Any:
        return self.factory.pin(getattr(self.program.settings.panel.buttons, button))

    def press(self, button: str) -> Iterator[Wait]:
        """A short press of a staff button (the pins pull up: pressed is low)."""
        pin = self.pin_of(button)
        pin.drive_low()
        yield self.frames(1)
        pin.drive_high()
        yield self.frames(1)

    def hold(self, button: str) -> Iterator[Wait]:
        """Hold a staff button past its hold time."""
        pin = self.pin_of(button)
        pin.drive_low()
        until = time.monotonic() + self.program.settings.panel.hold_s + 0.3
        yield lambda: time.monotonic() > until
        pin.drive_high()
        yield self.frames(1)

    def record(self, step: str, **extra: Any) -> None:
        state = self.program.core.state
        self.report["steps"][step] = {
            "texts": self.texts(), "status": state.status if state else None,
            "serving": state.serving if state else None,
            "at_s": round(time.monotonic() - self.started, 2), **extra}

    @staticmethod
    def after(seconds: float) -> Wait:
        until = time.monotonic() + seconds
        return lambda: time.monotonic() > until

    def idle(self) -> Wait:
        return lambda: not self.program.panel.busy

    def visit(self) -> Iterator[Wait]:
        core, app = self.program.core, self.app
        yield lambda: core.state is not None and app.hub_online is True
        yield lambda: self.sees("工作人员未签到")
        self.record("closed")

        # Sign in on the screen: the post, a wrong PIN (cleared, said why), the right one.
        yield from self.tap(pad.TITLE)
        yield lambda: self.sees(pad.CHOOSE_POST)
        self.record("choose_post")
        yield from self.tap("A岗")
        for digit in "111111":
            yield from self.tap(digit)
        yield lambda: self.sees("●●●●●●")
        self.record("pin_typed")
        yield from self.tap("确定")
        yield lambda: self.sees("工号或密码错误")
        self.record("wrong_pin")
        yield from self.shot("window-sign-in")
        for digit in "123456":
            yield from self.tap(digit)
        yield from self.tap("确定")
        yield lambda: core.state is not None and core.state.status == "open"
        assert core.state is not None and core.state.staff is not None
        staff = core.state.staff.name
        yield lambda: self.sees(staff) and self.sees("欢迎办理")
        self.record("signed_in", staff=staff)

        for case, grade in enumerate(("不满意", "非常满意"), start=1):
            yield from self.press("call_next")
            yield lambda: core.state is not None and core.state.status == "serving"
            assert core.state is not None
            number = core.state.serving
            yield lambda n=number: self.sees("正在办理") and self.sees(str(n))
            self.record(f"serving_{case}", number=number)
            if case == 1:
                yield from self.shot("window-serving")
            yield lambda: not self.program.panel.busy
            yield from self.press("finish")
            yield lambda: self.sees(ev.PROMPT)
            self.record(f"review_prompt_{case}", review_url=app.evaluator.view.review_url)
            if case == 1:
                yield from self.shot("window-review")
            yield from self.tap(grade)
            if grade == "不满意":
                yield lambda: self.sees(ev.REASON_PROMPT)
                self.record("reasons")
                yield from self.shot("window-bad-review-reason")
                yield from self.tap("等候时间太长")
            else:  # a double press: the second finds the evaluator closed
                yield from self.tap_again(grade)
            yield lambda: self.sees(ev.THANKS)
            self.record(f"thanks_{case}")
            yield self.idle()

        yield from self.press("call_next")
        yield lambda: core.state is not None and core.state.status == "serving"
        yield lambda: not self.sees(ev.PROMPT)
        self.record("next_call_closes_evaluator")
        yield from self.press("finish")
        yield lambda: self.sees(ev.PROMPT)
        yield from self.tap(ev.SKIP)
        yield lambda: not self.sees(ev.PROMPT) and self.sees("欢迎办理")
        self.record("skipped")
        yield self.idle()

        yield from self.press("call_next")  # the staff menu is for the case being served
        yield lambda: core.state is not None and core.state.status == "serving"
        yield self.idle()
        yield from self.hold("finish")
        yield lambda: app.menu is not None and self.sees(app.menu.title)
        self.record("menu", title=app.menu.title if app.menu else None)
        yield from self.shot("window-staff-menu")
        yield from self.press("pause")  # 返回: the menu closes, the case goes on
        yield lambda: app.menu is None and self.sees("正在办理")
        yield from self.press("finish")
        yield lambda: self.sees(ev.PROMPT)
        yield self.idle()

        yield from self.press("pause")
        yield lambda: self.sees("暂停服务") and core.state is not None \
            and core.state.status == "paused"
        self.record("paused")
        yield from self.shot("window-paused")
        yield self.idle()
        yield from self.press("pause")  # resume
        yield lambda: core.state is not None and core.state.status == "open"
        self.record("resumed")

        # End of the day: hold 暂停, down to 下班签退, confirm: the window closes, nobody on duty.
        yield self.idle()
        yield self.after(0.2)  # a hand's next press on the same button, past the debounce
        yield from self.hold("pause")
        yield lambda: app.menu is not None
        assert app.menu is not None
        for _ in range(app.menu.items.index(SIGN_OUT)):
            yield from self.press("call_next")
            yield self.after(0.1)  # presses a hand apart: none taken for contact bounce
        yield lambda: app.menu is not None and app.menu.items[app.menu.selected] == SIGN_OUT
        yield from self.press("finish")
        yield lambda: core.state is not None and core.state.status == "closed" \
            and core.state.staff is None and self.sees("工作人员未签到")
        self.record("signed_out")

        self.ask("disk-full")  # the hub says its disk is full: it refuses new work
        yield lambda: self.sees(STORAGE_FULL)
        self.record("storage_full")
        yield from self.shot("window-storage-full")
        self.ask("disk-room")
        yield lambda: not self.sees(STORAGE_FULL)
        self.record("storage_back")

        self.ask("stop-hub")
        yield lambda: self.sees(HUB_OFFLINE)
        self.record("hub_offline")
        yield from self.shot("window-hub-offline")

    def tap_again(self, text: str) -> Iterator[Wait]:
        """Tap the same grade button again at once, before the screen is drawn anew."""
        from kivy.tests.common import UnitTestTouch

        x, y = self.last_tap
        for _ in range(2):
            touch = UnitTestTouch(x, y)
            touch.touch_down()
            touch.touch_up()
        yield self.frames(1)


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    factory = MockFactory()
    program = build_window(CallerSettings(), pin_factory=factory)
    driver = WindowDriver(program, factory, out)
    Clock.schedule_once(lambda _dt: driver.start(), 0)
    program.run()


if __name__ == "__main__":
    main()
