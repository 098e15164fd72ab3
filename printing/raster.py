"""A slip drawn as a picture: the preview on screens and in the docs, and raster printing.

The same layout calls that make a slip's ESC/POS text (`printing.slip.Slip`) are kept as
a list of steps; this draws them at the printer's resolution (203 dpi: 576 dots across
80 mm paper, 384 across 58 mm) with a CJK font, so the preview shows what the paper will.
Printers without a Chinese font get this picture instead of text (`chinese="raster"`):
slower to print (~6.5 KB a ticket) but it works on any ESC/POS printer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from printing.paper import PaperWidth

if TYPE_CHECKING:
    from PIL import Image, ImageFont

DOTS: dict[int, int] = {80: 576, 58: 384}
CELL = 24  # font A: a Chinese glyph is 24 x 24 dots, an ASCII one 12 x 24
LINE = 30  # the default line spacing, 1/6 inch (ESC 2)
DEFAULT_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
Align = Literal["left", "center", "right"]


@dataclass(frozen=True)
class TextLine:
    text: str
    align: Align
    size: tuple[int, int]  # width, height multipliers
    bold: bool


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class QrCode:
    data: str
    module: int  # dots per module
    align: Align


Step = TextLine | Feed | QrCode


def draw_slip(steps: list[Step], paper_mm: PaperWidth, font_path: Path = DEFAULT_FONT
              ) -> Image.Image:
    """The slip as a 1-bit picture, as wide as the paper's printable dots."""
    from PIL import Image, ImageDraw, ImageFont

    if not font_path.exists():
        raise FileNotFoundError(f"no CJK font at {font_path} (Debian: fonts-wqy-microhei)")
    width = DOTS[paper_mm]
    parts: list[Image.Image] = []
    fonts: dict[int, ImageFont.FreeTypeFont] = {}
    for step in steps:
        if isinstance(step, Feed):
            parts.append(Image.new("1", (width, LINE * step.lines), 1))
        elif isinstance(step, QrCode):
            parts.append(_place(_qr_image(step.data, step.module), width, step.align))
        else:
            w, h = step.size
            font = fonts.setdefault(h, ImageFont.truetype(str(font_path), CELL * h))
            text_w = max(1, round(font.getlength(step.text)))
            glyphs = Image.new("L", (text_w, LINE * h), 255)
            pen = ImageDraw.Draw(glyphs)
            pen.text((0, (LINE - CELL) * h // 2), step.text, font=font, fill=0,
                     stroke_width=1 if step.bold else 0, stroke_fill=0)
            if w != h:  # ESC/POS stretches width and height separately
                glyphs = glyphs.resize((max(1, text_w * w // h), glyphs.height))
            line = glyphs.point(lambda v: 255 if v > 160 else 0).convert("1")
            parts.append(_place(line, width, step.align))
    height = sum(p.height for p in parts) or 1
    slip = Image.new("1", (width, height), 1)
    y = 0
    for part in parts:
        slip.paste(part, (0, y))
        y += part.height
    return slip


def _qr_image(data: str, module: int) -> Image.Image:
    import qrcode

    code = qrcode.QRCode(box_size=module, border=2,
                         error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    image: Image.Image = code.make_image(fill_color="black", back_color="white").get_image()
    return image.convert("1")


def _place(part: Image.Image, width: int, align: Align) -> Image.Image:
    """A full-width strip with `part` aligned in it (cut if wider than the paper)."""
    from PIL import Image

    strip = Image.new("1", (width, part.height), 1)
    room = max(0, width - part.width)
    x = {"left": 0, "center": room // 2, "right": room}[align]
    strip.paste(part.crop((0, 0, min(part.width, width), part.height)), (x, 0))
    return strip
