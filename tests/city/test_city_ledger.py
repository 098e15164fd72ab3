"""The city service over HTTP, with halls that post at the same moment: each event applied
once, one ban for one person whatever the order the halls' no-shows arrive in, the
changes served after a cursor in pages, and a hall without its token refused."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import func, select

from city.app import CityService
from city.schema import blacklist, events
from protocol.city_sync import SYNC_PATH, SyncAnswer

DAY = date(2026, 11, 24)


def no_show(person: int, appointment: str, seq: int, day: date = DAY) -> dict[str, Any]:
    return {"kind": "appointment", "id": uuid4().hex, "seq": seq,
            "at": datetime.combine(day, datetime.min.time()).isoformat(),
            "appointment": appointment, "service": "GA_HJQY", "day": day.isoformat(),
            "start": "09:00", "end": "09:30", "status": "no_show", "channel": "api",
            "id_hash": f"{person:064x}", "id_masked": "410300********0055",
            "name_masked": "王*先生"}


def post(city: CityService, hall: str, token: str, events_: list[dict[str, Any]],
         cursor: int = 0) -> tuple[int, dict[str, Any]]:
    body = json.dumps({"hall": hall, "cursor": cursor, "events": events_}).encode()
    request = urllib.request.Request(city.url.rstrip("/") + SYNC_PATH, data=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_three_halls_posting_at_once_ban_each_person_once(
        city: CityService, halls: list[str], tokens: dict[str, str]) -> None:
    """Each of 30 people misses a booking in each of three halls; the halls post at the
    same moment, one batch each, every batch twice. The city must see all three no-shows
    of each person together: 30 bans, each once, and every event once."""
    people = range(1, 31)
    batches = {hall: [no_show(p, f"{hall[-4:]}{p}", p) for p in people] for hall in halls[:3]}
    answers: list[tuple[int, dict[str, Any]]] = []
    start = threading.Barrier(6)

    def send(hall: str) -> None:
        start.wait()
        answers.append(post(city, hall, tokens[hall], batches[hall]))

    threads = [threading.Thread(target=send, args=(h,)) for h in halls[:3] for _ in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(a[0] for a in answers) == [200] * 6
    assert sum(a[1]["accepted"] for a in answers) == 90
    assert sum(a[1]["duplicates"] for a in answers) == 90
    with city.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(events)) == 90
        bans = conn.execute(select(blacklist.c.id_hash, blacklist.c.since, blacklist.c.until,
                                   blacklist.c.seq)).all()
    assert sorted(int(b.id_hash, 16) for b in bans) == list(people)
    assert {(b.since, b.until) for b in bans} == {(DAY, date(2027, 11, 24))}
    assert sorted(b.seq for b in bans) == list(range(1, 31)), "changes numbered without gaps"


def test_the_rules_are_the_halls_rules(city: CityService, halls: list[str],
                                       tokens: dict[str, str]) -> None:
    """Half a year counts from the first no-show (hub/blacklist_rules.py): 1 January,
    1 March and 1 July is no ban; 1 March, 1 July and 1 August is one from 1 August."""
    hall, token = halls[0], tokens[halls[0]]
    days = [date(2026, 1, 1), date(2026, 3, 1), date(2026, 7, 1)]
    status, answer = post(city, hall, token, [no_show(7, f"a{i}", i + 1, d)
                                              for i, d in enumerate(days)])
    assert status == 200 and answer["changes"] == []
    status, answer = post(city, hall, token, [no_show(7, "a9", 9, date(2026, 8, 1))])
    assert [(c["since"], c["until"]) for c in answer["changes"]] == [
        ("2026-08-01", "2027-08-01")]


def test_changes_come_after_the_cursor_in_pages(
        city_db: str, halls: list[str], tokens: dict[str, str]) -> None:
    from city.settings import CitySettings
    from tests.city.conftest import token_hash

    service = CityService(CitySettings(db_url=city_db, http_port=0, max_changes=4, halls={
        h: token_hash(t) for h, t in tokens.items()}))
    service.start()
    try:
        hall, token = halls[0], tokens[halls[0]]
        made = [no_show(p, f"b{p}-{i}", p * 10 + i, DAY + timedelta(days=i))
                for p in range(1, 11) for i in range(3)]
        assert post(service, hall, token, made)[0] == 200
        seen: list[int] = []
        cursor, more = 0, True
        while more:
            status, body = post(service, halls[1], tokens[halls[1]], [], cursor)
            answer = SyncAnswer.model_validate(body)
            assert status == 200 and len(answer.changes) <= 4
            seen += [c.seq for c in answer.changes]
            cursor = max([cursor, *seen])
            more = answer.more
        assert seen == list(range(1, 11))
    finally:
        service.stop()


def test_a_hall_needs_its_own_token(city: CityService, halls: list[str],
                                    tokens: dict[str, str]) -> None:
    east, west = halls[0], halls[1]
    status, body = post(city, east, tokens[west], [no_show(1, "x1", 1)])
    assert status == 401 and body == {"ok": False, "code": "UNAUTHORISED",
                                      "message": "大厅未登记或令牌不正确"}
    status, body = post(city, "unknown-hall", tokens[east], [])
    assert status == 401
    status, body = post(city, east, tokens[east], [{"kind": "appointment", "id": "x"}])
    assert status == 400 and body["message"] == "同步数据格式不正确"
    with city.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(events)) == 0
