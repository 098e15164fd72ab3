"""Announcement assembly: a call → its whole WAV (chime, the call twice) ready to play.

    .venv/bin/python bench/announce.py [--calls 1000] [--repeat 2]

Clips made with espeak-ng as at install (the display extra's `espeakng-loader`), or
300 ms synthetic tones when it is not installed. Times
`Announcer.render()` for random tickets (A–Z, 3 digits) and windows 1–30; also the
one-off costs: making the clips and loading them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from caller_display.adapters.audio import SilentPlayer  # noqa: E402
from caller_display.announcer import Announcer  # noqa: E402
from caller_display.main_screen import Call  # noqa: E402
from caller_display.voice_clips import (  # noqa: E402
    CHANNELS,
    CLIP_TEXT,
    RATE,
    WIDTH,
    ClipBank,
    chime_frames,
    generate_clips,
    wav_bytes,
)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of the values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def make_clips(folder: Path) -> str:
    """Make the clips in `folder`: espeak-ng if installed, else synthetic; say which."""
    try:
        generate_clips(folder)
        return "espeak-ng"
    except ImportError:
        for i, name in enumerate(CLIP_TEXT):  # 300 ms tones, a clip's usual length
            frames = chime_frames((220.0 + 40 * i,), tone_ms=300)
            (folder / f"{name}.wav").write_bytes(wav_bytes(frames))
        return "synthetic tones (espeakng-loader not installed)"


def main() -> None:
    """Print assembly time p50/p99 over --calls calls."""
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args()
    rng = random.Random(6)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        kind = make_clips(folder)
        t1 = time.perf_counter()
        clips = ClipBank.load(folder, volume=0.8)
        t2 = time.perf_counter()
        ann = Announcer(clips, SilentPlayer(), repeat=args.repeat, chime=True)
        took: list[float] = []
        seconds: list[float] = []
        try:
            for _ in range(args.calls):
                call = Call(f"{rng.choice('ABCDEFGH')}{rng.randrange(1000):03d}",
                            rng.randint(1, 30), 1)
                start = time.perf_counter()
                wav = ann.render(call)
                took.append((time.perf_counter() - start) * 1000)
                seconds.append((len(wav) - 44) / (RATE * WIDTH * CHANNELS))
        finally:
            ann.close()
    print(f"clips: {kind}; made in {(t1 - t0) * 1000:.0f} ms, loaded in "
          f"{(t2 - t1) * 1000:.0f} ms (volume 0.8)")
    print(f"announcement assembly, {args.calls} calls (chime + call x{args.repeat}, "
          f"{statistics.median(seconds):.1f} s of sound, "
          f"{statistics.median(seconds) * RATE * WIDTH / 1024:.0f} KiB): "
          f"p50 {percentile(took, 0.5):.3f} ms, p99 {percentile(took, 0.99):.3f} ms, "
          f"max {max(took):.3f} ms")


if __name__ == "__main__":
    main()
