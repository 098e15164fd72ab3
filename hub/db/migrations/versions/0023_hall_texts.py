"""Texts managers set on the dashboard: the main screen's complaint line and notices

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-25 01:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hall_texts",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_hall_texts")),
    )


def downgrade() -> None:
    op.drop_table("hall_texts")
