"""Simulated kiosks and window staff for the demo and the simulated day: real device cores,
robot citizens."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from caller_display.caller_core import CallerCore
from kiosk.core import KioskCore
from kiosk.settings import KioskSettings
from printing.printers import FilePrinter
from protocol.link import DeviceLink
from protocol.messages import ErrorReply, NoShowRecorded, Ticket, TicketCalled, TicketTransferred
from protocol.settings import DeviceSettings, MqttSettings
from protocol.topics import DeviceClass

log = logging.getLogger(__name__)

DEMO_PIN = "123456"  # every staff PIN of the shipped demo catalogue

# A case's length in real seconds: a (low, high) uniform range, or chosen per ticket.
CaseSeconds = tuple[float, float] | Callable[[Ticket, random.Random], float]


@dataclass(frozen=True)
class Pace:
    """How long a window robot waits, in real seconds (the simulated day: hall time / speed)."""

    look_again: float = 0.5  # nobody waiting: look again after this
    citizen_late: float = 1.0  # a citizen who has not come yet, before a recall or a no-show
    step_out: tuple[float, float] = (2.0, 6.0)  # a pause or a post away, uniform


DEMO_PACE = Pace()


class SimKiosk:
    """A kiosk whose citizens arrive at random and pick among `services`; those with an
    appointment (`appointments`: their QR codes) show it to the camera instead, one in
    four arrivals until all have come."""

    def __init__(self, device_id: str, hall_id: str, mqtt: MqttSettings, data_dir: Path,
                 services: list[str], per_minute: float, rng: random.Random) -> None:
        settings = KioskSettings(hall_id=hall_id, device_id=device_id, mqtt=mqtt,
                                 data_dir=data_dir)
        self.link = DeviceLink(settings, DeviceClass.KIOSK, windows=())
        self.core = KioskCore(settings, self.link, FilePrinter(data_dir / f"{device_id}.escpos"))
        self.services = services
        self.per_minute = per_minute
        self.rng = rng
        self.printed = 0
        self.refused = 0
        self.appointments: list[str] = []
        self.checked_in = 0

    def run(self, stop: threading.Event) -> None:
        self.link.start()
        while not stop.wait(self.rng.expovariate(self.per_minute / 60)):
            if self.appointments and self.rng.random() < 0.25:
                if self.core.check_in(self.appointments.pop()).issued:
                    self.checked_in += 1
                continue
            result = self.core.take_ticket(self.rng.choice(self.services))
            if result.issued:
                self.printed += 1
            elif result.error:
                self.refused += 1

    def close(self) -> None:
        self.link.stop()


class SimWindow:
    """Staff at one window: call, wait for the citizen (recall, no-show), serve, finish;
    now and then a pause (暂停服务) or a post stepping away, as in a real hall."""

    PAUSE_REASONS = ("业务咨询", "系统维护", "资料整理")
    LATE = 1 / 8  # of the citizens called, not at the window at once: recalled
    GONE = 1 / 3  # of those, never come: no-show
    SENT_ON = 1 / 4  # of the cases the issue window can finish, sent there (统一出件)
    STEP_OUT = 1 / 15  # of the cases, followed by a pause or a post away

    def __init__(self, window: int, hall_id: str, mqtt: MqttSettings, data_dir: Path,
                 serve_seconds: CaseSeconds, rng: random.Random,
                 materials: dict[str, list[str]],
                 issue_window: tuple[int, set[str]] | None = None,
                 staff_no: str | None = None, *, pace: Pace = DEMO_PACE,
                 hall_name: str = "") -> None:
        settings = DeviceSettings(hall_id=hall_id, device_id=f"caller-{window}", mqtt=mqtt,
                                  data_dir=data_dir)
        self.materials = materials  # per service, for the 补正 notices
        self.issue_window = issue_window  # 统一出件: its number and the services it serves
        self.staff_no = staff_no  # the A post signs in (demo PIN 123456)
        self.link = DeviceLink(settings, DeviceClass.CALLER, windows=(window,))
        # the window's printer: its 补正 notices (一次性告知单) as ESC/POS bytes in a file
        self.core = CallerCore(self.link, window, hall_name=hall_name,
                               printer=FilePrinter(data_dir / f"window-{window}.escpos"))
        self.serve_seconds = serve_seconds
        self.pace = pace
        self.rng = rng
        self.served = 0
        self.no_shows = 0
        self.pauses = 0

    def run(self, stop: threading.Event) -> None:
        self.link.start()
        self.link.wait_connected(10)
        if self.staff_no:
            self.core.sign_in(self.staff_no, DEMO_PIN)
        self.core.open()
        while not stop.is_set():
            reply = self.core.call_next()
            if not isinstance(reply, TicketCalled):
                stop.wait(self.pace.look_again)  # nobody waiting (or the hub is away)
                continue
            if self._citizen_is_late(stop):
                continue
            if stop.wait(self._case_seconds(reply.ticket)):
                break
            if self._send_to_issue_window(reply.ticket.service):
                continue
            if not isinstance(self._finish(reply.ticket.service), ErrorReply):
                self.served += 1
            self._maybe_step_out(stop)
        if self.core.state is not None and self.core.state.ticket_id is not None:
            self.core.finish()  # end of the day: the case in hand is finished first
        self.core.close()

    def _case_seconds(self, ticket: Ticket) -> float:
        if isinstance(self.serve_seconds, tuple):
            return self.rng.uniform(*self.serve_seconds)
        return self.serve_seconds(ticket, self.rng)

    def _send_to_issue_window(self, service: str) -> bool:
        """前台综合受理、统一窗口出件: one in four cases the issue window can finish goes there."""
        if self.issue_window is None or self.issue_window[0] == self.core.window:
            return False
        number, services = self.issue_window
        if service not in services or self.rng.random() > self.SENT_ON:
            return False
        return isinstance(self.core.transfer(to_window=number), TicketTransferred)

    def _finish(self, service: str) -> object:
        """Most cases are done on the spot; some are promised, incomplete, refused, joint."""
        roll = self.rng.random()
        if roll < 0.70:
            return self.core.finish()
        if roll < 0.85:
            return self.core.finish("promised")
        if roll < 0.92:
            needed = self.materials.get(service, [])
            return self.core.finish("incomplete", missing=needed[-1:]) if needed \
                else self.core.finish()
        if roll < 0.95:
            return self.core.finish("refused", reason="不属于本级受理范围，已告知受理机关")
        if roll < 0.98:
            return self.core.finish("joint", departments=["SC", "WJ"])
        return self.core.finish("referred")

    def _citizen_is_late(self, stop: threading.Event) -> bool:
        """One in eight does not come at once: recall; one in three of those never comes."""
        if self.rng.random() > self.LATE or stop.wait(self.pace.citizen_late):
            return False
        self.core.recall()
        if self.rng.random() > self.GONE or stop.wait(self.pace.citizen_late):
            return False
        if isinstance(self.core.no_show(), NoShowRecorded):
            self.no_shows += 1
            return True
        return False

    def _maybe_step_out(self, stop: threading.Event) -> None:
        """One case in fifteen is followed by a pause or a post stepping away for a moment."""
        if self.rng.random() > self.STEP_OUT:
            return
        if self.rng.random() < 0.5:
            self.core.pause(self.rng.choice(self.PAUSE_REASONS))
        else:
            self.core.step_away(self.rng.choice(("A", "B")))
        self.pauses += 1
        stop.wait(self.rng.uniform(*self.pace.step_out))
        self.core.resume()

    def close(self) -> None:
        self.link.stop()
