"""The hall managers' dashboard: one live page, its event stream and the state as JSON."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from hub.state_feed import StateFeed
from hub.web.auth import Auth

log = logging.getLogger(__name__)

KEEPALIVE_S = 15.0  # a comment this often keeps proxies and idle-timeouts from cutting the stream
RETRY_MS = 3000  # how long a browser waits before it reconnects a dropped stream
STATUS_ZH = {"closed": "未开放", "open": "空闲", "serving": "办理中", "paused": "暂停服务",
             "away": "暂时离开"}
TOTALS = (
    ("issued", "今日取号"),
    ("waiting", "等候"),
    ("called", "已叫号"),
    ("finished", "已办结"),
    ("no_show", "过号"),
    ("windows_open", "开放窗口"),
)
ERRORS_ZH = {404: "没有这个页面，请从菜单进入", 405: "不能这样打开这个页面，请从菜单进入",
             500: "服务器处理出错，已记录；请稍后再试，或联系系统管理员"}
# Everything the page loads comes from the hub itself: the hall LAN has no internet.
CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"


class RowNumber(IntegerConverter):
    """`<int:…>` in every route: at most what the database stores (32 bits), so a huge
    number in an address is a 404 like any unknown one, not a database error (tests/fuzz)."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = 2**31 - 1, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def create_web_app(feed: StateFeed, auth: Auth, *, hall_name: str,
                   keepalive_s: float = KEEPALIVE_S, away_limit_minutes: int = 3,
                   alert_wait_minutes: int = 30, alert_queue_length: int = 20,
                   warnings: Callable[[], list[str]] | None = None,
                   settings: Blueprint | None = None, public: Sequence[Blueprint] = (),
                   pages: Sequence[Blueprint] = ()) -> Flask:
    """The dashboard app, showing the live state held by `feed`, behind `auth`'s sign-in.

    A window away longer than `away_limit_minutes` is shown red (002 annex 1 §6).
    `public` serve citizens without an account: the ticket's page on their phones
    (ticket_page.py), the booking pages and API (booking_pages.py); `settings` answers
    only to the hub machine (settings_api.py); `pages` are the managers' (预约管理, 好差评,
    周通报, …), each view with the roles it allows (hub/web/auth.py).
    """
    app = Flask(__name__)
    app.url_map.converters["int"] = RowNumber
    for blueprint in (settings, *public, *pages):
        if blueprint is not None:
            app.register_blueprint(blueprint)
    auth.install(app, hall_name, [*public, *([settings] if settings else [])])

    @app.get("/")
    def dashboard() -> str:
        """The page, complete with the current state so it reads right without JS."""
        _, state = feed.snapshot()
        return render_template(
            "dashboard.html", hall_name=hall_name, state=state, totals=TOTALS,
            status_zh=STATUS_ZH, away_limit_s=away_limit_minutes * 60,
            alert_wait_s=alert_wait_minutes * 60, alert_queue=alert_queue_length,
            warnings=warnings() if warnings else [],
        )

    @app.get("/events")
    def events() -> Response:
        """Server-sent events: the state now, then each newer state as it happens."""
        return Response(
            event_stream(feed, keepalive_s),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.get("/api/state")
    def api_state() -> Response:
        """The current state with its version, as JSON."""
        version, state = feed.snapshot()
        return jsonify(state_document(version, state))

    @app.get("/healthz")
    def healthz() -> Response:
        """Liveness for the supervisor."""
        return jsonify(ok=True)

    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(500)
    def in_chinese(err: HTTPException | Exception) -> tuple[Response | str, int]:
        """Plain Chinese for a page that is not there, a wrong method or a fault (logged);
        JSON for the API."""
        code = err.code if isinstance(err, HTTPException) and err.code else 500
        if code == 500:
            log.exception("the dashboard failed on %s", request.path)
        message = ERRORS_ZH.get(code, ERRORS_ZH[500])
        if request.path.startswith("/api/"):
            return jsonify(ok=False, code=str(code), message=message), code
        return render_template("forbidden.html", hall_name=hall_name, message=message,
                               title="出错了"), code

    @app.after_request
    def security_headers(response: Response) -> Response:
        """Forbid anything not served by the hub and any sniffing of content types."""
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    return app


def state_document(version: int, state: dict[str, Any]) -> dict[str, Any]:
    """The one JSON shape of the state, for /api/state and every event."""
    return {"version": version, **state}


def sse_event(version: int, state: dict[str, Any], *, retry_ms: int | None = None) -> str:
    """One server-sent event carrying the state; JSON keeps it on a single data line."""
    data = json.dumps(state_document(version, state), ensure_ascii=False, separators=(",", ":"))
    retry = f"retry: {retry_ms}\n" if retry_ms is not None else ""
    return f"{retry}id: {version}\ndata: {data}\n\n"


def event_stream(feed: StateFeed, keepalive_s: float) -> Iterator[str]:
    """The state now, then every newer one, with a keepalive comment on quiet stretches.

    The server closes this generator when the client has gone (waitress notices on the
    next write), so a page left open costs one worker thread and nothing else.
    """
    version, state = feed.snapshot()
    log.debug("dashboard stream opened at version=%d", version)
    try:
        yield sse_event(version, state, retry_ms=RETRY_MS)
        while True:
            newer = feed.wait_newer(version, timeout=keepalive_s)
            if newer is None:
                yield ": keepalive\n\n"
                continue
            version, state = newer
            yield sse_event(version, state)
    finally:
        log.debug("dashboard stream closed at version=%d", version)
