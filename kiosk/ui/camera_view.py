"""The camera's picture on the check-in page, so a citizen can aim the code at it.

Frames come from the scanner's thread; the newest is kept and drawn on the UI thread at
most SHOW_FPS times a second (the scanner decodes every frame regardless).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.uix.image import Image as KivyImage

if TYPE_CHECKING:
    from PIL import Image

SHOW_FPS = 10.0


class CameraView(KivyImage):
    """Shows the newest grey frame; `show()` may be called from any thread."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(fit_mode="contain", **kwargs)
        self._lock = threading.Lock()
        self._frame: Image.Image | None = None
        self._texture: Texture | None = None
        self.frames_shown = 0
        Clock.schedule_interval(self._draw, 1 / SHOW_FPS)

    def show(self, frame: Image.Image) -> None:
        """Keep the newest frame (the scanner's thread calls this for every frame)."""
        with self._lock:
            self._frame = frame

    def _draw(self, _dt: float) -> None:
        with self._lock:
            frame, self._frame = self._frame, None
        if frame is None or self.get_root_window() is None:
            return  # nothing new, or the check-in page is not on the screen
        grey = frame.convert("L")
        texture = self._texture
        if texture is None or tuple(texture.size) != grey.size:
            texture = self._texture = Texture.create(size=grey.size, colorfmt="luminance")
            texture.flip_vertical()  # PIL's rows go top down, GL's bottom up
        texture.blit_buffer(grey.tobytes(), colorfmt="luminance", bufferfmt="ubyte")
        self.texture = texture
        self.canvas.ask_update()
        self.frames_shown += 1
