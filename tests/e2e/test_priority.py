"""Priority tickets from the guide desk (老弱病残孕军) go first; kiosks cannot issue them."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

from hallsim.broker import Broker
from hub.app import Hub
from protocol.messages import ErrorReply, IssuePriorityTicket, TicketCalled, TicketIssued
from protocol.topics import DeviceClass
from tests.conftest import LinkFactory
from tests.e2e.devices import caller, kiosk
from tests.helpers import RawDevice


def test_priority_ticket_is_called_before_earlier_tickets(hub: Hub, make_link: LinkFactory,
                                                          tmp_path: Path) -> None:
    k = kiosk(make_link, tmp_path, hub)
    k.take_ticket("GA_HJQY")  # A001
    k.take_ticket("GA_HJQY")  # A002
    guide = make_link(DeviceClass.GUIDE, "guide-desk")
    elder = guide.send(IssuePriorityTicket(request_id=uuid4(), service="GA_HJQY",
                                           group="elderly")).wait(5)
    assert isinstance(elder, TicketIssued)
    assert (elder.ticket.number, elder.ticket.priority, elder.waiting_before) == (
        "A003", "elderly", 0)
    soldier = guide.send(IssuePriorityTicket(request_id=uuid4(), service="GA_HJQY",
                                             group="military")).wait(5)
    assert isinstance(soldier, TicketIssued) and soldier.waiting_before == 1
    window = caller(make_link, 5)
    window.open()
    order = []
    for _ in range(4):
        called = window.call_next()
        assert isinstance(called, TicketCalled)
        order.append(called.ticket.number)
        window.finish()
    assert order == ["A003", "A004", "A001", "A002"]


def test_a_kiosk_cannot_issue_a_priority_ticket(broker: Broker, hub: Hub) -> None:
    dev = RawDevice(broker, hub.settings.hall_id, DeviceClass.KIOSK, "kiosk-sly")
    try:
        assert dev.ready()
        dev.publish("issue_priority_ticket", json.dumps(
            {"request_id": str(uuid4()), "service": "GA_HJQY", "group": "elderly"}))
        reply = dev.reply()
        assert isinstance(reply, ErrorReply) and reply.code == "UNKNOWN_ACTION"
    finally:
        dev.close()
