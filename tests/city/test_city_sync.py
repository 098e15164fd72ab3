"""City mode end to end in one process: hubs of four halls on the real broker, the city
service on the real PostgreSQL, each hub's link to the city cut on cue. A person who
does not come to bookings in three halls cannot book in the fourth; an outage loses and
doubles nothing; a ban lifted or excused in one hall is lifted in all."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from city.app import CityService
from city.schema import appointments as city_appointments
from city.schema import blacklist as city_blacklist
from city.schema import events as city_events
from city.schema import halls as city_halls
from hallsim.citizens import Citizen, citizen
from hub import appointment_admin
from hub.app import Hub
from hub.city_sync import install_identity_key, warn_from_city
from hub.clock import ShiftedClock
from hub.db.engine import make_engine, migrate
from hub.db.schema import appointments, blacklist, city_outbox, sms_messages
from hub.hall_keys import hall_key
from hub.identity import id_hash
from hub.no_shows import mark_no_shows
from hub.settings import HubSettings
from protocol.city_sync import NoShowWarning
from tests.city.conftest import IDENTITY_KEY, CityHall, HallFactory
from tests.helpers import eventually, signed_in_client

DAY = "2026-11-24"  # WORKING_MORNING's day: the hubs start at 09:00


def book(hub: Hub, person: Citizen, start: str) -> tuple[int, dict[str, object]]:
    """Book through the hub's booking API, as a phone or a platform does."""
    answer = hub.web.test_client().post("/api/v1/appointments",
                                        json=person.booking("GA_HJQY", DAY, start))
    return answer.status_code, answer.get_json()


def no_shows_at(hall: CityHall, hhmm: str) -> None:
    """The hall's clock moves on to `hhmm`: what nobody came for is marked, as the sweep does."""
    clock = hall.hub.clock
    assert isinstance(clock, ShiftedClock)
    hour, minute = map(int, hhmm.split(":"))
    clock.set_local(datetime(2026, 11, 24, hour, minute))
    ctx = hall.hub.consumer.ctx
    hall.hub.consumer.run(lambda conn: mark_no_shows(conn, ctx, clock.now()))


def banned(hub: Hub, person: Citizen) -> bool:
    """Whether the hall's own blacklist (what its booking check reads) bans the person now."""
    digest = id_hash(bytes.fromhex(IDENTITY_KEY), person.id_number)
    with hub.engine.connect() as conn:
        return bool(conn.scalar(select(func.count()).where(
            blacklist.c.id_hash == digest, blacklist.c.lifted_at.is_(None))))


def no_show_in_three(east: CityHall, west: CityHall, north: CityHall, person: Citizen) -> None:
    for hall, start in ((east, "09:30"), (west, "10:00"), (north, "10:30")):
        status, body = book(hall.hub, person, start)
        assert status == 201, body
    for hall, at in ((east, "11:00"), (west, "11:30"), (north, "12:00")):
        no_shows_at(hall, at)


def test_no_shows_in_three_halls_refuse_booking_in_a_fourth(
        city_hall: HallFactory, halls: list[str], city: CityService) -> None:
    east, west, north, south = (city_hall(h) for h in halls)
    person = citizen(101)
    no_show_in_three(east, west, north, person)
    for hall in (east, west, north):  # one no-show each: no hall would ban on its own
        with hall.hub.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(blacklist)
                               .where(blacklist.c.city_seq.is_(None))) == 0
    eventually(lambda: banned(south.hub, person), 10, "the city's ban in the fourth hall")

    status, body = book(south.hub, person, "14:00")
    assert status == 409 and body["code"] == "BLACKLISTED"
    assert "半年内3次预约未到" in body["message"] and "现场取号办理不受影响" in body["message"]
    assert "2027年11月24日" in body["message"]  # a year from the third no-show
    page = signed_in_client(south.hub).get("/appointments").get_data(as_text=True)
    assert "预约黑名单（1）" in page and "全市黑名单" in page  # for the hall's managers
    other_status, _ = book(south.hub, citizen(102), "14:00")
    assert other_status == 201, "someone else books as before"
    for hall in (east, west, north):
        eventually(lambda h=hall: banned(h.hub, person), 10, "the ban in every hall")
    # the hall of the third no-show has the phone number: it alone tells the person
    told = {}
    for hall in (east, west, north, south):
        with hall.hub.engine.connect() as conn:
            told[hall.hub.settings.hall_id] = conn.scalar(
                select(func.count()).where(sms_messages.c.kind == "blacklisted"))
    assert told == {east.hub.settings.hall_id: 0, west.hub.settings.hall_id: 0,
                    north.hub.settings.hall_id: 1, south.hub.settings.hall_id: 0}
    with city.engine.connect() as conn:
        entry = conn.execute(select(city_blacklist)).one()
    assert entry.hall_id == north.hub.settings.hall_id and entry.lifted_at is None
    assert entry.id_masked.startswith("410300") and "*" in entry.name_masked


def warnings_sent(hall: CityHall) -> list[str]:
    with hall.hub.engine.connect() as conn:
        return list(conn.scalars(select(sms_messages.c.text)
                                 .where(sms_messages.c.kind == "warning")))


