"""Colours and text sizes of the kiosk; 长辈模式 makes every size larger.

Sizes are pixels on a 1280×800 screen at `ui_scale` 1.0, chosen so that the
smallest text still reads at arm's length from a standing kiosk. No Kivy here:
the numbers are plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Rgba = tuple[float, float, float, float]

Role = Literal["title", "heading", "tile", "body", "small", "button", "action", "banner",
               "nav", "number", "bar"]

# Pixel sizes at scale 1.0; "bar" is the height of the title bar. 长辈模式 leaves "number" and
# "bar" alone: the ticket's number is already the largest thing, and every pixel the bars
# give up goes to the larger text below.
SIZES: dict[Role, float] = {
    "title": 44, "heading": 36, "tile": 34, "body": 30, "small": 26, "button": 34,
    "action": 52, "banner": 30, "nav": 32, "number": 170, "bar": 76,
}

BACKGROUND: Rgba = (0.95, 0.96, 0.98, 1)
INK: Rgba = (0.09, 0.11, 0.15, 1)
MUTED: Rgba = (0.33, 0.36, 0.42, 1)
WHITE: Rgba = (1, 1, 1, 1)
BRAND: Rgba = (0.09, 0.33, 0.65, 1)  # 政务蓝
BRAND_DARK: Rgba = (0.05, 0.22, 0.47, 1)
BUNDLE: Rgba = (0.55, 0.27, 0.07, 1)  # 一件事一次办 stands out from the departments
GO: Rgba = (0.78, 0.12, 0.10, 1)  # the one action that takes a ticket
OK_GREEN: Rgba = (0.05, 0.50, 0.30, 1)
HELP: Rgba = (0.00, 0.45, 0.38, 1)
DISABLED: Rgba = (0.62, 0.64, 0.68, 1)
ALERT: Rgba = (0.75, 0.10, 0.10, 1)  # hub offline
WARN: Rgba = (0.98, 0.70, 0.12, 1)  # printer paused
PANEL: Rgba = (1, 1, 1, 1)
CAMERA: Rgba = (0.20, 0.22, 0.26, 1)


def darker(c: Rgba, by: float = 0.75) -> Rgba:
    """The colour of a pressed button: the same hue, darker."""
    return (c[0] * by, c[1] * by, c[2] * by, c[3])


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
