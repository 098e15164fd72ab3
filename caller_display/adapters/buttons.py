"""The window's staff buttons and LED on GPIO (gpiozero), wired to a StaffPanel.

Default pin map (BCM numbers; each button between its pin and GND, the Pi's internal
pull-up; the LED with its resistor from its pin to GND):

| what | BCM | header pin |
| --- | --- | --- |
| 叫号 call next | 17 | 11 |
| 重呼 recall | 27 | 13 |
| 过号 no-show (hold) | 22 | 15 |
| 办结 finish (即办件; held: the 办结方式 menu) | 23 | 16 |
| 暂停/恢复 pause, resume (held: the 暂停/暂离 menu) | 24 | 18 |
| LED | 25 | 22 |

Tests and machines without GPIO use gpiozero's MockFactory (`GPIOZERO_PIN_FACTORY=mock`);
a Pi 5 needs the `lgpio` pin factory (apt `python3-lgpio`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from gpiozero import LED, Button
from pydantic import BaseModel, ConfigDict, Field, model_validator

from caller_display.staff_panel import BUTTONS, MENU_BUTTONS, ButtonName, Signal, StaffPanel

log = logging.getLogger(__name__)

BcmPin = int  # 2-27 on the 40-pin header


class ButtonPins(BaseModel):
    """The BCM pin of each staff button."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    call_next: BcmPin = Field(17, ge=2, le=27)
    recall: BcmPin = Field(27, ge=2, le=27)
    no_show: BcmPin = Field(22, ge=2, le=27)
    finish: BcmPin = Field(23, ge=2, le=27)
    pause: BcmPin = Field(24, ge=2, le=27)


class PanelSettings(BaseModel):
    """Pin map and timing of a window's staff buttons and LED."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    buttons: ButtonPins = ButtonPins()
    led: BcmPin = Field(25, ge=2, le=27)
    pull_up: bool = True  # buttons switch to GND
    bounce_s: float = Field(0.05, ge=0, le=1)  # edges closer than this are contact bounce
    hold_s: float = Field(1.5, gt=0, le=10)  # hold to confirm 过号
    # hold 办结 or 暂停 this long for their menu; None: hold_s. A hall may make it shorter
    # than 过号's, as a menu only shows choices (each still needs a confirm).
    menu_hold_s: float | None = Field(None, gt=0, le=10)
    ok_s: float = Field(2.0, gt=0, le=30)  # the LED stays on this long after a success

    @model_validator(mode="after")
    def _distinct_pins(self) -> PanelSettings:
        pins = [getattr(self.buttons, b) for b in BUTTONS] + [self.led]
        if len(set(pins)) != len(pins):
            raise ValueError(f"each button and the LED need a pin of their own: {pins}")
        return self


class LedIndicator:
    """The panel's signals as LED patterns: blinking while sent, steady on success, fast
    blinking on a refusal, slow blinking when the request waits for the network."""

    def __init__(self, led: Any, ok_s: float = 2.0) -> None:
        self.led = led
        self.ok_s = ok_s
        self._lock = threading.Lock()  # gpiozero's blink() is not safe from two threads

    def show(self, signal: Signal) -> None:
        """Show one signal, replacing the pattern before it."""
        with self._lock:
            self._show(signal)

    def _show(self, signal: Signal) -> None:
        led = self.led
        if signal == "sending":
            led.blink(on_time=0.1, off_time=0.1)
        elif signal == "ok":
            led.blink(on_time=self.ok_s, off_time=0, n=1)
        elif signal == "refused":
            led.blink(on_time=0.05, off_time=0.05, n=10)
        elif signal == "queued":
            led.blink(on_time=0.5, off_time=0.5, n=3)
        elif signal == "hint":
            led.blink(on_time=0.05, off_time=0.1, n=2)
        # "busy": the LED keeps showing the action in flight


class GpioPanel:
    """The buttons and LED of one window on their pins, feeding a StaffPanel."""

    def __init__(self, panel: StaffPanel, settings: PanelSettings | None = None,
                 pin_factory: Any = None) -> None:
        self.panel = panel
        self.settings = s = settings or PanelSettings()
        self.led = LED(s.led, pin_factory=pin_factory)
        panel.indicator = LedIndicator(self.led, s.ok_s)
        self.buttons: dict[ButtonName, Any] = {}
        for name in BUTTONS:
            hold_s = s.menu_hold_s if name in MENU_BUTTONS and s.menu_hold_s else s.hold_s
            button = Button(getattr(s.buttons, name), pull_up=s.pull_up,
                            bounce_time=s.bounce_s or None, hold_time=hold_s,
                            pin_factory=pin_factory)
            button.when_pressed = _bind(panel.pressed, name)
            button.when_released = _bind(panel.released, name)
            button.when_held = _bind(panel.held, name)
            self.buttons[name] = button
        log.info("staff buttons on BCM %s, LED on BCM %s", s.buttons.model_dump(), s.led)

    def close(self) -> None:
        """Release the pins and stop the panel's worker."""
        for button in self.buttons.values():
            button.close()
        self.led.close()
        self.panel.close()


def _bind(handler: Callable[[ButtonName], None], name: ButtonName) -> Callable[[], None]:
    """A callback taking no argument, so gpiozero does not pass it the device."""
    return lambda: handler(name)
