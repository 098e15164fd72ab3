"""audit log

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24 23:04:47.789840
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("audit_log",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(), nullable=False),
    sa.Column("who", sa.String(length=50), nullable=False),
    sa.Column("action", sa.String(length=40), nullable=False),
    sa.Column("target", sa.String(length=64), nullable=False),
    sa.Column("before", sa.JSON(), nullable=True),
    sa.Column("after", sa.JSON(), nullable=True),
    sa.Column("reason", sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log"))
    )


def downgrade() -> None:
    op.drop_table("audit_log")
