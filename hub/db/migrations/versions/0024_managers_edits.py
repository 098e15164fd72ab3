"""What managers edit on the dashboard outlives the catalogue file: items' 一次性告知,
staff, and the windows' A/B posts

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-25 01:48:49.556787
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(), nullable=True))

    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posts_edited_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.drop_column("posts_edited_at")

    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("edited_at")

    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_column("edited_at")

