"""The staff buttons at a window: gpiozero MockFactory pins driving the real CallerCore
against the real broker and hub."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory
from sqlalchemy import func, select

from caller_display.adapters.buttons import ButtonPins, GpioPanel, PanelSettings
from caller_display.caller_core import CallerCore
from caller_display.staff_panel import (
    BUSY,
    HOLD_HINT,
    OFFLINE,
    Feedback,
    Signal,
    StaffPanel,
)
from hub.app import Hub
from hub.db.schema import requests, tickets
from kiosk.core import KioskCore
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import Seen, eventually

SERVICE, WINDOW = "GA_HJQY", 5  # 户口迁移 at 5号窗口
PINS = ButtonPins()
LED_PIN = 25
HOLD_S = 0.3  # the hall's 1.5 s, shortened for the tests


class Feedbacks(Seen[Feedback]):
    """Every feedback the panel gave, and a way to wait for one by its signal."""

    @property
    def seen(self) -> list[Feedback]:
        return self.items

    def signal(self, signal: Signal, count: int = 1, timeout: float = 5.0) -> Feedback:
        """The `count`-th feedback with this signal, waiting for it."""
        return self.wait(lambda fb: fb.signal == signal, count=count, timeout=timeout)

    def of(self, signal: Signal) -> list[Feedback]:
        return [fb for fb in self.items if fb.signal == signal]


@dataclass
class Window:
    hub: Hub
    core: CallerCore
    kiosk: KioskCore
    panel: StaffPanel
    gpio: GpioPanel
    factory: MockFactory
    feedback: Feedbacks

    def pin(self, n: int) -> Any:
        return self.factory.pin(n)

    def press(self, n: int) -> None:
        """Press and release a pull-up button."""
        self.pin(n).drive_low()
        self.pin(n).drive_high()

    def requests(self, action: str) -> int:
        with self.hub.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(requests)
                                   .where(requests.c.action == action)) or 0)

    def ticket(self, number: str) -> Any:
        with self.hub.engine.connect() as conn:
            return conn.execute(select(tickets).where(tickets.c.number == number)).one()



@pytest.fixture
def window(hub: Hub, make_link: LinkFactory, tmp_path: Path,
           mock_pins: MockFactory) -> Iterator[Window]:
    core = caller(make_link, WINDOW)
    core.open()
    feedback = Feedbacks()
    panel = StaffPanel(core, feedback)
    gpio = GpioPanel(panel, PanelSettings(hold_s=HOLD_S), pin_factory=mock_pins)
    yield Window(hub, core, kiosk(make_link, tmp_path, hub), panel, gpio, mock_pins, feedback)
    gpio.close()


def blinks(pin: Any, since: int) -> list[float]:
    """How long each LED state lasted after the first `since` recorded changes."""
    return [s.timestamp for s in pin.states[since + 1:]]


def test_call_next_press_calls_a001_and_lights_the_led(window: Window) -> None:
    window.kiosk.take_ticket(SERVICE)
    window.press(PINS.call_next)
    assert window.feedback.signal("ok").text == "已叫号 A001"
    assert window.feedback.of("sending")[0].text == "正在叫号…"
    called = window.ticket("A001")
    assert (called.status, called.window_number) == ("called", WINDOW)
    assert window.core.state is not None and window.core.state.serving == "A001"
    assert window.gpio.led.is_lit and window.pin(LED_PIN).state  # steady on


def test_short_press_on_no_show_only_hints(window: Window) -> None:
    window.kiosk.take_ticket(SERVICE)
    window.press(PINS.call_next)
    window.feedback.signal("ok")
    window.press(PINS.recall)
    assert window.feedback.signal("ok", 2).text == "已重呼 A001"
    window.press(PINS.no_show)
    assert window.feedback.signal("hint").text == HOLD_HINT
    time.sleep(HOLD_S * 2)  # no hold can fire now: nothing more may happen
    assert window.requests("no_show") == 0
    assert window.ticket("A001").status == "called"
    assert [fb.signal for fb in window.feedback.seen].count("sending") == 2


def test_holding_no_show_after_a_recall_records_it(window: Window) -> None:
    window.kiosk.take_ticket(SERVICE)
    window.press(PINS.call_next)
    window.feedback.signal("ok")
    window.press(PINS.recall)
    window.feedback.signal("ok", 2)
    pin = window.pin(PINS.no_show)
    pressed_at = time.monotonic()
    pin.drive_low()
    assert window.feedback.signal("hint").text == HOLD_HINT
    done = window.feedback.signal("ok", 3)
    pin.drive_high()
    assert done.text == "已过号 A001"
    assert time.monotonic() - pressed_at >= HOLD_S
    assert window.ticket("A001").status == "no_show"
    assert window.requests("no_show") == 1


def test_call_next_with_nobody_waiting_is_refused_in_chinese(window: Window) -> None:
    led = window.pin(LED_PIN)
    window.press(PINS.call_next)
    assert window.feedback.signal("refused").text == "当前没有等候的群众"
    since = len(led.states)
    fast = eventually(lambda: (b := blinks(led, since)) and len(b) >= 4 and b,
                      what="the LED's fast blinking")
    assert all(d < 0.25 for d in fast[:4])  # 50 ms on, 50 ms off; steady or slow: >= 0.5 s


def test_bounce_sends_one_request(window: Window) -> None:
    window.kiosk.take_ticket(SERVICE)
    window.kiosk.take_ticket(SERVICE)
    pin = window.pin(PINS.call_next)
    for _ in range(3):  # a bouncing contact: edges microseconds apart
        pin.drive_low()
        pin.drive_high()
    assert window.feedback.signal("ok").text == "已叫号 A001"
    assert window.panel.wait_idle(5)
    assert window.requests("call_next") == 1
    assert len(window.feedback.of("sending")) == 1 and not window.feedback.of("busy")
    assert window.ticket("A002").status == "waiting"


def stall_hub(hub: Hub) -> tuple[threading.Event, threading.Thread]:
    """Hold the hub's request thread until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def job(conn: object) -> None:
        started.set()
        release.wait(10)

    t = threading.Thread(target=hub.consumer.run, args=(job,), kwargs={"timeout": 15})
    t.start()
    assert started.wait(5), "the hub did not take the job"
    return release, t


