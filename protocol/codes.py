"""The text inside a ticket's QR code, read back by the review page and the guide desk."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from protocol.messages import Ticket

_CODE = re.compile(r"^HALLQ:T:([a-z0-9-]+):(\d{4}-\d{2}-\d{2}):([A-Z]{1,2}\d{3,5}):(\d+)$")


@dataclass(frozen=True)
class TicketCode:
    """What a ticket's QR code says: which hall, day, number and ticket."""

    hall_id: str
    service_day: date
    number: str
    ticket_id: int


def ticket_code(hall_id: str, ticket: Ticket) -> str:
    """Short, plain text: scanners and phones read it at a glance."""
    return f"HALLQ:T:{hall_id}:{ticket.service_day.isoformat()}:{ticket.number}:{ticket.id}"


def parse_ticket_code(text: str) -> TicketCode | None:
    """The parts of a ticket code; None when the text is not one."""
    m = _CODE.fullmatch(text.strip())
    if m is None:
        return None
    return TicketCode(m[1], date.fromisoformat(m[2]), m[3], int(m[4]))
