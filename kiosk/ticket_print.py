"""The queue ticket as ESC/POS bytes, ready for any `Printer` adapter, and as a picture.

The layout is the kiosk's; the ESC/POS (Chinese mode or raster, sizes, cut) is
`printing.slip`'s. The picture drawn from the same layout is the preview the kiosk's
screen and the docs show.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from printing.paper import PaperWidth
from printing.slip import ChineseMode, Slip
from protocol.messages import TicketIssued

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

_QR_DOT: dict[int, int] = {80: 6, 58: 5}  # QR module size in dots
NUMBER_SIZE = 4  # width and height multiplier of the ticket number

NOTICE = "请留意叫号，过号请到导办台"


def render_ticket(issued: TicketIssued, *, hall_name: str, paper_mm: PaperWidth = 80,
                  qr_data: str, chinese: ChineseMode = "font") -> bytes:
    """Render one queue ticket as ESC/POS bytes for paper of the given width."""
    return lay_out_ticket(issued, hall_name=hall_name, paper_mm=paper_mm, qr_data=qr_data,
                          chinese=chinese).cut()


def ticket_picture(issued: TicketIssued, *, hall_name: str, paper_mm: PaperWidth = 80,
                   qr_data: str) -> Image.Image:
    """The ticket as the paper shows it: the on-screen preview and the docs' picture."""
    return lay_out_ticket(issued, hall_name=hall_name, paper_mm=paper_mm,
                          qr_data=qr_data).picture()


def lay_out_ticket(issued: TicketIssued, *, hall_name: str, paper_mm: PaperWidth,
                   qr_data: str, chinese: ChineseMode = "font") -> Slip:
    """The ticket's layout on a slip, before it is cut."""
    t = issued.ticket
    s = Slip(paper_mm, chinese)
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
    log.debug("laid out ticket number=%s paper_mm=%s", t.number, paper_mm)
    return s


def main(argv: list[str] | None = None) -> int:
    """`python -m kiosk.ticket_print OUT.png [--paper 58]`: a sample ticket's picture."""
    import argparse
    from datetime import datetime
    from uuid import UUID
    from zoneinfo import ZoneInfo

    from protocol.messages import Ticket

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("out")
    parser.add_argument("--paper", type=int, choices=[58, 80], default=80)
    args = parser.parse_args(argv)
    at = datetime(2026, 11, 24, 9, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
    sample = TicketIssued(request_id=UUID(int=1), waiting_before=3, est_wait_s=1260,
                          ticket=Ticket(id=5, number="A005", service="GA_HJQY",
                                        service_name="户口迁移", department="县公安局",
                                        service_day=at.date(), issued_at=at, status="pending"))
    ticket_picture(sample, hall_name="示范县政务服务中心", paper_mm=args.paper,
                   qr_data="http://192.168.1.10:8080/t/sample").save(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
