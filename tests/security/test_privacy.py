"""Privacy (issue 11): a citizen's ID number and full name are never kept or shown in clear.

One person goes the whole way: books on the API with name, ID number and phone, checks in
at a kiosk with the booking's QR code, is called at a window, served and reviews. Then
everything the hall keeps or shows is searched for the ID number (and its birth date
part), the full name and the given name:

- the database file with its write-ahead log, byte for byte;
- the hub's log, every record at DEBUG;
- every MQTT state a screen received on the way;
- every dashboard page and every Excel export, as an administrator sees them;
- the citizen's own booking page and the API's answers.

The masked forms (440308********1239, 欧***先生, 139****5678) are what may appear.
"""

from __future__ import annotations

import io
import logging
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from hub.app import Hub
from hub.backup import database_path
from hub.clock import ShiftedClock
from protocol.link import State
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually, signed_in_client

NAME, GIVEN = "欧阳明华", "明华"
ID_NUMBER, BIRTH = "440308199001011239", "19900101"
PHONE = "13912345678"
SECRETS = (NAME, GIVEN, ID_NUMBER, BIRTH, PHONE)
PAGES = ["/", "/appointments?day=2026-11-24", "/appointments?day=2026-11-24&q=1239",
         "/appointments?day=2026-11-24&q=5678", "/reviews", "/history?day=2026-11-24",
         "/audit", "/desk", "/ranking"]
EXPORTS = ["/appointments.xlsx?day=2026-11-24", "/reviews.xlsx?month=2026-11",
           "/history.xlsx?day=2026-11-24", "/audit.xlsx", "/ranking/2026-11-23.xlsx"]


def leaks(where: str, text: str) -> list[str]:
    return [f"{where}: {s}" for s in SECRETS if s in text]


def xlsx_text(data: bytes) -> str:
    """Every XML part of an Excel file as text (cells, shared strings, sheet names)."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return "".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())


def test_no_id_number_or_full_name_anywhere(hub: Hub, make_link: LinkFactory, tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    def on_state(state: State, live: bool) -> None:
        seen.append(state.model_dump_json())

    make_link(DeviceClass.DISPLAY, "main-screen", on_state=on_state)
    citizen = hub.web.test_client()
    booked = citizen.post("/api/v1/appointments", json={
        "service": "GA_HJQY", "day": "2026-11-24", "start": "10:00", "name": NAME,
        "id_number": ID_NUMBER, "phone": PHONE})
    assert booked.status_code == 201, booked.get_json()
    appointment = booked.get_json()["appointment"]
    assert appointment["id_number"] == "440308********1239"
    assert appointment["name"] == "欧***先生"
    token = appointment["url"].rsplit("/", 1)[1]

    assert isinstance(hub.clock, ShiftedClock)
    hub.clock.set_local(datetime(2026, 11, 24, 9, 50))  # the slot's check-in is open
    machine = kiosk(make_link, tmp_path, hub)
    ticket = machine.check_in(appointment["code"]).issued
    assert ticket is not None
    window = caller(make_link, 5)
    window.sign_in("S051", "123456")
    window.open()
    window.call_next()
    eventually(lambda: window.state is not None
               and window.state.serving == ticket.ticket.number,
               what="the booking's ticket called at window 5")
    window.finish()
    window.review("satisfied")

    found: list[str] = []
    found += leaks("the booking API's answer", booked.get_data(as_text=True))
    found += leaks("the citizen's booking page", citizen.get(f"/a/{token}").get_data(
        as_text=True))
    found += leaks("the booking API's lookup", citizen.get(
        f"/api/v1/appointments/{token}").get_data(as_text=True))
    admin = signed_in_client(hub, "zhang", "admin")
    for page in PAGES:
        answer = admin.get(page)
        assert answer.status_code == 200, page
        found += leaks(page, answer.get_data(as_text=True))
    for export in EXPORTS:
        answer = admin.get(export)
        assert answer.status_code == 200, export
        found += leaks(export, xlsx_text(answer.data))
    assert any(ticket.ticket.number in s for s in seen), "the screen saw the call"
    for payload in seen:
        found += leaks("an MQTT state a screen received", payload)
    found += leaks("the hub's log", "\n".join(r.getMessage() for r in caplog.records))
    database = database_path(hub.settings.db_url)
    for part in (database, database.with_name(database.name + "-wal")):
        if part.exists():
            raw = part.read_bytes()
            found += [f"{part.name}: {s}" for s in SECRETS if s.encode() in raw]
    allowed_phone = {f for f in found if f.endswith(PHONE) and ("db" in f.split(":")[0])}
    assert allowed_phone, "the scan sees the database: the phone is kept there for the SMS"
    assert sorted(set(found) - allowed_phone) == [], "kept or shown in clear"
