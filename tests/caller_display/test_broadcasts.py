"""The hall's broadcasts on the main screen: each id once, shown for a while, said between two
calls and never cutting one, silent in quiet hours, shown only when espeak-ng fails; and the
hub's voice settings over the screen's own."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from caller_display.adapters.audio import WavFilePlayer
from caller_display.announcer import Announcer
from caller_display.broadcasts import Broadcasts, BroadcastVoice, Synth
from caller_display.main_screen import Call, MainScreen
from caller_display.voice_clips import RATE, ClipBank, call_clips
from protocol.messages import Broadcast, QuietSpan, VoiceSettings
from tests.caller_display.test_announcer import (
    RecordingPlayer,
    frames_of,
    rms,
    said_clips,
    tone,
    tone_dir,
)

__all__ = ["tone_dir"]  # the synthetic clips, a fixture

NOON = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 12:00 in the hall (Asia/Shanghai)
MORNING = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00
NOTICE = Broadcast(id="n-1", text="各位办事群众：本中心午间不休息", at=MORNING)


class ToneSynth:
    """A stand-in for espeak-ng: a 2 kHz tone for any text, and what it was asked."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def speak(self, text: str) -> bytes:
        self.texts.append(text)
        return frames_of(tone(2000.0, 300)).tobytes()


def test_a_broadcast_is_taken_once_and_shown_for_a_while() -> None:
    now = [100.0]
    said: list[Broadcast] = []
    shown = Broadcasts(said.append, show_s=60, clock=lambda: now[0])
    screen = MainScreen(lambda call: None, broadcasts=shown)
    changes: list[int] = []
    screen.on_change = lambda: changes.append(1)
    screen.on_event(NOTICE)
    screen.on_event(NOTICE)  # QoS 1: again, the same id
    assert said == [NOTICE] and shown.received == 1 and len(changes) == 1
    assert shown.shown() == NOTICE.text
    now[0] += 59.9
    assert shown.shown() == NOTICE.text
    now[0] += 0.1
    assert shown.shown() == ""


def test_a_broadcast_waits_for_the_call_being_said_and_goes_before_the_next(
        tone_dir: Path) -> None:
    player = RecordingPlayer()
    synth = ToneSynth()
    with Announcer(ClipBank.load(tone_dir), player, repeat=1, chime=False) as ann:
        voice = BroadcastVoice(ann, synth=lambda: synth)
        ann(Call("A001", 3, 1, MORNING))
        assert player.started[0].wait(10)  # A001 being said
        voice(NOTICE)
        assert voice.wait_idle(10)  # made into sound at once, queued behind A001
        ann(Call("A002", 5, 1, MORNING))
        for n in range(3):
            player.release[n].set()
        assert ann.wait_idle(10)
        voice.close()
    assert player.log == [("start", 0), ("end", 0), ("start", 1), ("end", 1), ("start", 2),
                          ("end", 2)]
    assert said_clips(player.wavs[0]) == call_clips("A001", 3)
    broadcast = frames_of(player.wavs[1])
    assert len(broadcast) == pytest.approx(0.3 * RATE, abs=RATE * 0.03) and rms(broadcast) > 3000
    assert said_clips(player.wavs[2]) == call_clips("A002", 5)
    assert synth.texts == [NOTICE.text]
    assert (ann.stats.played, ann.stats.broadcasts) == (3, 1)


def test_a_broadcast_espeak_cannot_say_is_shown_only(tone_dir: Path, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Synth:
        raise ImportError("No module named 'espeakng_loader'")

    player = WavFilePlayer(tmp_path / "out")
    with Announcer(ClipBank.load(tone_dir), player) as ann:
        voice = BroadcastVoice(ann, synth=broken)
        shown = Broadcasts(voice)
        with caplog.at_level(logging.WARNING):
            assert shown.receive(NOTICE)
            assert voice.wait_idle(10)
        ann(Call("A001", 3, 1, MORNING))  # the voice goes on for calls
        assert ann.wait_idle(10)
        voice.close()
    assert shown.shown() == NOTICE.text
    assert voice.stats.failed == 1 and len(player.files) == 1
    assert "broadcast n-1 shown, not said" in caplog.text


def test_the_real_espeak_says_a_broadcast_after_a_chime(tone_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("espeakng_loader")
    player = WavFilePlayer(tmp_path / "out")
    with Announcer(ClipBank.load(tone_dir), player, chime=True) as ann:
        voice = BroadcastVoice(ann)
        voice(NOTICE)
        assert voice.wait_idle(30) and ann.wait_idle(30)
        voice.close()
    [path] = player.files
    s = frames_of(path.read_bytes())
    chime = len(ann.clips.clips["chime"]) // 2
    assert rms(s[:chime]) > 3000 and rms(s[chime:]) > 1000
    assert len(s[chime:]) / RATE > 2  # fifteen characters take some seconds


def test_quiet_hours_are_the_hubs_time_of_the_call_or_broadcast(tone_dir: Path,
                                                                 tmp_path: Path) -> None:
    player = WavFilePlayer(tmp_path / "out")
    device_clock = [time(3, 0)]  # the screen's own clock is wrong: it decides nothing here
    with Announcer(ClipBank.load(tone_dir), player, quiet_hours=[(time(12), time(13, 30))],
                   clock=lambda: device_clock[0]) as ann:
        voice = BroadcastVoice(ann, synth=ToneSynth)
        ann(Call("A001", 3, 1, NOON))
        voice(Broadcast(id="n-2", text="午间请到1号窗口取号", at=NOON))
        assert voice.wait_idle(10) and ann.wait_idle(10)
        assert player.files == [] and ann.stats.quiet == 1 and voice.stats.quiet == 1
        ann(Call("A002", 3, 2, MORNING))
        voice(NOTICE)
        assert voice.wait_idle(10) and ann.wait_idle(10)
        voice.close()
    assert len(player.files) == 2


def test_the_hubs_voice_settings_over_the_screens_own(tone_dir: Path) -> None:
    with Announcer(ClipBank.load(tone_dir), WavFilePlayer(tone_dir / "out"), repeat=2,
                   chime=True, quiet_hours=[(time(12), time(13))]) as ann:
        screen = MainScreen(ann)
        screen.on_voice = ann.use
        screen.on_state(VoiceSettings(repeat=1, chime=False, quiet_hours=[],
                                      updated_at=MORNING), True)
        assert (ann.repeat, ann.chime, ann.quiet_hours) == (1, False, ())
        assert said_clips(ann.render(Call("A005", 3, 1))) == call_clips("A005", 3)
        screen.on_state(VoiceSettings(repeat=3, quiet_hours=[QuietSpan(start=time(22),
                                                                       end=time(7))],
                                      updated_at=MORNING), True)
        assert (ann.repeat, ann.chime, ann.quiet_hours) == (3, True, ((time(22), time(7)),))
        screen.on_state(VoiceSettings(updated_at=MORNING), False)  # a reset: the screen's own
        assert (ann.repeat, ann.chime, ann.quiet_hours) == (2, True, ((time(12), time(13)),))
        assert screen.voice == VoiceSettings(updated_at=MORNING)
