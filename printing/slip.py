"""A slip of receipt paper laid out as ESC/POS bytes, ready for any `Printer`.

Chinese text goes out as GB18030 between `FS &` and `FS .` (Chinese mode on, off), so a
slip prints the same whether or not the printer boots in Chinese mode. ASCII goes out as
plain bytes: python-escpos's `text()` would first send a code page switch (`ESC t`) picked
from the profile, which is CP932 on the 58 mm one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from printing.paper import COLUMNS, PROFILE, PaperWidth, check_paper, wrap
from printing.raster import DEFAULT_FONT, Align, Feed, QrCode, Step, TextLine, draw_slip

if TYPE_CHECKING:
    from escpos.printer import Dummy
    from PIL import Image

ChineseMode = Literal["font", "raster"]  # the printer's own Chinese font, or a picture

FS_CHINESE_ON = b"\x1c\x26"  # FS &
FS_CHINESE_OFF = b"\x1c\x2e"  # FS .


class Slip:
    """One slip being laid out: text lines, character sizes, QR code, cut.

    Every step is also kept, so the same slip can be drawn as a picture: the preview,
    and the whole slip as one raster image for printers with no Chinese font.
    """

    def __init__(self, paper_mm: PaperWidth, chinese: ChineseMode = "font",
                 font_path: Path = DEFAULT_FONT) -> None:
        check_paper(paper_mm)
        self.chinese = chinese
        self.font_path = font_path
        self.steps: list[Step] = []
        self._align: Align = "left"
        self._size = (1, 1)
        self._bold = False
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

    def align(self, where: Align) -> None:
        """Align the following lines and QR codes."""
        self._align = where
        self._p.set(align=where)

    def style(self, *, bold: bool | None = None, size: tuple[int, int] | None = None) -> None:
        """Set bold and the character size (width, height multipliers); None keeps it."""
        if bold is not None:
            self._bold = bold
        if size is not None:
            self._size = size
            width, height = size
            self._p.set(bold=bold, custom_size=True, width=width, height=height)
            self._width = width
        else:
            self._p.set(bold=bold)

    def line(self, text: str) -> None:
        """Print one line as it is: ASCII as plain bytes, anything else in Chinese mode."""
        if not text.isprintable():
            raise ValueError(f"slip text must have no control characters: {text!r}")
        self.steps.append(TextLine(text, self._align, self._size, self._bold))
        if self.chinese == "raster":
            return
        if text.isascii():
            self._p._raw(text.encode("ascii"))
        else:
            self._p._raw(FS_CHINESE_ON + text.encode("gb18030") + FS_CHINESE_OFF)
        self._newline()

    def wrapped(self, text: str, *, indent: str = "") -> None:
        """Print text over as many lines as the paper needs, continuation lines indented."""
        for part in wrap(text, self.columns, indent=indent):
            self.line(part)

    def feed(self) -> None:
        """Feed one empty line (LF)."""
        self.steps.append(Feed())
        self._newline()

    def _newline(self) -> None:
        if self.chinese == "font":
            self._p._raw(b"\n")

    def qr(self, data: str, *, size: int) -> None:
        """A native QR code (GS ( k) with modules of `size` dots."""
        if not data:
            raise ValueError("QR data is empty: python-escpos would silently print no QR code")
        self.steps.append(QrCode(data, size, self._align))
        if self.chinese == "font":
            self._p.qr(data, native=True, size=size)

    def picture(self) -> Image.Image:
        """The slip as the paper will show it (1 bit, the printer's dots)."""
        return draw_slip(self.steps, self.paper_mm, self.font_path)

    def cut(self) -> bytes:
        """Cut the paper and return the slip's bytes (in raster mode: one picture, then cut)."""
        if self.chinese == "raster":
            self._p.set(align="left")
            self._p.image(self.picture(), impl="bitImageRaster", center=False)
        self._p.cut()
        return bytes(self._p.output)
