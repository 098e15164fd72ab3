"""The main screen's spoken calls, from pre-rendered clips joined with `wave`.

A call "请A005号到3号窗口办理" is spoken as the clips
请 · A · 零 · 零 · 五 · 号 · 到 · 三 · 号窗口办理: ticket numbers digit by digit (that is how
they are printed and how citizens read them), window numbers as Chinese numbers
(3 → 三, 13 → 十三, 20 → 二十), as halls say them. The clips are generated once at
install with espeak-ng 1.52 (the `espeakng-loader` wheel; Debian's 1.51 reads Chinese
characters as English pinyin) into a folder:

    python -m caller_display.voice_clips --out var/voice

A hall may record its own: a folder of WAVs with the same names overrides the generated
ones clip by clip. Every clip is converted to one format (FORMAT) when it is loaded, so
joining is only concatenating frames.
"""

from __future__ import annotations

import argparse
import array
import ctypes
import io
import logging
import math
import sys
import threading
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

RATE = 22050  # espeak-ng's own rate: its clips need no resampling
WIDTH = 2  # bytes per sample, signed 16-bit little-endian
CHANNELS = 1

DIGITS = "零一二三四五六七八九"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
CHIME = "chime"

# Clip name (the WAV file's stem) → what it says. ASCII names, so a hall's recordings can
# be copied onto any USB stick and named without a Chinese keyboard.
CLIP_TEXT: dict[str, str] = {
    "qing": "请",
    "hao": "号",
    "dao": "到",
    "shi": "十",
    "hao_chuangkou_banli": "号窗口办理",
    **{str(d): DIGITS[d] for d in range(10)},
    **{c: c for c in LETTERS},
}
CLIP_NAMES: tuple[str, ...] = (*CLIP_TEXT, CHIME)


def ticket_clips(number: str) -> list[str]:
    """Clips for a ticket number, read character by character: A005 → A 零 零 五."""
    unknown = [c for c in number.upper() if c not in CLIP_TEXT]
    if unknown:
        raise ValueError(f"no clip for {unknown!r} in ticket number {number!r}")
    return list(number.upper())


def window_clips(window: int) -> list[str]:
    """Clips for a window number as halls say it: 3 → 三, 10 → 十, 13 → 十三, 23 → 二十三."""
    if window < 0:
        raise ValueError(f"window number {window} is negative")
    if window < 10:
        return [str(window)]
    if window < 100:
        tens, units = divmod(window, 10)
        head = ["shi"] if tens == 1 else [str(tens), "shi"]
        return head + ([str(units)] if units else [])
    return list(str(window))  # 101 → 一零一, read like a room number


def call_clips(number: str, window: int) -> list[str]:
    """Clips for the whole call 请A005号到3号窗口办理, in order."""
    return ["qing", *ticket_clips(number), "hao", "dao", *window_clips(window),
            "hao_chuangkou_banli"]


def spoken_text(clips: Iterable[str]) -> str:
    """What a list of clips says, for logs and tests: 请A零零五号到三号窗口办理."""
    return "".join(CLIP_TEXT.get(c, f"<{c}>") for c in clips)


# --- frames: signed 16-bit mono at RATE ------------------------------------------------


