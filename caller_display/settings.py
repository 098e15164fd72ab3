"""The main screen's typed settings (environment prefix HALLQ_DISPLAY_)."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from screen_ui.settings import ScreenSettings


class DisplaySettings(ScreenSettings):
    """The hall's main screen: what it shows, how it announces calls and through what."""

    model_config = SettingsConfigDict(env_prefix="HALLQ_DISPLAY_", env_nested_delimiter="__",
                                      extra="forbid", frozen=True)

    # A hall's big screen is a landscape 1080p television.
    window_width: int = Field(1920, ge=320)
    window_height: int = Field(1080, ge=240)
    # The layout is drawn for 1920×1080 and fitted to the window; this scales it further.
    ui_scale: float = Field(1.0, ge=0.5, le=3.0)
    hall_name: str = "政务服务中心"  # the title until the hub's catalogue gives the real one
    highlight_s: float = Field(8.0, gt=0)  # a new call stays large and coloured this long
    # ... or this long only, when the next call waits: never pushed off before it is read.
    min_highlight_s: float = Field(1.5, ge=1.0)
    # In a rush at most this many calls wait for the band; older ones are listed (and said).
    max_queued: int = Field(3, ge=1, le=40)
    recent_calls: int = Field(12, ge=2, le=40)  # the calls listed (号码 | 窗口), newest first

    announce: bool = True  # False: calls and broadcasts are shown, never spoken
    # Repeat, chime and quiet hours are this screen's own until the hub sends the managers'
    # (叫号与广播 on the dashboard); a reset there gives these back.
    repeat: int = Field(2, ge=1, le=5)  # each call is said this many times
    volume: float = Field(1.0, ge=0.0, le=2.0)  # samples scaled by this (above 1 may clip)
    chime: bool = True  # a 叮咚 before each call and broadcast
    # No sound in these spans of the hall's day (calls still shown), e.g. the lunch break:
    # HALLQ_DISPLAY_QUIET_HOURS='[["12:00", "13:30"]]'; a span may go past midnight. The
    # hour is the hub's time of the call (its window state), in the hall's zone.
    quiet_hours: tuple[tuple[time, time], ...] = ()
    broadcast_show_s: float = Field(120.0, ge=5.0, le=3600.0)  # a broadcast stays up this long
    clip_gap_ms: int = Field(40, ge=0, le=1000)  # silence between two clips
    repeat_pause_ms: int = Field(800, ge=0, le=5000)  # silence between two sayings
    clips_dir: Path = Path("var/voice")  # made by `python -m caller_display.voice_clips`
    recorded_clips_dir: Path | None = None  # a hall's own WAVs, same names, override
    player: Literal["aplay", "file", "none"] = "aplay"
    aplay_device: str | None = None  # player "aplay": ALSA device (-D), None: the default
    wav_dir: Path | None = None  # player "file": None writes data_dir/announcements/

    @field_validator("quiet_hours")
    @classmethod
    def _real_spans(cls, v: tuple[tuple[time, time], ...]) -> tuple[tuple[time, time], ...]:
        for start, end in v:
            if start == end:
                raise ValueError(f"quiet hours {start}–{end} are empty")
        return v

    @model_validator(mode="after")
    def _highlight_at_least_its_minimum(self) -> Self:
        if self.min_highlight_s > self.highlight_s:
            raise ValueError(f"min_highlight_s {self.min_highlight_s} is longer than "
                             f"highlight_s {self.highlight_s}")
        return self
