"""The provincial 好差评 endpoint down, slow and answering errors, against a stand-in on a
loopback port that misbehaves at the socket level: nothing listening, a connection never
answered, an answer dripped a line at a time, 4xx and 5xx, a redirect to a portal page, an
answer that is no HTTP, a connection closed unanswered.

Each time the entry stays in the outbox with what went wrong, the forwarder waits out its
backoff between tries and never holds longer than its timeout, nothing after the entry
overtakes it, and once the endpoint answers well every entry arrives once, in order.
(tests/hub/test_forwarder*.py cover an outage, HTTP 500 and a late 200 with real reviews.)
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Row, select

from hub.app import Hub
from hub.clock import ShiftedClock
from hub.db.schema import forward_outbox
from hub.forwarder import enqueue
from hub.settings import HubSettings
from protocol.messages import CaseFinished, ReviewRecorded, TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually, signed_in_client

TIMEOUT_S = 0.5  # the forwarder's, in these tests (the hub's default is 10 s)
FIRST_BACKOFF_S, MAX_BACKOFF_S = 0.2, 0.8
DRIP_EVERY_S = 0.2  # a header line this often: each read is quicker than the timeout


class Endpoint:
    """The province's stand-in: a raw socket server, so it can also answer what no HTTP
    library would send. `mode` says how it answers the next request; `down()` closes it."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.received: list[tuple[float, str]] = []  # (monotonic, key) of every POST
        self.applied: dict[str, dict[str, Any]] = {}  # once per key, as the contract asks
        self.gets: list[str] = []  # a followed redirect would show here
        self.lock = threading.Lock()
        self.closing = threading.Event()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.listener: socket.socket | None = None
        self.url = f"http://127.0.0.1:{self.port}/reviews"

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def close(self) -> None:
        self.closing.set()
        self.down()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                self._answer(conn)
            except OSError:
                pass  # the forwarder cut the connection: that is what it should do

    def _answer(self, conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        if method == "GET":  # the portal page a redirect points at
            with self.lock:
                self.gets.append(path)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 19\r\n"
                         b"\r\n<html>login</html>")
            return
        while len(body) < int(headers["content-length"]):
            body += conn.recv(65536)
        key = headers["idempotency-key"]
        with self.lock:
            self.received.append((time.monotonic(), key))
            mode = self.mode
        if mode in ("ok", "ok_odd_body"):
            with self.lock:
                self.applied.setdefault(key, json.loads(body))
            answer = b"\x00\xff{not json" if mode == "ok_odd_body" else b'{"ok": true}'
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(answer) + answer)
        elif mode.startswith("http_"):
            error = json.dumps({"error": "拒绝"}).encode()
            conn.sendall(b"HTTP/1.1 %s Refused\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n" % (mode[5:].encode(), len(error)) + error)
        elif mode == "redirect":
            conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/login\r\n"
                         b"Content-Length: 0\r\n\r\n" % self.port)
        elif mode == "hang":  # the connection is taken, no answer ever comes
            self.closing.wait(30)
        elif mode == "drip":  # an answer that never ends, each line well within the timeout
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for i in range(150):
                if self.closing.wait(DRIP_EVERY_S):
                    return
                conn.sendall(b"X-Wait-%d: 1\r\n" % i)
        elif mode == "garbage":
            conn.sendall(b"<html>502 Bad Gateway</html>\r\n\r\n")
        elif mode == "binary":
            conn.sendall(bytes(range(256)) * 4)
        elif mode == "hangup":
            pass  # closed with no answer at all


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    e = Endpoint()
    yield e
    e.close()


@pytest.fixture
def hub(hub_settings: HubSettings, endpoint: Endpoint) -> Iterator[Hub]:
    """The hub forwarding to the stand-in, with short timeouts and backoffs."""
    h = Hub(hub_settings.model_copy(update={
        "forward_url": endpoint.url, "forward_first_backoff_s": FIRST_BACKOFF_S,
        "forward_max_backoff_s": MAX_BACKOFF_S}))
    assert h.forwarder is not None
    h.forwarder.timeout_s = TIMEOUT_S
    h.forwarder.idle_s = 0.05
    h.start()
    assert h.consumer.wait_connected(10)
    yield h
    started = time.monotonic()
    h.stop()
    assert time.monotonic() - started < TIMEOUT_S + 3, "the forwarder held the hub's stop"