def silence(ms: int) -> bytes:
    """Silent frames lasting `ms` milliseconds."""
    return bytes(RATE * ms // 1000 * WIDTH * CHANNELS)


def _samples(frames: bytes) -> array.array[int]:
    a = array.array("h", frames)
    if sys.byteorder == "big":
        a.byteswap()
    return a


def _frames(samples: array.array[int]) -> bytes:
    if sys.byteorder == "big":
        samples = array.array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def scale(frames: bytes, factor: float) -> bytes:
    """The frames `factor` times louder (or quieter), clipped to 16 bits."""
    if factor == 1.0:
        return frames
    out = array.array("h", (max(-32768, min(32767, round(s * factor)))
                            for s in _samples(frames)))
    return _frames(out)


def trim(frames: bytes, threshold: int = 300, keep_ms: int = 10) -> bytes:
    """The frames without the near-silence a synthesizer leaves at both ends."""
    s = _samples(frames)
    loud = [i for i, v in enumerate(s) if abs(v) > threshold]
    if not loud:
        return b""
    keep = RATE * keep_ms // 1000
    return _frames(s[max(0, loud[0] - keep):min(len(s), loud[-1] + keep + 1)])


def normalize(frames: bytes, peak: int = 26000) -> bytes:
    """The frames scaled so their loudest sample is `peak` (clips alike in loudness)."""
    s = _samples(frames)
    top = max((abs(v) for v in s), default=0)
    return scale(frames, peak / top) if top else frames


def wav_bytes(frames: bytes) -> bytes:
    """A whole WAV file (FORMAT) holding the frames."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(CHANNELS)
        w.setsampwidth(WIDTH)
        w.setframerate(RATE)
        w.writeframes(frames)
    return buf.getvalue()


def read_wav(source: Path | bytes) -> bytes:
    """The frames of any PCM WAV (8/16/24/32-bit, mono or more, any rate) in FORMAT."""
    f = io.BytesIO(source) if isinstance(source, bytes) else str(source)
    with wave.open(f, "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        raw: bytes = w.readframes(w.getnframes())
    if (width, channels, rate) == (WIDTH, CHANNELS, RATE):
        return raw
    # To 16-bit: 8-bit WAV is unsigned, wider ones signed; keep the top two bytes.
    if width == 1:
        mono16 = [(b - 128) << 8 for b in raw]
    else:
        mono16 = [int.from_bytes(raw[i + width - 2:i + width], "little", signed=True)
                  for i in range(0, len(raw), width)]
    if channels > 1:  # mix down
        mono16 = [sum(mono16[i:i + channels]) // channels
                  for i in range(0, len(mono16) - channels + 1, channels)]
    if rate != RATE and mono16:  # linear interpolation is plenty for speech clips
        n = max(1, round(len(mono16) * RATE / rate))
        step = (len(mono16) - 1) / max(1, n - 1)
        last = len(mono16) - 1
        out = []
        for i in range(n):
            x = i * step
            j = int(x)
            k = min(j + 1, last)
            out.append(round(mono16[j] + (mono16[k] - mono16[j]) * (x - j)))
        mono16 = out
    return _frames(array.array("h", mono16))


def chime_frames(tones: Sequence[float] = (659.25, 523.25), tone_ms: int = 420) -> bytes:
    """A two-tone 叮咚 chime (E5 then C5), each tone struck and fading, made with math."""
    out = array.array("h")
    n = RATE * tone_ms // 1000
    attack = RATE * 5 // 1000  # 5 ms: no click
    for freq in tones:
        for i in range(n):
            t = i / RATE
            env = min(1.0, i / attack) * math.exp(-3.5 * t / (tone_ms / 1000))
            v = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
            out.append(round(20000 * env * v / 1.3))
    return _frames(out)


# --- the clips of one hall --------------------------------------------------------------


@dataclass(frozen=True)
class ClipBank:
    """Every clip's frames in FORMAT, the volume already applied."""

    clips: dict[str, bytes]

    @classmethod
    def load(cls, generated: Path | None, recorded: Path | None = None,
             volume: float = 1.0) -> ClipBank:
        """Load the clips: a hall's recording where there is one, else the generated one."""
        clips: dict[str, bytes] = {}
        missing = []
        for name in CLIP_NAMES:
            for folder in (recorded, generated):
                path = None if folder is None else folder / f"{name}.wav"
                if path is not None and path.is_file():
                    try:
                        clips[name] = read_wav(path)
                    except (wave.Error, EOFError) as e:  # e.g. float samples, cut short
                        raise ValueError(f"{path}: not an integer PCM WAV: {e}") from e
                    if folder == recorded:
                        log.info("voice clip %s: the hall's recording", name)
                    break
            else:
                if name == CHIME:
                    clips[name] = chime_frames()
                else:
                    missing.append(name)
        if missing:
            raise FileNotFoundError(
                f"voice clips missing in {generated}: {', '.join(missing)}; make them with "
                f"`python -m caller_display.voice_clips --out {generated}`")
        return cls({name: scale(frames, volume) for name, frames in clips.items()})

    def join(self, names: Iterable[str], gap_ms: int = 40) -> bytes:
        """The clips' frames one after another, `gap_ms` of silence between two."""
        return silence(gap_ms).join(self.clips[n] for n in names)


# --- generation with espeak-ng (install time) -------------------------------------------


# espeak-ng keeps one state per process: it is initialized once, and one synthesis runs at
# a time (initializing it again in a process that had used it crashed it).
_ESPEAK_LOCK = threading.Lock()
_espeak: ctypes.CDLL | None = None
_espeak_voice: tuple[str, int] | None = None  # the voice and speed set now


def _espeak_library() -> ctypes.CDLL:
    """The process's espeak-ng, initialized on first use; call it holding _ESPEAK_LOCK."""
    global _espeak
    if _espeak is None:
        import espeakng_loader  # type: ignore[import-untyped]  # the display extra

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = str(espeakng_loader.get_data_path()).encode()
        lib.espeak_Initialize.restype = ctypes.c_int
        rate = lib.espeak_Initialize(2, 0, data, 0)  # 2: AUDIO_OUTPUT_SYNCHRONOUS
        if rate != RATE:
            raise RuntimeError(f"espeak-ng speaks at {rate} Hz, expected {RATE}")
        _espeak = lib
    return _espeak


class EspeakSynth:
    """espeak-ng 1.52 from the `espeakng-loader` wheel, through its C API (ctypes). Any
    number of them, on any thread: they share the process's one espeak-ng, in turn."""

    _CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                 ctypes.c_void_p)

    def __init__(self, voice: str = "cmn", speed: int = 150) -> None:
        self.voice, self.speed = voice, speed
        with _ESPEAK_LOCK:
            self._lib = _espeak_library()
            self._use_voice()
        self._buf = bytearray()
        self._callback = self._CALLBACK(self._collect)  # kept: C holds the pointer

    def _use_voice(self) -> None:
        global _espeak_voice
        if _espeak_voice == (self.voice, self.speed):
            return
        _espeak_voice = None
        if self._lib.espeak_SetVoiceByName(self.voice.encode()) != 0:
            raise RuntimeError(f"espeak-ng has no voice {self.voice!r}")
        self._lib.espeak_SetParameter(1, self.speed, 0)  # 1: espeakRATE, words per minute
        _espeak_voice = (self.voice, self.speed)

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], n: int, _events: int) -> int:
        if n > 0:
            self._buf.extend(ctypes.string_at(wav, n * WIDTH))
        return 0

    def speak(self, text: str) -> bytes:
        """The frames of `text` spoken, 16-bit mono at RATE."""
        with _ESPEAK_LOCK:
            self._use_voice()
            self._lib.espeak_SetSynthCallback(self._callback)
            self._buf.clear()
            data = text.encode()
            # position 0, POS_CHARACTER, no end, espeakCHARS_UTF8
            err = self._lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, 1, None, None)
            if err != 0:
                raise RuntimeError(f"espeak-ng failed ({err}) on {text!r}")
            self._lib.espeak_Synchronize()
            return bytes(self._buf)


