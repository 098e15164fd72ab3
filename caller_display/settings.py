"""The main screen's typed settings (environment prefix HALLQ_DISPLAY_)."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from protocol.settings import DeviceSettings


class DisplaySettings(DeviceSettings):
    """The hall's main screen: how it announces calls and through what."""

    model_config = SettingsConfigDict(env_prefix="HALLQ_DISPLAY_", env_nested_delimiter="__",
                                      extra="forbid", frozen=True)

    announce: bool = True  # False: calls are shown, never spoken
    repeat: int = Field(2, ge=1, le=5)  # each call is said this many times
    volume: float = Field(1.0, ge=0.0, le=2.0)  # samples scaled by this (above 1 may clip)
    chime: bool = True  # a 叮咚 before each call
    # No sound in these spans of the hall's day (calls still shown), e.g. the lunch break:
    # HALLQ_DISPLAY_QUIET_HOURS='[["12:00", "13:30"]]'; a span may go past midnight.
    quiet_hours: tuple[tuple[time, time], ...] = ()
    timezone: str = "Asia/Shanghai"  # the hall's, for quiet hours
    clip_gap_ms: int = Field(40, ge=0, le=1000)  # silence between two clips
    repeat_pause_ms: int = Field(800, ge=0, le=5000)  # silence between two sayings
    clips_dir: Path = Path("var/voice")  # made by `python -m caller_display.voice_clips`
    recorded_clips_dir: Path | None = None  # a hall's own WAVs, same names, override
    player: Literal["aplay", "file", "none"] = "aplay"
    aplay_device: str | None = None  # player "aplay": ALSA device (-D), None: the default
    wav_dir: Path | None = None  # player "file": None writes data_dir/announcements/

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        ZoneInfo(v)  # an unknown zone fails startup
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _real_spans(cls, v: tuple[tuple[time, time], ...]) -> tuple[tuple[time, time], ...]:
        for start, end in v:
            if start == end:
                raise ValueError(f"quiet hours {start}–{end} are empty")
        return v
