"""forward outbox

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24 23:37:18.267103
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("forward_outbox",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("key", sa.String(length=64), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_try_at", sa.DateTime(), nullable=False),
    sa.Column("sent_at", sa.DateTime(), nullable=True),
    sa.Column("last_error", sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_forward_outbox")),
    sa.UniqueConstraint("key", name=op.f("uq_forward_outbox_key"))
    )
    with op.batch_alter_table("forward_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_forward_due", ["sent_at", "id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("forward_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_forward_due")

    op.drop_table("forward_outbox")