def generate_clips(out: Path, synth: EspeakSynth | None = None) -> list[Path]:
    """Write every clip (and the chime) as a WAV in `out`, trimmed and alike in loudness."""
    synth = synth or EspeakSynth()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in CLIP_TEXT.items():
        frames = normalize(trim(synth.speak(text)))
        if not frames:
            raise RuntimeError(f"espeak-ng said nothing for {text!r}")
        path = out / f"{name}.wav"
        path.write_bytes(wav_bytes(frames))
        written.append(path)
    path = out / f"{CHIME}.wav"
    path.write_bytes(wav_bytes(chime_frames()))
    written.append(path)
    return written


def ensure_clips(folder: Path) -> bool:
    """Make the clips in `folder` if any is missing and espeak-ng is installed; True if made."""
    if all((folder / f"{name}.wav").is_file() for name in CLIP_TEXT):
        return False
    try:
        generate_clips(folder)
    except ImportError:
        log.warning("voice clips missing in %s and espeakng-loader not installed", folder)
        return False
    log.info("voice clips made in %s", folder)
    return True


def main(argv: Sequence[str] | None = None) -> None:
    """Generate the clips: python -m caller_display.voice_clips --out DIR."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--out", type=Path, required=True, help="folder for the WAV clips")
    p.add_argument("--speed", type=int, default=150, help="words per minute (espeak-ng)")
    args = p.parse_args(argv)
    paths = generate_clips(args.out, EspeakSynth(speed=args.speed))
    print(f"{len(paths)} clips in {args.out}")


if __name__ == "__main__":
    main()
