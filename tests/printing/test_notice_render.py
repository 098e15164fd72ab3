"""The 补正 one-time notice (一次性告知单), read back from its ESC/POS bytes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

import pytest

from printing.notice_slip import AFTER, ASK, TITLE, render_notice_slip, window_label
from printing.paper import PaperWidth
from protocol.messages import CaseRecord
from tests.escpos_reader import Printed, read_escpos

HALL = "临江县政务服务中心"
WINDOW_NAME = "5号窗口 公安户政"
LONG = "迁入地合法稳定住所证明（房屋不动产权证书或购房合同）"  # 26 characters, 52 columns
FS_ON, FS_OFF = b"\x1c\x26", b"\x1c\x2e"
COLUMNS = {58: 32, 80: 48}


def incomplete_case(missing: list[str] | None = None, staff_no: str | None = "S051"
                    ) -> CaseRecord:
    """A case finished as 补正, as the hub sends it (time in the hall's zone)."""
    return CaseRecord(
        id=7, ticket_id=5, number="A005", service="GA_HJQY", service_name="户口迁移", window=5,
        outcome="incomplete", outcome_name="补正",
        missing=["居民户口簿原件", LONG] if missing is None else missing, staff_no=staff_no,
        finished_at=datetime(2026, 11, 24, 9, 35, 12, tzinfo=ZoneInfo("Asia/Shanghai")))


def columns_of(line: str) -> int:
    """Columns a printed line takes: ASCII one, anything printed in Chinese mode two."""
    return sum(1 if ch.isascii() else 2 for ch in line)


def after_ask(printed: Printed) -> list[str]:
    """The list of missing materials, as printed lines."""
    lines = printed.lines
    start = lines.index(ASK) + 1
    return lines[start:lines.index("", start)]


@pytest.fixture(params=[80, 58])
def paper_mm(request: pytest.FixtureRequest) -> PaperWidth:
    return cast(PaperWidth, request.param)


def test_lines_carry_the_notice(paper_mm: PaperWidth) -> None:
    raw = render_notice_slip(incomplete_case(), hall_name=HALL, window_name=WINDOW_NAME,
                             paper_mm=paper_mm)
    printed = read_escpos(raw)
    assert printed.big == [TITLE]
    for expected in (TITLE, HALL, "取号号码：A005", "办理事项：户口迁移",
                     "办理窗口：5号窗口 公安户政", "告知时间：2026-11-24 09:35", ASK,
                     "1. 居民户口簿原件", AFTER, "经办人工号：S051"):
        assert expected in printed.lines
    assert printed.cut and printed.qr == []
    assert raw.startswith(b"\x1b@") and raw.endswith(b"\x1dV\x00")


def test_a_long_material_wraps_at_58_mm() -> None:
    printed = read_escpos(render_notice_slip(incomplete_case(), hall_name=HALL, paper_mm=58))
    assert after_ask(printed) == [
        "1. 居民户口簿原件",
        "2. 迁入地合法稳定住所证明（房屋",
        "   不动产权证书或购房合同）",
    ]


def test_a_long_material_wraps_at_80_mm() -> None:
    printed = read_escpos(render_notice_slip(incomplete_case(), hall_name=HALL, paper_mm=80))
    assert after_ask(printed) == [
        "1. 居民户口簿原件",
        "2. 迁入地合法稳定住所证明（房屋不动产权证书或购",
        "   房合同）",
    ]


def test_every_line_fits_and_no_character_is_cut(paper_mm: PaperWidth) -> None:
    missing = [LONG * 3, "营业执照复印件" * 5, "䶮" * 40, "ID card (copy) of the agent " * 3]
    raw = render_notice_slip(incomplete_case(missing), hall_name=HALL * 4,
                             window_name="6号窗口 公安户政（居民身份证）" * 2,
                             paper_mm=paper_mm)
    printed = read_escpos(raw)
    for line in printed.lines:
        scale = 2 if line == TITLE else 1
        assert columns_of(line) * scale <= COLUMNS[paper_mm], line
    # Each Chinese-mode run is one whole line of whole GB18030 characters.
    runs = re.findall(re.escape(FS_ON) + b"(.*?)" + re.escape(FS_OFF) + b"\n", raw, re.S)
    assert len(runs) == sum(1 for line in printed.lines if not line.isascii())
    for run in runs:
        run.decode("gb18030")  # strict: a split character would raise
    # Nothing lost: the wrapped lines of each material give it back.
    listed = "".join(line.strip() for line in after_ask(printed))
    assert listed.replace(" ", "") == "".join(
        f"{n}.{m}" for n, m in enumerate(missing, 1)).replace(" ", "")


def test_numbers_line_up_past_nine(paper_mm: PaperWidth) -> None:
    missing = [f"材料{n}" for n in range(1, 12)]
    printed = read_escpos(render_notice_slip(incomplete_case(missing), hall_name=HALL,
                                             paper_mm=paper_mm))
    listed = after_ask(printed)
    assert listed[0] == " 1. 材料1" and listed[9] == "10. 材料10" and len(listed) == 11


def test_chinese_only_in_chinese_mode() -> None:
    raw = render_notice_slip(incomplete_case(), hall_name=HALL, window_name=WINDOW_NAME)
    for text in (TITLE, HALL, "1. 居民户口簿原件", AFTER, "经办人工号：S051"):
        assert FS_ON + text.encode("gb18030") + FS_OFF + b"\n" in raw
    assert TITLE.encode() not in raw


def test_what_is_not_known_is_not_printed() -> None:
    printed = read_escpos(render_notice_slip(incomplete_case(staff_no=None), hall_name=""))
    assert not any(line.startswith("经办人") for line in printed.lines)
    assert "办理窗口：5号窗口" in printed.lines
    assert printed.lines[:2] == [TITLE, ""]  # no hall name line


def test_window_label_keeps_the_number_once() -> None:
    assert window_label(5, "5号窗口 公安户政") == "5号窗口 公安户政"
    assert window_label(1, "10号窗口 婚姻登记") == "1号窗口 10号窗口 婚姻登记"
    assert window_label(5, "公安户政") == "5号窗口 公安户政"
    assert window_label(5, "") == "5号窗口"


def test_refuses_what_is_no_notice() -> None:
    done = incomplete_case().model_copy(update={"outcome": "on_the_spot"})
    with pytest.raises(ValueError, match="not 'incomplete'"):
        render_notice_slip(done, hall_name=HALL)
    with pytest.raises(ValueError, match="no missing material"):
        render_notice_slip(incomplete_case([]), hall_name=HALL)
    with pytest.raises(ValueError, match="paper_mm"):
        render_notice_slip(incomplete_case(), hall_name=HALL, paper_mm=76)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="control"):
        render_notice_slip(incomplete_case(["居民户口簿\x1b@"]), hall_name=HALL)
