"""Who books an appointment, kept as little as the rules allow (PIPL: minimum necessary;
居民身份证法 §13: ID data learned in service stays confidential).

The ID number is never stored in clear: the hub keeps a keyed hash (HMAC-SHA256 with the
hall's "identity" key, hub/hall_keys.py) to recognise the same person again (one booking a
day, the blacklist), and a masked form for staff (440308********1234). The name is kept
masked only (张*女士): the hall calls numbers, never names. The mobile number is kept,
as the SMS warnings need it, and shown masked (138****5678).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

from protocol.errors import ErrorCode, UserError

KEY_NAME = "identity"  # hub/hall_keys.py
_ID = re.compile(r"[0-9]{17}[0-9X]")
_PHONE = re.compile(r"1[3-9][0-9]{9}")
_NAME = re.compile(r"[\u3400-\u9fff·•]{2,20}|[A-Za-z][A-Za-z .'-]{1,39}")
# GB 11643-1999: the weights of the first 17 digits, and the check character by remainder.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


@dataclass(frozen=True)
class Person:
    """A booking's person as the hub keeps it: a hash to match, masks to show."""

    id_hash: str  # hex HMAC-SHA256 of the normalised ID number
    id_masked: str  # 440308********1234
    name_masked: str  # 张*女士
    phone: str  # for the SMS warnings; shown as mask_phone(phone)


def normalise_id(raw: str) -> str:
    """The 18-character resident ID number, checked (format, birth date, check digit);
    spaces dropped and a lowercase x read as X. UserError(BAD_ID_NUMBER) otherwise."""
    number = re.sub(r"\s", "", raw).upper()
    if not _ID.fullmatch(number):
        raise UserError(ErrorCode.BAD_ID_NUMBER, "not 17 digits and a check character")
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise UserError(ErrorCode.BAD_ID_NUMBER, "no such birth date") from None
    if check_character(number[:17]) != number[17]:
        raise UserError(ErrorCode.BAD_ID_NUMBER, "check character wrong")
    return number


def check_character(first17: str) -> str:
    """The GB 11643 check character of an ID number's first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise_phone(raw: str) -> str:
    """An 11-digit mainland mobile number (spaces, dashes and +86 dropped)."""
    phone = re.sub(r"[\s-]", "", raw)
    phone = phone.removeprefix("+86").removeprefix("0086")
    if not _PHONE.fullmatch(phone):
        raise UserError(ErrorCode.BAD_PHONE, "not an 11-digit mobile number")
    return phone


def normalise_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not _NAME.fullmatch(name):
        raise UserError(ErrorCode.BAD_NAME, "name empty, too long or with odd characters")
    return name


def id_hash(key: bytes, id_number: str) -> str:
    """The keyed hash the hub matches people by (never the number itself)."""
    return hmac.new(key, id_number.encode(), hashlib.sha256).hexdigest()


def mask_id(id_number: str) -> str:
    """440308********1234: the region and the last four, as Chinese receipts show it."""
    return f"{id_number[:6]}{'*' * 8}{id_number[-4:]}"


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str, id_number: str) -> str:
    """张*女士 / 欧阳**先生: the surname's first character, stars, and the form of address
    from the ID number (its 17th digit: odd for men)."""
    title = "先生" if int(id_number[16]) % 2 else "女士"
    if not re.match(r"[\u3400-\u9fff]", name):  # a name in Latin letters: its initial
        return f"{name[0]}.{title}"
    return f"{name[0]}{'*' * (len(name) - 1)}{title}"


def person(key: bytes, name: str, id_number: str, phone: str) -> Person:
    """Check and reduce what a citizen typed to what the hub may keep."""
    number = normalise_id(id_number)
    mobile = normalise_phone(phone)
    clean = normalise_name(name)
    return Person(id_hash=id_hash(key, number), id_masked=mask_id(number),
                  name_masked=mask_name(clean, number), phone=mobile)
