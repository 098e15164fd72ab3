"""Managers set an item's name, ticket letter and daily cap (放号量) on the dashboard

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-25 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("daily_cap", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("setup_edited_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("setup_edited_at")
        batch_op.drop_column("daily_cap")
