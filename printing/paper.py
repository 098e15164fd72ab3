"""Receipt paper: its widths, the printer profile for each, and what fits on one line.

Widths count font A columns (12 x 24 dots at 203 dpi): an ASCII character takes one, any
other character two, since it goes out as GB18030 in Chinese mode, where every multi-byte
character prints as a full-width 24 x 24 glyph.
"""

from __future__ import annotations

from typing import Literal

PaperWidth = Literal[58, 80]

# Shipped python-escpos profiles, 203 dpi: 80 mm paper = 576 dots, 58 mm paper = 384 dots.
PROFILE: dict[int, str] = {80: "TM-T20II", 58: "POS-5890"}
COLUMNS: dict[int, int] = {80: 48, 58: 32}  # font A, 12 dots a column

# The usual Chinese line-breaking rules: closing marks never start a line (避头),
# opening marks never end one (避尾).
_NO_LINE_START = frozenset("，。、；：？！）》」』”’】〉,.;:?!)]}%")
_NO_LINE_END = frozenset("（《「『“‘【〈([{")


def check_paper(paper_mm: int) -> None:
    """Refuse a width we have no profile for."""
    if paper_mm not in PROFILE:
        raise ValueError(f"paper_mm must be 58 or 80, not {paper_mm!r}")


def char_width(ch: str) -> int:
    """Columns one character takes: 1 for ASCII, 2 for anything printed in Chinese mode."""
    return 1 if ch.isascii() else 2


def text_width(text: str) -> int:
    """Columns a string takes on paper."""
    return sum(char_width(ch) for ch in text)


def wrap(text: str, columns: int, *, indent: str = "") -> list[str]:
    """Split text into lines of at most `columns`, never inside a character.

    Lines break between any two characters, as Chinese text does. Continuation lines
    start with `indent` (a hanging indent for numbered lists); a closing mark never starts
    a line, an opening mark never ends one, when the next line has room for both.
    """
    if columns < 2:
        raise ValueError(f"{columns} columns cannot hold a Chinese character")
    if not indent.isascii() or text_width(indent) * 2 > columns:
        raise ValueError(f"indent {indent!r} must be ASCII and leave room in {columns} columns")
    lines: list[str] = []
    line = ""  # the text of the line being filled, without its indent
    room = columns
    next_room = columns - len(indent)
    for ch in text:
        if char_width(ch) <= room - text_width(line):
            line += ch
            continue
        carried = ""
        # Take the last character along rather than end a line with an opening mark or
        # start the next one with a closing mark.
        if (len(line) > 1 and char_width(line[-1]) + char_width(ch) <= next_room
                and (line[-1] in _NO_LINE_END
                     or (ch in _NO_LINE_START and line[-1] not in _NO_LINE_START))):
            line, carried = line[:-1], line[-1]
        lines.append(line)
        line = carried + ("" if ch == " " else ch)
        room = next_room
    lines.append(line)
    return [(indent if i else "") + text.rstrip() for i, text in enumerate(lines)]
