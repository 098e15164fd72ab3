"""Where the kiosk's camera frames come from: the Pi's camera, or image files.

A frame is a grey PIL image (mode "L"): all a QR decoder needs, and the camera gives
it for free (the Y plane of YUV420). `Picamera2Source` runs only on the Pi and imports
picamera2 when it is built, so nothing else needs the Pi's libcamera bindings;
`ImageFolderSource` feeds files to tests, benchmarks and the demo.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from PIL import Image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".pgm")


class FrameSource(Protocol):
    """Gives the camera's frames one at a time."""

    def read(self) -> Image.Image | None:
        """The next frame, grey; None when there will be no more (a folder run out)."""
        ...

    def close(self) -> None:
        """Let the camera go."""
        ...


class Picamera2Source:
    """The Pi's camera through picamera2, 640×480, as the Y (grey) plane of YUV420 frames.

    `fps` caps the frame rate: each frame costs a decode, and the kiosk's screen needs
    the CPU too; 15 a second still reads a code the moment it is held up.
    """

    def __init__(self, size: tuple[int, int] = (640, 480), camera: int = 0,
                 fps: float = 15.0) -> None:
        from picamera2 import Picamera2  # type: ignore[import-not-found]  # Pi only (apt)

        self.size = size
        self._camera: Any = Picamera2(camera)
        config = self._camera.create_preview_configuration(
            main={"size": size, "format": "YUV420"}, buffer_count=4,
            controls={"FrameRate": fps})
        self._camera.configure(config)
        self._camera.start()
        log.info("camera %s started at %dx%d, %s fps", camera, *size, fps)

    def read(self) -> Image.Image | None:
        """The newest frame: blocks until the camera has one (about 30 a second)."""
        width, height = self.size
        yuv = self._camera.capture_array("main")  # (height * 3/2, stride) uint8, Y plane first
        return Image.fromarray(yuv[:height, :width]) if yuv is not None else None  # uint8: "L"

    def close(self) -> None:
        self._camera.stop()
        self._camera.close()


class ImageFolderSource:
    """Frames from image files (a folder, in name order, or a list), each converted to grey.

    `loop` starts again after the last; `fps` paces them like a camera (0: as fast as read).
    """

    def __init__(self, images: Path | Sequence[Path | Image.Image], *, loop: bool = False,
                 fps: float = 0.0) -> None:
        if isinstance(images, Path):
            images = sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        self._frames: list[Path | Image.Image] = list(images)
        self.loop = loop
        self._interval = 1.0 / fps if fps > 0 else 0.0
        self._next = 0
        self._due = 0.0

    def __len__(self) -> int:
        return len(self._frames)

    def read(self) -> Image.Image | None:
        """The next image, grey; None after the last unless looping (or if there are none)."""
        if not self._frames or (self._next >= len(self._frames) and not self.loop):
            return None
        if self._interval:
            wait = self._due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._due = max(self._due, time.monotonic()) + self._interval
        frame = self._frames[self._next % len(self._frames)]
        self._next += 1
        if isinstance(frame, Image.Image):
            return grey(frame)
        with Image.open(frame) as image:  # read now, so the file is closed at once
            return image.convert("L")

    def close(self) -> None:
        self._next = len(self._frames)
        self.loop = False


def grey(image: Image.Image) -> Image.Image:
    """The image in 8-bit grey, as the decoder takes it (no copy when it already is)."""
    return image if image.mode == "L" else image.convert("L")
