"""Printers: anything that takes a slip's ESC/POS bytes and puts them on paper."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from escpos.printer import Usb

log = logging.getLogger(__name__)


class Printer(Protocol):
    """Prints ESC/POS bytes laid out by `printing.slip.Slip` (tickets, notices)."""

    def print_bytes(self, data: bytes) -> None:
        """Send one slip's bytes to the paper."""
        ...


class FilePrinter:
    """Appends each slip's bytes to a file: the stand-in for demos and tests."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.last: bytes = b""

    def print_bytes(self, data: bytes) -> None:
        """Append the bytes to the file and keep them as `last`."""
        with self.path.open("ab") as f:
            f.write(data)
        self.last = data
        log.debug("wrote %d bytes to %s", len(data), self.path)


class UsbEscposPrinter:
    """A USB ESC/POS printer, through python-escpos (needs `python-escpos[usb]`, libusb)."""

    # Paper status (paper_status(), with "no answer" told apart) comes with the kiosk issue.

    def __init__(
        self,
        vendor_id: int,
        product_id: int,
        *,
        timeout_ms: int = 5000,
        in_ep: int = 0x82,
        out_ep: int = 0x01,
    ) -> None:
        from escpos.printer import Usb  # lazy: pyusb and libusb exist only where a printer is

        # timeout_ms bounds each USB write; python-escpos's default 0 waits forever.
        self._usb: Usb = Usb(vendor_id, product_id, timeout=timeout_ms, in_ep=in_ep,
                             out_ep=out_ep)
        self.ids = f"{vendor_id:04x}:{product_id:04x}"

    def print_bytes(self, data: bytes) -> None:
        """Send the bytes to the device as they are (opens it on first use)."""
        self._usb._raw(data)
        log.debug("sent %d bytes to usb %s", len(data), self.ids)

    def close(self) -> None:
        """Release the USB interface."""
        self._usb.close()
