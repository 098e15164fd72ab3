"""The device registry (设备管理): the hall's devices by name, and when each was last online

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-25 03:03:59
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("device_class", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("location", sa.String(length=50), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("added_by", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_devices")),
        sa.UniqueConstraint("name", name=op.f("uq_devices_name")),
    )
    op.create_table(
        "device_sightings",
        sa.Column("device_class", sa.String(length=10), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("online_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("device_class", "device_id", name=op.f("pk_device_sightings")),
    )


def downgrade() -> None:
    op.drop_table("device_sightings")
    op.drop_table("devices")
