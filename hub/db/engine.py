"""Engine set-up and schema migration to the newest version.

SQLite: WAL with synchronous=FULL, and every write transaction takes the write lock at its
BEGIN (IMMEDIATE). PostgreSQL: the same one writer at a time, by a transaction-level
advisory lock taken at BEGIN: the hub's reads-then-writes (the next ticket number, a
slot's seats left, a case's one review) then never interleave with another writer's,
under READ COMMITTED as under SQLite's serial writes, and its number counters stay
gap-free and duplicate-free. Readers take no lock on either.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).with_name("migrations")
# The key of the hub's writer lock on PostgreSQL (pg_advisory_xact_lock): any fixed number;
# advisory locks are per database, so halls sharing a server do not wait for each other.
WRITER_LOCK = 0x48616C6C51  # "HallQ"
_readers: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()
_readers_lock = threading.Lock()


def make_engine(url: str) -> Engine:
    """An engine for the hub; on SQLite every commit is on disk before it is acknowledged."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return _postgresql_writer(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below rule (savepoints work)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front: no upgrade deadlock

    return engine


def _postgresql_writer(url: str) -> Engine:
    """READ COMMITTED, one writer at a time (the module's docstring)."""
    engine = create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITER_LOCK})")

    return engine


def make_reader(engine: Engine) -> Engine:
    """An engine for reads beside the writer (phone pages, the queue summary); on SQLite,
    deferred read-only transactions that never take the write lock; on PostgreSQL,
    read-only REPEATABLE READ ones (one snapshot for all of a page's queries), without the
    writer's lock. One such engine per writer, shared by all who read (`dispose()` closes
    both)."""
    if engine.dialect.name not in ("sqlite", "postgresql"):
        return engine
    with _readers_lock:
        found = _readers.get(engine)
        if found is None:
            found = _readers[engine] = (_postgresql_reader(engine) if
                                        engine.dialect.name == "postgresql" else
                                        _sqlite_reader(engine))
        return found


def _postgresql_reader(engine: Engine) -> Engine:
    reader = create_engine(engine.url, pool_pre_ping=True, isolation_level="REPEATABLE READ")

    @event.listens_for(reader, "connect")
    def _read_only(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.read_only = True  # as SQLite's query_only: a write is an error

    return reader


def _sqlite_reader(engine: Engine) -> Engine:
    reader = create_engine(engine.url, connect_args={"timeout": 5})

    @event.listens_for(reader, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's BEGIN below rules
        dbapi_conn.execute("PRAGMA query_only=ON")

    @event.listens_for(reader, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")  # deferred: a consistent snapshot, never the write lock

    return reader


def dispose(engine: Engine) -> None:
    """Close the engine's connections, and those of its reader (PostgreSQL)."""
    reader = _readers.pop(engine, None)
    if reader is not None:
        reader.dispose()
    engine.dispose()


def alembic_config(url: str) -> Config:
    """Alembic configuration pointing at the hub's migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (creates it when empty)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def savepoint(conn: Connection, name: str = "request") -> Iterator[None]:
    """Everything inside stands or falls together, within the caller's transaction.

    Plain SQL on the DBAPI cursor (SQLite and PostgreSQL alike): SQLAlchemy's
    `begin_nested()` costs about ten times more, and this runs for every request.
    """
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
        cursor.execute(f"RELEASE SAVEPOINT {name}")
        raise
    cursor.execute(f"RELEASE SAVEPOINT {name}")
