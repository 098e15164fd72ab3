"""Each device reads the states it shows: a kiosk no window's, a window its own, a main
screen all. With a city hall's 40 windows this spares each kiosk and window ~40 messages a
call (the busiest-day bench: docs/benchmarks.md)."""

from __future__ import annotations

import threading
import time

from hub.app import Hub
from protocol.link import State
from protocol.messages import CatalogueState, HubStatus, QueueState, WindowState
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.helpers import eventually


class Seen:
    def __init__(self) -> None:
        self.states: list[State] = []
        self.lock = threading.Lock()

    def __call__(self, state: State, live: bool) -> None:
        with self.lock:
            self.states.append(state)

    def kinds(self) -> set[type]:
        with self.lock:
            return {type(s) for s in self.states}

    def windows(self) -> set[int]:
        with self.lock:
            return {s.window for s in self.states if isinstance(s, WindowState)}


def test_each_device_reads_the_states_it_shows(hub: Hub, make_link: LinkFactory) -> None:
    numbers = sorted(w.number for w in hub.catalogue.windows)
    assert len(numbers) >= 3
    kiosk, window, screen = Seen(), Seen(), Seen()
    make_link(DeviceClass.KIOSK, "kiosk-1", on_state=kiosk, windows=())
    make_link(DeviceClass.CALLER, f"caller-{numbers[1]}", on_state=window,
              windows=(numbers[1],))
    make_link(DeviceClass.DISPLAY, "main-screen", on_state=screen)
    every = {QueueState, CatalogueState, HubStatus}
    eventually(lambda: screen.windows() == set(numbers) and every <= screen.kinds(), 10,
               "the main screen to have every window's state")
    eventually(lambda: every <= kiosk.kinds() and every <= window.kinds(), 10,
               "the hall's other states on the kiosk and the window")
    eventually(lambda: window.windows() == {numbers[1]}, 10, "the window's own state")
    time.sleep(0.5)  # whatever else the broker had for them has arrived
    assert kiosk.windows() == set(), "a kiosk reads no window's state"
    assert window.windows() == {numbers[1]}, "a window reads its own state only"
