"""Spoken calls: the clips of a call, their joining, the queue, quiet hours, the players.

Most tests use synthetic clips, a pure tone of its own frequency per clip, so the order
of the clips in an announcement is read back from the sound itself (segments between
silences, each segment's frequency). One test uses the real espeak-ng clips.
"""

from __future__ import annotations

import array
import io
import math
import stat
import threading
import wave
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from caller_display.adapters.audio import AplayPlayer, WavFilePlayer
from caller_display.announcer import Announcer, in_quiet_hours, make_player
from caller_display.main_screen import Call, MainScreen
from caller_display.settings import DisplaySettings
from caller_display.voice_clips import (
    CHIME,
    CLIP_TEXT,
    RATE,
    ClipBank,
    call_clips,
    read_wav,
    spoken_text,
    wav_bytes,
)
from protocol.messages import WindowState

TONE = {name: 220.0 + 40.0 * i for i, name in enumerate(CLIP_TEXT)}  # 220 … 1820 Hz
TONE_MS = 120
NOON = time(12, 30)
A005 = Call("A005", 3, 1)


def tone(freq: float, ms: int, rate: int = RATE, channels: int = 1, amp: int = 12000) -> bytes:
    """A WAV file of a pure tone."""
    n = rate * ms // 1000
    samples = array.array("h")
    for i in range(n):
        v = round(amp * math.sin(2 * math.pi * freq * i / rate))
        samples.extend([v] * channels)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def frames_of(wav: bytes) -> array.array[int]:
    """The samples of a WAV in the announcer's format, checked to be that format."""
    with wave.open(io.BytesIO(wav), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        return array.array("h", w.readframes(w.getnframes()))


def segments(s: array.array[int], floor: int = 60, min_gap_ms: int = 15) -> list[tuple[int, int]]:
    """The sounding stretches [start, end) of the samples, split at silences."""
    min_gap = RATE * min_gap_ms // 1000
    out: list[tuple[int, int]] = []
    start = last = None
    for i, v in enumerate(s):
        if abs(v) > floor:
            if start is None:
                start = i
            elif last is not None and i - last > min_gap:
                out.append((start, last + 1))
                start = i
            last = i
    if start is not None and last is not None:
        out.append((start, last + 1))
    return out


def frequency(s: array.array[int] | list[int]) -> float:
    """A tone's frequency from its zero crossings."""
    crossings = sum(1 for a, b in zip(s, s[1:], strict=False) if (a < 0) != (b < 0))
    return crossings / 2 / (len(s) / RATE)


def nearest_clip(freq: float) -> str:
    """The synthetic clip whose tone is nearest to `freq`."""
    return min(TONE, key=lambda name: abs(TONE[name] - freq))


def rms(s: array.array[int] | list[int]) -> float:
    """Root mean square of the samples."""
    return math.sqrt(sum(v * v for v in s) / max(1, len(s)))


@pytest.fixture
def tone_dir(tmp_path: Path) -> Path:
    """Generated clips as synthetic tones, one frequency per clip (no chime: it is made)."""
    folder = tmp_path / "voice"
    folder.mkdir()
    for name, freq in TONE.items():
        (folder / f"{name}.wav").write_bytes(tone(freq, TONE_MS))
    return folder


@pytest.fixture(scope="session")
def espeak_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real clips, made with espeak-ng as at install."""
    pytest.importorskip("espeakng_loader")
    from caller_display.voice_clips import generate_clips

    folder = tmp_path_factory.mktemp("espeak")
    generate_clips(folder)
    return folder


class RecordingPlayer:
    """Plays by blocking until released; records starts and ends, and any overlap."""

    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []
        self.wavs: list[bytes] = []
        self.started = [threading.Event() for _ in range(10)]
        self.release = [threading.Event() for _ in range(10)]
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def play(self, wav: bytes) -> None:
        with self._lock:
            n = len(self.wavs)
            self.wavs.append(wav)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.log.append(("start", n))
        self.started[n].set()
        assert self.release[n].wait(10)
        with self._lock:
            self.active -= 1
            self.log.append(("end", n))


def said_clips(wav: bytes) -> list[str]:
    """The synthetic clips an announcement says, in order, read from the sound."""
    s = frames_of(wav)
    return [nearest_clip(frequency(s[a:b])) for a, b in segments(s)]


# --- what a call says ---------------------------------------------------------------------


@pytest.mark.parametrize(("window", "said"), [
    (3, "三"), (10, "十"), (13, "十三"), (20, "二十"), (23, "二十三"), (101, "一零一"),
])
def test_window_numbers_are_read_as_halls_say_them(window: int, said: str) -> None:
    assert spoken_text(call_clips("A005", window)) == f"请A零零五号到{said}号窗口办理"


def test_ticket_numbers_are_read_digit_by_digit() -> None:
    assert spoken_text(call_clips("AB1020", 7)) == "请AB一零二零号到七号窗口办理"
    with pytest.raises(ValueError):
        call_clips("A-05", 3)


# --- the WAV of one call ------------------------------------------------------------------


def test_a005_to_window_3_says_its_clips_in_order(tone_dir: Path) -> None:
    player = WavFilePlayer(tone_dir.parent / "out")
    with Announcer(ClipBank.load(tone_dir), player, repeat=2, chime=False,
                   clock=lambda: NOON, clip_gap_ms=40, repeat_pause_ms=800) as ann:
        ann(A005)
        assert ann.wait_idle(10)
    [path] = player.files
    wav = path.read_bytes()
    once = ["qing", "A", "0", "0", "5", "hao", "dao", "3", "hao_chuangkou_banli"]
    assert said_clips(wav) == once * 2
    s = frames_of(wav)
    seconds = len(s) / RATE
    expected = 2 * (9 * TONE_MS + 8 * 40) / 1000 + 0.8
    assert seconds == pytest.approx(expected, abs=0.01)
    assert rms(s) > 3000  # not silent
    # the pause between the two sayings
    segs = segments(s)
    assert (segs[9][0] - segs[8][1]) / RATE == pytest.approx(0.8, abs=0.01)


def test_a005_with_espeak_clips(espeak_dir: Path) -> None:
    clips = ClipBank.load(espeak_dir)
    ann = Announcer(clips, WavFilePlayer(espeak_dir / "out"), repeat=1, chime=True,
                    clock=lambda: NOON, clip_gap_ms=40)
    try:
        s = frames_of(ann.render(A005))
    finally:
        ann.close()
    names = call_clips("A005", 3)
    gap = RATE * 40 // 1000
    chime_len = len(clips.clips[CHIME]) // 2 + RATE * 150 // 1000
    lengths = [len(clips.clips[n]) // 2 for n in names]
    assert len(s) == chime_len + sum(lengths) + gap * (len(names) - 1)
    assert 3.0 < len(s) / RATE < 8.0
    # each clip is where it belongs, in order, and says something
    at = chime_len
    for name, n in zip(names, lengths, strict=True):
        part = s[at:at + n]
        assert part.tobytes() == clips.clips[name], name
        assert rms(part) > 1000, name
        assert rms(s[at + n:at + n + gap]) == 0  # the silence after it
        at += n + gap


def test_a_first_start_makes_missing_clips(tmp_path: Path) -> None:
    pytest.importorskip("espeakng_loader")
    s = DisplaySettings(device_id="screen-1", clips_dir=tmp_path / "voice", player="file",
                        wav_dir=tmp_path / "wavs", repeat=1)
    with Announcer.from_settings(s) as ann:
        ann(A005)
        assert ann.wait_idle(10)
    assert (tmp_path / "voice" / "hao_chuangkou_banli.wav").is_file()
    [path] = WavFilePlayer(tmp_path / "wavs").files
    assert rms(frames_of(path.read_bytes())) > 1000


def test_the_chime_comes_first(tone_dir: Path) -> None:
    clips = ClipBank.load(tone_dir)
    with Announcer(clips, WavFilePlayer(tone_dir / "out"), repeat=1, chime=True) as ann:
        s = frames_of(ann.render(A005))
    first = segments(s)[0]
    assert first[0] < RATE // 1000  # at once, after a 5 ms attack
    ding = s[first[0]:first[0] + RATE // 10]
    dong = s[first[1] - RATE // 5:first[1] - RATE // 10]
    assert frequency(ding) == pytest.approx(659.25, rel=0.03)
    assert frequency(dong) == pytest.approx(523.25, rel=0.03)
    assert said_clips(wav_bytes(s[first[1]:].tobytes()))[0] == "qing"


def test_recorded_clips_override_generated_ones(tone_dir: Path, tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    # a hall's recording at 44.1 kHz stereo, 2.5 kHz: not any generated clip's tone
    (recorded / "qing.wav").write_bytes(tone(2500.0, 200, rate=44100, channels=2))
    clips = ClipBank.load(tone_dir, recorded)
    with Announcer(clips, WavFilePlayer(tmp_path / "out"), repeat=1, chime=False) as ann:
        s = frames_of(ann.render(A005))
    segs = segments(s)
    first = s[segs[0][0]:segs[0][1]]
    assert frequency(first) == pytest.approx(2500, rel=0.02)
    assert len(first) / RATE == pytest.approx(0.2, abs=0.005)
    rest = [nearest_clip(frequency(s[a:b])) for a, b in segs[1:]]
    assert rest == ["A", "0", "0", "5", "hao", "dao", "3", "hao_chuangkou_banli"]


def test_volume_scales_the_samples(tone_dir: Path) -> None:
    loud = ClipBank.load(tone_dir, volume=1.0)
    soft = ClipBank.load(tone_dir, volume=0.5)
    assert rms(read_wav_frames(soft.clips["qing"])) == pytest.approx(
        rms(read_wav_frames(loud.clips["qing"])) / 2, rel=0.01)


def read_wav_frames(frames: bytes) -> array.array[int]:
    """Samples of raw frames."""
    return array.array("h", frames)


def test_missing_clips_say_how_to_make_them(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="caller_display.voice_clips"):
        ClipBank.load(tmp_path)


def test_a_recording_that_is_not_pcm_fails_at_load(tone_dir: Path, tmp_path: Path) -> None:
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    wav = tone(500.0, 50)
    (recorded / "dao.wav").write_bytes(wav[:20] + b"\x03\x00" + wav[22:])  # float samples
    with pytest.raises(ValueError, match="dao.wav"):
        ClipBank.load(tone_dir, recorded)


def test_read_wav_converts_8_bit(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(RATE)
        w.writeframes(bytes([128, 255, 0, 128]))
    assert list(array.array("h", read_wav(buf.getvalue()))) == [0, 127 << 8, -128 << 8, 0]


# --- the queue ----------------------------------------------------------------------------


def test_two_calls_are_said_one_after_the_other(tone_dir: Path) -> None:
    player = RecordingPlayer()
    with Announcer(ClipBank.load(tone_dir), player, repeat=1, chime=False) as ann:
        ann(Call("A005", 3, 1))
        ann(Call("B012", 5, 1))  # comes while the first is being said
        assert player.started[0].wait(10)
        player.release[0].set()
        assert player.started[1].wait(10)
        player.release[1].set()
        assert ann.wait_idle(10)
    assert player.log == [("start", 0), ("end", 0), ("start", 1), ("end", 1)]
    assert player.max_active == 1
    assert said_clips(player.wavs[1])[1:3] == ["B", "0"]
    assert ann.stats.played == 2


def test_a_window_calling_again_replaces_its_unsaid_call(tone_dir: Path) -> None:
    player = RecordingPlayer()
    with Announcer(ClipBank.load(tone_dir), player, repeat=1, chime=False) as ann:
        ann(Call("A001", 1, 1))
        assert player.started[0].wait(10)
        ann(Call("A002", 3, 1))
        ann(Call("A003", 3, 2))  # window 3 moved on before A002 was said
        player.release[0].set()
        assert player.started[1].wait(10)
        player.release[1].set()
        assert ann.wait_idle(10)
    assert len(player.wavs) == 2
    assert said_clips(player.wavs[1])[1:5] == ["A", "0", "0", "3"]
    assert ann.stats.replaced == 1


def test_a_player_failure_does_not_stop_the_announcer(tone_dir: Path) -> None:
    class Broken:
        def __init__(self) -> None:
            self.calls = 0

        def play(self, wav: bytes) -> None:
            self.calls += 1
            if self.calls == 1:
                raise OSError("no sound card")

    player = Broken()
    with Announcer(ClipBank.load(tone_dir), player, repeat=1) as ann:
        ann(Call("A001", 1, 1))
        ann(Call("A002", 2, 1))
        assert ann.wait_idle(10)
    assert (ann.stats.failed, ann.stats.played) == (1, 1)


# --- quiet hours --------------------------------------------------------------------------


def test_quiet_hours_give_no_sound_but_the_call_is_shown(tone_dir: Path, tmp_path: Path) -> None:
    player = WavFilePlayer(tmp_path / "out")
    now = [time(12, 30)]
    with Announcer(ClipBank.load(tone_dir), player, quiet_hours=[(time(12), time(13, 30))],
                   clock=lambda: now[0]) as ann:
        screen = MainScreen(ann)
        at = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)
        for seq in (1, 2):
            screen.on_state(WindowState(window=3, name="3号窗口", status="serving",
                                        serving=f"A00{seq}", call_seq=seq, updated_at=at), True)
        assert ann.wait_idle(10)
        assert [c.text for c in screen.recent] == ["请A002号到3号窗口办理"]
        assert player.files == []
        assert ann.stats.quiet == 1
        now[0] = time(13, 30)  # the end is not quiet any more
        ann(Call("A003", 3, 3))
        assert ann.wait_idle(10)
    assert len(player.files) == 1


def test_quiet_hours_may_pass_midnight() -> None:
    night = [(time(22), time(7))]
    assert in_quiet_hours(time(23, 59), night)
    assert in_quiet_hours(time(6, 59), night)
    assert not in_quiet_hours(time(7), night)
    assert not in_quiet_hours(time(12), night)


# --- settings and players -----------------------------------------------------------------


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HALLQ_DISPLAY_DEVICE_ID", "screen-1")
    monkeypatch.setenv("HALLQ_DISPLAY_QUIET_HOURS", '[["12:00", "13:30"]]')
    monkeypatch.setenv("HALLQ_DISPLAY_PLAYER", "file")
    monkeypatch.setenv("HALLQ_DISPLAY_DATA_DIR", str(tmp_path))
    s = DisplaySettings()
    assert s.quiet_hours == ((time(12), time(13, 30)),)
    player = make_player(s)
    assert isinstance(player, WavFilePlayer)
    assert player.folder == tmp_path / "announcements"
    with pytest.raises(ValueError):
        DisplaySettings(device_id="screen-1", quiet_hours=((time(12), time(12)),))
    with pytest.raises(ValueError):
        DisplaySettings(device_id="screen-1", volume=3.0)


def test_announcer_from_settings(tone_dir: Path, tmp_path: Path) -> None:
    s = DisplaySettings(device_id="screen-1", clips_dir=tone_dir, player="file",
                        wav_dir=tmp_path / "wavs", repeat=3, chime=False, volume=0.5)
    with Announcer.from_settings(s) as ann:
        ann(A005)
        assert ann.wait_idle(10)
    [path] = WavFilePlayer(tmp_path / "wavs").files
    assert said_clips(path.read_bytes()) == call_clips("A005", 3) * 3


def test_wav_file_player_numbers_files_and_goes_on_after_a_restart(tmp_path: Path) -> None:
    WavFilePlayer(tmp_path).play(b"one")
    player = WavFilePlayer(tmp_path)
    player.play(b"two")
    assert [p.name for p in player.files] == ["0001.wav", "0002.wav"]


def test_aplay_player_pipes_the_wav_to_aplay(tmp_path: Path) -> None:
    fake = tmp_path / "aplay"
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\ncat > {tmp_path}/played\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    AplayPlayer(device="plughw:1,0", executable=str(fake)).play(b"RIFF....")
    assert (tmp_path / "args").read_text().split() == ["-q", "-D", "plughw:1,0", "-"]
    assert (tmp_path / "played").read_bytes() == b"RIFF...."
    failing = tmp_path / "failing"
    failing.write_text("#!/bin/sh\necho 'no such device' >&2\nexit 1\n")
    failing.chmod(failing.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(OSError, match="no such device"):
        AplayPlayer(executable=str(failing)).play(b"")
