"""今日与历史: each closed service day rolled up per service (counts, times, hours)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-25 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "history_days",
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("rolled_up_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("service_day", name=op.f("pk_history_days")),
    )
    op.create_table(
        "history_counts",
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("finished", sa.Integer(), nullable=False),
        sa.Column("no_show", sa.Integer(), nullable=False),
        sa.Column("waited", sa.Integer(), nullable=False),
        sa.Column("wait_sum", sa.Integer(), nullable=False),
        sa.Column("served", sa.Integer(), nullable=False),
        sa.Column("service_sum", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("service_day", "service_code", name=op.f("pk_history_counts")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "history_times",
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("waited", sa.Integer(), nullable=False),
        sa.Column("wait_within", sa.Text(), nullable=False),
        sa.Column("served", sa.Integer(), nullable=False),
        sa.Column("service_within", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("service_day", "service_code", "minute",
                                name=op.f("pk_history_times")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "history_hours",
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("utc_hour", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("from_15", sa.Integer(), nullable=False),
        sa.Column("from_30", sa.Integer(), nullable=False),
        sa.Column("from_45", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("service_day", "service_code", "utc_hour",
                                name=op.f("pk_history_hours")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("history_hours")
    op.drop_table("history_times")
    op.drop_table("history_counts")
    op.drop_table("history_days")
