"""Every HTTP endpoint of the hub under generated input (issue 11, "Bad input").

The routes are read from the app itself (a page added tomorrow is covered), the citizens'
pages, the sign-in and the hub's own settings API with them. Hypothesis fills each route's
path variables, query string and form with what people and scripts send: the forms' own
field names and strangers, empty, long, Chinese, control characters, numbers out of range,
dates that are not dates, several values for one name. Requests carry a valid CSRF token
and come from a signed-in administrator (who may open everything), so they get past the
door to the code behind it.

Each answer must be a page or a refusal, never a server error (500), and:

- a GET changes nothing (OWASP ASVS: no state change on GET);
- a refused request (4xx) changes nothing.

"Nothing" is read from SQLite's `PRAGMA data_version` on a connection of the test's own: it
moves when any other connection commits a change. The hub's own idle work commits nothing
(checked first).

`pytest tests/fuzz` sends 8 requests a route; `--run-slow` 300.
"""

from __future__ import annotations

import re
import sqlite3
import string
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hallsim.broker import Broker
from hallsim.hub_process import WORKING_MORNING
from hub.app import Hub
from hub.settings import HubSettings
from protocol.topics import DeviceClass
from tests.helpers import csrf_token, signed_in_client

FIELDS = sorted({
    "accept", "action", "appointment", "by", "channel", "complaint_phone", "conditions",
    "confirm", "daily_cap", "day", "department", "device_class", "device_id", "display_name",
    "done", "fee", "from", "grade", "group", "holidays", "id_number", "item", "legal_days",
    "location", "materials", "month", "name", "next", "note", "notices", "number", "owner",
    "page", "password", "phone", "pin", "prefix", "promised_days", "purpose", "q", "reason",
    "request_id", "reset", "role", "service", "services", "shown", "status", "text", "title",
    "to", "username", "week", "who", "year", "workday", "weekend", "holiday", "window",
    "post_a", "post_b", "slot", "points"})
SKIP = {"signout", "static"}  # signing the fuzzer out proves nothing
RECORDED = {"signin_post"}  # a failed sign-in is refused and written to the audit log


def examples(config: pytest.Config) -> int:
    return 300 if config.getoption("--run-slow") else 8


def text_values() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=40),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
        st.sampled_from(["", " ", "0", "-1", "1", "999999999999999999999", "1e9", "NaN",
                         "2026-02-30", "2026-11-24", "9999-12-31", "0000-00-00", "A001",
                         "GA_HJQY", "zhang", "admin", "<script>alert(1)</script>",
                         "' OR 1=1 --", "../../etc/passwd", "%00", "\x00", "张三",
                         "440308199001011234", "13800138000", "08:30-12:00", "yes", "no",
                         "very_satisfied", "manager", "kiosk", "on"]),
        st.integers(-2**70, 2**70).map(str),
        st.just("长" * 5000))


def path_value() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(string.ascii_letters + string.digits + "-_.", min_size=1, max_size=40),
        st.integers(-10, 2**66).map(str),
        st.sampled_from(["2026-11-23", "2026-13-45", "x1", "GA_HJQY", "1", "A001",
                         "张三", "%E5%BC%A0", "..", "zhang"]))


def routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of every route."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule.rule))
    return sorted(found)


class Hall:
    def __init__(self, hub: Hub, database: Path) -> None:
        self.hub = hub
        self.watch = sqlite3.connect(database)  # PRAGMA data_version: others' commits
        self.client: FlaskClient = signed_in_client(hub, "fuzzadmin", "admin")
        self.token = csrf_token(self.client.get("/").get_data(as_text=True))
        self.statuses: Counter[int] = Counter()

    def version(self) -> int:
        return int(self.watch.execute("PRAGMA data_version").fetchone()[0])


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory, broker: Broker) -> Iterator[Hall]:
    folder = tmp_path_factory.mktemp("fuzz-http")
    hub = Hub(HubSettings(hall_id="fuzzhttp", db_url=f"sqlite:///{folder / 'hub.db'}",
                          mqtt=broker.settings_for(DeviceClass.HUB), http_port=0,
                          start_at=WORKING_MORNING))
    hub.start()
    assert hub.consumer.wait_connected(10)
    found = Hall(hub, folder / "hub.db")
    yield found
    print(f"\nfuzzed HTTP answers by status: {dict(sorted(found.statuses.items()))}")
    found.watch.close()
    hub.stop()


def test_the_idle_hub_commits_nothing(hall: Hall) -> None:
    """The premise of the checks below: with nobody asking, the database stays as it is."""
    before = hall.version()
    hall.client.get("/")
    time.sleep(2)
    assert hall.version() == before


@pytest.mark.timeout(3600)  # --run-slow: 300 requests a route take some minutes
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_route_answers_generated_input_without_a_server_error(
        hall: Hall, method: str, request: pytest.FixtureRequest) -> None:
    chosen = [(e, m, r) for e, m, r in routes(hall.hub.web) if m == method]
    assert len(chosen) > (15 if method == "POST" else 20)
    for endpoint, _, rule in chosen:
        one_route(hall, endpoint, method, rule, examples(request.config))


def one_route(hall: Hall, endpoint: str, method: str, rule: str, n: int) -> None:
    names = re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", rule)

    @settings(max_examples=n, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(path=st.fixed_dictionaries({k: path_value() for k in names}),
           fields=st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=12)),
                                  st.one_of(text_values(), st.lists(text_values(), max_size=3)),
                                  max_size=8))
    def one(path: dict[str, str], fields: dict[str, str | list[str]]) -> None:
        url = rule
        for k, v in path.items():
            url = re.sub(rf"<(?:[a-z]+:)?{k}>", quote(v, safe="").replace("\\", "/"), url)
        before = hall.version()
        if method == "GET":
            answer = hall.client.get(url, query_string=fields)
        else:
            answer = hall.client.open(url, method=method,
                                      data={**fields, "csrf_token": hall.token})
        status = answer.status_code
        hall.statuses[status] += 1
        assert status < 500, (endpoint, method, url, fields, answer.get_data(as_text=True)[:300])
        if method == "GET" or (400 <= status < 500 and endpoint not in RECORDED):
            assert hall.version() == before, f"{method} {url} {status} changed the database"

    one()

