"""The printed ticket, read back from its ESC/POS bytes."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
import qrcode
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol, decode

from kiosk.ticket_print import render_ticket, ticket_picture
from protocol.messages import Ticket, TicketIssued
from tests.escpos_reader import read_escpos

HALL = "临江县政务服务中心"
QR_DATA = "https://hall.example/t/2026-11-24/A005?k=7f3a9c"
FS_ON, FS_OFF = b"\x1c\x26", b"\x1c\x2e"
CUT = b"\x1dV\x00"


def issued(number: str = "A005", waiting_before: int = 3) -> TicketIssued:
    """A ticket as the hub would send it, time in the hall's zone."""
    ticket = Ticket(
        id=5,
        number=number,
        service="GA_HJQY",
        service_name="户口迁移",
        department="县公安局",
        service_day=date(2026, 11, 24),
        issued_at=datetime(2026, 11, 24, 9, 5, 42, tzinfo=ZoneInfo("Asia/Shanghai")),
        status="waiting",
    )
    return TicketIssued(request_id=UUID(int=1), ticket=ticket, waiting_before=waiting_before)


@pytest.fixture(params=[80, 58])
def raw(request: pytest.FixtureRequest) -> bytes:
    return render_ticket(issued(), hall_name=HALL, paper_mm=request.param, qr_data=QR_DATA)


def test_number_is_large(raw: bytes) -> None:
    printed = read_escpos(raw)
    assert "A005" in printed.big
    assert "户口迁移" not in printed.big


def test_lines_carry_the_ticket(raw: bytes) -> None:
    lines = read_escpos(raw).lines
    for expected in (HALL, "A005", "户口迁移", "县公安局", "前方等待3人",
                     "取号时间：2026-11-24 09:05", "请留意叫号，过号请到导办台"):
        assert expected in lines


def test_qr_holds_the_data(raw: bytes) -> None:
    assert read_escpos(raw).qr == [QR_DATA]


def test_chinese_only_in_chinese_mode(raw: bytes) -> None:
    for text in (HALL, "户口迁移", "县公安局", "前方等待3人", "取号时间：2026-11-24 09:05"):
        assert FS_ON + text.encode("gb18030") + FS_OFF in raw
    assert "户口迁移".encode() not in raw
    # The reader refuses any byte >= 0x80 outside FS & ... FS . (see test below).
    read_escpos(raw)


def test_starts_with_init_and_ends_with_a_cut(raw: bytes) -> None:
    assert raw.startswith(b"\x1b@")
    assert raw.endswith(CUT)
    assert read_escpos(raw).cut


def test_qr_scans(raw: bytes) -> None:
    (data,) = read_escpos(raw).qr
    img = qrcode.make(data).get_image()
    (symbol,) = decode(img, symbols=[ZBarSymbol.QRCODE])
    assert symbol.data.decode("utf-8") == QR_DATA


def test_waiting_count_and_longer_number() -> None:
    raw = render_ticket(issued("AB01234", 0), hall_name="Hall 1", paper_mm=58, qr_data="x")
    printed = read_escpos(raw)
    assert printed.big == ["Hall 1", "AB01234"]  # the hall name is double height
    assert "前方等待0人" in printed.lines and "Hall 1" in printed.lines


def test_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="paper_mm"):
        render_ticket(issued(), hall_name=HALL, paper_mm=76, qr_data=QR_DATA)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="QR data is empty"):
        render_ticket(issued(), hall_name=HALL, qr_data="")
    with pytest.raises(ValueError, match="control"):
        render_ticket(issued(), hall_name="大厅\x1b@", qr_data=QR_DATA)


def test_the_estimated_wait_is_printed_in_minutes() -> None:
    with_estimate = issued().model_copy(update={"est_wait_s": 610})
    printed = read_escpos(render_ticket(with_estimate, hall_name=HALL, qr_data=QR_DATA))
    assert "预计等候约11分钟" in printed.lines
    nobody_ahead = issued(waiting_before=0).model_copy(update={"est_wait_s": 0})
    lines = read_escpos(render_ticket(nobody_ahead, hall_name=HALL, qr_data=QR_DATA)).lines
    assert not any(line.startswith("预计等候") for line in lines)


def raster_image(data: bytes) -> Image.Image:
    """The picture in a slip's GS v 0 raster blocks, stacked as the printer prints them."""
    blocks: list[Image.Image] = []
    at = data.find(b"\x1dv0")
    while at != -1:
        width_bytes = data[at + 4] + 256 * data[at + 5]
        height = data[at + 6] + 256 * data[at + 7]
        body = data[at + 8: at + 8 + width_bytes * height]
        # ESC/POS raster: a set bit is a black dot; PIL mode "1" counts 1 as white
        blocks.append(Image.frombytes("1", (width_bytes * 8, height), bytes(~b & 0xFF
                                                                           for b in body)))
        at = data.find(b"\x1dv0", at + 8 + len(body))
    picture = Image.new("1", (blocks[0].width, sum(b.height for b in blocks)), 1)
    y = 0
    for block in blocks:
        picture.paste(block, (0, y))
        y += block.height
    return picture


@pytest.mark.parametrize("paper_mm", [80, 58])
def test_the_preview_is_the_ticket_at_the_printers_dots(paper_mm: int) -> None:
    picture = ticket_picture(issued(), hall_name=HALL, paper_mm=paper_mm,  # type: ignore[arg-type]
                             qr_data=QR_DATA)
    assert picture.width == {80: 576, 58: 384}[paper_mm]
    found = decode(picture.convert("L"), symbols=[ZBarSymbol.QRCODE])
    assert [c.data.decode() for c in found] == [QR_DATA], "the QR a phone would scan"
    rows = [picture.crop((0, y, picture.width, y + 1)).getbbox() for y in range(picture.height)]
    inked = [y for y, box in enumerate(rows) if box is not None]
    assert len(inked) > 200, "the hall, the big number and the lines are drawn"


def test_raster_mode_prints_a_picture_with_no_chinese_font_needed() -> None:
    raw = render_ticket(issued(), hall_name=HALL, paper_mm=80, qr_data=QR_DATA,
                        chinese="raster")
    assert FS_ON not in raw, "no Chinese-mode text for a printer that has no Chinese font"
    assert raw.endswith(CUT)
    picture = raster_image(raw)
    found = decode(picture.convert("L"), symbols=[ZBarSymbol.QRCODE])
    assert [c.data.decode() for c in found] == [QR_DATA]
    preview = ticket_picture(issued(), hall_name=HALL, paper_mm=80, qr_data=QR_DATA)
    assert picture.crop((0, 0) + preview.size).tobytes() == preview.tobytes(), \
        "what prints is exactly the preview"
