"""Alembic environment: runs the hub's migrations on the given connection or URL."""

from __future__ import annotations

from alembic import context

from hub.db.engine import make_engine
from hub.db.schema import metadata
from hub.settings import HubSettings

config = context.config


def url() -> str:
    """`alembic -x url=postgresql+psycopg://…`, else the hub's own setting when it is set
    (HALLQ_HUB_DB_URL), else alembic.ini's sqlalchemy.url (a scratch SQLite file for
    developers)."""
    given = context.get_x_argument(as_dictionary=True).get("url")
    if given:
        return str(given)
    hub = HubSettings()
    if "db_url" in hub.model_fields_set:
        return hub.db_url
    return config.get_main_option("sqlalchemy.url") or ""


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
