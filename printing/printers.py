"""Printers: anything that takes a slip's ESC/POS bytes and puts them on paper.

Each can also say how it is (`condition()`), asked before every ticket: a kiosk must
know there is paper before it promises a ticket. python-escpos's `paper_status()`
says "adequate" when the printer does not answer at all, so the USB printer asks the
raw status itself and reports silence as its own condition, "no_answer".
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from protocol.messages import PrinterCondition

if TYPE_CHECKING:
    from escpos.printer import Usb

log = logging.getLogger(__name__)


# The real-time status bytes (DLE EOT n) and their paper bits, as python-escpos names them
# (escpos.constants RT_STATUS_PAPER, RT_MASK_*); copied so that asking needs no import.
STATUS_PAPER = b"\x10\x04\x04"
MASK_NO_PAPER = 0x72
MASK_LOW_PAPER = 0x1E
USABLE: frozenset[PrinterCondition] = frozenset({"ok", "paper_low"})  # a ticket can print


class PrinterError(Exception):
    """The slip did not print; `condition` says why."""

    def __init__(self, condition: PrinterCondition, detail: str = "") -> None:
        super().__init__(f"printer {condition}: {detail}" if detail else f"printer {condition}")
        self.condition: PrinterCondition = condition


class Printer(Protocol):
    """Prints ESC/POS bytes laid out by `printing.slip.Slip` (tickets, notices)."""

    def print_bytes(self, data: bytes) -> None:
        """Send one slip's bytes to the paper; PrinterError (or the driver's) if it cannot."""
        ...

    def condition(self) -> PrinterCondition:
        """How the printer is now: ok, paper_low, no_paper, no_answer or error."""
        ...


def paper_condition(status: bytes) -> PrinterCondition:
    """The paper sensor's answer to DLE EOT 4; no answer at all is its own condition."""
    if not status:
        return "no_answer"
    if status[0] & MASK_NO_PAPER == MASK_NO_PAPER:
        return "no_paper"
    if status[0] & MASK_LOW_PAPER == MASK_LOW_PAPER:
        return "paper_low"
    return "ok"


class FilePrinter:
    """Appends each slip's bytes to a file: the stand-in for demos and tests.

    It has a paper roll (`paper_left` slips; None: endless) and can fall silent
    (`answering`), so the kiosk's handling of both is exercised without hardware.
    """

    def __init__(self, path: str | Path, paper_left: int | None = None) -> None:
        self.path = Path(path)
        self.last: bytes = b""
        self.paper_left = paper_left
        self.answering = True

    def condition(self) -> PrinterCondition:
        """no_answer when silenced, no_paper once the roll is used up, else ok."""
        if not self.answering:
            return "no_answer"
        if self.paper_left is not None and self.paper_left <= 0:
            return "no_paper"
        return "ok"

    def refill(self, slips: int | None = None) -> None:
        """A new roll (None: endless) and the printer answering again."""
        self.paper_left, self.answering = slips, True

    def print_bytes(self, data: bytes) -> None:
        """Append the bytes to the file and keep them as `last`; PrinterError when it cannot."""
        if (condition := self.condition()) != "ok":
            raise PrinterError(condition, str(self.path))
        if self.paper_left is not None:
            self.paper_left -= 1
        with self.path.open("ab") as f:
            f.write(data)
        self.last = data
        log.debug("wrote %d bytes to %s", len(data), self.path)


class UsbEscposPrinter:
    """A USB ESC/POS printer, through python-escpos (needs `python-escpos[usb]`, libusb)."""

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

    def condition(self) -> PrinterCondition:
        """Ask the paper sensor; a timeout or USB error is "no_answer", not "adequate"."""
        try:
            return paper_condition(self._usb.query_status(STATUS_PAPER))
        except Exception as exc:  # usb.core.USBTimeoutError, USBError, device gone
            log.warning("printer %s does not answer: %s", self.ids, exc)
            return "no_answer"

    def close(self) -> None:
        """Release the USB interface."""
        self._usb.close()


def open_printer(kind: Literal["file", "usb"], path: Path, vendor_id: int = 0x0416,
                 product_id: int = 0x5011) -> Printer:
    """The printer a device's settings name: a file of ESC/POS bytes (demo, tests) or a USB
    ESC/POS printer with these IDs."""
    if kind == "usb":
        return UsbEscposPrinter(vendor_id, product_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    return FilePrinter(path)
