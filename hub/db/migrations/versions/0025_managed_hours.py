"""Ticket-issuing hours managers set on the dashboard: the hall's, a window's, an item's

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-26 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "managed_hours",
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("hours", sa.JSON(), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_managed_hours")),
    )


def downgrade() -> None:
    op.drop_table("managed_hours")
