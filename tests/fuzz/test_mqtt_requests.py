"""Every MQTT request handler under generated payloads (issue 11, "Bad input").

For each action of the protocol (protocol.messages.REQUESTS) Hypothesis sends the hub's
dispatcher — the code every request from the broker goes through, on a real SQLite file —
payloads of five kinds:

- valid: drawn from the request's own JSON schema (`from_schema` below), with the hall's
  real service codes, windows, staff numbers and ticket ids mixed in so handlers get past
  their first check;
- boundary: the same with numbers and strings at and beyond their limits;
- malformed: a valid payload with a field dropped, a wrong type, an unknown field, a future
  version, broken JSON, bytes that are not UTF-8;
- huge: past MAX_PAYLOAD_BYTES;
- wrong topic: another device class's topic, another hall, an action nobody knows.

Each must be answered (never an exception), an answer a screen can show (a Chinese
message for every refusal), and a refused request must change nothing: SQLite triggers
count every row written to any table, and a refusal's writes are rolled back with its
savepoint, so the count after it is the count before (bar the one row that records the
reply to its request id, which makes a resend get the same answer). A request that does not
even parse is not recorded at all.

`pytest tests/fuzz` runs 100 payloads an action; `--run-slow` runs 10,000 an action (the
issue's figure; docs/reliability.md gives the time); HALLQ_FUZZ_EXAMPLES=N runs N.
"""

from __future__ import annotations

import json
import os
import shutil
import string
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from hallsim.broker import Broker
from hallsim.hub_process import WORKING_MORNING
from hub.app import Hub
from hub.dispatch import dispatch
from hub.settings import HubSettings
from protocol import topics
from protocol.errors import ErrorCode
from protocol.messages import MAX_PAYLOAD_BYTES, REQUEST_BY_ACTION, ErrorReply, Request, parse_reply
from protocol.topics import DeviceClass

HALL = "fuzz"
ACTIONS = sorted(REQUEST_BY_ACTION)
UNPARSED = {ErrorCode.BAD_JSON, ErrorCode.INVALID, ErrorCode.TOO_LARGE,
            ErrorCode.UNKNOWN_ACTION, ErrorCode.WRONG_HALL}
CJK = range(0x3400, 0xA000)


def examples(config: pytest.Config) -> int:
    """Payloads an action: HALLQ_FUZZ_EXAMPLES if set, else 10,000 with --run-slow, else 100."""
    if os.environ.get("HALLQ_FUZZ_EXAMPLES"):
        return int(os.environ["HALLQ_FUZZ_EXAMPLES"])
    return 10_000 if config.getoption("--run-slow") else 100


@dataclass
class Tally:
    """What the payloads of one action got back, for the report at the end."""

    kinds: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)


