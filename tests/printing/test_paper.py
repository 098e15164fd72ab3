"""What fits on a line of receipt paper: widths and wrapping that never splits a character."""

from __future__ import annotations

import pytest

from printing.paper import COLUMNS, check_paper, text_width, wrap


def test_columns_of_font_a() -> None:
    assert COLUMNS == {58: 32, 80: 48}


def test_chinese_characters_take_two_columns() -> None:
    assert text_width("A005") == 4
    assert text_width("户口迁移") == 8
    assert text_width("1. 居民户口簿（原件）") == 3 + 9 * 2
    assert text_width("䶮") == 2  # four bytes in GB18030, still one full-width glyph


@pytest.mark.parametrize("columns", [32, 48])
def test_lines_fill_the_paper_and_lose_nothing(columns: int) -> None:
    text = "迁入地合法稳定住所证明房屋不动产权证书或购房合同" * 3
    lines = wrap(text, columns)
    assert "".join(lines) == text
    assert all(text_width(line) == columns for line in lines[:-1])  # 16 or 24 characters
    assert 0 < text_width(lines[-1]) <= columns


def test_a_wide_character_that_does_not_fit_starts_the_next_line() -> None:
    assert wrap("ab户口", 5) == ["ab户", "口"]
    assert wrap("abcd户口", 5) == ["abcd", "户口"]


def test_hanging_indent() -> None:
    lines = wrap("1. 居民户口簿原件居民户口簿原件", 18, indent="   ")
    assert lines == ["1. 居民户口簿原件", "   居民户口簿原件"]


def test_punctuation_follows_the_chinese_line_breaking_rules() -> None:
    # "，" would start the second line: the character before it comes along.
    assert wrap("一二三四，五", 8) == ["一二三", "四，五"]
    # "（" would end the first line: it moves on with what it opens.
    assert wrap("一二三（四）", 8) == ["一二三", "（四）"]
    assert wrap("一二三四）", 8, indent="  ") == ["一二三", "  四）"]


def test_a_break_at_a_space_drops_the_space() -> None:
    assert wrap("abc def", 4) == ["abc", "def"]


def test_refuses_what_cannot_be_laid_out() -> None:
    with pytest.raises(ValueError, match="Chinese character"):
        wrap("户", 1)
    with pytest.raises(ValueError, match="indent"):
        wrap("户口", 8, indent="     ")
    with pytest.raises(ValueError, match="indent"):
        wrap("户口", 8, indent="　")
    with pytest.raises(ValueError, match="paper_mm"):
        check_paper(76)
