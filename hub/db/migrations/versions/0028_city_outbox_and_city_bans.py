"""City mode: the city outbox, and the city's bans in the blacklist

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-25 03:16:58.950569
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("city_outbox",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("event_id", sa.String(length=32), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("sent_at", sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_city_outbox")),
    sa.UniqueConstraint("event_id", name=op.f("uq_city_outbox_event_id")),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table("city_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_city_outbox_due", ["sent_at", "id"], unique=False)

    with op.batch_alter_table("blacklist", schema=None) as batch_op:
        batch_op.add_column(sa.Column("city_seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("city_hall", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_blacklist_city_seq"), ["city_seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("blacklist", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blacklist_city_seq"))
        batch_op.drop_column("city_hall")
        batch_op.drop_column("city_seq")

    with op.batch_alter_table("city_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_city_outbox_due")

    op.drop_table("city_outbox")
