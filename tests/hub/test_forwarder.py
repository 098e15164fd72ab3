"""Forwarding to the provincial 好差评 system, against a local stand-in server the test
starts: it is down, answers errors, and times out on cue. Every review reaches it, in
order, and is applied exactly once (by its idempotency key); nothing is lost meanwhile."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hallsim.broker import free_port
from hub.app import Hub
from hub.db.schema import forward_outbox
from hub.settings import HubSettings
from protocol.messages import CaseFinished, ReviewRecorded, TicketCalled
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import eventually


class Province:
    """The stand-in: records what it applied, once per key; `mode` says how it behaves."""

    def __init__(self) -> None:
        self.mode = "ok"  # ok, error (HTTP 500), slow (answers after the forwarder gave up)
        self.received: list[str] = []  # every key that arrived, repeats too
        self.applied: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        province = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                with province.lock:
                    province.received.append(key)
                    mode = province.mode
                if mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                with province.lock:
                    province.applied.setdefault(key, body)  # idempotent, as the key asks
                if mode == "slow":
                    time.sleep(1.5)  # applied, but the answer comes too late
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server: ThreadingHTTPServer | None = None
        self.handler = Handler

    def up(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def province() -> Iterator[Province]:
    p = Province()
    yield p
    p.down()


@pytest.fixture
def hub(hub_settings: HubSettings, province: Province) -> Iterator[Hub]:
    h = Hub(hub_settings.model_copy(update={
        "forward_url": f"http://127.0.0.1:{province.port}/reviews",
        "forward_first_backoff_s": 0.1, "forward_max_backoff_s": 0.4}))
    h.forwarder.timeout_s = 0.5  # type: ignore[union-attr]
    h.forwarder.idle_s = 0.05  # type: ignore[union-attr]
    h.start()
    assert h.consumer.wait_connected(10)
    yield h
    h.stop()


def unsent(hub: Hub) -> int:
    with hub.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).where(forward_outbox.c.sent_at.is_(None)))
                   or 0)


def test_reviews_reach_the_province_once_in_order_through_an_outage(
        hub: Hub, province: Province, make_link: LinkFactory, tmp_path: Path) -> None:
    machine = kiosk(make_link, tmp_path, hub)
    window = caller(make_link, 5)
    window.sign_in("S051", "123456")
    window.open()
    grades = ["satisfied", "very_satisfied", "unsatisfied", "basic", "satisfied", "satisfied"]
    for i, grade in enumerate(grades):
        if i == 1:
            province.up()  # the first review waited for the province to come up
        if i == 2:
            province.mode = "error"
        if i == 4:
            province.mode = "slow"
        assert machine.take_ticket("GA_HJQY").issued is not None
        eventually(lambda: isinstance(window.call_next(), TicketCalled), what="the call")
        assert isinstance(window.finish(), CaseFinished)
        reason = "等候时间太长" if grade == "unsatisfied" else None
        assert isinstance(window.review(grade, reason), ReviewRecorded)  # type: ignore[arg-type]
        time.sleep(0.3)
    assert unsent(hub) > 0  # errors and timeouts: waiting in the outbox
    province.mode = "ok"
    eventually(lambda: unsent(hub) == 0, timeout=15, what="the outbox to empty")

    reviews = [k for k in province.applied if k.startswith("review:")]
    assert len(reviews) == len(grades)  # every review, once
    assert [province.applied[k]["grade"] for k in reviews] == grades  # in order
    assert len(province.received) > len(province.applied)  # retries arrived…
    assert len(set(province.received)) == len(province.applied)  # …with the same keys
    assert province.applied[reviews[2]]["reason"] == "等候时间太长"
    assert province.applied[reviews[2]]["window"] == 5
