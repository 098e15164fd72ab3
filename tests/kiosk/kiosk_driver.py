"""Drives the real kiosk app through citizens' visits, in a process of its own (Kivy allows
one window per process). tests/kiosk/test_app.py runs it against a real broker and hub:

    python -m tests.kiosk.kiosk_driver OUT_DIR      (settings from HALLQ_KIOSK_*)

It taps like a finger (touch events at a widget's place on the window, so a hidden or
covered button cannot be tapped), saves screenshots as OUT_DIR/<name>.png and writes
OUT_DIR/report.json: what the citizen could read at each step. Lines "@stop-hub" and
"@start-hub" on stdout ask the test to stop and start the hub; the driver then waits for
the banner that follows.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("KIVY_NO_ARGS", "1")

from kivy.clock import Clock  # noqa: E402

from kiosk.adapters.qr_frames import qr_frame  # noqa: E402
from kiosk.app import KioskApp  # noqa: E402
from kiosk.core import KioskCore  # noqa: E402
from kiosk.screens.checkin import CheckInScreen  # noqa: E402
from kiosk.screens.ticket import TicketScreen  # noqa: E402
from kiosk.settings import KioskSettings  # noqa: E402
from kiosk.ui import texts  # noqa: E402
from printing.printers import FilePrinter  # noqa: E402
from protocol.link import DeviceLink  # noqa: E402
from protocol.topics import DeviceClass  # noqa: E402
from tests.screen_driver import ScreenDriver, Wait, plain  # noqa: E402


class Driver(ScreenDriver):
    """The kiosk's visits: pages, taps, the printer's paper, the hub stopped and started."""

    app: KioskApp

    def __init__(self, app: KioskApp, printer: FilePrinter, out: Path) -> None:
        self.printer = printer
        super().__init__(app, out)

    @property
    def place(self) -> str:
        return f"page {self.page}"

    @property
    def page(self) -> str:
        assert self.app.view is not None
        return str(self.app.view.pages.current)

    def on_page(self, name: str, **params: str) -> Wait:
        page = self.app.pages[name]
        manager = page.manager
        return lambda: (self.page == name and not manager.transition.is_active
                        and len(manager.children) == 1
                        and all(page.params.get(k) == v for k, v in params.items()))

    def record(self, step: str, **extra: Any) -> None:
        """Keep what is readable now (text and size) under `step` in the report."""
        self.report["steps"][step] = {
            "page": self.page, "texts": self.texts(),
            "sizes": {plain(w.text): float(w.font_size) for w in self.labels()},
            "elder": self.app.theme.elder, "at_s": round(time.monotonic() - self.started, 2),
            **extra,
        }

    # ------------------------------------------------------------ the visits

    def to_hukou(self) -> Iterator[Wait]:
        """Home → 县公安局 → the page of 户口迁移, as a citizen taps it."""
        yield from self.tap("县公安局")
        yield self.on_page("department", department="GA")
        yield from self.tap("户口迁移")
        yield self.on_page("item", code="GA_HJQY")

    def visit(self) -> Iterator[Wait]:
        app, core = self.app, self.app.core
        yield lambda: core.catalogue is not None and core.queue is not None and core.hub_online
        yield lambda: self.sees("县公安局")
        yield from self.shot("home")
        self.record("home")

        # A citizen: 县公安局 → 户口迁移, reads the 一次性告知, takes a ticket.
        yield from self.tap("县公安局")
        yield self.on_page("department", department="GA")
        self.record("department")
        yield from self.tap("户口迁移")
        yield self.on_page("item", code="GA_HJQY")
        yield lambda: self.sees("前方等待")
        yield from self.shot("item")
        self.record("item")
        yield from self.tap(texts.TAKE)
        yield self.on_page("ticket", mode="printed")
        started = time.monotonic()  # the ticket on screen (a slow screenshot counts too)
        yield from self.shot("printed")
        self.record("printed", printed=self.printer.path.exists())
        yield self.on_page("home")  # by itself, after ticket_shown_s
        self.record("after_printed", waited_s=time.monotonic() - started)

        # 长辈模式: one tap, larger, fewer choices; 返回 works inside it.
        yield from self.tap("长辈模式")
        yield lambda: app.theme.elder and self.sees("请选择您要办的事")
        yield from self.shot("elder")
        self.record("elder")
        yield from self.tap("居民身份证换领")
        yield self.on_page("item", code="GA_SFZHL")
        yield from self.shot("elder_item")
        self.record("elder_item")
        yield from self.tap("← 返回")
        yield self.on_page("home")
        self.record("elder_back")
        yield from self.tap(texts.ELDER_OFF)
        yield lambda: not app.theme.elder and self.sees("请选择办理部门")

        # Out of paper: the banner, then the ticket on the screen with its QR code.
        self.printer.paper_left = 0
        core.check_printer()
        yield lambda: self.sees(texts.NO_PRINTER)
        yield from self.to_hukou()
        yield lambda: self.sees(texts.TAKE_ON_SCREEN)
        yield from self.tap(texts.TAKE_ON_SCREEN)
        yield self.on_page("ticket", mode="on_screen")
        ticket = app.pages["ticket"]
        assert isinstance(ticket, TicketScreen) and ticket.result and ticket.result.issued
        yield from self.shot("out_of_paper")
        self.record("out_of_paper", qr=core.ticket_qr(ticket.result.issued))
        yield from self.tap(texts.NOTED)
        yield self.on_page("ticket", mode="noted")
        self.record("noted")
        yield from self.tap(texts.DONE)
        yield self.on_page("home")
        # The next citizen does not want the number on the screen: it is voided.
        yield from self.to_hukou()
        yield from self.tap(texts.TAKE_ON_SCREEN)
        yield self.on_page("ticket", mode="on_screen")
        self.record("on_screen_unwanted")
        yield from self.tap(texts.NOT_WANTED)
        yield self.on_page("home")
        self.printer.refill()
        core.check_printer()
        yield lambda: not self.sees(texts.NO_PRINTER)

        # 我有预约: the camera's place and the hint; the scanner calls on_code, from its
        # thread. A code that is no appointment: the hub's refusal, and a way home.
        yield from self.tap(texts.APPOINTMENT)
        yield self.on_page("checkin")
        view = app.camera_view
        assert view is not None, "a kiosk with a camera shows its picture"
        view.show(qr_frame("HALLQ:A:sample", 200, angle=10))  # as the scanner's thread does
        yield lambda: view.frames_shown > 0
        yield self.frames(10)
        yield from self.shot("checkin")
        self.record("checkin", camera_frames=view.frames_shown)
        checkin = app.pages["checkin"]
        assert isinstance(checkin, CheckInScreen)
        threading.Thread(target=checkin.on_code, args=("not an appointment",)).start()
        yield self.on_page("ticket", mode="error")
        self.record("checkin_refused")
        yield from self.tap(texts.DONE)
        yield self.on_page("home")

        # The help path from any page, and 返回 from it.
        yield from self.tap("县公安局")
        yield self.on_page("department", department="GA")
        yield from self.tap(texts.HELP)
        yield self.on_page("help")
        self.record("help")
        yield from self.tap("← 返回")
        yield self.on_page("department", department="GA")

        # Nobody touches the screen: back home after idle_timeout_s.
        started = time.monotonic()
        yield self.on_page("home")
        self.record("idle_home", waited_s=time.monotonic() - started)

        # The hub's disk is full: the banner sends citizens to the guide desk; then room.
        self.ask("disk-full")
        yield lambda: self.sees(texts.STORAGE_FULL)
        yield from self.shot("storage_full")
        self.record("storage_full")
        self.ask("disk-room")
        yield lambda: not self.sees(texts.STORAGE_FULL)

        # The hub goes away: the banner; a tap waits and the citizen gives up; the next
        # citizen waits on, and gets the ticket when the hub is back.
        self.ask("stop-hub")
        yield lambda: not core.hub_online
        yield lambda: self.sees(texts.HUB_OFFLINE)
        yield from self.to_hukou()
        yield from self.tap(texts.TAKE)
        yield self.on_page("printing", state="pending")
        yield from self.shot("hub_offline")
        self.record("pending")
        yield from self.tap(texts.CANCEL)
        yield self.on_page("home")
        yield from self.to_hukou()
        yield from self.tap(texts.TAKE)
        yield self.on_page("printing", state="pending")
        self.ask("start-hub")
        yield self.on_page("ticket", mode="printed")
        self.record("late_ticket")
        yield lambda: core.hub_online and not self.sees(texts.HUB_OFFLINE)
        yield from self.tap(texts.DONE)
        yield self.on_page("home")
        yield lambda: len(core.link.outbox) == 0  # the abandoned ticket went back as void

        # A paperless hall: the ticket's QR code to save on the phone; paper if asked.
        core.settings = core.settings.model_copy(update={"paperless": True})
        for then in (texts.PRINT_INSTEAD, texts.SAVED_ON_PHONE):
            yield from self.to_hukou()
            yield from self.tap(texts.TAKE)
            yield self.on_page("ticket", mode="on_screen")
            yield lambda: self.sees(texts.TO_PHONE)
            if then == texts.PRINT_INSTEAD:
                yield from self.shot("paperless")
                self.record("paperless")
            yield from self.tap(then)
            yield self.on_page("ticket", mode="printed" if then == texts.PRINT_INSTEAD
                               else "noted")
            self.record(f"paperless_{'printed' if then == texts.PRINT_INSTEAD else 'saved'}")
            yield from self.tap(texts.DONE)
            yield self.on_page("home")
        self.record("end")



def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    settings = KioskSettings()
    printer = FilePrinter(settings.data_dir / f"{settings.device_id}.escpos")
    link = DeviceLink(settings, DeviceClass.KIOSK)
    core = KioskCore(settings, link, printer)
    app = KioskApp(core)
    driver = Driver(app, printer, out)
    link.start()
    core.start()
    Clock.schedule_once(lambda _dt: driver.start(), 0)
    try:
        app.run()
    finally:
        core.stop()
        link.stop()


if __name__ == "__main__":
    main()
