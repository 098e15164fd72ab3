"""Watches the real main screen (caller_display.hall_screen's parts) through a hall's day, in
a process of its own (Kivy allows one window per process). tests/caller_display/
test_hall_screen_app.py runs it against a real broker and hub:

    python -m tests.caller_display.hall_screen_driver OUT_DIR   (settings from HALLQ_DISPLAY_*)

Lines "@ready", "@burst", "@pause", "@broadcast" and "@stop-hub" on stdout ask the test to
act (the windows call and pause through the hub, a manager plays a broadcast); the driver
then waits for what the screen must show. It reads the screen as a person would (the
labels drawn, with their sizes), keeps when each call was highlighted, saves screenshots
as OUT_DIR/<name>.png, and writes OUT_DIR/report.json. Last, it fills the screen with a
made-up busy hall (40 windows, 30 services) and checks that no text is cut off or overlaps
another.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kivy.clock import Clock  # noqa: E402

from caller_display.call_board import CONNECTING, OFFLINE, STORAGE_FULL  # noqa: E402
from caller_display.hall_screen import HallScreen, assemble  # noqa: E402
from caller_display.settings import DisplaySettings  # noqa: E402
from protocol.messages import HubStatus, QueueState, ServiceQueue, WindowState  # noqa: E402
from tests.screen_driver import ScreenDriver, Wait  # noqa: E402

BUSY_WINDOWS = 40
CALLING = {1, 3, 5, 7, 9}  # the windows the test opens and calls at


class Driver(ScreenDriver):
    """The main screen through a hall's day; notes each call's time in the band."""

    def __init__(self, hall: HallScreen, out: Path) -> None:
        self.hall, self.screen = hall, hall.screen
        super().__init__(hall.app, out)
        self.report["highlights"] = []
        self._highlighted: tuple[str, str] | None = None

    # ------------------------------------------------------------ what an eye sees

    def now(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def band(self) -> dict[str, Any]:
        """The call band: its text, its size, and whether the board highlights it."""
        assert self.app.view is not None
        label = self.app.view.band_text
        return {"text": label.text, "size": float(label.font_size),
                "highlighted": self.app.board.current is not None}

    def record(self, step: str, **extra: Any) -> None:
        """Keep what is readable now (texts, sizes, the band) under `step` in the report."""
        self.report["steps"][step] = {
            "texts": self.texts(), "band": self.band(), "at_s": self.now(),
            "sizes": {w.text: float(w.font_size) for w in self.labels()}, **extra,
        }

    def strip_fits(self, text: str) -> dict[str, Any]:
        """Whether the broadcast's lines fit in their strip, and how many lines it takes."""
        [label] = [w for w in self.labels() if w.text == text]
        view = self.app.view
        box = view.broadcast_box if view is not None else None
        return {"lines": round(label.texture_size[1] / (label.font_size * 1.15)),
                "fits": box is not None and label.texture_size[1] <= box.height
                and label.texture_size[0] <= label.width + 1,
                "size": float(label.font_size)}

    def layout_faults(self) -> list[str]:
        """Texts cut off (larger than their box), outside the window, or over another."""
        from kivy.core.text import Label as CoreLabel
        from kivy.core.window import Window

        faults: list[str] = []
        boxes = []
        for w in self.labels():
            x, y = w.to_window(*w.pos)
            box = (x, y, x + w.width, y + w.height)
            boxes.append((w.text, box))
            need_w, need_h = CoreLabel(font_size=w.font_size, bold=w.bold).get_extents(w.text)
            if need_w > w.width + 1 or need_h > w.height + 1:
                faults.append(f"{w.text!r} needs {need_w}×{need_h}, has {w.width}×{w.height}")
            if box[0] < -1 or box[1] < -1 or box[2] > Window.width + 1 \
                    or box[3] > Window.height + 1:
                faults.append(f"{w.text!r} outside the window at {box}")
        for i, (text, a) in enumerate(boxes):
            for other, b in boxes[i + 1:]:
                if min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1:
                    faults.append(f"{text!r} overlaps {other!r}")
        return faults

    # ------------------------------------------------------------ the day

    def visit(self) -> Iterator[Wait]:
        app, screen, board = self.app, self.screen, self.app.board
        # Before any state: the link starts only once the first frames are drawn.
        yield self.frames(3)
        yield lambda: self.sees(CONNECTING)
        self.record("connecting")
        self.hall.link.start()
        yield lambda: bool(screen.hub_online and screen.catalogue and screen.queue
                           and CALLING <= screen.windows.keys())
        catalogue = screen.catalogue
        assert catalogue is not None
        yield lambda: self.sees(catalogue.hall_name) and not self.sees(CONNECTING)
        yield from self.shot("main-screen-idle")
        self.record("connected")

        self.ask("ready")  # the windows open, a kiosk issues tickets, window 5 calls
        yield lambda: board.current is not None
        yield self.frames(2)
        self.record("first_call")
        self.ask("burst")  # four more windows call at once
        yield lambda: len(board.recent) >= 5 and not board.waiting
        yield from self.shot("main-screen-calls")
        self.record("burst")
        yield lambda: board.current is None  # highlight_s later, the band is calm
        self.record("calm")

        self.ask("pause")  # window 5 pauses, the staff of window 7 step away
        yield lambda: self.sees("5号窗口 暂停服务") and self.sees("7号窗口 暂停服务")
        self.record("paused")
        announcer = self.hall.announcer
        assert announcer is not None
        yield lambda: announcer.wait_idle(0)
        self.report["announced"] = {"played": announcer.stats.played,
                                    "failed": announcer.stats.failed}

        self.ask("broadcast")  # a manager plays the longest broadcast there may be
        broadcasts = screen.broadcasts
        yield lambda: broadcasts.current is not None
        text = broadcasts.current.text if broadcasts.current else ""
        yield lambda: self.sees(text)
        yield from self.shot("main-screen-broadcast")
        self.record("broadcast", strip=self.strip_fits(text))
        voice = self.hall.broadcast_voice
        assert voice is not None
        yield lambda: voice.wait_idle(0) and announcer.wait_idle(0)
        self.report["broadcast_said"] = announcer.stats.broadcasts
        yield lambda: not self.sees(text)  # gone after broadcast_show_s
        self.record("broadcast_gone")

        self.ask("disk-full")  # the hub's disk is full: it says so, citizens to the desk
        yield lambda: self.sees(STORAGE_FULL)
        yield from self.shot("main-screen-storage-full")
        self.record("storage_full")
        self.ask("disk-room")
        yield lambda: not self.sees(STORAGE_FULL)

        self.ask("stop-hub")
        yield lambda: screen.hub_online is False and self.sees(OFFLINE)
        yield from self.shot("main-screen-offline")
        self.record("offline")

        # A made-up busy hall: is everything still readable, nothing cut off?
        screen.announce = app.on_call  # its calls are shown, not said
        self.busy_hall()
        yield lambda: len(board.recent) == app.settings.recent_calls
        yield from self.shot("main-screen-busy")
        self.record("busy", faults=self.layout_faults())

    def busy_hall(self) -> None:
        """40 windows, 34 of them calling, 6 paused, and 30 services with people waiting."""
        screen, now = self.screen, datetime.now(UTC)
        catalogue = screen.catalogue
        assert catalogue is not None
        screen.on_state(HubStatus(status="online"), True)
        for n in range(1, BUSY_WINDOWS + 1):
            seen = screen.windows.get(n)
            seq = seen.call_seq if seen else 0
            if seen is None:  # a window never seen calls only from its second state on
                screen.on_state(WindowState(window=n, name=f"{n}号窗口", status="open",
                                            updated_at=now), True)
            paused = n > BUSY_WINDOWS - 6
            screen.on_state(WindowState(
                window=n, name=f"{n}号窗口", status="paused" if paused else "serving",
                serving=None if paused else f"{'ABCDEFGH'[n % 8]}{100 + n:03d}",
                call_seq=seq + (0 if paused else 1), updated_at=now), True)
        services = [ServiceQueue(service=s.code, name=s.name, prefix=s.prefix,
                                 waiting=(i * 7) % 23, open_windows=1 + i % 3)
                    for i, s in enumerate(catalogue.services[:30])]
        screen.on_state(QueueState(
            service_day=date.today(), services=services, issued=500,
            waiting=sum(s.waiting for s in services), called=400, finished=380,
            windows_open=34, updated_at=now), True)

    # ------------------------------------------------------------ running

    def before_step(self) -> None:
        """Keep when each call went into the band and when it left, as drawn."""
        call = self.app.board.current
        key = (call.number, str(call.window)) if call else None
        if key == self._highlighted:
            return
        spans = self.report["highlights"]
        if spans and spans[-1]["to"] is None:
            spans[-1]["to"] = self.now()
        if call is not None:
            spans.append({"text": call.text, "from": self.now(), "to": None})
        self._highlighted = key

def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    hall = assemble(DisplaySettings())
    driver = Driver(hall, out)
    Clock.schedule_once(lambda _dt: driver.start(), 0)
    try:
        hall.app.run()
    finally:
        hall.link.stop()
        if hall.announcer is not None:
            hall.announcer.close()


if __name__ == "__main__":
    main()
