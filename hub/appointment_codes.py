"""The QR code of an appointment: what the citizen shows at the kiosk's camera to check in.

    HALLQ:A:<hall_id>:<payload>.<signature>

payload = base64url (no padding) of the compact JSON list
`["<appointment id>", "<service code>", "YYYY-MM-DD", "HH:MM", "HH:MM"]` (id, service,
day, slot start, slot end); signature = base64url of the first 12 bytes of
HMAC-SHA256(the hall's "appointment" key, everything before the "."). 96 bits nobody
can guess (each guess costs a scan at a kiosk): only the hub that holds the key makes
a code it accepts, and the hall id is signed with the rest.

It names no person (the booking keeps who booked; the id is random). Short matters
more than it seems: a phone held to the kiosk shows the code about 120 px wide in the
camera's 640×480 frame, and every QR version up costs decodes there
(docs/benchmarks.md). With an 8-character id (`new_appointment_id`) and a 7-letter
service code the code is 94 characters plus the hall id: up to a 12-character hall id
that is QR version 5 with error correction L (a phone screen is clean), 37 modules a side.
The booking issue signs codes with `sign`; the hub's check-in verifies them with
`verify`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import date, time

from protocol.errors import ErrorCode

KEY_NAME = "appointment"  # hub/hall_keys.py: one key per purpose
PREFIX = "HALLQ:A:"
MAC_BYTES = 12
MAC_CHARS = 16  # base64url of 12 bytes (no padding needed)
MAX_CHARS = 512  # protocol.messages.CheckIn.code
_CODE = re.compile(
    rf"HALLQ:A:([a-z0-9][a-z0-9-]{{0,31}}):([A-Za-z0-9_-]{{8,400}})\.([A-Za-z0-9_-]{{{MAC_CHARS}}})")
_ID = re.compile(r"[A-Za-z0-9_-]{4,32}")  # hub/db/schema.py tickets.appointment_id
_SERVICE = re.compile(r"[A-Z0-9_]{2,32}")  # protocol.messages.ServiceCode
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class AppointmentCode:
    """What an appointment's QR code says: which hall, appointment, item, day and slot."""

    hall_id: str
    appointment_id: str
    service: str
    day: date
    start: time  # the slot, in the hall's time zone
    end: time

    def slot_text(self) -> str:
        """The slot as the citizen reads it, e.g. 09:00-09:30."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Refusal:
    """Why a text is not a valid appointment code: the error code, and a detail for the log."""

    code: ErrorCode
    detail: str


def new_appointment_id() -> str:
    """A random appointment id (48 bits, 8 characters): it says nothing about anyone.

    Not a secret (the signature is): the booking makes sure its ids are unique. It is the
    booking's 编号 staff type too, so it starts with a letter or digit: never "-" (a command
    line would read it as an option) or "_".
    """
    while True:
        found = secrets.token_urlsafe(6)
        if found[0].isalnum():
            return found


def sign(key: bytes, appointment: AppointmentCode) -> str:
    """The QR text of an appointment, signed with the hall's appointment key."""
    a = appointment
    if not _ID.fullmatch(a.appointment_id) or not _SERVICE.fullmatch(a.service):
        raise ValueError(f"bad appointment id or service: {a.appointment_id!r} {a.service!r}")
    if a.start >= a.end or a.start.second or a.end.second or a.start.microsecond \
            or a.end.microsecond:
        raise ValueError(f"bad slot {a.start}-{a.end}")
    data = [a.appointment_id, a.service, a.day.isoformat(), f"{a.start:%H:%M}", f"{a.end:%H:%M}"]
    payload = _b64(json.dumps(data, separators=(",", ":")).encode())
    signed = f"{PREFIX}{a.hall_id}:{payload}"
    if _CODE.fullmatch(f"{signed}.{'A' * MAC_CHARS}") is None:
        raise ValueError(f"bad hall id {a.hall_id!r}")
    return f"{signed}.{_mac(key, signed)}"


def verify(text: str, key: bytes, hall_id: str | None = None) -> AppointmentCode | Refusal:
    """The appointment a QR text is for, or why it is refused.

    Checked in the order that tells the citizen most: not an appointment code at all (a
    ticket, a web address), another hall's (when `hall_id`, ours, is given), then the
    signature. Whether its day and slot are now is the caller's business.
    """
    text = text.strip()
    if not text.startswith(PREFIX):
        # whatever a citizen shows may be personal (a payment or health code): not logged
        return Refusal(ErrorCode.NOT_APPOINTMENT, f"not an appointment code ({len(text)} chars)")
    found = _CODE.fullmatch(text)
    if found is None:  # ours in form, but cut short or damaged
        return Refusal(ErrorCode.APPOINTMENT_BAD_SIGNATURE, f"malformed ({len(text)} chars)")
    code_hall, payload, mac = found.groups()
    if hall_id and code_hall != hall_id:
        return Refusal(ErrorCode.APPOINTMENT_WRONG_HALL, f"code of hall {code_hall}")
    signed = text[:-MAC_CHARS - 1]
    if not hmac.compare_digest(mac, _mac(key, signed)):
        return Refusal(ErrorCode.APPOINTMENT_BAD_SIGNATURE, f"bad signature, hall {code_hall}")
    appointment = _read_payload(code_hall, payload)
    if appointment is None:  # signed with our key yet unreadable: a bug where it was made
        return Refusal(ErrorCode.APPOINTMENT_BAD_SIGNATURE, f"signed but unreadable: {payload!r}")
    return appointment


def _read_payload(hall_id: str, payload: str) -> AppointmentCode | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not (isinstance(data, list) and len(data) == 5 and all(isinstance(x, str) for x in data)):
        return None
    appointment_id, service, day, start, end = data
    if not (_ID.fullmatch(appointment_id) and _SERVICE.fullmatch(service)
            and _DAY.fullmatch(day) and _HHMM.fullmatch(start) and _HHMM.fullmatch(end)
            and start < end):
        return None
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return None
    return AppointmentCode(hall_id, appointment_id, service, when, time.fromisoformat(start),
                           time.fromisoformat(end))


def _mac(key: bytes, signed: str) -> str:
    return _b64(hmac.new(key, signed.encode(), hashlib.sha256).digest()[:MAC_BYTES])


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
