"""tokens that expire; idempotency keys scoped to the principal (issue 12)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 08:00:00

Idempotency keys are answers to retries within hours; the table is made anew with the principal
in its key (keys stored before the upgrade are dropped: a retry across the upgrade creates anew).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from dialback.domain.limits import IDEMPOTENCY_KEY

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("expires_at", sa.Double(), nullable=True))
    op.drop_table("idempotency_keys")
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=IDEMPOTENCY_KEY), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_keys")),
    )
    op.drop_column("api_tokens", "expires_at")
