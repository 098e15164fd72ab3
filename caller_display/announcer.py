"""Speaks the main screen's calls: a chime, then "请A005号到3号窗口办理" N times; and the
hall's broadcasts, between two calls.

`Announcer` is the MainScreen's `announce` callback. It only queues the call and
returns (it runs on the MQTT thread); one worker thread renders each call's WAV from
the clips and hands it to the player, which returns when it has played, so two calls
never overlap. A window that calls again before its previous call was said replaces
it: the citizen of the older call is no longer the one wanted. A broadcast (`say`) waits
in the same queue, so it never cuts a call. In quiet hours nothing is said (the screen
still shows the call): the hour is the hub's time of the call, or of the broadcast.

Repeat, chime and quiet hours are the screen's settings until the hub sends the
managers' (`use`, 叫号与广播); a setting the hub leaves null stays the screen's own.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from types import TracebackType
from zoneinfo import ZoneInfo

from caller_display.adapters.audio import AplayPlayer, Player, SilentPlayer, WavFilePlayer
from caller_display.broadcasts import Speech
from caller_display.main_screen import Call
from caller_display.settings import DisplaySettings
from caller_display.voice_clips import (
    CHIME,
    ClipBank,
    call_clips,
    ensure_clips,
    silence,
    wav_bytes,
)
from protocol.messages import VoiceSettings

log = logging.getLogger(__name__)

QuietHours = Sequence[tuple[time, time]]


def in_quiet_hours(now: time, spans: QuietHours) -> bool:
    """Whether `now` falls in one of the spans [start, end); a span may pass midnight."""
    for start, end in spans:
        if start < end and start <= now < end:
            return True
        if start > end and (now >= start or now < end):
            return True
    return False


def make_player(settings: DisplaySettings) -> Player:
    """The player the settings name: aplay on the Pi, numbered WAV files, or none."""
    if settings.player == "aplay":
        return AplayPlayer(settings.aplay_device)
    if settings.player == "file":
        return WavFilePlayer(settings.wav_dir or settings.data_dir / "announcements")
    return SilentPlayer()


@dataclass
class AnnouncerStats:
    """What the announcer did since it started."""

    played: int = 0  # calls and broadcasts said
    broadcasts: int = 0  # of them, broadcasts
    quiet: int = 0  # calls (and broadcasts) not said: quiet hours
    replaced: int = 0  # calls not said: the same window called again first
    failed: int = 0  # calls the player could not play, or with no clips


class Announcer:
    """Queues calls and says them one at a time through a player."""

    def __init__(self, clips: ClipBank, player: Player, *, repeat: int = 2,
                 chime: bool = True, quiet_hours: QuietHours = (),
                 clock: Callable[[], time] | None = None, timezone: str = "Asia/Shanghai",
                 clip_gap_ms: int = 40, repeat_pause_ms: int = 800) -> None:
        self.clips = clips
        self.player = player
        self.repeat = repeat
        self.chime = chime
        self.quiet_hours = tuple(quiet_hours)
        self._own = (repeat, chime, self.quiet_hours)  # the screen's settings
        self.zone = ZoneInfo(timezone)
        self.clock = clock or (lambda: datetime.now(self.zone).time())
        self.clip_gap_ms = clip_gap_ms
        self._pause = silence(repeat_pause_ms)
        self._after_chime = silence(150)
        self.stats = AnnouncerStats()
        self._pending: deque[Call | Speech] = deque()
        self._busy = False
        self._closing = False
        self._cond = threading.Condition()
        self._worker = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._worker.start()

    @classmethod
    def from_settings(cls, settings: DisplaySettings, player: Player | None = None) -> Announcer:
        """An announcer with the clips, player and choices the settings give."""
        ensure_clips(settings.clips_dir)  # normally made at install; a first start makes them
        clips = ClipBank.load(settings.clips_dir, settings.recorded_clips_dir, settings.volume)
        return cls(clips, player or make_player(settings), repeat=settings.repeat,
                   chime=settings.chime, quiet_hours=settings.quiet_hours,
                   timezone=settings.timezone, clip_gap_ms=settings.clip_gap_ms,
                   repeat_pause_ms=settings.repeat_pause_ms)

    def use(self, voice: VoiceSettings) -> None:
        """The managers' settings from the hub, from the next call on; what the hub leaves
        null is the screen's own setting."""
        repeat, chime, quiet = self._own
        with self._cond:
            self.repeat = repeat if voice.repeat is None else voice.repeat
            self.chime = chime if voice.chime is None else voice.chime
            self.quiet_hours = quiet if voice.quiet_hours is None else tuple(
                (s.start, s.end) for s in voice.quiet_hours)
        log.info("voice: each call said %d times, chime %s, quiet hours %s", self.repeat,
                 "on" if self.chime else "off",
                 ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in self.quiet_hours) or "none")

    def quiet_at(self, at: datetime | None) -> bool:
        """Whether something the hub made at `at` falls in quiet hours (the hub's time in
        the hall's zone); without a time, the screen's clock decides."""
        if at is None:
            now = self.clock()
        else:
            now = (at.astimezone(self.zone) if at.tzinfo is not None else at).time()
        return in_quiet_hours(now, self.quiet_hours)

    def render(self, call: Call) -> bytes:
        """The call's whole announcement as a WAV file: chime, then the call N times."""
        said = self.clips.join(call_clips(call.number, call.window), self.clip_gap_ms)
        parts = [self.clips.clips[CHIME], self._after_chime] if self.chime else []
        parts.append(self._pause.join([said] * self.repeat))
        return wav_bytes(b"".join(parts))

    def render_speech(self, speech: Speech) -> bytes:
        """A broadcast's WAV file: chime, then the text once."""
        parts = [self.clips.clips[CHIME], self._after_chime] if self.chime else []
        return wav_bytes(b"".join([*parts, speech.frames]))

    def __call__(self, call: Call) -> None:
        """Queue the call to be said (MainScreen's announce callback); returns at once."""
        if self.quiet_at(call.at):
            log.info("quiet hours: call %s to window %s shown, not said", call.number,
                     call.window)
            with self._cond:
                self.stats.quiet += 1
            return
        with self._cond:
            if self._closing:
                return
            older = [c for c in self._pending
                     if isinstance(c, Call) and c.window == call.window]
            for c in older:
                self._pending.remove(c)
                self.stats.replaced += 1
                log.info("call %s to window %s replaced by %s before it was said",
                         c.number, c.window, call.number)
            self._pending.append(call)
            self._cond.notify_all()

    def say(self, speech: Speech) -> None:
        """Queue a broadcast after the calls waiting now; it never cuts the one being said."""
        with self._cond:
            if self.quiet_at(speech.at):
                log.info("quiet hours: %s not said", speech.what)
                self.stats.quiet += 1
                return
            if self._closing:
                return
            self._pending.append(speech)
            self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued call has been said; False if `timeout` came first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self, timeout: float | None = 10.0) -> None:
        """Stop after the call being said; calls still queued are dropped."""
        with self._cond:
            self._closing = True
            self._pending.clear()
            self._cond.notify_all()
        self._worker.join(timeout)

    def __enter__(self) -> Announcer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closing)
                if self._closing:
                    return
                item = self._pending.popleft()
                self._busy = True
            ok = self._say(item)
            with self._cond:
                self._busy = False
                if ok:
                    self.stats.played += 1
                    self.stats.broadcasts += isinstance(item, Speech)
                else:
                    self.stats.failed += 1
                self._cond.notify_all()

    def _say(self, item: Call | Speech) -> bool:
        what = item.what if isinstance(item, Speech) else \
            f"call {item.number} to window {item.window}"
        try:
            wav = self.render(item) if isinstance(item, Call) else self.render_speech(item)
        except (ValueError, KeyError) as e:
            log.warning("%s cannot be said: %s", what, e)
            return False
        try:
            self.player.play(wav)
        except OSError as e:
            log.warning("%s not played: %s", what, e)
            return False
        return True
