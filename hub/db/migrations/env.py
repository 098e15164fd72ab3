"""Alembic environment: runs the hub's migrations on the given connection or URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from hub.db.schema import metadata

config = context.config


def run() -> None:
    """Migrate online: on the connection `migrate()` passes, or on the configured URL."""
    conn = config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run()
