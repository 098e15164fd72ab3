"""The broker dies and comes back: hub and devices reconnect by themselves, nothing is lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from hallsim.broker import Broker
from hallsim.hub_process import WORKING_MORNING
from hub.app import Hub
from hub.settings import HubSettings
from protocol.link import DeviceLink, State
from protocol.messages import HubStatus, IssueTicket, TicketIssued
from protocol.settings import DeviceSettings
from protocol.topics import DeviceClass
from tests.helpers import eventually, ticket_count


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Broker]:
    """A broker of this test alone, since the test kills it."""
    b = Broker(tmp_path / "broker")
    b.start()
    yield b
    b.stop()


def test_hub_and_kiosk_reconnect_after_broker_restart(own_broker: Broker, tmp_path: Path):
    hub = Hub(HubSettings(hall_id="restart", db_url=f"sqlite:///{tmp_path / 'hub.db'}",
                          mqtt=own_broker.settings_for(DeviceClass.HUB), http_port=0,
                          start_at=WORKING_MORNING))
    hub.start()
    hub_status: list[str] = []

    def on_state(state: State, live: bool) -> None:
        if isinstance(state, HubStatus):
            hub_status.append(state.status)

    kiosk = DeviceLink(DeviceSettings(hall_id="restart", device_id="kiosk-1",
                                      mqtt=own_broker.settings_for(DeviceClass.KIOSK),
                                      data_dir=tmp_path, resend_after=0.5),
                       DeviceClass.KIOSK, on_state=on_state)
    kiosk.start()
    try:
        assert hub.consumer.wait_connected(10) and kiosk.wait_connected(10)
        first = kiosk.send(IssueTicket(request_id=uuid4(), service="GA_HJQY")).wait(5)
        assert isinstance(first, TicketIssued)

        own_broker.kill()
        eventually(lambda: not kiosk.connected, what="the kiosk to notice")
        during = kiosk.send(IssueTicket(request_id=uuid4(), service="GA_HJQY"))
        assert during.wait(0.5, abandon=False) is None, "no broker: the request waits on disk"
        assert len(kiosk.outbox) == 1
        hub_status.clear()
        own_broker.start()

        second = during.wait(20)
        assert isinstance(second, TicketIssued) and second.ticket.number == "A002"
        eventually(lambda: "online" in hub_status, timeout=10, what="the hub to say online")
        assert ticket_count(hub.engine) == 2
        assert len(kiosk.outbox) == 0
    finally:
        kiosk.stop()
        hub.stop()
