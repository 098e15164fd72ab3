"""Camera frames made up: a QR code on a 640×480 grey picture, tilted, blurred or noisy.

What the Pi's camera would see when a phone is held to it, for tests, benchmarks and
the demo (fed through `ImageFolderSource`). Deterministic: the same arguments give the
same pixels.
"""

from __future__ import annotations

import random

import qrcode
from PIL import Image, ImageChops, ImageFilter

FRAME = (640, 480)
BACKGROUND = 110  # a counter top in a hall, grey


_ERROR_CORRECTION = {"L": qrcode.constants.ERROR_CORRECT_L, "M": qrcode.constants.ERROR_CORRECT_M,
                     "Q": qrcode.constants.ERROR_CORRECT_Q, "H": qrcode.constants.ERROR_CORRECT_H}


def qr_image(text: str, size: int, error: str = "L") -> Image.Image:
    """The QR code of `text` (4-module quiet zone), `size` px square, grey.

    Error correction L by default, as a phone screen shows an appointment: a screen is
    clean, and the code stays one QR version smaller than with M.
    """
    qr = qrcode.QRCode(error_correction=_ERROR_CORRECTION[error], box_size=8, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    image: Image.Image = qr.make_image(fill_color="black", back_color="white").get_image()
    return image.convert("L").resize((size, size), Image.Resampling.BILINEAR)


def qr_frame(text: str, size: int = 240, *, angle: float = 0.0, blur: float = 0.0,
             noise: int = 0, seed: int = 0, error: str = "L",
             frame: tuple[int, int] = FRAME) -> Image.Image:
    """A grey camera frame with the code `size` px wide in the middle.

    `angle`: degrees the phone is turned; `blur`: Gaussian radius in px (out of focus,
    moving); `noise`: amplitude of uniform sensor noise (0-127) added to every pixel.
    """
    code = qr_image(text, size, error)
    if angle:
        code = code.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True,
                           fillcolor=BACKGROUND)
    picture = Image.new("L", frame, BACKGROUND)
    picture.paste(code, ((frame[0] - code.width) // 2, (frame[1] - code.height) // 2))
    if blur:
        picture = picture.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        raw = Image.frombytes("L", frame, random.Random(seed).randbytes(frame[0] * frame[1]))
        grain = raw.point(lambda v: 128 + (v - 128) * noise // 128)
        picture = ImageChops.add(picture, grain, scale=1.0, offset=-128)
    return picture


def empty_frame(frame: tuple[int, int] = FRAME) -> Image.Image:
    """A frame with no code in it: the phone taken away."""
    return Image.new("L", frame, BACKGROUND)
