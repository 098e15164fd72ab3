"""Bad requests get a clear Chinese error on the device's reply topic and change nothing."""

from __future__ import annotations

import json
import queue
from collections.abc import Iterator
from uuid import uuid4

import pytest

from hallsim.broker import Broker
from hub.app import Hub
from protocol.errors import ZH, ErrorCode
from protocol.messages import MAX_PAYLOAD_BYTES, ErrorReply, TicketIssued
from protocol.topics import DeviceClass
from tests.helpers import RawDevice, ticket_count


@pytest.fixture
def kiosk(broker: Broker, hub: Hub) -> Iterator[RawDevice]:
    dev = RawDevice(broker, hub.settings.hall_id, DeviceClass.KIOSK, "kiosk-raw")
    assert dev.ready()
    yield dev
    dev.close()


RID = str(uuid4())
BAD = [
    pytest.param("issue_ticket", b"\xff\xfe not json", ErrorCode.BAD_JSON, None, id="not-json"),
    pytest.param("issue_ticket", b"[1, 2", ErrorCode.BAD_JSON, None, id="broken-json"),
    pytest.param("issue_ticket", json.dumps({"request_id": RID, "service": 42}),
                 ErrorCode.INVALID, RID, id="wrong-type"),
    pytest.param("issue_ticket", json.dumps({"request_id": "not-a-uuid", "service": "GA_HJQY"}),
                 ErrorCode.INVALID, None, id="bad-request-id"),
    pytest.param("issue_ticket", json.dumps({"service": "GA_HJQY"}), ErrorCode.INVALID, None,
                 id="no-request-id"),
    pytest.param("issue_ticket", json.dumps({"request_id": RID, "service": "GA_HJQY",
                                             "name": "张三"}),
                 ErrorCode.INVALID, RID, id="unknown-field"),
    pytest.param("issue_ticket", json.dumps({"request_id": RID, "service": "NO_SUCH"}),
                 ErrorCode.UNKNOWN_SERVICE, RID, id="unknown-service"),
    pytest.param("issue_ticket", json.dumps({"v": 2, "request_id": RID, "service": "GA_HJQY"}),
                 ErrorCode.INVALID, RID, id="future-version"),
    pytest.param("issue_ticket", json.dumps({"request_id": RID, "service": "GA_HJQY",
                                             "pad": "x" * MAX_PAYLOAD_BYTES}),
                 ErrorCode.TOO_LARGE, None, id="oversized"),
    pytest.param("launch_rockets", json.dumps({"request_id": RID}), ErrorCode.UNKNOWN_ACTION,
                 RID, id="unknown-action"),
]


@pytest.mark.parametrize(("action", "payload", "code", "rid"), BAD)
def test_bad_request_answered_and_nothing_changes(hub: Hub, kiosk: RawDevice, action: str,
                                                  payload: bytes | str, code: ErrorCode,
                                                  rid: str | None) -> None:
    before = ticket_count(hub.engine)
    kiosk.publish(action, payload)
    reply = kiosk.reply()
    assert isinstance(reply, ErrorReply)
    assert reply.code == code
    assert reply.message == ZH[code]
    assert (str(reply.request_id) if reply.request_id else None) == rid
    assert ticket_count(hub.engine) == before
    # the hub is still fine: a good request right after works
    kiosk.publish("issue_ticket", json.dumps({"request_id": str(uuid4()), "service": "GA_HJQY"}))
    assert isinstance(kiosk.reply(), TicketIssued)


def test_refusal_is_the_same_answer_on_replay(hub: Hub, kiosk: RawDevice) -> None:
    payload = json.dumps({"request_id": str(uuid4()), "service": "NO_SUCH"})
    kiosk.publish("issue_ticket", payload)
    kiosk.publish("issue_ticket", payload)
    first, second = kiosk.reply(), kiosk.reply()
    assert first == second
    assert isinstance(first, ErrorReply) and first.message == "没有该服务事项，请重新选择"


def test_request_id_of_another_device_is_refused(broker: Broker, hub: Hub,
                                                 kiosk: RawDevice) -> None:
    payload = json.dumps({"request_id": str(uuid4()), "service": "GA_HJQY"})
    kiosk.publish("issue_ticket", payload)
    assert isinstance(kiosk.reply(), TicketIssued)
    other = RawDevice(broker, hub.settings.hall_id, DeviceClass.KIOSK, "kiosk-other")
    try:
        assert other.ready()
        other.publish("issue_ticket", payload)
        reply = other.reply()
        assert isinstance(reply, ErrorReply) and reply.code == ErrorCode.INVALID
    finally:
        other.close()
    assert ticket_count(hub.engine) == 1


