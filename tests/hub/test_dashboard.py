"""The managers' dashboard over a real waitress server: page, event stream, JSON."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, Literal

import pytest
import requests

from hub.app import Hub
from hub.settings import HubSettings
from hub.state_feed import StateFeed
from hub.web import RETRY_MS, create_web_app
from hub.web.auth import Auth
from hub.web.server import WebServer
from protocol.messages import QueueState, ServiceQueue, WindowState
from tests.helpers import make_account, signed_in, standalone_auth

HALL = "示范县政务服务中心"
NOW = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
TIMEOUT = (3, 5)  # connect, read: no test waits longer than this on the server
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


def queue_state(hukou_waiting: int = 3) -> QueueState:
    """A hall with two services; the 户口迁移 queue length is the figure tests change."""
    services = [
        ServiceQueue(
            service="GA_HJQY", name="户口迁移", prefix="A", waiting=hukou_waiting, open_windows=1
        ),
        ServiceQueue(service="RS_SBDJ", name="社会保险登记", prefix="B", waiting=4, open_windows=1),
    ]
    return QueueState(
        service_day=NOW.date(),
        services=services,
        issued=12,
        waiting=hukou_waiting + 4,
        called=5,
        finished=3,
        windows_open=2,
        updated_at=NOW,
    )


def window(
    number: int, name: str, status: Literal["closed", "open", "serving"], serving: str | None = None
) -> WindowState:
    """One window as the hub publishes it."""
    ticket_id = 42 if serving else None
    return WindowState(
        window=number,
        name=name,
        status=status,
        serving=serving,
        ticket_id=ticket_id,
        call_seq=1 if serving else 0,
        updated_at=NOW,
    )


class VisibleText(HTMLParser):
    """The words a reader sees: no tags, scripts, styles, titles or `hidden` elements."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        if self._skip_depth or tag in {"script", "style", "title"} or "hidden" in dict(attrs):
            self._skip_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self._skip_depth and tag not in VOID:
            self._skip_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.words.extend(data.split())


def visible_text(html: str) -> str:
    """The page's visible text, words separated by single spaces."""
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.words)


class EventReader:
    """Reads server-sent events off a streaming response, giving up after a deadline."""

    def __init__(self, response: requests.Response) -> None:
        self._lines = response.iter_lines()
        self.keepalives = 0

    def next_event(self, within_s: float = 5.0) -> dict[str, str]:
        """The fields of the next event that carries data; keepalive comments are counted."""
        deadline = time.monotonic() + within_s
        fields: dict[str, str] = {}
        for raw in self._lines:
            assert time.monotonic() < deadline, f"no event within {within_s} s"
            line = raw.decode("utf-8")
            if line == "":
                if "data" in fields:
                    return fields
                fields = {}
            elif line.startswith(":"):
                self.keepalives += 1
            else:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        raise AssertionError("event stream ended")


@pytest.fixture
def feed() -> StateFeed:
    """An empty feed, as at hub start before anything was published."""
    return StateFeed()


@pytest.fixture
def hall(feed: StateFeed) -> StateFeed:
    """The feed after the hub published the queue and two windows, one serving A005."""
    feed.update(
        queue_state(),
        [
            window(1, "1号窗口 户籍综合受理", "open"),
            window(2, "2号窗口 社保综合受理", "serving", "A005"),
        ],
    )
    return feed


@pytest.fixture
def web(base_url: str) -> requests.Session:
    """A manager signed in."""
    return signed_in(base_url)


@pytest.fixture
def auth(db_url: str) -> Auth:
    return standalone_auth(db_url)


@pytest.fixture
def base_url(feed: StateFeed, auth: Auth) -> Iterator[str]:
    """The dashboard on a real waitress server on a free port."""
    app = create_web_app(feed, auth, hall_name=HALL, keepalive_s=0.5)
    server = WebServer(app, "127.0.0.1", 0, threads=4)
    server.start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()
    assert not server._thread.is_alive(), "server thread did not stop: a stream outlived it"


