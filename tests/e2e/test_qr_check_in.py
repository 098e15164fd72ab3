"""Appointment check-in end to end: a QR code in the camera's frame → a printed ticket.

Real parts all the way: PNG frames read by `ImageFolderSource`, decoded by zbar in the
kiosk's `QrScanner`, `KioskCore.check_in` over the real broker to the real hub, which
verifies the code with its own key and numbers the ticket; the kiosk prints it (ESC/POS
into a file, read back) and confirms it. Refusals come back as the words on the screen
and leave no ticket.
"""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from hub.app import Hub
from hub.appointment_codes import AppointmentCode, sign
from hub.db.schema import tickets
from kiosk.adapters.camera import ImageFolderSource
from kiosk.adapters.qr_frames import empty_frame, qr_frame
from kiosk.core import KioskCore, TicketResult
from kiosk.qr_scanner import QrScanner
from protocol.codes import ticket_code
from tests.conftest import LinkFactory
from tests.e2e.devices import kiosk as make_kiosk
from tests.escpos_reader import read_tickets
from tests.helpers import booked_code, eventually, ticket_count

DAY = date(2026, 11, 24)  # the hub fixture's working morning


def code_for(hub: Hub, day: date = DAY, start: str = "09:00", end: str = "09:30",
             appointment_id: str | None = None) -> str:
    """A fresh booking on record and its code, signed with the hub's key."""
    return booked_code(hub, "GA_HJQY", day, time.fromisoformat(start), time.fromisoformat(end),
                       appointment_id)


def scan(kiosk: KioskCore, frames: list[Image.Image], folder: Path) -> list[TicketResult]:
    """Show the frames to the kiosk's camera (through PNG files); what each check-in gave."""
    folder.mkdir(parents=True)
    for i, frame in enumerate(frames):
        frame.save(folder / f"{i:03d}.png")
    results: list[TicketResult] = []
    scanner = QrScanner(ImageFolderSource(folder), lambda code: results.append(
        kiosk.check_in(code, timeout=5)))
    scanner.start()
    assert scanner.finished.wait(60), "the scanner did not get through its frames"
    scanner.stop()
    return results


def statuses(hub: Hub) -> list[tuple[str, str, str | None]]:
    with hub.engine.connect() as conn:
        return [(r[0], r[1], r[2]) for r in conn.execute(
            select(tickets.c.number, tickets.c.status, tickets.c.appointment_id)
            .order_by(tickets.c.id))]


def test_appointment_codes_shown_to_the_camera_print_their_tickets(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    kiosk = make_kiosk(make_link, tmp_path, hub)
    shown = [  # (size px, angle °, blur, noise): held close or far, tilted, a shaky hand
        (120, 0, 0, 0), (240, 0, 0, 0), (400, 0, 0, 0),
        (240, 10, 0, 0), (240, 30, 0, 0), (240, 45, 0, 0), (120, 30, 0, 0),
        (240, 30, 0.8, 15), (120, 0, 0, 15),
    ]
    ids = [f"Appt{n:04d}" for n in range(len(shown))]
    codes = [code_for(hub, appointment_id=i) for i in ids]
    frames: list[Image.Image] = []
    for code, (size, angle, blur, noise) in zip(codes, shown, strict=True):
        frames += [qr_frame(code, size, angle=angle, blur=blur, noise=noise, seed=size),
                   empty_frame()]
    results = scan(kiosk, frames, tmp_path / "frames")
    numbers = [f"A{n:03d}" for n in range(1, len(shown) + 1)]
    assert [r.issued.ticket.number if r.issued else r for r in results] == numbers
    assert all(r.printed for r in results)
    printed = read_tickets((tmp_path / "kiosk-1.escpos").read_bytes())
    assert len(printed) == len(shown)
    assert all(number in p.big for number, p in zip(numbers, printed, strict=True))
    eventually(lambda: all(s == "waiting" for _, s, _ in statuses(hub)),
               what="every ticket confirmed as printed")
    assert statuses(hub) == [(n, "waiting", i) for n, i in zip(numbers, ids, strict=True)]


def test_ten_frames_of_one_code_check_in_once(hub: Hub, make_link: LinkFactory,
                                              tmp_path: Path) -> None:
    kiosk = make_kiosk(make_link, tmp_path, hub)
    code = code_for(hub)
    frames = [qr_frame(code, 240, angle=2 * i, noise=8, seed=i) for i in range(10)]
    results = scan(kiosk, frames, tmp_path / "frames")
    assert len(results) == 1 and results[0].issued is not None
    assert ticket_count(hub.engine) == 1


def test_what_is_not_a_valid_appointment_is_told_and_changes_nothing(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    kiosk = make_kiosk(make_link, tmp_path, hub)
    walk_in = kiosk.take_ticket("GA_HJQY")  # A001: its own QR code is shown by mistake
    assert walk_in.issued is not None
    used = code_for(hub)
    first = kiosk.check_in(used)
    assert first.issued is not None and first.issued.ticket.number == "A002"
    forged = sign(bytes(32), AppointmentCode(hub.settings.hall_id, "Forged01", "GA_HJQY", DAY,
                                             time(9), time(9, 30)))  # not the hall's key
    shown = [
        (ticket_code(hub.settings.hall_id, walk_in.issued.ticket),
         "这不是预约二维码，请出示预约成功后的二维码"),
        (kiosk.ticket_qr(walk_in.issued), "这不是预约二维码，请出示预约成功后的二维码"),  # its page
        ("https://www.example.gov.cn/yuyue", "这不是预约二维码，请出示预约成功后的二维码"),
        (code_for(hub, day=date(2026, 11, 25)), "您预约的是11月25日，请当天再来"),
        (code_for(hub, start="11:00", end="11:30"), "您预约的时段是11:00-11:30，请于10:30以后取号"),
        (used, "该预约已取号：A002"),
        (forged, "预约二维码无效，请到导办台咨询"),
    ]
    frames: list[Image.Image] = []
    for text, _ in shown:
        frames += [qr_frame(text, 240), empty_frame()]
    results = scan(kiosk, frames, tmp_path / "frames")
    assert [r.error.message if r.error else r for r in results] == [m for _, m in shown]
    assert [n for n, _, _ in statuses(hub)] == ["A001", "A002"], "no ticket was added"
