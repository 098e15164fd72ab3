"""City mode on real parts: the machine's PostgreSQL (a database made for each test and
dropped after), the city service in this process, hubs on the session's Mosquitto."""

from __future__ import annotations

import hashlib
import itertools
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from city.app import CityService
from city.settings import CitySettings
from hallsim.broker import Broker
from hallsim.hub_process import WORKING_MORNING
from hallsim.link_cut import CuttableLink
from hallsim.scratch_db import available, scratch_database
from hub.app import Hub
from hub.settings import HubSettings
from protocol.city_sync import SYNC_PATH
from protocol.topics import DeviceClass

IDENTITY_KEY = "5e" * 32  # the city-wide key every test hall gets, as an install would
_runs = itertools.count(1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture
def city_db() -> Iterator[str]:
    """A new PostgreSQL database for this test (dropped after)."""
    assert available(), "PostgreSQL does not answer on 127.0.0.1:5432 (./hallq setup)"
    with scratch_database("hallq_city_test") as url:
        yield url


@pytest.fixture
def halls() -> list[str]:
    """Four hall ids of this test alone (retained states of one never reach another)."""
    run = f"c{os.getpid() % 10000}-{next(_runs)}"
    return [f"{run}-{name}" for name in ("east", "west", "north", "south")]


@pytest.fixture
def tokens(halls: list[str]) -> dict[str, str]:
    return {hall: secrets.token_urlsafe(16) for hall in halls}


@pytest.fixture
def city(city_db: str, tokens: dict[str, str]) -> Iterator[CityService]:
    """The city service on a free port, knowing the test halls' tokens."""
    service = CityService(CitySettings(db_url=city_db, http_port=0, threads=4, halls={
        hall: token_hash(t) for hall, t in tokens.items()}))
    service.start()
    yield service
    service.stop()


@dataclass
class CityHall:
    """A hall's hub in city mode and its link to the city, which the test may cut."""

    hub: Hub
    link: CuttableLink


HallFactory = Callable[[str], CityHall]


@pytest.fixture
def city_hall(tmp_path: Path, broker: Broker, city: CityService, tokens: dict[str, str]
              ) -> Iterator[HallFactory]:
    """Start the hub of one of the test's halls in city mode; all are stopped after."""
    started: list[CityHall] = []

    def make(hall: str) -> CityHall:
        link = CuttableLink(city.http.port)
        hub = Hub(HubSettings(
            hall_id=hall, db_url=f"sqlite:///{tmp_path / hall}.db",
            mqtt=broker.settings_for(DeviceClass.HUB), http_port=0, start_at=WORKING_MORNING,
            city_url=link.url(SYNC_PATH), city_token=tokens[hall],
            city_identity_key=IDENTITY_KEY, city_poll_s=0.2, city_first_backoff_s=0.1,
            city_max_backoff_s=0.5))
        hub.start()
        assert hub.consumer.wait_connected(10), "hub did not reach the broker"
        started.append(CityHall(hub, link))
        return started[-1]

    yield make
    for hall in started:
        hall.hub.stop()
        hall.link.close()
