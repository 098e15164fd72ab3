"""Real device cores on the test broker, for end-to-end tests."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from caller_display.caller_core import CallerCore
from hub.app import Hub
from kiosk.core import KioskCore
from kiosk.settings import KioskSettings
from printing.printers import FilePrinter, Printer
from protocol.link import DeviceLink
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory


def kiosk(make_link: LinkFactory, tmp_path: Path, hub: Hub, device_id: str = "kiosk-1"
          ) -> KioskCore:
    """A kiosk printing into a file."""
    link = make_link(DeviceClass.KIOSK, device_id, start=False)
    settings = KioskSettings(hall_id=hub.settings.hall_id, device_id=device_id,
                             data_dir=tmp_path / "devices")
    core = KioskCore(settings, link, FilePrinter(tmp_path / f"{device_id}.escpos"))
    return started(link, core)


def caller(make_link: LinkFactory, window: int, printer: Printer | None = None,
           hall_name: str = "") -> CallerCore:
    """The caller of one window, with the printer for its 补正 notices if given."""
    link = make_link(DeviceClass.CALLER, f"caller-{window}", start=False)
    return started(link, CallerCore(link, window, printer=printer, hall_name=hall_name))


T = TypeVar("T")


def started(link: DeviceLink, core: T) -> T:
    """Start the link once the core listens on it (as the programs do): a retained state
    that came before would be lost."""
    link.start()
    assert link.wait_connected(10), f"{link.settings.device_id} did not reach the broker"
    return core
