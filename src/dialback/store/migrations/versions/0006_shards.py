"""shards (issue 17): the shard of each logged event and of each agent, and the shards named so
far; everything before is in the default shard ``all``

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 15:00:00
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(
            sa.Column("shard", sa.String(length=64), nullable=False, server_default="all")
        )
    op.create_index(op.f("ix_events_shard_seq"), "events", ["shard", "seq"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("shard", sa.String(length=64), nullable=False, server_default="all")
        )
    shards = op.create_table(
        "shards",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_shards")),
    )
    op.bulk_insert(shards, [{"name": "all", "created_at": time.time()}])


def downgrade() -> None:
    op.drop_table("shards")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("shard")
    op.drop_index(op.f("ix_events_shard_seq"), table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("shard")
