"""Fixtures on real parts: one Mosquitto per session, a hub and a database per test.

Each test gets its own hall id, so retained states of one test never reach another.

The database: a SQLite file, or a PostgreSQL database of its own (`--db`, or HALLQ_TEST_DB:
sqlite | postgresql | both; default both when a server can be had, see
hallsim/postgres.py: the machine's on 127.0.0.1:5432, else a private one started here).
The PostgreSQL tests share one database of the session's own, migrated at its start (so
whatever migrations the checkout has are in) and emptied before each test; a test of the
migrations themselves gets an empty database of its own (`empty_db_url`). All are dropped
at the end.

Which tests run on both (`db_backend` parametrized) and why: the hub's own tests
(tests/hub/) and the end-to-end tests marked `databases` (a day's numbering and closing,
the review outbox across restarts, a whole hall's flow): they are what reads and writes
the database, and a query, type or lock that differs between the two shows there. Not on
both: the browser tests (tests/hub/*_browser.py: the pages' behaviour in Chromium, whose
data the non-browser page tests already check on both), the devices' and screens' tests
and the pure unit tests (no database), and the other end-to-end and fault tests (the
devices' protocol over MQTT; the hub under them is the same code the tests above run on
both), and tests marked `sqlite_only` (of SQLite itself: its file, its backups).
That keeps PostgreSQL's share of the suite to about three minutes on two cores.
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from hallsim.broker import Broker
from hallsim.hub_process import WORKING_MORNING
from hallsim.postgres import PostgresServer, can_have_server
from hub.app import Hub
from hub.db.engine import dispose, make_engine, migrate
from hub.db.schema import metadata
from hub.settings import HubSettings
from protocol.link import DeviceLink, StateHandler
from protocol.settings import DeviceSettings
from protocol.topics import DeviceClass

_halls = itertools.count(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="run long fault and load tests")
    parser.addoption("--provision", action="store_true",
                     help="provision a hall of Debian chroots with Ansible (root, network)")
    parser.addoption("--db", choices=("sqlite", "postgresql", "both"),
                     default=os.environ.get("HALLQ_TEST_DB") or None,
                     help="the database of the database tests (default: both, when a "
                          "PostgreSQL server can be had; else sqlite)")


_BACKENDS = pytest.StashKey[list[str]]()


def _backends(config: pytest.Config) -> list[str]:
    """The databases the database tests run on, decided once per session."""
    found = config.stash.get(_BACKENDS, None)
    if found is None:
        asked = config.getoption("--db")
        if asked == "sqlite":
            found = ["sqlite"]
        elif asked == "postgresql":
            found = ["postgresql"]
        elif can_have_server():
            found = ["sqlite", "postgresql"]
        else:
            if asked == "both":
                raise pytest.UsageError("--db=both: no PostgreSQL server can be had "
                                        "(run ./hallq setup)")
            warnings.warn("no PostgreSQL server can be had: the database tests run on SQLite "
                          "only (./hallq setup installs one)", stacklevel=1)
            found = ["sqlite"]
        config.stash[_BACKENDS] = found
    return found


def pytest_report_header(config: pytest.Config) -> str:
    return f"hallq databases: {', '.join(_backends(config))}"


def runs_on_both(definition: pytest.Item) -> bool:
    """tests/hub/ but its browser tests and tests marked `sqlite_only`, and tests marked
    `databases` (the docstring)."""
    if definition.get_closest_marker("sqlite_only") is not None:
        return False
    if definition.get_closest_marker("databases") is not None:
        return True
    path = definition.path
    return path.parent.name == "hub" and path.parent.parent.name == "tests" \
        and not path.name.endswith("_browser.py")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" not in metafunc.fixturenames:
        return
    backends = _backends(metafunc.config)
    if backends == ["sqlite"] or not runs_on_both(metafunc.definition):
        return  # SQLite, under the test's own name
    metafunc.parametrize("db_backend", backends, indirect=True)


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


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The machine's PostgreSQL, or a private one for this session."""
    server = PostgresServer.find_or_start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_database(postgres: PostgresServer) -> Iterator[str]:
    """This session's database, migrated once (whatever migrations the checkout has) and
    emptied before each test that uses it."""
    name = postgres.create_database(postgres.new_name())
    engine = make_engine(postgres.sqlalchemy_url(name))
    migrate(engine)
    dispose(engine)
    yield name
    postgres.drop_database(name)


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    """sqlite, or postgresql where `pytest_generate_tests` parametrized the test."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def db_url(request: pytest.FixtureRequest, db_backend: str, tmp_path: Path) -> str:
    """The test's database at its start: a new SQLite file (the hub migrates it on start),
    or the session's PostgreSQL database at the newest schema with no rows (a database of
    its own for each test would cost half a second more a test: see
    `PostgresServer.empty_tables`)."""
    if db_backend == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    name: str = request.getfixturevalue("postgres_database")
    server.empty_tables(name, [t.name for t in reversed(metadata.sorted_tables)])
    return server.sqlalchemy_url(name)


@pytest.fixture
def empty_db_url(request: pytest.FixtureRequest, db_backend: str, tmp_path: Path
                 ) -> Iterator[str]:
    """The test's own database with nothing in it, not even a schema (migration tests)."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = server.create_database(server.new_name())
    yield server.sqlalchemy_url(name)
    server.drop_database(name)


@pytest.fixture
def hall_id() -> str:
    return f"t{os.getpid() % 10000}-{next(_halls)}"


@pytest.fixture
def hub_settings(db_url: str, broker: Broker, hall_id: str) -> HubSettings:
    return HubSettings(hall_id=hall_id, db_url=db_url,
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
             resend_after: float = 3.0, connect: bool = True, start: bool = True,
             windows: Iterable[int] | None = None) -> DeviceLink:
        """`start=False`: the caller starts it once its core has taken the link's handlers
        (as the programs do), so no retained state arrives before anyone listens."""
        settings = DeviceSettings(hall_id=hall_id, device_id=device_id,
                                  mqtt=broker.settings_for(device_class),
                                  data_dir=tmp_path / "devices", resend_after=resend_after)
        link = DeviceLink(settings, device_class, on_state=on_state, windows=windows)
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
