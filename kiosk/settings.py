"""The kiosk's typed settings (environment prefix HALLQ_KIOSK_)."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import SettingsConfigDict

from protocol.settings import DeviceSettings


class KioskSettings(DeviceSettings):
    """A ticket machine: where its printer is and how wide its paper."""

    model_config = SettingsConfigDict(env_prefix="HALLQ_KIOSK_", env_nested_delimiter="__",
                                      extra="forbid", frozen=True)

    hall_name: str = "示范县政务服务中心"
    printer: Literal["file", "usb"] = "file"
    paper_mm: Literal[58, 80] = 80