def expected_document(feed: StateFeed) -> dict[str, Any]:
    """What /api/state and each event should say: the feed's snapshot with its version."""
    version, state = feed.snapshot()
    return {"version": version, **state}


def test_page_shows_the_hall(hall: StateFeed, base_url: str, web: requests.Session) -> None:
    resp = web.get(base_url + "/", timeout=TIMEOUT)

    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    html = resp.text
    assert '<html lang="zh-CN">' in html
    assert f"<title>实时大厅 · {HALL}</title>" in html
    text = visible_text(html)
    assert f"{HALL} · 实时大厅" in text
    assert "今日取号 12 等候 7 已叫号 5 已办结 3 过号 0 开放窗口 2" in text
    assert "户口迁移 A 3 1" in text
    assert "社会保险登记 B 4 1" in text
    assert "1 1号窗口 户籍综合受理 空闲 —" in text
    assert "2 2号窗口 社保综合受理 办理中 A005" in text
    assert "等待大厅数据…" not in text
    assert "http://" not in html.replace(base_url, "") and "https://" not in html


def test_page_waits_for_data_when_feed_is_empty(base_url: str, web: requests.Session) -> None:
    resp = web.get(base_url + "/", timeout=TIMEOUT)

    assert resp.status_code == 200
    text = visible_text(resp.text)
    assert "等待大厅数据…" in text
    assert "今日取号 — 等候 —" in text
    assert "暂无窗口数据" in text