def test_a_second_no_show_in_another_hall_gets_the_warning_once(
        city_hall: HallFactory, halls: list[str], city: CityService) -> None:
    """The rule warns after a second no-show within half a year. One in each of two halls is
    a second only for the city: the hall of the second sends the warning, once, though the
    city's answer to its batch is lost and the batch sent again."""
    east, west = city_hall(halls[0]), city_hall(halls[1])
    person = citizen(301)
    for hall, start in ((east, "09:30"), (west, "10:00")):
        status, body = book(hall.hub, person, start)
        assert status == 201, body
    no_shows_at(east, "11:00")
    eventually(lambda: city_has_no_shows(city, 1), 10, "east's no-show at the city")
    west.link.mode = "lose_answers"  # the city warns; the answer is lost on the way
    no_shows_at(west, "11:30")
    eventually(lambda: west.link.answers_lost >= 1, 10, "an answer lost on the way")
    west.link.mode = "up"
    eventually(lambda: warnings_sent(west), 10, "the warning SMS from the second hall")
    time.sleep(1.0)  # more polls: nothing more is sent
    assert warnings_sent(west) == ["您已2次预约未到且未取消。半年内累计3次将暂停预约服务一年"
                                   "（现场取号不受影响）。不能前来请提前取消预约。"]
    assert warnings_sent(east) == [], "a first no-show warns nobody"
    assert not banned(west.hub, person)
    with west.hub.engine.connect() as conn:  # said again (the hall had warned on its own)
        booking = conn.scalar(select(appointments.c.id).where(
            appointments.c.status == "no_show"))
    west.hub.consumer.run(lambda conn: warn_from_city(
        conn, [NoShowWarning(appointment=booking, count=2)], west.hub.clock.now()))
    assert len(warnings_sent(west)) == 1, "one SMS a booking"


def city_has_no_shows(city: CityService, count: int) -> bool:
    with city.engine.connect() as conn:
        return conn.scalar(select(func.count()).where(
            city_appointments.c.status == "no_show")) == count


def test_an_outage_is_caught_up_with_nothing_lost_or_doubled(
        city_hall: HallFactory, halls: list[str], city: CityService) -> None:
    east = city_hall(halls[0])
    east.link.mode = "down"
    made = []
    for i, start in enumerate(("10:00", "10:30", "11:00", "11:30", "14:00", "14:30")):
        status, body = book(east.hub, citizen(200 + i), start)  # booking goes on, link down
        assert status == 201, body
        made.append(body["appointment"])
    for b in made[4:]:
        token = str(b["url"]).rsplit("/", 1)[-1]
        assert east.hub.web.test_client().post(
            f"/api/v1/appointments/{token}/cancel").status_code == 200
    no_shows_at(east, "12:00")  # nobody came at 10:00, 10:30, 11:00
    assert east.hub.city is not None
    eventually(lambda: east.hub.city is not None and east.hub.city.failures >= 2, 10,
               "the hub finding the city unreachable")
    east.link.mode = "lose_answers"  # the city applies a batch; its answer is lost
    eventually(lambda: east.link.answers_lost >= 1, 10, "an answer lost on the way")
    east.link.mode = "up"

    def all_sent() -> bool:
        with east.hub.engine.connect() as conn:
            return conn.scalar(select(func.count()).where(city_outbox.c.sent_at.is_(None))) == 0
    eventually(all_sent, 10, "the backlog sent")

    hall = east.hub.settings.hall_id
    with east.hub.engine.connect() as conn:
        sent = set(conn.scalars(select(city_outbox.c.event_id)))
        states = dict(conn.execute(select(appointments.c.id, appointments.c.status)).all())
    with city.engine.connect() as conn:
        received = list(conn.scalars(select(city_events.c.event_id)
                                     .where(city_events.c.hall_id == hall)))
        at_city = dict(conn.execute(select(city_appointments.c.appointment_id,
                                           city_appointments.c.status)
                                    .where(city_appointments.c.hall_id == hall)).all())
        counted = conn.execute(select(city_halls).where(city_halls.c.hall_id == hall)).one()
    assert len(sent) == 6 + 2 + 3  # 6 booked, 2 cancelled, 3 no-shows
    assert sorted(received) == sorted(sent), "every event at the city, once"
    assert at_city == states
    assert set(states.values()) == {"cancelled", "no_show", "booked"}
    assert counted.events == len(sent) and counted.duplicates >= 1, "the resend was recognised"


