"""周通报: managers' points per department and week; cases indexed by finish time

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-25 00:21:14.663051
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ranking_scores",
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("department_code", sa.String(length=8), nullable=False),
        sa.Column("item", sa.String(length=16), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("entered_by", sa.String(length=50), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("week", "department_code", "item",
                                name=op.f("pk_ranking_scores")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_finished", ["finished_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_finished")

    op.drop_table("ranking_scores")