@dataclass
class Hall:
    hub: Hub
    conn: Connection
    services: list[str]
    windows: list[int]
    staff: list[str]
    tallies: dict[str, Tally] = field(default_factory=dict)

    def writes(self) -> dict[str, int]:
        """Rows written per table since the triggers were made (rolled-back ones not)."""
        return dict(self.conn.execute(text("SELECT tbl, n FROM temp.fuzz_writes")).all())


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory, broker: Broker) -> Iterator[Hall]:
    """A hub (not connected: requests go straight to its dispatcher) on a real SQLite file,
    and one connection of it with a trigger on every table counting the rows written."""
    # in memory when the machine has /dev/shm: the handlers' logic is what is tried here, not
    # the disk (tests/faults does that); a commit without fsync lets 10,000 an action run
    shm = Path("/dev/shm")
    folder: Path = (Path(tempfile.mkdtemp(prefix="hallq-fuzz-", dir=shm)) if shm.is_dir()
                    else tmp_path_factory.mktemp("fuzz"))
    hub = Hub(HubSettings(hall_id=HALL, db_url=f"sqlite:///{folder / 'hub.db'}",
                          mqtt=broker.settings_for(DeviceClass.HUB), http_port=0,
                          start_at=WORKING_MORNING))
    with hub.engine.connect() as conn:
        tables = list(conn.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")))
        conn.execute(text("CREATE TEMP TABLE fuzz_writes (tbl TEXT PRIMARY KEY, n INTEGER)"))
        for t in tables:
            conn.execute(text("INSERT INTO temp.fuzz_writes VALUES (:t, 0)"), {"t": t})
            for op in ("INSERT", "UPDATE", "DELETE"):
                conn.execute(text(
                    f'CREATE TEMP TRIGGER "fuzz_{op}_{t}" AFTER {op} ON main."{t}" BEGIN '
                    f"UPDATE fuzz_writes SET n = n + 1 WHERE tbl = '{t}'; END"))
        conn.commit()
        services = list(conn.scalars(text("SELECT code FROM services ORDER BY code")))
        windows = list(conn.scalars(text("SELECT number FROM windows ORDER BY number")))
        staff = list(conn.scalars(text("SELECT number FROM staff ORDER BY number")))
        conn.rollback()  # each payload in a transaction of its own
        found = Hall(hub, conn, services, windows, staff)
        yield found
    report = {a: (dict(t.kinds), dict(t.codes)) for a, t in sorted(found.tallies.items())}
    print("\nfuzzed MQTT requests (kinds; reply codes):", json.dumps(report, ensure_ascii=False,
                                                                      indent=1))
    hub.engine.dispose()
    if folder.parent == shm:
        shutil.rmtree(folder, ignore_errors=True)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid under the JSON schema pydantic makes of a request: the kinds its
    messages use (objects, arrays, const, enum, anyOf, integers, strings with a pattern,
    length or the uuid format, null), with their bounds, so boundary values come up often."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(s) for s in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "object":
        props = {k: from_schema(v) for k, v in schema.get("properties", {}).items()}
        required = set(schema.get("required", []))
        return st.fixed_dictionaries({k: v for k, v in props.items() if k in required},
                                     optional={k: v for k, v in props.items()
                                               if k not in required})
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "array":
        return st.lists(from_schema(schema["items"]), min_size=schema.get("minItems", 0),
                        max_size=min(schema.get("maxItems", 10), 50))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "string":
        if schema.get("format") == "uuid":
            return st.uuids().map(str)
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0),
                       max_size=min(schema.get("maxLength", 100), 1000))
    raise NotImplementedError(f"no strategy for schema {schema}")


