"""The colours of HallQ's screens (kiosk, window screen, main screen): 政务蓝 and plain,
high-contrast text. No Kivy here: the numbers are plain data."""

from __future__ import annotations

Rgba = tuple[float, float, float, float]

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
