"""dialing within the law (issue 14): DNC entries, numbers held by active callbacks under a
partial unique index, compliance records, abandoned-call accounting

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 08:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dnc_entries",
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("list_id", "number", name=op.f("pk_dnc_entries")),
    )
    op.create_table(
        "callback_numbers",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("callback_id", sa.String(length=64), nullable=False),
        sa.Column("queue_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("claimed_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_numbers")),
    )
    op.create_index(
        op.f("ix_callback_numbers_callback_id"), "callback_numbers", ["callback_id"], unique=False
    )
    op.create_index(
        "uq_callback_numbers_active",
        "callback_numbers",
        ["queue_id", "number"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "compliance_records",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("queue_id", sa.String(length=64), nullable=False),
        sa.Column("interaction_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_records")),
    )
    op.create_index(op.f("ix_compliance_records_at"), "compliance_records", ["at"], unique=False)
    op.create_table(
        "call_accounting",
        sa.Column("dial_id", sa.String(length=80), nullable=False),
        sa.Column("queue_id", sa.String(length=64), nullable=False),
        sa.Column("interaction_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("answered_at", sa.Double(), nullable=False),
        sa.Column("greeting_end", sa.Double(), nullable=False),
        sa.Column("connected_at", sa.Double(), nullable=True),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("machine", sa.Boolean(), nullable=False),
        sa.Column("agent_connected", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("dial_id", name=op.f("pk_call_accounting")),
    )
    op.create_index(
        op.f("ix_call_accounting_queue_id"), "call_accounting", ["queue_id"], unique=False
    )
    op.create_index(
        op.f("ix_call_accounting_answered_at"), "call_accounting", ["answered_at"], unique=False
    )
    with op.batch_alter_table("pacing_decisions") as batch:
        for name in ("budget", "live_rate", "risk"):
            batch.add_column(sa.Column(name, sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pacing_decisions") as batch:
        for name in ("budget", "live_rate", "risk"):
            batch.drop_column(name)
    op.drop_table("call_accounting")
    op.drop_table("compliance_records")
    op.drop_index("uq_callback_numbers_active", table_name="callback_numbers")
    op.drop_table("callback_numbers")
    op.drop_table("dnc_entries")
