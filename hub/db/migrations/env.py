"""Alembic environment: runs the hub's migrations on the given connection or URL."""

from __future__ import annotations

import os

from alembic import context

from hub.db.engine import make_engine
from hub.db.schema import metadata

config = context.config


def url() -> str:
    """`alembic -x url=postgresql+psycopg://…`, else HALLQ_HUB_DB_URL (the hub's own
    setting), else alembic.ini's sqlalchemy.url (a scratch SQLite file for developers)."""
    return (context.get_x_argument(as_dictionary=True).get("url")
            or os.environ.get("HALLQ_HUB_DB_URL")
            or config.get_main_option("sqlalchemy.url") or "")


def run() -> None:
    """Migrate online: on the connection `migrate()` passes, or on the URL above."""
    conn = config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url())  # the hub's own set-up: on PostgreSQL, its writer lock
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
