"""Made-up citizens for simulations and tests: a name, a valid ID number, a mobile number."""

from __future__ import annotations

from dataclasses import dataclass

from hub.identity import check_character

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明")


@dataclass(frozen=True)
class Citizen:
    name: str
    id_number: str  # GB 11643, with its check character
    phone: str

    def booking(self, service: str, day: str, start: str) -> dict[str, str]:
        """The JSON body of a booking through the hub's API (docs/booking-api.md)."""
        return {"service": service, "day": day, "start": start, "name": self.name,
                "id_number": self.id_number, "phone": self.phone, "channel": "api"}


def citizen(i: int) -> Citizen:
    """Person number `i` (0 … 1,679,999,999): the same person for the same `i`, everywhere,
    and a different ID number for every `i`."""
    rest, seq = divmod(i, 1000)
    rest, day = divmod(rest, 28)
    rest, month = divmod(rest, 12)
    region, year = divmod(rest, 50)
    first17 = f"4103{region % 100:02d}{1950 + year}{month + 1:02d}{day + 1:02d}{seq:03d}"
    name = SURNAMES[i % len(SURNAMES)] + GIVEN[i // len(SURNAMES) % len(GIVEN)]
    return Citizen(name, first17 + check_character(first17), f"139{i % 100000000:08d}")