def test_a_press_while_one_is_in_flight_is_ignored(window: Window) -> None:
    window.kiosk.take_ticket(SERVICE)
    window.kiosk.take_ticket(SERVICE)
    release, t = stall_hub(window.hub)
    try:
        window.press(PINS.call_next)
        window.feedback.signal("sending")
        window.press(PINS.finish)
        assert window.feedback.signal("busy").text == BUSY
        window.press(PINS.no_show)
        assert window.feedback.signal("busy", 2).text == BUSY
    finally:
        release.set()
        t.join(15)
    assert window.feedback.signal("ok").text == "已叫号 A001"
    assert (window.requests("call_next"), window.requests("finish_case")) == (1, 0)
    assert window.ticket("A002").status == "waiting"


def test_no_answer_in_time_says_it_is_kept_and_sent_later(window: Window) -> None:
    window.kiosk.take_ticket(SERVICE)
    window.core.reply_timeout = 0.3
    release, t = stall_hub(window.hub)
    try:
        window.press(PINS.call_next)
        assert window.feedback.signal("queued").text == OFFLINE
        assert not window.panel.busy
    finally:
        release.set()
        t.join(15)
    served: Callable[[], bool] = lambda: window.ticket("A001").status == "called"  # noqa: E731
    eventually(served, what="the kept request answered once the hub is back")
    assert window.requests("call_next") == 1


def test_finish_then_pause_and_resume(window: Window) -> None:
    window.panel.debounce_s = 0.0  # presses here come faster than a hand can
    window.kiosk.take_ticket(SERVICE)
    window.press(PINS.call_next)
    window.feedback.signal("ok")
    window.press(PINS.finish)
    assert window.feedback.signal("ok", 2).text == "已办结 A001（即办件）"
    assert window.ticket("A001").status == "finished"
    window.press(PINS.pause)
    assert window.feedback.signal("ok", 3).text == "已暂停服务"
    window.press(PINS.pause)
    assert window.feedback.signal("ok", 4).text == "已恢复服务"
    window.press(PINS.recall)
    assert window.feedback.signal("refused").text == "当前没有正在办理的群众"
    assert window.requests("recall") == 0


def test_pin_map_needs_distinct_pins() -> None:
    with pytest.raises(ValueError, match="pin of their own"):
        PanelSettings(led=PINS.call_next)
    with pytest.raises(ValueError):
        ButtonPins(recall=40)
