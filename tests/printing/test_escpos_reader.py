"""The tests' ESC/POS reader refuses what it does not know, so no test passes on a misread."""

from __future__ import annotations

import pytest

from tests.escpos_reader import read_escpos


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x1b@\x1bZ\x00", "unknown command ESC"),
        (b"\x1d\x77\x02", "unknown command GS"),
        (b"\x1c\x21\x00", "unknown command FS"),
        (b"\x07", "unknown control byte"),
        ("户口".encode("gb18030") + b"\n", "outside Chinese mode"),
        (b"\x1d(k\x03\x001C", "truncated"),
        (b"\x1d(k\x03\x001Q0", "no data stored"),
        (b"A005", "never printed"),
    ],
)
def test_reader_refuses(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_escpos(data)
