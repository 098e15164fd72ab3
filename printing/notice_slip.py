"""The 补正 one-time notice (一次性告知单): every missing material on one printed slip.

When a case ends with outcome "incomplete" (补正), the citizen leaves the window with this
slip, so one visit tells them everything still needed (一次性告知).
"""

from __future__ import annotations

import logging

from printing.paper import PaperWidth, text_width
from printing.slip import Slip
from protocol.messages import CaseRecord

log = logging.getLogger(__name__)

TITLE = "一次性告知单"
TITLE_SIZE = 2  # width and height multiplier of the title
ASK = "请补齐以下材料后再来办理："
AFTER = "补齐材料后可再次取号办理"
_UNDER_VALUE = " " * text_width("办理事项：")  # continuation lines start under the value


def render_notice_slip(
    case: CaseRecord,
    *,
    hall_name: str,
    window_name: str = "",
    paper_mm: PaperWidth = 80,
) -> bytes:
    """Render the 补正 notice of a finished case as ESC/POS bytes for the given paper.

    `window_name` is the window's name in the catalogue ("5号窗口 公安户政"), if known.
    """
    if case.outcome != "incomplete":
        raise ValueError(f"case {case.id} is {case.outcome!r}, not 'incomplete' (补正)")
    if not case.missing:
        raise ValueError(f"case {case.id} lists no missing material")
    s = Slip(paper_mm)
    s.align("center")
    s.style(bold=True, size=(TITLE_SIZE, TITLE_SIZE))
    s.line(TITLE)
    s.style(bold=False, size=(1, 1))
    if hall_name:
        s.wrapped(hall_name)
    s.feed()

    s.align("left")
    s.line(f"取号号码：{case.number}")
    s.wrapped(f"办理事项：{case.service_name}", indent=_UNDER_VALUE)
    s.wrapped(f"办理窗口：{window_label(case.window, window_name)}", indent=_UNDER_VALUE)
    s.line(f"告知时间：{case.finished_at:%Y-%m-%d %H:%M}")
    s.feed()

    s.style(bold=True)
    s.line(ASK)
    s.style(bold=False)
    digits = len(str(len(case.missing)))
    for n, material in enumerate(case.missing, 1):
        number = f"{n}. ".rjust(digits + 2)  # " 9. " above "10. "
        s.wrapped(number + material, indent=" " * len(number))
    s.feed()
    s.line(AFTER)
    if case.staff_no:
        s.line(f"经办人工号：{case.staff_no}")
    s.feed()
    log.debug("rendered notice case=%s number=%s paper_mm=%s", case.id, case.number, paper_mm)
    return s.cut()


def window_label(number: int, name: str) -> str:
    """The window as the hall names it ("5号窗口 公安户政"), always with its number."""
    own = f"{number}号窗口"
    return name if name.startswith(own) else f"{own} {name}".rstrip()
