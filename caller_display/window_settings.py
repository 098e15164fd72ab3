"""A window's typed settings (environment prefix HALLQ_CALLER_): which window, its screen,
its staff buttons and its printer."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from caller_display.adapters.buttons import PanelSettings
from screen_ui.settings import ScreenSettings


class CallerSettings(ScreenSettings):
    """The Pi at one window: the screen facing the citizen, the staff buttons, a printer for
    the 补正 notice (一次性告知单)."""

    model_config = SettingsConfigDict(env_prefix="HALLQ_CALLER_", env_nested_delimiter="__",
                                      extra="forbid", frozen=True)

    window: int = Field(ge=1, le=999)
    hall_name: str = "示范县政务服务中心"  # until the hub's catalogue says it
    # The staff buttons and LED on GPIO; "none": a window without them (touch only).
    buttons: Literal["gpio", "none"] = "gpio"
    panel: PanelSettings = PanelSettings()  # pin map, debounce, hold time
    menu_idle_s: float = Field(20.0, gt=0)  # an untouched staff menu closes after this
    photos_dir: Path = Path("/var/lib/hallq/photos")  # the staff cards' photos
    thanks_s: float = Field(4.0, gt=0)  # 感谢您的评价 stays this long
    printer: Literal["none", "file", "usb"] = "none"  # for 补正 notices
    paper_mm: Literal[58, 80] = 80
    printer_file: Path | None = None  # printer "file": None writes data_dir/<device_id>.escpos
    usb_vendor_id: int = Field(0x0416, ge=0, le=0xFFFF)
    usb_product_id: int = Field(0x5011, ge=0, le=0xFFFF)
    screenshot_path: Path = Path("var/window-screen.png")  # a demo's screenshots
