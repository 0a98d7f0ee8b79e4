"""The database: SQLAlchemy Core tables. The event log is the truth; the other tables are read
models written in the same transaction as the events that change them."""

from __future__ import annotations

import sqlalchemy as sa

from dialback.domain.limits import CODE, ID, IDEMPOTENCY_KEY, NAME, PHONE, SHARD

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)
Time = sa.Double  # seconds since the epoch, as the engine keeps them
DEFAULT_SHARD = "all"  # the shard of every queue and agent that names none (issue 17)
# Columns holding what a client sent take their lengths from ``domain.limits`` (issue 12), so a
# value the API accepts always fits, on SQLite and PostgreSQL alike.

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("at", Time, nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    # issue 17: the shard whose log this event is in (docs/decisions.md, "Shards")
    sa.Column("shard", sa.String(SHARD), nullable=False, server_default=DEFAULT_SHARD),
    sa.Index("ix_events_shard_seq", "shard", "seq"),
)

shards = sa.Table(  # issue 17: every shard named so far, so each node knows what to lead
    "shards",
    metadata,
    sa.Column("name", sa.String(SHARD), primary_key=True),
    sa.Column("created_at", Time, nullable=False),
)

queues = sa.Table(
    "queues",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("name", sa.String(NAME), nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("modified_at", Time, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("name", sa.String(NAME), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("routing_status", sa.String(32), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("shard", sa.String(SHARD), nullable=False, server_default=DEFAULT_SHARD),
)

queue_members = sa.Table(
    "queue_members",
    metadata,
    sa.Column("queue_id", sa.String(ID), primary_key=True),
    sa.Column("user_id", sa.String(ID), primary_key=True),
)

interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("id", sa.String(ID), primary_key=True),
    sa.Column("conversation_id", sa.String(ID), nullable=False, index=True),
    sa.Column("queue_id", sa.String(ID), nullable=False, index=True),
    sa.Column("media", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("agent_id", sa.String(ID)),
    sa.Column("request", sa.JSON),
    sa.Column("caller_number", sa.String(PHONE)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("outcome", sa.String(32)),
    sa.Column("end_reason", sa.String(32)),
    sa.Column("wrapup_code", sa.String(CODE)),
)

segments = sa.Table(
    "segments",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("conversation_id", sa.String(ID), nullable=False, index=True),
    sa.Column("interaction_id", sa.String(ID), nullable=False),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("agent_id", sa.String(ID)),
    sa.Column("media", sa.String(16), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("start", Time, nullable=False, index=True),
    sa.Column("end", Time),
    sa.Column("queue_id", sa.String(ID), nullable=False),
    sa.Column("customer_first", sa.Boolean, nullable=False),
    sa.Column("how_ended", sa.String(32)),
    sa.Column("outcome", sa.String(32)),
    sa.Column("sip_code", sa.Integer),
    sa.Column("dial_id", sa.String(80)),
    sa.Column("wrapup_code", sa.String(CODE)),
    sa.Column("greeting_end", Time),
    sa.Column("flow_id", sa.String(ID)),
    sa.Column("beep_end", Time),  # issue 15 (migration 0005)
)

pacing_decisions = sa.Table(
    "pacing_decisions",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("evaluation", sa.Integer, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("queue_id", sa.String(ID), nullable=False, index=True),
    sa.Column("callback_id", sa.String(ID), nullable=False),
    sa.Column("on_queue", sa.Integer, nullable=False),
    sa.Column("idle", sa.Integer, nullable=False),
    sa.Column("outstanding", sa.Integer, nullable=False),
    sa.Column("multiplier", sa.Double, nullable=False),
    sa.Column("cap_expected", sa.Double, nullable=False),
    sa.Column("draw", sa.Double, nullable=False),
    sa.Column("cap", sa.Integer, nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("reserved_agent", sa.String(ID)),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("user_id", sa.String(ID)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time),  # None: never
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("scope", sa.String(80), primary_key=True),  # the principal (Principal.scope)
    sa.Column("key", sa.String(IDEMPOTENCY_KEY), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", sa.JSON, nullable=False),
    sa.Column("created_at", Time, nullable=False),
)

# --- dialing within the law (issue 14, docs/compliance.md; migration 0014) ----------------------
dnc_entries = sa.Table(
    "dnc_entries",
    metadata,
    sa.Column("list_id", sa.String(64), primary_key=True),
    sa.Column("number", sa.String(32), primary_key=True),  # E.164 (R-X-7)
    sa.Column("added_at", Time, nullable=False),
)

callback_numbers = sa.Table(
    "callback_numbers",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("callback_id", sa.String(64), nullable=False, index=True),
    sa.Column("queue_id", sa.String(64), nullable=False),
    sa.Column("number", sa.String(32), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("claimed_at", Time, nullable=False),
)
# R-X-10: at most one active callback per number per queue, whichever node writes it.
sa.Index(
    "uq_callback_numbers_active",
    callback_numbers.c.queue_id,
    callback_numbers.c.number,
    unique=True,
    sqlite_where=callback_numbers.c.active,
    postgresql_where=callback_numbers.c.active,
)

compliance_records = sa.Table(
    "compliance_records",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("at", Time, nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("queue_id", sa.String(64), nullable=False),
    sa.Column("interaction_id", sa.String(64), nullable=False),
    sa.Column("number", sa.String(32)),
    sa.Column("agent_id", sa.String(64)),
    sa.Column("detail", sa.String(256), nullable=False),
)

call_accounting = sa.Table(
    "call_accounting",
    metadata,
    sa.Column("dial_id", sa.String(80), primary_key=True),
    sa.Column("queue_id", sa.String(64), nullable=False, index=True),
    sa.Column("interaction_id", sa.String(64), nullable=False),
    sa.Column("number", sa.String(32), nullable=False),
    sa.Column("answered_at", Time, nullable=False, index=True),
    sa.Column("greeting_end", Time, nullable=False),
    sa.Column("connected_at", Time),
    sa.Column("abandoned", sa.Boolean, nullable=False),
    sa.Column("machine", sa.Boolean, nullable=False),
    sa.Column("agent_connected", sa.Boolean, nullable=False),
)

# R-X-18: the inputs of a budget-mode pacing decision (NULL in Fixed mode).
for _name in ("budget", "live_rate", "risk"):
    pacing_decisions.append_column(sa.Column(_name, sa.Double))
