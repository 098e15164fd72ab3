"""The city service: one HTTP endpoint the halls sync through, on waitress, over PostgreSQL.

`POST /api/v1/sync` (protocol/city_sync.py): a hall's token in `Authorization: Bearer`,
its next events and its blacklist cursor in the body; the answer says what was new and
carries the blacklist changes after the cursor. `GET /api/v1/health` says the service and
its database answer. Refusals use the hub's error shape: `{"ok": false, "code", "message"}`
with the message in Chinese (a hall's log shows it).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import signal
import threading
from datetime import UTC, datetime

from flask import Flask, Response, jsonify, request
from pydantic import ValidationError
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.exc import DBAPIError

from city import ledger
from city.schema import metadata
from city.settings import CitySettings
from hub.web.server import WebServer
from protocol.city_sync import SYNC_PATH, SyncRequest

log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """The city's PostgreSQL, its tables made when missing (city/schema.py)."""
    engine = create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)
    if engine.dialect.name != "postgresql":
        raise ValueError("the city service needs PostgreSQL (postgresql+psycopg://…)")
    metadata.create_all(engine)
    return engine


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _refuse(status: int, code: str, message: str) -> tuple[Response, int]:
    return jsonify({"ok": False, "code": code, "message": message}), status


def create_app(engine: Engine, halls: dict[str, str], max_changes: int = 500) -> Flask:
    """The sync endpoint for the halls in `halls` (hall id -> SHA-256 hex of its token)."""
    app = Flask("city")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese messages as they are
    app.config["MAX_CONTENT_LENGTH"] = 8 * 1024 * 1024  # 1,000 events are well under 1 MB

    @app.post(SYNC_PATH)
    def sync() -> tuple[Response, int]:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        try:
            req = SyncRequest.model_validate_json(request.get_data())
        except ValidationError as e:
            log.warning("unreadable sync request: %s", e.errors()[:3])
            return _refuse(400, "INVALID", "同步数据格式不正确")
        known = halls.get(req.hall)
        offered = hashlib.sha256(token.encode()).hexdigest()
        if known is None or not hmac.compare_digest(known, offered):
            log.warning("sync refused for hall %s: unknown hall or wrong token", req.hall)
            return _refuse(401, "UNAUTHORISED", "大厅未登记或令牌不正确")
        try:
            with engine.begin() as conn:
                answer = ledger.apply_batch(conn, req, _utcnow(), max_changes)
        except DBAPIError as e:  # the database away, a deadlock: the hall sends it again
            log.warning("sync of hall %s not applied: %s", req.hall, e.orig)
            return _refuse(503, "BUSY", "全市平台暂时无法处理，请稍后重试")
        if answer.accepted or answer.duplicates:
            log.info("hall %s: %d events applied, %d resent", req.hall, answer.accepted,
                     answer.duplicates)
        return Response(answer.model_dump_json(), mimetype="application/json"), 200

    @app.get("/api/v1/health")
    def health() -> tuple[Response, int]:
        try:
            with engine.connect() as conn:
                conn.execute(select(text("1")))
        except DBAPIError:
            return _refuse(503, "DB_DOWN", "全市平台数据库无法连接")
        return jsonify({"ok": True}), 200

    return app


class CityService:
    """The city's web server and database; `start()` and `stop()` it."""

    def __init__(self, settings: CitySettings) -> None:
        self.settings = settings
        self.engine = make_engine(settings.db_url)
        self.app = create_app(self.engine, settings.all_halls(), settings.max_changes)
        self.http = WebServer(self.app, settings.http_host, settings.http_port,
                              threads=settings.threads)

    @property
    def url(self) -> str:
        return self.http.url

    def start(self) -> None:
        self.http.start()
        log.info("city service up on %s", self.url)

    def stop(self) -> None:
        self.http.stop()
        self.engine.dispose()


def main() -> None:
    """`python -m city`: run until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    service = CityService(CitySettings())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    service.start()
    print(f"HallQ city ready; {service.url}", flush=True)
    stop.wait()
    service.stop()
