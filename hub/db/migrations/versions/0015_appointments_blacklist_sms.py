"""appointments, blacklist, sms

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 22:50:39.436316
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("blacklist",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("id_hash", sa.String(length=64), nullable=False),
    sa.Column("id_masked", sa.String(length=18), nullable=False),
    sa.Column("name_masked", sa.String(length=24), nullable=False),
    sa.Column("since", sa.Date(), nullable=False),
    sa.Column("until", sa.Date(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("lifted_at", sa.DateTime(), nullable=True),
    sa.Column("lifted_by", sa.String(length=50), nullable=True),
    sa.Column("lift_reason", sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_blacklist"))
    )
    with op.batch_alter_table("blacklist", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blacklist_id_hash"), ["id_hash"], unique=False)

    op.create_table("sms_messages",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("phone", sa.String(length=11), nullable=False),
    sa.Column("kind", sa.String(length=16), nullable=False),
    sa.Column("text", sa.String(length=300), nullable=False),
    sa.Column("appointment_id", sa.String(length=32), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("sent_at", sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages"))
    )
    op.create_table("appointments",
    sa.Column("id", sa.String(length=32), nullable=False),
    sa.Column("service_code", sa.String(length=32), nullable=False),
    sa.Column("day", sa.Date(), nullable=False),
    sa.Column("slot_start", sa.Time(), nullable=False),
    sa.Column("slot_end", sa.Time(), nullable=False),
    sa.Column("status", sa.String(length=12), nullable=False),
    sa.Column("channel", sa.String(length=8), nullable=False),
    sa.Column("out_of_hours", sa.Boolean(), nullable=False),
    sa.Column("id_hash", sa.String(length=64), nullable=False),
    sa.Column("id_masked", sa.String(length=18), nullable=False),
    sa.Column("name_masked", sa.String(length=24), nullable=False),
    sa.Column("phone", sa.String(length=11), nullable=False),
    sa.Column("form", sa.JSON(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("changed_at", sa.DateTime(), nullable=False),
    sa.Column("note", sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(["service_code"], ["services.code"],
                            name=op.f("fk_appointments_service_code_services")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments"))
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index("ix_appointments_due", ["status", "day", "slot_end"], unique=False)
        batch_op.create_index("ix_appointments_person", ["id_hash", "day"], unique=False)
        batch_op.create_index("ix_appointments_slot",
                              ["service_code", "day", "slot_start", "status"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index("ix_appointments_slot")
        batch_op.drop_index("ix_appointments_person")
        batch_op.drop_index("ix_appointments_due")

    op.drop_table("appointments")
    op.drop_table("sms_messages")
    with op.batch_alter_table("blacklist", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blacklist_id_hash"))

    op.drop_table("blacklist")
