"""The queue ticket as ESC/POS bytes, ready for any `Printer` adapter.

Chinese text goes out as GB18030 between `FS &` and `FS .` (Chinese mode on, off), so the
ticket prints the same whether or not the printer boots in Chinese mode. ASCII goes out as
plain bytes: python-escpos's `text()` would first send a code page switch (`ESC t`) picked
from the profile, which is CP932 on the 58 mm one.
"""

from __future__ import annotations

import logging
import math
from typing import Literal

from escpos.escpos import Escpos
from escpos.printer import Dummy

from protocol.messages import TicketIssued

log = logging.getLogger(__name__)

FS_CHINESE_ON = b"\x1c\x26"  # FS &
FS_CHINESE_OFF = b"\x1c\x2e"  # FS .

# Shipped python-escpos profiles, 203 dpi: 80 mm paper = 576 dots, 58 mm paper = 384 dots.
_PROFILE: dict[int, str] = {80: "TM-T20II", 58: "POS-5890"}
_QR_DOT: dict[int, int] = {80: 6, 58: 5}  # QR module size in dots
NUMBER_SIZE = 4  # width and height multiplier of the ticket number

NOTICE = "请留意叫号，过号请到导办台"


def render_ticket(
    issued: TicketIssued,
    *,
    hall_name: str,
    paper_mm: Literal[58, 80] = 80,
    qr_data: str,
) -> bytes:
    """Render one queue ticket as ESC/POS bytes for paper of the given width."""
    if paper_mm not in _PROFILE:
        raise ValueError(f"paper_mm must be 58 or 80, not {paper_mm!r}")
    if not qr_data:
        raise ValueError("qr_data is empty: python-escpos would silently print no QR code")
    t = issued.ticket
    p = _printer(paper_mm)

    p.hw("INIT")
    p.set(align="center")

    p.set(bold=True, custom_size=True, width=1, height=2)
    _line(p, hall_name)
    p.set(bold=False, custom_size=True, width=1, height=1)
    _feed(p)

    p.set(custom_size=True, width=NUMBER_SIZE, height=NUMBER_SIZE)
    _line(p, t.number)
    p.set(custom_size=True, width=1, height=1)
    _feed(p)

    p.set(bold=True)
    _line(p, t.service_name)
    p.set(bold=False)
    _line(p, t.department)
    _line(p, f"前方等待{issued.waiting_before}人")
    if issued.est_wait_s is not None and issued.waiting_before > 0:
        _line(p, f"预计等候约{max(1, math.ceil(issued.est_wait_s / 60))}分钟")
    _line(p, f"取号时间：{t.issued_at:%Y-%m-%d %H:%M}")
    _feed(p)
    _line(p, NOTICE)

    # Native QR (GS ( k) is centred by ESC a, already set above.
    p.qr(qr_data, native=True, size=_QR_DOT[paper_mm])
    p.cut()
    log.debug("rendered ticket number=%s paper_mm=%s", t.number, paper_mm)
    return bytes(p.output)


def _printer(paper_mm: int) -> Dummy:
    """A Dummy printer whose profile matches the paper width."""
    p = Dummy(profile=_PROFILE[paper_mm])
    # The shipped 58 mm profiles describe cutterless desk printers, so cut() would send
    # nothing; a kiosk printer has a cutter. Set on the instance: the class dict is shared.
    p.profile.features = {**p.profile.features, "paperFullCut": True, "paperPartCut": True}
    return p


def _line(p: Escpos, text: str) -> None:
    """Print one line: ASCII as is, anything else in Chinese mode."""
    if not text.isprintable():
        raise ValueError(f"ticket text must have no control characters: {text!r}")
    if text.isascii():
        p._raw(text.encode("ascii"))
    else:
        _chinese(p, text)
    _feed(p)


def _feed(p: Escpos) -> None:
    """Print the buffer and feed one line (LF)."""
    p._raw(b"\n")


def _chinese(p: Escpos, text: str) -> None:
    """Send text as GB18030 bytes wrapped in Chinese mode on/off (FS & ... FS .)."""
    p._raw(FS_CHINESE_ON + text.encode("gb18030") + FS_CHINESE_OFF)
