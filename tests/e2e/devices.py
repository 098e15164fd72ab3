"""Real device cores on the test broker, for end-to-end tests."""

from __future__ import annotations

from pathlib import Path

from caller_display.caller_core import CallerCore
from hub.app import Hub
from kiosk.core import KioskCore
from kiosk.settings import KioskSettings
from printing.printers import FilePrinter, Printer
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory


def kiosk(make_link: LinkFactory, tmp_path: Path, hub: Hub, device_id: str = "kiosk-1"
          ) -> KioskCore:
    """A kiosk printing into a file."""
    link = make_link(DeviceClass.KIOSK, device_id)
    settings = KioskSettings(hall_id=hub.settings.hall_id, device_id=device_id,
                             data_dir=tmp_path / "devices")
    return KioskCore(settings, link, FilePrinter(tmp_path / f"{device_id}.escpos"))


def caller(make_link: LinkFactory, window: int, printer: Printer | None = None,
           hall_name: str = "") -> CallerCore:
    """The caller of one window, with the printer for its 补正 notices if given."""
    return CallerCore(make_link(DeviceClass.CALLER, f"caller-{window}"), window,
                      printer=printer, hall_name=hall_name)