def test_a_ban_lifted_in_one_hall_is_lifted_in_all(
        city_hall: HallFactory, halls: list[str], city: CityService) -> None:
    east, west, north, south = (city_hall(h) for h in halls)
    person = citizen(301)
    no_show_in_three(east, west, north, person)
    eventually(lambda: banned(south.hub, person), 10, "the ban in the fourth hall")
    eventually(lambda: banned(east.hub, person), 10, "the ban back in the first hall")
    with east.hub.engine.connect() as conn:
        entry = conn.scalar(select(blacklist.c.id).where(blacklist.c.lifted_at.is_(None)))
    assert entry is not None
    ctx = east.hub.consumer.ctx
    east.hub.consumer.run(lambda conn: appointment_admin.lift(
        conn, ctx, entry, "王经理", "误判：当天已到窗口办理"))
    for hall in (west, north, south):
        eventually(lambda h=hall: not banned(h.hub, person), 10, "the lift in every hall")
    with south.hub.engine.connect() as conn:
        lifted = conn.execute(select(blacklist.c.lifted_by, blacklist.c.lift_reason)).one()
    assert lifted.lifted_by == f"全市：{east.hub.settings.hall_id}：王经理"
    assert lifted.lift_reason == "误判：当天已到窗口办理"
    status, body = book(south.hub, person, "15:00")
    assert status == 201, body


def test_an_excused_no_show_lifts_the_ban_it_completed_everywhere(
        city_hall: HallFactory, halls: list[str], city: CityService) -> None:
    east, west, north, south = (city_hall(h) for h in halls)
    person = citizen(401)
    no_show_in_three(east, west, north, person)
    eventually(lambda: banned(south.hub, person), 10, "the ban in the fourth hall")
    digest = id_hash(bytes.fromhex(IDENTITY_KEY), person.id_number)
    with west.hub.engine.connect() as conn:
        missed = conn.scalar(select(appointments.c.id).where(appointments.c.id_hash == digest))
    assert missed is not None
    ctx = west.hub.consumer.ctx
    west.hub.consumer.run(lambda conn: appointment_admin.excuse(
        conn, ctx, missed, "李主任", "系统故障当天暂停预约服务"))
    for hall in (east, north, south):
        eventually(lambda h=hall: not banned(h.hub, person), 10, "the excuse in every hall")
    with city.engine.connect() as conn:
        entry = conn.execute(select(city_blacklist)).one()
    assert entry.lifted_by == "excused no-show"


def test_the_city_sees_a_person_as_one_hash_and_never_the_id_number(
        city_hall: HallFactory, halls: list[str], city: CityService) -> None:
    east, west = city_hall(halls[0]), city_hall(halls[1])
    person = citizen(501)
    assert book(east.hub, person, "10:00")[0] == 201
    assert book(west.hub, person, "10:30")[0] == 201
    no_shows_at(east, "11:00")
    digest = id_hash(bytes.fromhex(IDENTITY_KEY), person.id_number)
    for hall in (east, west):
        with hall.hub.engine.connect() as conn:
            assert conn.scalar(select(appointments.c.id_hash)) == digest

    def arrived() -> list[str]:
        with city.engine.connect() as conn:
            return [str(p) for p in conn.scalars(select(city_events.c.payload))]
    payloads = eventually(lambda: len(arrived()) == 3 and arrived(), 10, "three events")
    text = " ".join(payloads)
    assert digest in text
    for secret in (person.id_number, person.name, person.phone, IDENTITY_KEY):
        assert secret not in text
    with city.engine.connect() as conn:  # nor anywhere in its tables
        dump = " ".join(str(r) for t in ("appointments", "events", "halls", "blacklist")
                        for r in conn.exec_driver_sql(f"SELECT * FROM {t}").all())
    assert person.id_number not in dump and person.phone not in dump


def test_city_mode_needs_its_token_and_the_city_key() -> None:
    with pytest.raises(ValidationError, match="CITY_TOKEN"):
        HubSettings(city_url="http://city:8090/api/v1/sync")
    with pytest.raises(ValidationError, match="64 hex digits"):
        HubSettings(city_url="http://city:8090/api/v1/sync", city_token="t",
                    city_identity_key="not-a-key")
    HubSettings(city_url="http://city:8090/api/v1/sync", city_token="t",
                city_identity_key=IDENTITY_KEY)


def test_the_dashboard_says_when_the_city_is_out_of_reach(
        city_hall: HallFactory, halls: list[str], city: CityService) -> None:
    east = city_hall(halls[0])
    sync = east.hub.city
    assert sync is not None
    client = signed_in_client(east.hub)
    warning = "与全市平台的连接中断"
    assert warning not in client.get("/").get_data(as_text=True)
    east.link.mode = "down"
    eventually(lambda: sync.failing_since is not None, 10, "the sync failing")
    sync.failing_since -= 301  # as if five minutes had passed with the link down
    page = client.get("/").get_data(as_text=True)
    assert warning in page and "预约黑名单按最后一次同步的名单执行" in page
    east.link.mode = "up"
    eventually(lambda: sync.failing_since is None, 10, "the sync back")
    assert warning not in client.get("/").get_data(as_text=True)


def test_the_city_key_replaces_a_hall_key_made_before(tmp_path: Path) -> None:
    """A hall that ran alone joins the city: its identity key becomes the city's."""
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    now = datetime(2026, 11, 24, 1, 0)
    with engine.begin() as conn:
        own = hall_key(conn, "identity", now)
        assert install_identity_key(conn, IDENTITY_KEY, now) == 0  # no bookings yet
        assert hall_key(conn, "identity", now) == bytes.fromhex(IDENTITY_KEY) != own
        assert install_identity_key(conn, IDENTITY_KEY, now) == 0
