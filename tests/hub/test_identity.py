"""What the hub keeps of a person who books: a keyed hash of the ID number, masks to show."""

from __future__ import annotations

import pytest

from hub.identity import mask_id, mask_name, mask_phone, normalise_id, person
from protocol.errors import ErrorCode, UserError

KEY = bytes(range(32))
# GB 11643 numbers with a right check character (made up, not real people).
WOMAN = "11010519491231002X"  # 17th digit 2: even
MAN = "440308199001011239"


def test_a_lowercase_x_and_spaces_are_the_same_number() -> None:
    assert normalise_id(" 110105 19491231 002x ") == WOMAN


@pytest.mark.parametrize("bad", [
    "11010519491231002Y",  # not a check character
    "110105194912310021",  # the wrong check character
    "110105194913310021",  # month 13
    "1101051949123100",  # too short
    "",
])
def test_wrong_id_numbers_are_refused(bad: str) -> None:
    with pytest.raises(UserError) as e:
        normalise_id(bad)
    assert e.value.code == ErrorCode.BAD_ID_NUMBER


def test_masks_show_what_staff_may_see() -> None:
    assert mask_id(MAN) == "440308********1239"
    assert mask_name("张丽", WOMAN) == "张*女士"
    assert mask_name("欧阳建国", MAN) == "欧***先生"
    assert mask_phone("13812345678") == "138****5678"


def test_the_person_kept_holds_no_clear_id_number_or_name() -> None:
    kept = person(KEY, "张丽", "11010519491231002x", "138 1234 5678")
    assert WOMAN not in repr(kept) and "张丽" not in repr(kept)
    assert kept.id_hash == person(KEY, "张丽", WOMAN, "13812345678").id_hash
    assert kept.id_hash != person(bytes(32), "张丽", WOMAN, "13812345678").id_hash  # keyed
    # Two people with the same name are two people.
    assert person(KEY, "张丽", MAN, "13812345678").id_hash != kept.id_hash
    for bad_phone in ("1381234567", "23812345678"):
        with pytest.raises(UserError):
            person(KEY, "张丽", WOMAN, bad_phone)
    assert person(KEY, "张丽", WOMAN, "+86 138-1234-5678").phone == "13812345678"
