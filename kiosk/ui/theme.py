"""Colours and text sizes of the kiosk; 长辈模式 makes every size larger.

Sizes are pixels on a 1280×800 screen at `ui_scale` 1.0, chosen so that the
smallest text still reads at arm's length from a standing kiosk. No Kivy here:
the numbers are plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["title", "heading", "tile", "body", "small", "button", "action", "banner",
               "nav", "number", "bar"]

# Pixel sizes at scale 1.0; "bar" is the height of the title bar. 长辈模式 leaves "number" and
# "bar" alone: the ticket's number is already the largest thing, and every pixel the bars
# give up goes to the larger text below.
SIZES: dict[Role, float] = {
    "title": 44, "heading": 36, "tile": 34, "body": 30, "small": 26, "button": 34,
    "action": 52, "banner": 30, "nav": 32, "number": 170, "bar": 76,
}


@dataclass
class Theme:
    """Text sizes for the current mode; `elder` is 长辈模式."""

    scale: float = 1.0
    elder_scale: float = 1.35
    elder: bool = False

    def size(self, role: Role) -> float:
        """Pixels for a text role (or a bar's height) in the current mode."""
        elder = self.elder and role not in ("number", "bar")
        return round(SIZES[role] * self.scale * (self.elder_scale if elder else 1.0))

    def pad(self) -> float:
        """Space around and between things: grows with the text."""
        return round(16 * self.scale * (self.elder_scale if self.elder else 1.0))
