"""What every HallQ screen (kiosk, window screen, main screen) sets about its window."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from protocol.settings import DeviceSettings


class ScreenSettings(DeviceSettings):
    """A device with a Kivy screen: its window, font and text scale, and screenshots."""

    fullscreen: bool = False  # True in the hall; a window while developing
    window_width: int = Field(1280, ge=320)
    window_height: int = Field(800, ge=240)
    show_cursor: bool = True  # False on a touch-only or display-only screen
    font_path: Path = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # Roboto has no CJK
    ui_scale: float = Field(1.0, ge=0.5, le=3.0)  # every text size; 1.0 suits 1280×800
    screenshot_every_s: float | None = Field(None, gt=0)  # a demo with no display: save
    screenshot_path: Path = Path("var/screen.png")  # the screen this often, here
    timezone: str = "Asia/Shanghai"  # the hall's: the screen's clock (and quiet hours)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        ZoneInfo(v)  # an unknown zone fails startup
        return v

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