def test_page_escapes_window_names(feed: StateFeed, base_url: str, web: requests.Session) -> None:
    evil = '<script>alert("x")</script>'
    feed.update(queue_state(), [window(3, evil, "closed")])

    html = web.get(base_url + "/", timeout=TIMEOUT).text

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(" in html
    assert f"3 {evil} 未开放 —" in visible_text(html)


def test_static_assets_are_served(base_url: str, web: requests.Session) -> None:
    for name, kind in (("dashboard.js", "javascript"), ("dashboard.css", "text/css")):
        resp = web.get(f"{base_url}/static/{name}", timeout=TIMEOUT)
        assert resp.status_code == 200
        assert kind in resp.headers["Content-Type"]
    js = web.get(base_url + "/static/dashboard.js", timeout=TIMEOUT).text
    assert "innerHTML" not in js


def test_events_stream_the_state_and_its_changes(hall: StateFeed, base_url: str,
        web: requests.Session) -> None:
    with web.get(base_url + "/events", stream=True, timeout=TIMEOUT) as resp:
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        assert resp.headers["Cache-Control"] == "no-cache"
        assert resp.headers["X-Accel-Buffering"] == "no"
        events = EventReader(resp)

        first = events.next_event()
        assert json.loads(first["data"]) == expected_document(hall)
        assert first["id"] == str(hall.snapshot()[0])

        # The hub publishes from its own thread while the stream waits.
        publish = threading.Timer(0.3, hall.update, args=(queue_state(hukou_waiting=9), []))
        publish.start()
        try:
            second = events.next_event(within_s=5)
        finally:
            publish.join()
        state = json.loads(second["data"])
        assert state["queue"]["waiting"] == 13
        assert [s["waiting"] for s in state["queue"]["services"]] == [9, 4]
        assert state == expected_document(hall)
        assert int(second["id"]) == int(first["id"]) + 1

        # Quiet hall: keepalive comments, no events.
        time.sleep(1.2)
        hall.update(queue_state(hukou_waiting=0), [])
        third = events.next_event()
        assert events.keepalives >= 1
        assert json.loads(third["data"])["queue"]["waiting"] == 4


def test_closed_streams_free_their_workers(hall: StateFeed, base_url: str,
        web: requests.Session) -> None:
    for _ in range(6):  # more streams than the server has threads
        with web.get(base_url + "/events", stream=True, timeout=TIMEOUT) as resp:
            EventReader(resp).next_event()

    resp = web.get(base_url + "/api/state", timeout=TIMEOUT)
    assert resp.status_code == 200


def test_api_state_matches_the_feed(hall: StateFeed, base_url: str, web: requests.Session) -> None:
    resp = web.get(base_url + "/api/state", timeout=TIMEOUT)

    assert resp.status_code == 200
    assert resp.json() == expected_document(hall)
    assert resp.json()["windows"][1]["serving"] == "A005"


def test_healthz(base_url: str, web: requests.Session) -> None:
    resp = web.get(base_url + "/healthz", timeout=TIMEOUT)

    assert resp.status_code == 200
    assert resp.json() == {"ok": True}


def test_stopping_the_hub_ends_open_live_pages(hall: StateFeed, auth: Auth) -> None:
    """A manager's open tab must not keep the hub from stopping (or restarting)."""
    server = WebServer(create_web_app(hall, auth, hall_name=HALL, keepalive_s=0.5),
                       "127.0.0.1", 0)
    server.start()
    url = f"http://127.0.0.1:{server.port}"
    stream = signed_in(url).get(f"{url}/events", stream=True, timeout=TIMEOUT)
    lines = stream.iter_lines()
    assert next(lines) == f"retry: {RETRY_MS}".encode()  # the stream is open and talking
    server.stop()
    assert not server._thread.is_alive()
    with pytest.raises((requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ConnectionError, StopIteration)):
        for _ in range(100):
            next(lines)
    stream.close()


def test_long_waits_and_long_queues_are_flagged(feed: StateFeed, base_url: str,
        web: requests.Session) -> None:
    q = queue_state(hukou_waiting=25)
    busy = q.services[0].model_copy(update={"longest_wait_s": 31 * 60})
    feed.update(q.model_copy(update={"services": [busy, q.services[1]]}), [])
    text = visible_text(web.get(base_url + "/", timeout=TIMEOUT).text)
    assert "户口迁移 等候超过30分钟 排队超过20人" in text
    assert "社会保险登记 B" in text and "社会保险登记 等候超过" not in text


def test_an_unknown_calendar_year_is_shown_to_managers(hub_settings: HubSettings) -> None:
    """chinesecalendar lacks 2027 (published each November): the hub says so on the page."""
    from hub.work_calendar import WorkCalendar

    hub = Hub(hub_settings)
    hub.start()
    try:
        make_account(hub.engine)
        text = visible_text(signed_in(hub.dashboard_url).get(hub.dashboard_url,
                                                             timeout=TIMEOUT).text)
        unknown = WorkCalendar().unknown_years(hub.clock.service_day())
        for year in unknown:  # [2027] with chinesecalendar 1.11
            assert f"{year}年的法定节假日和调休安排尚未录入" in text
        assert ("尚未录入" in text) == bool(unknown)
    finally:
        hub.stop()


def test_the_latest_calls_are_listed_once_each_newest_first() -> None:
    feed = StateFeed()
    feed.update(queue_state(), [window(1, "1号窗口 户籍综合受理", "open")])
    first = window(1, "1号窗口 户籍综合受理", "serving", "A005")  # call 1
    feed.update(None, [first])
    feed.update(None, [first])  # the same state published again: no new call
    feed.update(None, [first.model_copy(update={"call_seq": 2})])  # a recall of A005
    feed.update(None, [window(2, "2号窗口 社保综合受理", "serving", "B001")])  # first seen
    feed.update(None, [first.model_copy(update={"call_seq": 3, "serving": "A006"})])
    calls = feed.snapshot()[1]["calls"]
    assert [(c["window"], c["number"]) for c in calls] == [(1, "A006"), (1, "A005"), (1, "A005")]
    assert calls[0]["at"] == NOW.isoformat()