def outbox(hub: Hub) -> list[Row[Any]]:
    with hub.engine.connect() as conn:
        return list(conn.execute(select(forward_outbox).order_by(forward_outbox.c.id)))


def add_entries(hub: Hub, n: int) -> list[str]:
    """n review entries in the outbox, as a review's transaction writes them."""
    keys = [f"review:{hub.settings.hall_id}:{i}" for i in range(1, n + 1)]

    def job(conn: Connection) -> None:
        for i, key in enumerate(keys, 1):
            enqueue(conn, key, {"kind": "review", "id": i, "grade": "satisfied",
                                "grade_zh": "满意", "window": 5}, hub.clock.now())
    hub.consumer.run(job)
    return keys


FAILURES = [  # (mode, what the outbox records)
    ("down", "Connection refused"),
    ("hang", "TimeoutError"),
    ("drip", "TimeoutError: no whole answer within 0.5 s"),
    ("http_500", "HTTP 500"),
    ("http_503", "HTTP 503"),
    ("http_400", "HTTP 400"),
    ("http_404", "HTTP 404"),
    ("http_429", "HTTP 429"),
    ("redirect", "HTTP 302"),
    ("garbage", "BadStatusLine"),
    ("binary", "BadStatusLine"),
    ("hangup", "RemoteDisconnected"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("mode", "error"), FAILURES, ids=[m for m, _ in FAILURES])
def test_a_failing_endpoint_keeps_the_entries_then_each_goes_once_in_order(
        hub: Hub, endpoint: Endpoint, mode: str, error: str) -> None:
    started = time.monotonic()
    if mode != "down":
        endpoint.mode = mode
        endpoint.up()
    keys = add_entries(hub, 3)

    head = eventually(lambda: (e := outbox(hub)[0]).attempts >= 3 and e, timeout=15,
                      what="three tries of the oldest entry")
    assert head.sent_at is None and head.last_error is not None
    assert error in head.last_error, head.last_error
    assert head.last_error.isprintable()
    assert [e.attempts for e in outbox(hub)[1:]] == [0, 0], "none overtakes the oldest"
    if mode == "down":
        assert endpoint.received == []
    else:
        tries = [t for t, key in endpoint.received if key == keys[0]]
        assert len(tries) >= 3 and {k for _, k in endpoint.received} == {keys[0]}
        gaps = [b - a for a, b in zip(tries, tries[1:], strict=False)]
        assert min(gaps) >= FIRST_BACKOFF_S * 0.9, f"retried before the backoff: {gaps}"
        assert max(gaps) < TIMEOUT_S + MAX_BACKOFF_S + 1, f"held past the timeout: {gaps}"
    assert endpoint.applied == {} and endpoint.gets == [], "nothing taken, no redirect followed"

    endpoint.mode = "ok"
    if mode == "down":
        endpoint.up()
    eventually(lambda: all(e.sent_at is not None for e in outbox(hub)), timeout=10,
               what="the outbox to empty")
    assert list(endpoint.applied) == keys, "each once, in order"
    assert [k for _, k in endpoint.received if k != keys[0]] == keys[1:], "the rest sent once"
    assert time.monotonic() - started < 20


@pytest.mark.timeout(60)
def test_a_2xx_with_an_odd_body_counts_as_taken(hub: Hub, endpoint: Endpoint) -> None:
    """The contract: a 2xx marks an entry sent, whatever its body (docs/provincial-
    forwarding.md); the body is not read, so an odd one changes nothing."""
    endpoint.mode = "ok_odd_body"
    endpoint.up()
    keys = add_entries(hub, 2)
    eventually(lambda: all(e.sent_at is not None for e in outbox(hub)), what="both sent")
    assert [k for _, k in endpoint.received] == keys and list(endpoint.applied) == keys
    assert all(e.attempts == 1 and e.last_error is None for e in outbox(hub))


@pytest.mark.timeout(90)
def test_real_reviews_through_a_refusing_endpoint_and_the_dashboard_warning(
        hub: Hub, endpoint: Endpoint, make_link: LinkFactory, tmp_path: Any) -> None:
    """Reviews pressed at a window while the province refuses them (HTTP 400): they wait,
    in order; after an hour the dashboard says so, in Chinese, with the last error; once
    the province takes them the warning is gone and each review arrived once."""
    endpoint.mode = "http_400"
    endpoint.up()
    machine = kiosk(make_link, tmp_path, hub)
    window = caller(make_link, 5)
    window.sign_in("S051", "123456")
    window.open()
    grades = ["satisfied", "unsatisfied", "very_satisfied"]
    for grade in grades:
        assert machine.take_ticket("GA_HJQY").issued is not None
        eventually(lambda: isinstance(window.call_next(), TicketCalled), what="the call")
        assert isinstance(window.finish(), CaseFinished)
        reason = "等候时间太长" if grade == "unsatisfied" else None
        assert isinstance(window.review(grade, reason), ReviewRecorded)  # type: ignore[arg-type]
    eventually(lambda: outbox(hub)[0].attempts >= 2, what="tries refused")
    assert all(e.sent_at is None for e in outbox(hub))
    assert not any("省好差评" in w for w in hub.warnings()), "not within the first hour"

    clock = hub.clock
    assert isinstance(clock, ShiftedClock)
    clock.offset += timedelta(hours=2)
    dashboard = signed_in_client(hub)
    page = dashboard.get("/").get_data(as_text=True)
    assert "有3条评价或整改结果未能上报省好差评系统，最早一条已等候2小时以上" in page
    assert "最近一次：HTTP 400" in page

    endpoint.mode = "ok"
    eventually(lambda: all(e.sent_at is not None for e in outbox(hub)), timeout=10,
               what="the outbox to empty")
    assert [b["grade"] for b in endpoint.applied.values()] == grades
    assert len(endpoint.applied) == len(grades)
    assert "省好差评" not in dashboard.get("/").get_data(as_text=True)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_the_hubs_own_timeout_and_backoff_against_a_hanging_then_dripping_endpoint(
        hub_settings: HubSettings, endpoint: Endpoint) -> None:
    """The hub's defaults (10 s timeout, 5 s backoff doubling): a minute of an endpoint
    that takes connections and never answers, then one that drips an endless answer; each
    try ends after 10 s, tries are spaced by the backoff, and the entries go once it is well."""
    endpoint.mode = "hang"
    endpoint.up()
    h = Hub(hub_settings.model_copy(update={"forward_url": endpoint.url}))
    assert h.forwarder is not None and h.forwarder.timeout_s == 10.0
    h.forwarder.idle_s = 0.05
    h.start()
    try:
        keys = add_entries(h, 2)
        eventually(lambda: outbox(h)[0].attempts >= 3, timeout=70, what="three hung tries")
        endpoint.mode = "drip"
        eventually(lambda: outbox(h)[0].attempts >= 4, timeout=60, what="a dripped try")
        assert "no whole answer within 10 s" in (outbox(h)[0].last_error or "")
        tries = [t for t, _ in endpoint.received]
        gaps = [b - a for a, b in zip(tries, tries[1:], strict=False)]
        expected = [10 + 5 * 2 ** i for i in range(len(gaps))]  # the try, then the backoff
        assert all(e - 0.5 < g < e + 1.5 for g, e in zip(gaps, expected, strict=True)), gaps
        endpoint.mode = "ok"
        eventually(lambda: all(e.sent_at is not None for e in outbox(h)), timeout=60,
                   what="the outbox to empty")
        assert list(endpoint.applied) == keys
    finally:
        h.stop()
