"""The kiosk's touch app (Kivy 2.3): pages over `KioskCore`, which holds every rule.

The app shows and asks, nothing more. The core's callbacks come on the network thread
and are moved to the UI thread with the Clock; `take_ticket` blocks up to the reply
timeout, so it runs in a thread of its own and its result comes back the same way.
A tap is one ticket: while one is on its way, further taps are ignored. A citizen who
leaves (返回, 首页, idle) before the ticket comes gives it up; a ticket shown on the screen
that nobody confirmed is voided when the page goes.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from kivy.app import App
from kivy.clock import Clock

from kiosk.adapters.camera import FrameSource, ImageFolderSource, Picamera2Source
from kiosk.core import KioskCore, TicketResult
from kiosk.qr_scanner import QrScanner
from kiosk.screens.base import KioskScreen
from kiosk.screens.checkin import CheckInScreen
from kiosk.screens.department import DepartmentScreen
from kiosk.screens.help import HelpScreen
from kiosk.screens.home import HomeScreen
from kiosk.screens.item import ItemScreen
from kiosk.screens.printing import PrintingScreen
from kiosk.screens.ticket import TicketScreen
from kiosk.settings import KioskSettings
from kiosk.ui import texts
from kiosk.ui.camera_view import CameraView
from kiosk.ui.root import RootView
from kiosk.ui.theme import Theme
from printing.printers import open_printer
from protocol.errors import ZH, ErrorCode
from protocol.link import DeviceLink
from protocol.messages import ErrorReply, TicketIssued
from protocol.systemd import watch_kivy
from protocol.topics import DeviceClass
from screen_ui.window import open_window, save_screen

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

PAGES: dict[str, type[KioskScreen]] = {
    "home": HomeScreen, "department": DepartmentScreen, "item": ItemScreen,
    "printing": PrintingScreen, "ticket": TicketScreen, "checkin": CheckInScreen,
    "help": HelpScreen,
}


@dataclass
class TicketFlow:
    """One tap's ticket on its way; `abandoned` once the citizen has left."""

    what: str  # the service code (or the appointment code) asked for
    request_id: UUID | None = None  # known once the hub has been silent
    abandoned: bool = False
    # Late tickets that came before the tap's own "still waiting" answer was handled.
    early: list[TicketResult] = field(default_factory=list)


