"""The booking pages (/book, /a/<token>) and the JSON API (/api/v1/…) over the real hub:
what a citizen reads and what the hub records, refusals with their reasons."""

from __future__ import annotations

import io
import re
from pathlib import Path

from flask.testing import FlaskClient
from PIL import Image
from pyzbar.pyzbar import decode
from sqlalchemy import func, select

from hub.app import Hub
from hub.db.schema import appointments
from kiosk.core import KioskCore
from tests.conftest import LinkFactory
from tests.e2e.devices import kiosk
from tests.helpers import signed_in_client
from tests.hub.test_booking import MAN, SERVICE, WOMAN, at

DAY = "2026-11-24"
PERSON = {"name": "张丽", "id_number": "11010519491231002x", "phone": "13812345678"}


def count(hub: Hub) -> int:
    with hub.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(appointments)) or 0)


def test_a_citizen_books_on_the_pages_and_checks_in_with_the_saved_qr(
        hub: Hub, make_link: LinkFactory, tmp_path: Path) -> None:
    web: FlaskClient = hub.web.test_client()
    home = web.get("/book").get_data(as_text=True)
    assert "县公安局" in home and "户口迁移" in home
    item = web.get(f"/book/{SERVICE}").get_data(as_text=True)
    assert "所需材料（一次性告知）" in item and "居民身份证原件" in item
    assert "09:30-10:00" in item  # today's first slot to come
    form = web.get(f"/book/{SERVICE}/{DAY}/1000")
    assert form.status_code == 200 and "确认预约" in form.get_data(as_text=True)

    refused = web.post(f"/book/{SERVICE}/{DAY}/1000", data={**PERSON, "id_number": "123"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "身份证号码有误" in page
    assert 'value="张丽"' in page and 'value="13812345678"' in page  # what was typed stays
    assert count(hub) == 0

    done = web.post(f"/book/{SERVICE}/{DAY}/1000", data=PERSON)
    assert done.status_code == 303
    token_page = done.headers["Location"]
    page = web.get(token_page).get_data(as_text=True)
    assert "预约成功" in page and "张*女士" in page and "110105********002X" in page
    assert "张丽" not in page and WOMAN not in page
    png = web.get(token_page + ".png")
    assert png.mimetype == "image/png"
    code = decode(Image.open(io.BytesIO(png.data)))[0].data.decode()
    assert code.startswith("HALLQ:A:")

    at(hub, __import__("datetime").date(2026, 11, 24), "09:40")
    machine: KioskCore = kiosk(make_link, tmp_path, hub)
    assert machine.check_in(code).issued is not None
    assert "已取号" in web.get(token_page).get_data(as_text=True)


def test_a_booking_is_cancelled_from_its_page(hub: Hub) -> None:
    web: FlaskClient = hub.web.test_client()
    token_page = web.post(f"/book/{SERVICE}/{DAY}/1400", data=PERSON).headers["Location"]
    assert "取消预约" in web.get(token_page).get_data(as_text=True)
    assert web.post(token_page + "/cancel").status_code == 303
    page = web.get(token_page).get_data(as_text=True)
    assert "已取消" in page and "cancel_page" not in page and "/cancel" not in page
    assert web.get("/a/" + "A" * 40 + ".BBBBBBBBBBBBBBBB").status_code == 404


def test_the_api_books_lists_and_refuses_with_codes(hub: Hub) -> None:
    web: FlaskClient = hub.web.test_client()
    slots = web.get(f"/api/v1/slots?service={SERVICE}&day={DAY}").get_json()
    assert slots["ok"] and slots["slots"][0]["start"] == "09:30"
    body = {"service": SERVICE, "day": DAY, "start": "11:00", **PERSON}
    made = web.post("/api/v1/appointments", json=body)
    assert made.status_code == 201
    appointment = made.get_json()["appointment"]
    assert appointment["status"] == "booked" and appointment["name"] == "张*女士"
    assert re.fullmatch(r"HALLQ:A:[a-z0-9-]+:[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}",
                        appointment["code"])
    again = web.post("/api/v1/appointments", json={**body, "start": "11:30"})
    assert again.status_code == 409 and again.get_json()["code"] == "ONE_BOOKING_A_DAY"
    other = web.post("/api/v1/appointments", json={**body, "id_number": MAN, "start": "08:00"})
    assert other.status_code == 400 and other.get_json()["code"] == "SLOT_CLOSED"
    assert web.post("/api/v1/appointments", data="x").get_json()["code"] == "BAD_JSON"
    token = appointment["url"].rsplit("/a/", 1)[1]
    cancelled = web.post(f"/api/v1/appointments/{token}/cancel").get_json()
    assert cancelled["appointment"]["status"] == "cancelled"
    assert count(hub) == 1


def test_staff_book_for_a_caller_on_the_same_pages_marked_as_phone_booking(hub: Hub) -> None:
    citizen: FlaskClient = hub.web.test_client()  # ?channel=phone from anybody: a web booking
    assert citizen.post(f"/book/{SERVICE}/{DAY}/1000?channel=phone",
                        data={**PERSON, "id_number": MAN, "name": "欧阳建国"}).status_code == 303
    web: FlaskClient = signed_in_client(hub, "guide", "guide")
    admin_page = web.get("/appointments").get_data(as_text=True)
    assert "/book?channel=phone" in admin_page
    item = web.get(f"/book/{SERVICE}?channel=phone").get_data(as_text=True)
    assert f"/book/{SERVICE}/{DAY}/1000?channel=phone" in item  # the channel goes along
    done = web.post(f"/book/{SERVICE}/{DAY}/1000?channel=phone", data=PERSON)
    assert done.status_code == 303
    with hub.engine.connect() as conn:
        assert list(conn.scalars(select(appointments.c.channel).order_by(
            appointments.c.created_at))) == ["web", "phone"]
    assert "电话预约" in web.get(f"/appointments?day={DAY}").get_data(as_text=True)
