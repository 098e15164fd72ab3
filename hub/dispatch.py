"""From one MQTT request to one reply: size, JSON, schema, replay, handler, record.

The reply to a request id is fixed the first time it is given: a replayed
request (QoS 1 redelivery, a device's resend) gets the stored reply and changes
nothing. Unreadable requests are answered but not recorded, since nothing changed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import Connection, DateTime, bindparam, insert, select

from hub.context import HallContext, Outcome
from hub.db.engine import savepoint
from hub.db.prepared import Prepared
from hub.db.schema import requests
from hub.handlers import HANDLERS
from protocol import topics
from protocol.errors import ZH, ErrorCode, UserError
from protocol.messages import MAX_PAYLOAD_BYTES, REQUEST_BY_ACTION, ErrorReply, parse_reply

log = logging.getLogger(__name__)

_FIRST_REPLY = Prepared(select(requests.c.reply, requests.c.device_id).where(
    requests.c.request_id == bindparam("b_rid")))
_RECORD = Prepared(insert(requests).values(
    request_id=bindparam("b_rid"), device_id=bindparam("b_device"), action=bindparam("b_action"),
    reply=bindparam("b_reply"), created_at=bindparam("b_now", type_=DateTime)))


@dataclass
class Answer:
    """Where to send the reply, and what the request changed."""

    reply_topic: str
    outcome: Outcome
    payload: str = ""  # the reply's JSON, made once

    def __post_init__(self) -> None:
        if not self.payload:
            self.payload = self.outcome.reply.model_dump_json()


def error_reply(code: ErrorCode, request_id: UUID | None, message: str | None = None
                ) -> ErrorReply:
    """A refusal as the screen shows it."""
    return ErrorReply(request_id=request_id, code=code, message=message or ZH[code])


def request_id_of(data: Any) -> UUID | None:
    """The request id of a payload that failed validation, when it has a readable one."""
    try:
        return UUID(str(data["request_id"]))
    except (TypeError, KeyError, ValueError):
        return None


def dispatch(conn: Connection, ctx: HallContext, hall_id: str, topic: str,
             payload: bytes) -> Answer | None:
    """Handle one request inside `conn`'s transaction; None when there is nobody to answer."""
    addr = topics.parse_request_topic(topic)
    if addr is None:
        log.warning("ignored message on unknown topic %r", topic[:200])
        return None
    reply_to = topics.reply_topic(addr.hall_id, addr.device_class, addr.device_id)

    def refuse(code: ErrorCode, rid: UUID | None, detail: str) -> Answer:
        log.warning("refused %s from %s: %s %s", addr.action, addr.device_id, code.value, detail)
        return Answer(reply_to, Outcome(error_reply(code, rid)))

    if addr.hall_id != hall_id:
        return refuse(ErrorCode.WRONG_HALL, None, addr.hall_id)
    if len(payload) > MAX_PAYLOAD_BYTES:
        return refuse(ErrorCode.TOO_LARGE, None, f"{len(payload)} bytes")
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return refuse(ErrorCode.BAD_JSON, None, repr(payload[:80]))
    rid = request_id_of(data)
    cls = REQUEST_BY_ACTION.get(addr.action)
    if cls is None or cls.SENDER != addr.device_class:
        return refuse(ErrorCode.UNKNOWN_ACTION, rid, f"{addr.device_class}/{addr.action}")
    try:
        req = cls.model_validate(data)
    except ValidationError as exc:
        # no input in the log: it may hold a PIN
        errors = exc.errors(include_url=False, include_input=False)
        return refuse(ErrorCode.INVALID, rid, str(errors)[:300])

    first = _FIRST_REPLY.one_or_none(conn, {"b_rid": str(req.request_id)})
    if first is not None:
        first_reply, first_device = first
        if first_device != addr.device_id:
            return refuse(ErrorCode.INVALID, None, f"request id {req.request_id} of another device")
        log.info("replay of %s request_id=%s", addr.action, req.request_id)
        return Answer(reply_to, Outcome(parse_reply(first_reply)), first_reply)

    def record(outcome: Outcome) -> Answer:
        answer = Answer(reply_to, outcome)
        _RECORD.run(conn, {"b_rid": str(req.request_id), "b_device": addr.device_id,
                           "b_action": addr.action, "b_reply": answer.payload,
                           "b_now": ctx.clock.now()})
        return answer

    try:
        with savepoint(conn):  # the change and its record stand or fall together
            return record(HANDLERS[cls](conn, ctx, addr.device_id, req))
    except UserError as err:
        log.info("refused %s request_id=%s: %s", addr.action, req.request_id, err)
        # in a savepoint too: on PostgreSQL a statement that fails outside one (a bug) would
        # abort the whole batch's transaction, the requests answered before it with it
        with savepoint(conn):
            return record(Outcome(error_reply(err.code, req.request_id, err.zh)))
