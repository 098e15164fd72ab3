"""The Alembic migrations build exactly the schema hub/db/schema.py defines."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from hub.catalogue import load_catalogue
from hub.catalogue_sync import sync_catalogue
from hub.clock import Clock
from hub.db.engine import dispose, make_engine, migrate
from hub.db.schema import metadata


def test_migrations_match_the_schema(empty_db_url: str) -> None:
    """From an empty database, on SQLite and on PostgreSQL alike."""
    engine = make_engine(empty_db_url)
    migrate(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    dispose(engine)
    assert diff == [], f"schema.py and the migrations differ: {diff}"


def test_migrate_twice_and_resync_the_catalogue_keeps_data(empty_db_url: str) -> None:
    """A hub restart runs both again: nothing is lost or doubled."""
    engine = make_engine(empty_db_url)
    clock = Clock("Asia/Shanghai")
    catalogue = load_catalogue()
    for _ in range(2):
        migrate(engine)
        with engine.begin() as conn:
            sync_catalogue(conn, catalogue, clock.now())
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) >= {"tickets", "requests", "windows"}
        services = conn.exec_driver_sql("SELECT count(*) FROM services").scalar()
        windows = conn.exec_driver_sql("SELECT count(*) FROM windows").scalar()
        if engine.dialect.name == "sqlite":
            mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
            sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()
            assert mode == "wal" and sync == 2, "WAL with synchronous=FULL (2)"
    dispose(engine)
    assert services == len(catalogue.all_services())
    assert windows == len(catalogue.windows)


def test_catalogue_is_a_realistic_county_hall() -> None:
    c = load_catalogue()
    assert len(c.services) >= 20 and len(c.departments) >= 6 and c.bundles
    served = {code for w in c.windows for code in w.services}
    assert served == {s.code for s in c.all_services()}, "every service has a window"
    names = {d.name for d in c.departments}
    for needed in ("公安", "人力资源和社会保障", "医疗保障", "民政", "市场监督管理", "不动产"):
        assert any(needed in n for n in names), needed