def test_a_kiosk_cannot_send_a_caller_request(hub: Hub, kiosk: RawDevice) -> None:
    """A caller action on a kiosk's own topic is refused by the hub (the ACL allows the topic)."""
    kiosk.publish("call_next", json.dumps({"request_id": str(uuid4()), "window": 5}))
    reply = kiosk.reply()
    assert isinstance(reply, ErrorReply) and reply.code == ErrorCode.UNKNOWN_ACTION


def test_broker_drops_requests_outside_a_devices_own_topics(broker: Broker, hub: Hub,
                                                            kiosk: RawDevice) -> None:
    """ACL: a kiosk posing as a caller, or as another kiosk, never reaches the hub."""
    hall = hub.settings.hall_id
    caller = RawDevice(broker, hall, DeviceClass.CALLER, "caller-5")
    try:
        assert caller.ready()
        caller.publish("open_window", json.dumps({"request_id": str(uuid4()), "window": 5}))
        caller.reply()
        # the kiosk publishes a call on caller-5's topic, and a ticket on kiosk-2's topic
        kiosk.publish("call_next", json.dumps({"request_id": str(uuid4()), "window": 5}),
                      device_class=DeviceClass.CALLER, device_id="caller-5")
        kiosk.publish("issue_ticket", json.dumps({"request_id": str(uuid4()),
                                                  "service": "GA_HJQY"}),
                      device_id="kiosk-2")
        # a request that is allowed, sent after, is answered: the two above were dropped
        kiosk.publish("issue_ticket", json.dumps({"request_id": str(uuid4()),
                                                  "service": "GA_HJQY"}))
        assert isinstance(kiosk.reply(), TicketIssued)
        with pytest.raises(queue.Empty):
            caller.reply(timeout=0.5)
        assert ticket_count(hub.engine) == 1
    finally:
        caller.close()


def test_broker_refuses_wrong_password(broker: Broker, hub: Hub) -> None:
    dev = RawDevice(broker, hub.settings.hall_id, DeviceClass.KIOSK, "kiosk-x",
                    password="wrong")
    try:
        assert dev.ready() is False
        assert dev.refused is not None
    finally:
        dev.close()


def test_a_display_cannot_publish_state(broker: Broker, hub: Hub) -> None:
    """Only the hub writes the retained states every screen trusts."""
    from tests.helpers import eventually

    seen: list[bytes] = []
    watcher = RawDevice(broker, hub.settings.hall_id, DeviceClass.DISPLAY, "screen-watch")
    liar = RawDevice(broker, hub.settings.hall_id, DeviceClass.DISPLAY, "screen-liar")
    try:
        watcher.ready()
        liar.ready()
        topic = f"hall/{hub.settings.hall_id}/state/window/5"
        watcher.client.on_message = lambda c, u, m: seen.append(m.payload)
        watcher.client.subscribe(topic, qos=1)
        eventually(lambda: seen, what="the hub's retained state of window 5")
        truth = seen[-1]
        liar.client.publish(topic, b'{"forged": true}', qos=1, retain=True).wait_for_publish(5)
        import time

        time.sleep(0.3)
        assert all(p == truth for p in seen)
    finally:
        watcher.close()
        liar.close()


def test_a_failing_handler_answers_busy_and_leaves_nothing_half_done(
        hub: Hub, kiosk: RawDevice, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in a handler after it wrote: the savepoint undoes the write, the hall goes on."""
    from hub import handlers
    from protocol.messages import IssueTicket

    real = handlers.HANDLERS[IssueTicket]

    def broken(conn, ctx, device_id, req):  # type: ignore[no-untyped-def]
        real(conn, ctx, device_id, req)  # a ticket row is written …
        raise RuntimeError("bug after the write")  # … then the handler fails

    monkeypatch.setitem(handlers.HANDLERS, IssueTicket, broken)
    rid = str(uuid4())
    kiosk.publish("issue_ticket", json.dumps({"request_id": rid, "service": "GA_HJQY"}))
    reply = kiosk.reply()
    assert isinstance(reply, ErrorReply) and reply.code == ErrorCode.HUB_ERROR
    assert str(reply.request_id) == rid and reply.message == "系统繁忙，请稍后再试"
    assert ticket_count(hub.engine) == 0

    monkeypatch.setitem(handlers.HANDLERS, IssueTicket, real)
    kiosk.publish("issue_ticket", json.dumps({"request_id": str(uuid4()), "service": "GA_HJQY"}))
    ok = kiosk.reply()
    assert isinstance(ok, TicketIssued) and ok.ticket.number == "A001", "the number was not used"
