"""Fixtures on real parts: one Mosquitto per session, a hub and SQLite file per test.

Each test gets its own hall id, so retained states of one test never reach another.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from hallsim.broker import Broker
from hallsim.hub_process import WORKING_MORNING
from hub.app import Hub
from hub.settings import HubSettings
from protocol.link import DeviceLink, StateHandler
from protocol.settings import DeviceSettings
from protocol.topics import DeviceClass

_halls = itertools.count(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="run long fault and load tests")
    parser.addoption("--provision", action="store_true",
                     help="provision a hall of Debian chroots with Ansible (root, network)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skips = {"slow": (config.getoption("--run-slow"), "long run: use --run-slow"),
             "provision": (config.getoption("--provision"),
                           "chroots, minutes and the network: use --provision")}
    for item in items:
        for mark, (wanted, reason) in skips.items():
            if item.get_closest_marker(mark) is not None and not wanted:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A real Mosquitto on a free loopback port with the HallQ config, passwords and ACL."""
    b = Broker(tmp_path_factory.mktemp("broker"))
    b.start()
    yield b
    b.stop()


@pytest.fixture
def hall_id() -> str:
    return f"t{os.getpid() % 10000}-{next(_halls)}"


@pytest.fixture
def hub_settings(tmp_path: Path, broker: Broker, hall_id: str) -> HubSettings:
    return HubSettings(hall_id=hall_id, db_url=f"sqlite:///{tmp_path / 'hub.db'}",
                       mqtt=broker.settings_for(DeviceClass.HUB), http_port=0,
                       start_at=WORKING_MORNING)


@pytest.fixture
def hub(hub_settings: HubSettings) -> Iterator[Hub]:
    """The hub in this process, connected and with its states published."""
    h = Hub(hub_settings)
    h.start()
    assert h.consumer.wait_connected(10), "hub did not reach the broker"
    yield h
    h.stop()


LinkFactory = Callable[..., DeviceLink]


@pytest.fixture
def make_link(tmp_path: Path, broker: Broker, hall_id: str) -> Iterator[LinkFactory]:
    """Start a device link of a class; all are stopped after the test."""
    links: list[DeviceLink] = []

    def make(device_class: DeviceClass, device_id: str, on_state: StateHandler | None = None,
             resend_after: float = 3.0, connect: bool = True, start: bool = True
             ) -> DeviceLink:
        """`start=False`: the caller starts it once its core has taken the link's handlers
        (as the programs do), so no retained state arrives before anyone listens."""
        settings = DeviceSettings(hall_id=hall_id, device_id=device_id,
                                  mqtt=broker.settings_for(device_class),
                                  data_dir=tmp_path / "devices", resend_after=resend_after)
        link = DeviceLink(settings, device_class, on_state=on_state)
        links.append(link)
        if not start:
            return link
        link.start()
        if connect:
            assert link.wait_connected(10), f"{device_id} did not reach the broker"
        return link

    yield make
    for link in links:
        if not link._stop.is_set():
            link.stop()


@pytest.fixture
def mock_pins() -> Iterator[MockFactory]:
    """gpiozero's mock pins, the default for the test; released after it."""
    f = MockFactory()
    Device.pin_factory = f
    yield f
    f.reset()
    Device.pin_factory = None
