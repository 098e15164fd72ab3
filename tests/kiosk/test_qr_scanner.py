"""The kiosk's QR scanner on real images: what zbar reads in a 640×480 frame, and each code
held up reported once.

Frames are made with the `qrcode` package (kiosk/adapters/qr_frames.py) and written to
PNG files, read back by `ImageFolderSource` as the camera would give them. The code is
a real appointment code signed with a fixed key, so the pixels are the same every run.
"""

from __future__ import annotations

import sys
import threading
from datetime import date, time
from pathlib import Path
from time import sleep

import pytest
from PIL import Image

from hub.appointment_codes import AppointmentCode, sign
from kiosk.adapters.camera import ImageFolderSource, Picamera2Source
from kiosk.adapters.qr_frames import FRAME, empty_frame, qr_frame, qr_image
from kiosk.qr_scanner import QrScanner, SeenCodes, decode_qr

CODE = sign(bytes(range(32)), AppointmentCode("county-hall", "Xq3v9Jk2", "GA_HJQY",
                                              date(2026, 11, 25), time(9), time(9, 30)))
TICKET = "HALLQ:T:county-hall:2026-11-24:A005:17"


def saved(image: Image.Image, folder: Path, name: str) -> Path:
    """Through a real file, as frames from the demo folder come."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    image.save(path)
    return path


# (size px, angle °, blur radius px, noise amplitude): a phone at arm's length is ~120 px
# wide in the frame; 400 px rotated would not fit in 480 px, so big codes turn less.
READABLE = [
    (120, 0, 0, 0), (240, 0, 0, 0), (400, 0, 0, 0),
    (120, 10, 0, 0), (120, 30, 0, 0), (120, 45, 0, 0),
    (240, 10, 0, 0), (240, 30, 0, 0), (240, 45, 0, 0),
    (400, 10, 0, 0), (320, 45, 0, 0),
    (120, 0, 0, 20), (120, 45, 0, 20), (240, 30, 0, 20), (240, 45, 0, 10),
    (120, 0, 0.8, 0), (120, 10, 0.8, 0),
    (240, 0, 1.2, 0), (240, 45, 1.2, 0), (240, 10, 1.0, 15), (240, 30, 0.8, 20),
]


@pytest.mark.parametrize(("size", "angle", "blur", "noise"), READABLE,
                         ids=lambda v: str(v))
def test_codes_are_read_in_a_camera_frame(tmp_path: Path, size: int, angle: float,
                                          blur: float, noise: int) -> None:
    frame = qr_frame(CODE, size, angle=angle, blur=blur, noise=noise, seed=size + int(angle))
    path = saved(frame, tmp_path / "frames", "f")
    source = ImageFolderSource([path])
    read = source.read()
    assert read is not None and read.size == FRAME and read.mode == "L"
    assert decode_qr(read) == [CODE]


@pytest.mark.parametrize("angle", [0, 10, 30])
def test_a_small_code_out_of_focus_is_read_sharpened(angle: int) -> None:
    """At 120 px a blur of half a module defeats zbar; an unsharp mask brings it back."""
    frame = qr_frame(CODE, 120, angle=angle, blur=1.2)
    assert decode_qr(frame) == []
    assert decode_qr(frame, sharpen=True) == [CODE]
    reports: list[str] = []
    scanner = QrScanner(ImageFolderSource([frame] * 2), reports.append)  # the 2nd is sharpened
    scanner.start()
    assert scanner.finished.wait(10)
    assert reports == [CODE]
    never: list[str] = []
    scanner = QrScanner(ImageFolderSource([frame] * 4), never.append, sharpen_every=0)
    scanner.start()
    assert scanner.finished.wait(10)
    assert never == []


def test_a_code_too_blurred_is_not_read_rather_than_misread() -> None:
    frame = qr_frame(CODE, 120, blur=1.6)
    assert decode_qr(frame) == [] and decode_qr(frame, sharpen=True) == []


def test_any_qr_text_is_read_the_hub_decides() -> None:
    assert decode_qr(qr_frame(TICKET, 200)) == [TICKET]
    assert decode_qr(qr_frame("http://192.168.1.10:8080/t/abc", 200)) == [
        "http://192.168.1.10:8080/t/abc"]
    assert decode_qr(empty_frame()) == []


def test_two_codes_in_one_frame_are_both_read() -> None:
    frame = empty_frame()
    frame.paste(qr_image(CODE, 220), (20, 130))
    frame.paste(qr_image(TICKET, 200), (420, 140))
    assert sorted(decode_qr(frame)) == sorted([CODE, TICKET])


def test_a_colour_frame_is_read_too() -> None:
    assert decode_qr(qr_frame(CODE, 240).convert("RGB")) == [CODE]


# ---------------------------------------------------------------- once per showing


def test_a_code_in_view_is_reported_once_until_it_leaves_or_a_while_passes() -> None:
    seen = SeenCodes(forget_after=1.5, repeat_after=10.0)
    assert seen.new([CODE], 0.0) == [CODE]
    assert all(seen.new([CODE], t / 30) == [] for t in range(1, 90)), "held up for 3 s"
    assert seen.new([], 3.5) == [] and seen.new([CODE], 4.0) == []  # a frame or two missed
    assert seen.new([CODE], 5.6) == [CODE], "gone for 1.6 s: shown again"
    assert all(seen.new([CODE], 5.6 + t / 10) == [] for t in range(1, 100))
    assert seen.new([CODE], 15.6) == [CODE], "held there 10 s: reported again"
    assert seen.new([CODE, TICKET, CODE], 15.7) == [TICKET]


def test_ten_frames_of_one_code_make_one_report(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    for i in range(10):
        saved(qr_frame(CODE, 240, angle=i * 3, noise=10, seed=i), folder, f"{i:02d}")
    reports: list[str] = []
    scanner = QrScanner(ImageFolderSource(folder), reports.append)
    scanner.start()
    assert scanner.finished.wait(10)
    scanner.stop()
    assert scanner.frames == 10 and reports == [CODE]


def test_shown_again_after_leaving_the_view_is_reported_again() -> None:
    frames = [qr_frame(CODE, 240)] * 3 + [empty_frame()] * 3 + [qr_frame(CODE, 240)] * 3
    now = iter(float(i) for i in range(100))  # one second a frame: three away is "gone"
    reports: list[str] = []
    scanner = QrScanner(ImageFolderSource(frames), reports.append, forget_after=1.5,
                        clock=lambda: next(now))
    scanner.start()
    assert scanner.finished.wait(10)
    assert reports == [CODE, CODE]


def test_a_slow_handler_does_not_make_the_code_new_again() -> None:
    """While the hub answers (the callback blocks), the code is still in front of the camera."""
    calls: list[str] = []

    def slow(code: str) -> None:
        calls.append(code)
        sleep(0.5)

    scanner = QrScanner(ImageFolderSource([qr_frame(CODE, 240)] * 4), slow, forget_after=0.2)
    scanner.start()
    assert scanner.finished.wait(10)
    assert calls == [CODE]


def test_a_failing_handler_does_not_stop_the_scanner() -> None:
    got: list[str] = []

    def flaky(code: str) -> None:
        got.append(code)
        if len(got) == 1:
            raise RuntimeError("screen busy")

    frames = [qr_frame(CODE, 240), empty_frame(), qr_frame(TICKET, 240)]
    scanner = QrScanner(ImageFolderSource(frames), flaky)
    scanner.start()
    assert scanner.finished.wait(10)
    assert got == [CODE, TICKET]


def test_a_looping_source_scans_until_stopped() -> None:
    reports = threading.Event()
    source = ImageFolderSource([qr_frame(CODE, 240), empty_frame()], loop=True, fps=200)
    scanner = QrScanner(source, lambda code: reports.set())
    scanner.start()
    assert reports.wait(5)
    scanner.stop()
    assert scanner.finished.wait(5)
    assert scanner.frames >= 1 and source.read() is None, "the camera was let go"


def test_the_pi_camera_is_imported_only_when_used() -> None:
    assert "picamera2" not in sys.modules, "importing the adapters must not load it"
    if _importable("picamera2"):
        pytest.skip("a Pi: the real camera is there")
    with pytest.raises(ModuleNotFoundError):
        Picamera2Source()


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None
