"""A slip of receipt paper laid out as ESC/POS bytes, ready for any `Printer`.

Chinese text goes out as GB18030 between `FS &` and `FS .` (Chinese mode on, off), so a
slip prints the same whether or not the printer boots in Chinese mode. ASCII goes out as
plain bytes: python-escpos's `text()` would first send a code page switch (`ESC t`) picked
from the profile, which is CP932 on the 58 mm one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from printing.paper import COLUMNS, PROFILE, PaperWidth, check_paper, wrap

if TYPE_CHECKING:
    from escpos.printer import Dummy

FS_CHINESE_ON = b"\x1c\x26"  # FS &
FS_CHINESE_OFF = b"\x1c\x2e"  # FS .


class Slip:
    """One slip being laid out: text lines, character sizes, QR code, cut."""

    def __init__(self, paper_mm: PaperWidth) -> None:
        check_paper(paper_mm)
        # Lazy: a window caller that never prints never needs python-escpos.
        from escpos.printer import Dummy

        self.paper_mm = paper_mm
        self._width = 1  # character width multiplier, for wrapping
        self._p: Dummy = Dummy(profile=PROFILE[paper_mm])
        # The shipped 58 mm profiles describe cutterless desk printers, so cut() would send
        # nothing; kiosk and window printers have a cutter. Set on the instance: the class
        # dict is shared.
        self._p.profile.features = {**self._p.profile.features, "paperFullCut": True,
                                    "paperPartCut": True}
        self._p.hw("INIT")

    @property
    def columns(self) -> int:
        """Characters of width 1 that fit on a line at the current character width."""
        return COLUMNS[self.paper_mm] // self._width

    def align(self, where: Literal["left", "center", "right"]) -> None:
        """Align the following lines and QR codes."""
        self._p.set(align=where)

    def style(self, *, bold: bool | None = None, size: tuple[int, int] | None = None) -> None:
        """Set bold and the character size (width, height multipliers); None keeps it."""
        if size is not None:
            width, height = size
            self._p.set(bold=bold, custom_size=True, width=width, height=height)
            self._width = width
        else:
            self._p.set(bold=bold)

    def line(self, text: str) -> None:
        """Print one line as it is: ASCII as plain bytes, anything else in Chinese mode."""
        if not text.isprintable():
            raise ValueError(f"slip text must have no control characters: {text!r}")
        if text.isascii():
            self._p._raw(text.encode("ascii"))
        else:
            self._p._raw(FS_CHINESE_ON + text.encode("gb18030") + FS_CHINESE_OFF)
        self.feed()

    def wrapped(self, text: str, *, indent: str = "") -> None:
        """Print text over as many lines as the paper needs, continuation lines indented."""
        for part in wrap(text, self.columns, indent=indent):
            self.line(part)

    def feed(self) -> None:
        """Print the buffer and feed one line (LF)."""
        self._p._raw(b"\n")

    def qr(self, data: str, *, size: int) -> None:
        """A native QR code (GS ( k) with modules of `size` dots."""
        if not data:
            raise ValueError("QR data is empty: python-escpos would silently print no QR code")
        self._p.qr(data, native=True, size=size)

    def cut(self) -> bytes:
        """Cut the paper and return the slip's bytes."""
        self._p.cut()
        return bytes(self._p.output)