class KioskApp(App):
    """The touch app: pages, navigation, idle return, banners, and the ticket's journey."""

    def __init__(self, core: KioskCore, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.core = core
        self.title = "HallQ 自助取号"
        self.use_kivy_settings = False
        self.theme = Theme(scale=core.settings.ui_scale, elder_scale=core.settings.elder_scale)
        self.pages: dict[str, KioskScreen] = {}
        self.view: RootView | None = None
        self.history: list[tuple[str, dict[str, str]]] = []
        self.catalogue_version = 0  # pages rebuild when the hub sends a new catalogue
        self._catalogue: object = None
        self.flow: TicketFlow | None = None
        self.on_screen_ticket: int | None = None  # shown, not yet confirmed by the citizen
        self.last_touch = time.monotonic()
        self._refresh_soon: Callable[..., None] = lambda *_: None
        self.camera_view: CameraView | None = None

    # ------------------------------------------------------------ building

    def build(self) -> RootView:
        """Register the CJK font, open the window, make every page once."""
        Window = open_window(self.core.settings)  # noqa: N806  (Kivy's name for it)
        Window.bind(on_touch_down=lambda *_: self.touched())
        self.view = RootView(self.theme, on_back=lambda: self.page().on_back(),
                             on_home=lambda: self.page().on_home(), on_help=self.help)
        for name, page_class in PAGES.items():
            page = page_class(self, name)
            self.pages[name] = page
            self.view.pages.add_widget(page)
        # A trigger coalesces bursts (the queue state comes up to 4×/s) and may be called
        # from the network thread.
        if self.core.settings.camera != "none":  # the citizen sees what the camera sees
            self.camera_view = CameraView()
            checkin = self.pages["checkin"]
            assert isinstance(checkin, CheckInScreen)
            checkin.set_camera_view(self.camera_view)
        self._refresh_soon = Clock.create_trigger(lambda _dt: self.refresh(), 0.1)
        self.core.on_change = self._refresh_soon
        self.core.on_late_ticket = lambda result: Clock.schedule_once(
            lambda _dt: self._late_ticket(result))
        Clock.schedule_interval(self._check_idle, 0.5)
        if self.core.settings.screenshot_every_s:
            Clock.schedule_interval(lambda _dt: self.save_screen(),
                                    self.core.settings.screenshot_every_s)
        self.refresh()
        self._open("home", {})
        return self.view

    def save_screen(self) -> None:
        """Write what the screen shows to `screenshot_path` (a demo with no display)."""
        save_screen(self.core.settings.screenshot_path)

    def open_settings(self, *largs: Any) -> bool:
        """No Kivy settings panel (F1) on a public kiosk."""
        return False

    @property
    def landscape(self) -> bool:
        from kivy.core.window import Window

        return bool(Window.width >= Window.height)

    def page(self) -> KioskScreen:
        """The page on the screen now."""
        assert self.view is not None
        return self.pages[self.view.pages.current]

    # ------------------------------------------------------------ what the core says

    def refresh(self) -> None:
        """The core's figures changed: banners, the hall's name, and the page on the screen."""
        if self.view is None:
            return
        core = self.core
        if core.catalogue is not self._catalogue:
            self._catalogue = core.catalogue
            self.catalogue_version += 1
        hall = core.catalogue.hall_name if core.catalogue else core.settings.hall_name
        self.view.set_hall_name(hall)
        self.view.set_banners(texts.banners(core.hub_online, core.hub_problem,
                                            core.printing_offered))
        if self.view.pages.current:
            self.page().refresh()

    def set_elder(self, on: bool) -> None:
        """长辈模式 on or off: every text larger, fewer choices."""
        if self.theme.elder == on or self.view is None:
            return
        self.theme.elder = on
        self.view.restyle()
        self.page().refresh()
        log.info("elder mode %s", "on" if on else "off")

    # ------------------------------------------------------------ navigation

    def show(self, name: str, **params: str) -> None:
        """Go to a page; 返回 comes back to this one unless it is transient."""
        current = self.pages.get(self.view.pages.current) if self.view else None
        if current is not None and current.name != name and not current.transient:
            self.history.append((current.name, dict(current.params)))
        self._open(name, params)

    def back(self) -> None:
        """The page before, or home."""
        if self.history:
            name, params = self.history.pop()
            self._open(name, params)
        else:
            self.home()

    def home(self) -> None:
        """The home page; a ticket on its way is given up, one unconfirmed is voided."""
        self.cancel_ticket()
        if self.on_screen_ticket is not None:
            self.core.void_unseen(self.on_screen_ticket)
            self.on_screen_ticket = None
        self.history.clear()
        self._open("home", {})

    def help(self) -> None:
        """请到导办台: a detour from any page; 返回 comes back to that page."""
        if self.view is None or self.view.pages.current == "help":
            return
        current = self.page()
        self.history.append((current.name, dict(current.params)))
        self._open("help", {})

    def _open(self, name: str, params: dict[str, str]) -> None:
        assert self.view is not None
        page = self.pages[name]
        page.load(**params)
        self.view.pages.current = name
        self.view.set_nav(page.show_back, page.show_home)
        self.touched()
        self._check_idle(0)  # the countdown, if the page has one, shows from the start

    def touched(self) -> None:
        """Someone is at the screen: the idle time starts again."""
        self.last_touch = time.monotonic()

    def _check_idle(self, _dt: float) -> None:
        if self.view is None:
            return
        page = self.page()
        limit = page.idle_limit()
        if limit is None:
            return
        remaining = limit - (time.monotonic() - self.last_touch)
        if remaining <= 0:
            log.debug("page %s idle for %.0f s", page.name, limit)
            page.on_idle()
        else:
            page.tick(remaining)

    # ------------------------------------------------------------ a ticket's journey

    def take_ticket(self, service: str) -> None:
        """The 取号 tap: ask the core in a thread, show 正在出票… meanwhile."""
        self._start_flow(service, self.core.take_ticket)

    def check_in(self, code: str) -> None:
        """An appointment's QR code read at the camera: its ticket, as for 取号."""
        self._start_flow(code, self.core.check_in)

    def _start_flow(self, what: str, ask: Callable[[str], TicketResult]) -> None:
        if self.flow is not None:  # one tap, one ticket: the first is on its way
            return
        flow = self.flow = TicketFlow(what)
        self.show("printing", state="printing")
        threading.Thread(target=self._ask, args=(flow, ask), daemon=True,
                         name="kiosk-ticket").start()

    def _ask(self, flow: TicketFlow, ask: Callable[[str], TicketResult]) -> None:
        try:
            result = ask(flow.what)
        except Exception:  # a bug must not leave the citizen on 正在出票… for ever
            log.exception("asking for a ticket failed")
            result = TicketResult(error=ErrorReply(request_id=None, code=ErrorCode.HUB_ERROR,
                                                   message=ZH[ErrorCode.HUB_ERROR]))
        Clock.schedule_once(lambda _dt: self._answered(flow, result))

    def _answered(self, flow: TicketFlow, result: TicketResult) -> None:
        early, flow.early = flow.early, []
        if flow.abandoned or flow is not self.flow:
            for gone in (result, *early):
                self._discard(gone)
            return
        if not result.pending:
            self._present(result)
            return
        flow.request_id = result.request_id
        late = next((r for r in early
                     if r.issued is not None and r.issued.request_id == result.request_id), None)
        for other in early:
            if other is not late:
                self._discard(other)
        if late is not None:  # the hub answered just after the wait ended
            self._present(late)
        else:
            self.show("printing", state="pending")

    def _late_ticket(self, result: TicketResult) -> None:
        """The hub answered after the wait; show it if its citizen still waits here."""
        flow, issued = self.flow, result.issued
        if flow is not None and not flow.abandoned and issued is not None:
            if flow.request_id is None:  # before `_answered` told us the request id
                flow.early.append(result)
                return
            if flow.request_id == issued.request_id:
                self._present(result)
                return
        self._discard(result)

    def _present(self, result: TicketResult) -> None:
        self.flow = None
        if result.on_screen and result.issued is not None:
            if self.on_screen_ticket is not None:  # an earlier one nobody confirmed
                self.core.void_unseen(self.on_screen_ticket)
            self.on_screen_ticket = result.issued.ticket.id
        page = self.pages["ticket"]
        assert isinstance(page, TicketScreen)
        page.present(result)

    def _discard(self, result: TicketResult) -> None:
        """A result whose citizen has gone: give the request up, void a ticket not printed."""
        if result.pending and result.request_id is not None:
            self.core.give_up(result.request_id)
        elif result.on_screen and result.issued is not None:
            self.core.void_unseen(result.issued.ticket.id)
        elif result.printed and result.issued is not None:
            log.info("ticket %s printed after its citizen left", result.issued.ticket.number)

    def cancel_ticket(self) -> None:
        """The citizen stops waiting for the ticket on its way."""
        flow, self.flow = self.flow, None
        if flow is None:
            return
        flow.abandoned = True
        if flow.request_id is not None:
            self.core.give_up(flow.request_id)
        early, flow.early = flow.early, []
        for result in early:
            self._discard(result)
        log.info("citizen gave up waiting for a ticket")  # never the code: it may be personal

    def confirm_on_phone(self, ticket_id: int) -> None:
        """已存到手机 (paperless): the ticket joins the queue, as 我已记下号码 does."""
        if self.on_screen_ticket == ticket_id:
            self.on_screen_ticket = None
        threading.Thread(target=self.core.confirm_on_phone, args=(ticket_id,), daemon=True,
                         name="kiosk-confirm").start()

    def print_instead(self, issued: TicketIssued) -> None:
        """打印纸质号票 under a ticket shown for the phone: print it after all."""
        if self.on_screen_ticket == issued.ticket.id:
            self.on_screen_ticket = None  # handed over by printing (or shown again below)
        self.show("printing", state="printing")

        def work() -> None:
            result = self.core.print_instead(issued)
            Clock.schedule_once(lambda _dt: self._present(result))

        threading.Thread(target=work, daemon=True, name="kiosk-print").start()

    def confirm_on_screen(self, ticket_id: int) -> None:
        """我已记下号码: the ticket joins the queue (in a thread: the core waits a moment)."""
        if self.on_screen_ticket == ticket_id:
            self.on_screen_ticket = None
        threading.Thread(target=self.core.confirm_on_screen, args=(ticket_id,), daemon=True,
                         name="kiosk-confirm").start()


def main() -> None:
    """`python -m kiosk`: settings from HALLQ_KIOSK_*, the link, the printer, the app."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = KioskSettings()  # device_id and the rest from HALLQ_KIOSK_*
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    link = DeviceLink(settings, DeviceClass.KIOSK, windows=())  # it shows no window's state
    printer = open_printer(settings.printer, settings.printer_file
                           or settings.data_dir / f"{settings.device_id}.escpos",
                           settings.usb_vendor_id, settings.usb_product_id)
    core = KioskCore(settings, link, printer)
    app = KioskApp(core)
    # systemd stops the kiosk with SIGTERM: leave the main loop, so the link says offline.
    signal.signal(signal.SIGTERM, lambda *_: Clock.schedule_once(lambda _dt: app.stop()))
    scanner = build_scanner(settings, lambda code: app.pages["checkin"].on_code(code),
                            lambda frame: app.camera_view.show(frame) if app.camera_view
                            else None)
    link.start()
    core.start()
    if scanner is not None:
        scanner.start()
    watch_kivy(Clock)  # READY=1 at the first frame, then systemd's watchdog from the UI loop
    try:
        app.run()
    finally:
        if scanner is not None:
            scanner.stop()
        core.stop()
        link.stop()


def build_scanner(settings: KioskSettings, on_code: Callable[[str], None],
                  on_frame: Callable[[Image.Image], None] | None = None) -> QrScanner | None:
    """The QR scanner on the configured camera; None when the kiosk has none."""
    if settings.camera == "none":
        return None
    source: FrameSource
    if settings.camera == "picamera2":
        source = Picamera2Source()
    else:
        if settings.camera_folder is None:
            raise ValueError("camera 'folder' needs HALLQ_KIOSK_CAMERA_FOLDER")
        source = ImageFolderSource(settings.camera_folder, loop=True, fps=5.0)
    return QrScanner(source, on_code, on_frame=on_frame)
