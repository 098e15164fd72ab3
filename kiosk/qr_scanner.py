"""The kiosk's QR scanner: camera frames in, each code held up reported once.

A citizen holds the phone to the camera for a second or two: thirty frames show the
same code. `SeenCodes` reports it once, and again only after it has been out of view
for `forget_after` seconds (the phone taken away and shown again) or held there for
`repeat_after` seconds. `QrScanner` runs the loop on its own thread and calls
`on_code(text)` there; a screen moves that to its own thread. The text is whatever the
code says: the hub tells an appointment from anything else.

QR only (`ZBarSymbol.QRCODE`): 3-4× faster than letting zbar try every symbology, and
no barcode on a leaflet is read by mistake. A phone held close to a fixed-focus camera
is a little out of focus: when a frame gives nothing, every `sharpen_every`-th such frame
is decoded once more after an unsharp mask, which reads most codes blurred by half a
module that zbar alone misses (docs/benchmarks.md), for one more decode's time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PIL import Image, ImageFilter
from pyzbar.pyzbar import ZBarSymbol  # type: ignore[import-untyped]
from pyzbar.pyzbar import decode as zbar_decode

from kiosk.adapters.camera import FrameSource, grey

log = logging.getLogger(__name__)

FORGET_AFTER_S = 1.5  # out of view this long: shown again, reported again
REPEAT_AFTER_S = 10.0  # held in view this long: reported again (the screen may ask again)
SHARPEN_EVERY = 2  # of the frames where nothing was found, this one in N is tried sharpened
_SHARPEN = ImageFilter.UnsharpMask(radius=1.5, percent=250, threshold=0)


def decode_qr(frame: Image.Image, *, sharpen: bool = False) -> list[str]:
    """The texts of the QR codes in a frame, in the order zbar finds them.

    `sharpen` decodes an unsharp-masked copy instead (a code a little out of focus).
    """
    image = grey(frame)
    if sharpen:
        image = image.filter(_SHARPEN)
    found = zbar_decode(image, symbols=[ZBarSymbol.QRCODE])
    texts = (bytes(symbol.data).decode("utf-8", errors="replace") for symbol in found)
    return [text for text in texts if text.strip()]  # an empty code says nothing


@dataclass
class _Sighting:
    reported_at: float
    last_seen: float


class SeenCodes:
    """Which codes are new: each once while it stays in view (times in seconds, monotonic)."""

    def __init__(self, forget_after: float = FORGET_AFTER_S,
                 repeat_after: float = REPEAT_AFTER_S) -> None:
        self.forget_after = forget_after
        self.repeat_after = repeat_after
        self._seen: dict[str, _Sighting] = {}

    def new(self, codes: Iterable[str], now: float) -> list[str]:
        """The codes of one frame that should be reported now."""
        fresh: list[str] = []
        for code in dict.fromkeys(codes):  # a code twice in one frame is one code
            seen = self._seen.get(code)
            if (seen is None or now - seen.last_seen > self.forget_after
                    or now - seen.reported_at >= self.repeat_after):
                self._seen[code] = _Sighting(now, now)
                fresh.append(code)
            else:
                seen.last_seen = now
        for code in [c for c, s in self._seen.items() if now - s.last_seen > self.forget_after]:
            del self._seen[code]  # out of view long enough: forgotten
        return fresh

    def still_in_view(self, code: str, now: float) -> None:
        """Count `code` as seen at `now` (time spent handling it is not time out of view)."""
        seen = self._seen.get(code)
        if seen is not None:
            seen.last_seen = max(seen.last_seen, now)


class QrScanner:
    """Reads frames from a source on its own thread and calls `on_code` with each new code."""

    def __init__(self, source: FrameSource, on_code: Callable[[str], None], *,
                 on_frame: Callable[[Image.Image], None] | None = None,
                 forget_after: float = FORGET_AFTER_S, repeat_after: float = REPEAT_AFTER_S,
                 sharpen_every: int = SHARPEN_EVERY,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.source = source
        self.on_code = on_code
        self.on_frame = on_frame  # the screen's picture of the camera, if any
        self.seen = SeenCodes(forget_after, repeat_after)
        self.sharpen_every = sharpen_every  # 0: never
        self.clock = clock
        self.frames = 0  # frames read so far
        self._empty = 0  # frames in a row with no code
        self.codes = 0  # codes reported so far
        self.finished = threading.Event()  # the source ran out, or the scanner stopped
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="qr-scanner")

    def scan(self, frame: Image.Image) -> list[str]:
        """The new codes of one frame (decoded, then de-duplicated)."""
        self.frames += 1
        codes = decode_qr(frame)
        if codes:
            self._empty = 0
        else:
            self._empty += 1
            if self.sharpen_every and self._empty % self.sharpen_every == 0:
                codes = decode_qr(frame, sharpen=True)
        return self.seen.new(codes, self.clock())

    def start(self) -> None:
        """Scan in the background until `stop()` or the source runs out."""
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop scanning and let the camera go."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.source.close()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self.source.read()
                if frame is None:
                    break
                if self.on_frame is not None:
                    self.on_frame(frame)
                for code in self.scan(frame):
                    self.codes += 1
                    try:
                        self.on_code(code)
                    except Exception:  # a failing screen must not stop the camera
                        log.exception("handling a scanned code failed")
                    self.seen.still_in_view(code, self.clock())
        except Exception:
            log.exception("the camera failed; scanning stopped")
        finally:
            self.finished.set()