def realistic(hall: Hall, cls: type[Request]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid payload of `cls` from its JSON schema, the hall's own values mixed in."""
    schema = cls.model_json_schema()
    known: dict[str, st.SearchStrategy[Any]] = {
        "service": st.sampled_from(hall.services), "to_service": st.sampled_from(hall.services),
        "window": st.sampled_from(hall.windows), "to_window": st.sampled_from(hall.windows),
        "staff_no": st.sampled_from(hall.staff), "pin": st.sampled_from(["1234", "000000"]),
        "ticket_id": st.integers(1, 40), "case_id": st.integers(1, 40),
        "number": st.sampled_from(["A001", "A002", "B001", "Y001", "A999"]),
    }

    def mix(base: dict[str, Any], picks: dict[str, Any]) -> dict[str, Any]:
        return {**base, **{k: v for k, v in picks.items() if k in base}}

    props = schema.get("properties", {})
    picks = st.fixed_dictionaries({}, optional={k: s for k, s in known.items() if k in props})
    return st.builds(mix, from_schema(schema), picks)


def malformed(valid: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The valid payload broken one way."""
    keys = sorted(valid)
    junk = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
                     st.text(max_size=50), st.lists(st.integers(), max_size=3),
                     st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))
    dropped = st.sampled_from(keys).map(lambda k: {x: v for x, v in valid.items() if x != k})
    retyped = st.tuples(st.sampled_from(keys), junk).map(lambda kv: {**valid, kv[0]: kv[1]})
    extra = st.tuples(st.text(string.ascii_letters + "_", min_size=1, max_size=12), junk).map(
        lambda kv: {**valid, kv[0]: kv[1]} if kv[0] not in valid else {**valid, "x_": 1})
    future = st.just({**valid, "v": 2})
    return st.one_of(dropped, retyped, extra, future)


@st.composite
def payload(draw: st.DrawFn, hall: Hall, action: str) -> tuple[str, str, bytes]:
    """(kind, topic, payload) of one generated request."""
    cls = REQUEST_BY_ACTION[action]
    device = draw(st.sampled_from(["dev-1", "dev-2", "kiosk-1", "caller-3"]))
    topic = topics.request_topic(HALL, cls.SENDER, device, action)
    valid = draw(realistic(hall, cls))
    valid["request_id"] = str(draw(st.uuids()) if draw(st.booleans()) else uuid4())
    kind = draw(st.sampled_from(["valid", "valid", "malformed", "bytes", "huge", "topic"]))
    if kind == "valid":
        return kind, topic, json.dumps(valid).encode()
    if kind == "malformed":
        return kind, topic, json.dumps(draw(malformed(valid)), default=str).encode()
    if kind == "bytes":
        raw = draw(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                             st.just(json.dumps(valid).encode()[:-1])))
        return kind, topic, raw
    if kind == "huge":
        pad = draw(st.integers(MAX_PAYLOAD_BYTES, 4 * MAX_PAYLOAD_BYTES))
        return kind, topic, json.dumps({**valid, "pad": "埠" * (pad // 3)}).encode()
    other_class = draw(st.sampled_from([c for c in DeviceClass if c != cls.SENDER]))
    wrong = draw(st.sampled_from([
        topics.request_topic(HALL, other_class, device, action),
        topics.request_topic("other-hall", cls.SENDER, device, action),
        topics.request_topic(HALL, cls.SENDER, device, action + "_x"),
    ]))
    return kind, wrong, json.dumps(valid).encode()


def is_request(action: str, topic: str, raw: bytes) -> bool:
    """Whether the payload is a valid request of `action` on its own topic of this hall."""
    cls = REQUEST_BY_ACTION[action]
    addr = topics.parse_request_topic(topic)
    if addr is None or (addr.hall_id, addr.device_class, addr.action) != (
            HALL, cls.SENDER, action) or len(raw) > MAX_PAYLOAD_BYTES:
        return False
    try:
        cls.model_validate_json(raw)
    except ValueError:
        return False
    return True


@pytest.mark.timeout(1800)  # --run-slow: 10,000 payloads take minutes an action
@pytest.mark.parametrize("action", ACTIONS)
def test_every_payload_is_answered_and_a_refusal_changes_nothing(
        hall: Hall, action: str, request: pytest.FixtureRequest) -> None:
    tally = hall.tallies.setdefault(action, Tally())

    @settings(max_examples=examples(request.config), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def one(data: st.DataObject) -> None:
        kind, topic, raw = data.draw(payload(hall, action), label="request")
        with hall.conn.begin():  # as the hub applies a batch: one transaction
            before = hall.writes()
            answer = dispatch(hall.conn, hall.hub.consumer.ctx, HALL, topic, raw)
            after = hall.writes()
        written = {t: after[t] - before[t] for t in after if after[t] != before[t]}
        tally.kinds[kind] += 1
        if answer is None:  # a topic that is not a request topic: nobody to answer
            assert kind == "topic"
            assert not written
            tally.codes["unanswered"] += 1
            return
        reply = parse_reply(answer.payload)
        readable = is_request(action, topic, raw)  # a broken payload may still be one
        if not isinstance(reply, ErrorReply):
            assert readable, f"{kind} payload accepted: {raw[:200]!r}"
            tally.codes["ok"] += 1
            return
        tally.codes[reply.code.value] += 1
        assert reply.code != ErrorCode.HUB_ERROR
        assert any(ord(c) in CJK for c in reply.message), reply.message
        if not readable:  # never read as a request: not even recorded
            assert reply.code in UNPARSED, (reply.code, raw[:200])
            assert not written, (reply.code, written)
        else:  # refused by the hall's rules: only the reply to its request id recorded
            assert set(written) <= {"requests"}, (reply.code, written)

    one()
    assert tally.kinds["valid"] > 0 and tally.kinds["malformed"] > 0
