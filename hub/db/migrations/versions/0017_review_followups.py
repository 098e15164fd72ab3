"""review followups

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24 23:29:45.861759
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("review_followups",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("review_id", sa.Integer(), nullable=False),
    sa.Column("department_code", sa.String(length=8), nullable=False),
    sa.Column("opened_at", sa.DateTime(), nullable=False),
    sa.Column("deadline", sa.Date(), nullable=False),
    sa.Column("callback", sa.Text(), nullable=True),
    sa.Column("investigation", sa.Text(), nullable=True),
    sa.Column("handling", sa.Text(), nullable=True),
    sa.Column("measures", sa.Text(), nullable=True),
    sa.Column("result", sa.Text(), nullable=True),
    sa.Column("closed_at", sa.DateTime(), nullable=True),
    sa.Column("appeal", sa.Text(), nullable=True),
    sa.Column("appeal_decision", sa.String(length=10), nullable=True),
    sa.Column("appeal_note", sa.Text(), nullable=True),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["review_id"], ["reviews.id"],
                            name=op.f("fk_review_followups_review_id_reviews")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_review_followups")),
    sa.UniqueConstraint("review_id", name=op.f("uq_review_followups_review_id"))
    )
    with op.batch_alter_table("review_followups", schema=None) as batch_op:
        batch_op.create_index("ix_followups_open", ["closed_at", "deadline"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("review_followups", schema=None) as batch_op:
        batch_op.drop_index("ix_followups_open")

    op.drop_table("review_followups")
