"""A PostgreSQL database made for one test or simulation run and dropped after it.

The machine's PostgreSQL (127.0.0.1:5432, or `HALLQ_TEST_PG_URL`, e.g.
`postgresql+psycopg://postgres@127.0.0.1:5432/postgres`) is shared by other runs: each
run gets its own uniquely named database, so none sees another's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get("HALLQ_TEST_PG_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _admin_dsn() -> str:
    return make_url(ADMIN_URL).set(drivername="postgresql").render_as_string(
        hide_password=False)


def available() -> bool:
    """Whether the PostgreSQL the runs use answers."""
    try:
        with psycopg.connect(_admin_dsn(), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@contextmanager
def scratch_database(prefix: str = "hallq_city") -> Iterator[str]:
    """A new empty database; yields its SQLAlchemy URL; dropped (connections closed) after."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_dsn(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
