"""The queue ticket as ESC/POS bytes, ready for any `Printer` adapter.

The layout is the kiosk's; the ESC/POS (Chinese mode, sizes, cut) is `printing.slip`'s.
"""

from __future__ import annotations

import logging
import math

from printing.paper import PaperWidth
from printing.slip import Slip
from protocol.messages import TicketIssued

log = logging.getLogger(__name__)

_QR_DOT: dict[int, int] = {80: 6, 58: 5}  # QR module size in dots
NUMBER_SIZE = 4  # width and height multiplier of the ticket number

NOTICE = "请留意叫号，过号请到导办台"


def render_ticket(
    issued: TicketIssued,
    *,
    hall_name: str,
    paper_mm: PaperWidth = 80,
    qr_data: str,
) -> bytes:
    """Render one queue ticket as ESC/POS bytes for paper of the given width."""
    t = issued.ticket
    s = Slip(paper_mm)
    s.align("center")

    s.style(bold=True, size=(1, 2))
    s.line(hall_name)
    s.style(bold=False, size=(1, 1))
    s.feed()

    s.style(size=(NUMBER_SIZE, NUMBER_SIZE))
    s.line(t.number)
    s.style(size=(1, 1))
    s.feed()

    s.style(bold=True)
    s.line(t.service_name)
    s.style(bold=False)
    s.line(t.department)
    s.line(f"前方等待{issued.waiting_before}人")
    if issued.est_wait_s is not None and issued.waiting_before > 0:
        s.line(f"预计等候约{max(1, math.ceil(issued.est_wait_s / 60))}分钟")
    s.line(f"取号时间：{t.issued_at:%Y-%m-%d %H:%M}")
    s.feed()
    s.line(NOTICE)

    # Native QR (GS ( k) is centred by ESC a, already set above.
    s.qr(qr_data, size=_QR_DOT[paper_mm])
    log.debug("rendered ticket number=%s paper_mm=%s", t.number, paper_mm)
    return s.cut()
