"""The kiosk's typed settings (environment prefix HALLQ_KIOSK_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from screen_ui.settings import ScreenSettings


class KioskSettings(ScreenSettings):
    """A ticket machine: where its printer is and how wide its paper."""

    model_config = SettingsConfigDict(env_prefix="HALLQ_KIOSK_", env_nested_delimiter="__",
                                      extra="forbid", frozen=True)

    hall_name: str = "示范县政务服务中心"
    printer: Literal["file", "usb"] = "file"
    paper_mm: Literal[58, 80] = 80
    chinese: Literal["font", "raster"] = "font"  # raster: for printers with no Chinese font
    # Paperless (a hall's choice, set alike on all its kiosks): a ticket is shown as a QR
    # code to save on the phone (its live page), printed only if the citizen asks.
    paperless: bool = False
    printer_check_s: float = Field(10.0, gt=0)  # how often a broken printer is asked again
    printer_file: Path | None = None  # printer "file": None writes data_dir/<device_id>.escpos
    usb_vendor_id: int = Field(0x0416, ge=0, le=0xFFFF)  # printer "usb": set your printer's IDs
    usb_product_id: int = Field(0x5011, ge=0, le=0xFFFF)
    # The camera for appointment QR codes: the Pi's (picamera2), a folder of images (the
    # demo, a bench), or none (no 我有预约 scanning on this kiosk).
    camera: Literal["none", "picamera2", "folder"] = "none"
    camera_folder: Path | None = None  # camera "folder": the images, read in turn, looping

    # The touch screen (kiosk/app.py; window, font and scale: ScreenSettings).
    idle_timeout_s: float = Field(60.0, gt=0)  # untouched this long, a screen goes back home
    ticket_shown_s: float = Field(15.0, gt=0)  # a printed ticket's confirmation stays this long
    elder_scale: float = Field(1.35, ge=1.0, le=2.0)  # 长辈模式: text this much larger
    # 长辈模式 offers only these items (what older people come for most), in this order.
    elder_items: tuple[str, ...] = ("GA_SFZHL", "RS_SBKSL", "YB_MTB", "YB_SGBX")
    screenshot_path: Path = Path("var/kiosk-screen.png")  # a demo's screenshots
    help_desk_place: str = ""  # where the 导办台 is, e.g. "大厅入口右侧"; shown on the help page
