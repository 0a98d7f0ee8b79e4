"""Writing batches of engine steps to the database, and reading them back.

``Store.commit`` writes, in one transaction, the events of a batch (the log the engine is
rebuilt from) and what their effects change in the read models (queues, users, interactions,
segments, pacing decisions) and the idempotency keys of the requests. Nothing is half stored:
the transaction commits as a whole or not at all.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dialback.domain.effects import Effect, RecordPacingDecision
from dialback.domain.events import (
    AgentJoinedQueue,
    AgentLeftQueue,
    AgentRegistered,
    CallbackRequested,
    CallbackRequestedOnCall,
    Event,
    QueueConfigured,
    VoiceCallQueued,
)
from dialback.domain.facts import AgentStatusChanged, InteractionChanged
from dialback.domain.model import InteractionId, MediaType, Outcome
from dialback.domain.settings import queue_to_json
from dialback.domain.timeline import (
    Conversation,
    HowEnded,
    Purpose,
    Segment,
    SegmentClosed,
    SegmentOpened,
    SegmentType,
    Timeline,
)
from dialback.store import compliance
from dialback.store import tables as t
from dialback.store.codec import decode_event, encode_event, to_json


@dataclass(frozen=True, slots=True)
class Idempotent:
    """A request that may be retried: the same key from the same principal (``scope``) returns
    the first answer; another principal's key is another key."""

    key: str
    request_hash: str
    status_code: int
    response: dict[str, Any]
    scope: str = ""

    @property
    def slot(self) -> tuple[str, str]:
        return (self.scope, self.key)


@dataclass(frozen=True, slots=True)
class TokenRow:
    """A stored token: ``id`` is the start of its hash, what ``token list`` shows and
    ``token revoke`` takes (the token itself is never stored)."""

    id: str
    role: str
    user_id: str | None
    created_at: float
    expires_at: float | None


@dataclass(slots=True)
class Step:
    """One event the engine accepted, at ``at``, with its effects."""

    event: Event
    at: float
    effects: list[Effect]
    requests: dict[InteractionId, object] = field(default_factory=dict)  # CallbackRequests
    idempotent: Idempotent | None = None


def _segment_key(s: Segment) -> tuple[Any, ...]:
    return (
        s.conversation_id,
        s.interaction_id,
        s.purpose.value,
        s.agent_id,
        s.media.value,
        s.type.value,
        s.start,
    )


def _segment_row(s: Segment) -> dict[str, Any]:
    return {
        "conversation_id": s.conversation_id,
        "interaction_id": s.interaction_id,
        "purpose": s.purpose.value,
        "agent_id": s.agent_id,
        "media": s.media.value,
        "type": s.type.value,
        "start": s.start,
        "end": s.end,
        "queue_id": s.queue_id,
        "customer_first": s.customer_first,
        "how_ended": s.how_ended.value if s.how_ended else None,
        "outcome": s.outcome.value if s.outcome else None,
        "sip_code": s.sip_code,
        "dial_id": s.dial_id,
        "wrapup_code": s.wrapup_code,
        "greeting_end": s.greeting_end,
        "flow_id": s.flow_id,
        "beep_end": s.beep_end,
    }


class _Batch:
    """Rows of one transaction, merged so each row is written once."""

    def __init__(self, shard: str) -> None:
        self.shard = shard
        self.events: list[dict[str, Any]] = []
        self.new_interactions: dict[str, dict[str, Any]] = {}
        self.interaction_updates: dict[str, dict[str, Any]] = {}
        self.new_segments: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.segment_closes: list[Segment] = []
        self.decisions: list[dict[str, Any]] = []
        self.statements: list[Any] = []
        self.idempotent: list[dict[str, Any]] = []
        self.creating: set[str] = set()  # callbacks whose first change makes their row

    def interaction(self, interaction_id: str, values: dict[str, Any]) -> None:
        target = self.new_interactions.get(interaction_id)
        if target is None:
            target = self.interaction_updates.setdefault(interaction_id, {})
        target.update(values)

    def add(self, step: Step) -> None:
        kind, payload = encode_event(step.event)
        self.events.append({"at": step.at, "kind": kind, "payload": payload, "shard": self.shard})
        self._event(step)
        for effect in step.effects:
            self._effect(effect, step.at)
        logged = getattr(step.event, "request", None)
        for interaction_id, request in step.requests.items():  # after the row is made
            # the request the event itself carries is encoded already, in its payload
            stored = payload["request"] if request is logged else to_json(request)
            self.interaction(interaction_id, {"request": stored})
        if step.idempotent is not None:
            i = step.idempotent
            self.idempotent.append(
                {
                    "scope": i.scope,
                    "key": i.key,
                    "request_hash": i.request_hash,
                    "status_code": i.status_code,
                    "response": i.response,
                    "created_at": step.at,
                }
            )

    def _event(self, step: Step) -> None:
        e, at = step.event, step.at
        if isinstance(e, QueueConfigured):
            body = queue_to_json(e.settings)
            values = {"name": e.settings.name, "settings": body, "modified_at": at}
            dialect_upsert = _Upsert(
                t.queues, {"id": e.queue_id, "created_at": at, **values}, values
            )
            self.statements.append(dialect_upsert)
        elif isinstance(e, AgentRegistered):
            self.statements.append(
                t.users.insert().values(
                    id=e.agent_id,
                    name=e.name or e.agent_id,
                    capacity=e.capacity,
                    routing_status="off_queue",
                    created_at=at,
                    shard=self.shard,
                )
            )
        elif isinstance(e, AgentJoinedQueue):
            values = {"queue_id": e.queue_id, "user_id": e.agent_id}
            self.statements.append(_Upsert(t.queue_members, values, {}))
        elif isinstance(e, AgentLeftQueue):
            m = t.queue_members
            self.statements.append(
                m.delete().where(m.c.queue_id == e.queue_id, m.c.user_id == e.agent_id)
            )
        elif isinstance(e, CallbackRequested | CallbackRequestedOnCall):
            self.creating.add(e.callback_id)
        elif isinstance(e, VoiceCallQueued):
            self.new_interactions[e.call_id] = self._new_interaction(
                e.call_id, e.conversation_id, e.queue_id, "voice", at, caller_number=e.caller_number
            )
        elif self.shard == t.DEFAULT_SHARD:
            # issue 14; issue 17: each shard logs every DNC change, the default shard alone
            # writes the stored list (concurrent shards' rewrites of the same rows would race)
            self.statements.extend(compliance.event_statements(e, at))

    @staticmethod
    def _new_interaction(
        interaction_id: str,
        conversation_id: str,
        queue_id: str,
        media: str,
        at: float,
        **extra: Any,
    ) -> dict[str, Any]:
        row = {
            "id": interaction_id,
            "conversation_id": conversation_id,
            "queue_id": queue_id,
            "media": media,
            "state": "scheduled",
            "agent_id": None,
            "request": None,
            "caller_number": None,
            "created_at": at,
            "updated_at": at,
            "outcome": None,
            "end_reason": None,
            "wrapup_code": None,
        }
        row.update(extra)
        return row

    def _effect(self, effect: Effect, at: float) -> None:
        if isinstance(effect, InteractionChanged):
            values: dict[str, Any] = {
                "state": effect.state.value,
                "media": effect.media.value,
                "queue_id": effect.queue_id,
                "agent_id": effect.agent_id,
                "updated_at": at,
            }
            if effect.outcome is not None:
                values["outcome"] = effect.outcome.value
            if effect.end_reason is not None:
                values["end_reason"] = effect.end_reason.value
            if effect.wrapup_code is not None:
                values["wrapup_code"] = effect.wrapup_code
            if effect.interaction_id in self.creating:
                self.creating.discard(effect.interaction_id)
                self.new_interactions[effect.interaction_id] = self._new_interaction(
                    effect.interaction_id,
                    effect.conversation_id,
                    effect.queue_id,
                    effect.media.value,
                    at,
                )
            self.interaction(effect.interaction_id, values)
        elif isinstance(effect, SegmentOpened):
            self.new_segments[_segment_key(effect.segment)] = _segment_row(effect.segment)
        elif isinstance(effect, SegmentClosed):
            key = _segment_key(effect.segment)
            if key in self.new_segments:
                self.new_segments[key] = _segment_row(effect.segment)
            else:
                self.segment_closes.append(effect.segment)
        elif isinstance(effect, RecordPacingDecision):
            d = effect.decision
            self.decisions.append(
                {
                    "evaluation": d.evaluation,
                    "at": d.at,
                    "queue_id": d.queue_id,
                    "callback_id": d.callback_id,
                    "on_queue": d.on_queue,
                    "idle": d.idle,
                    "outstanding": d.outstanding,
                    "multiplier": d.multiplier,
                    "cap_expected": d.cap_expected,
                    "draw": d.draw,
                    "cap": d.cap,
                    "trigger": d.trigger.value,
                    "reason": d.reason.value,
                    "reserved_agent": d.reserved_agent,
                    "budget": d.budget,  # R-X-18
                    "live_rate": d.live_rate,
                    "risk": d.risk,
                }
            )
        elif isinstance(effect, AgentStatusChanged):
            u = t.users
            self.statements.append(
                u.update()
                .where(u.c.id == effect.agent_id)
                .values(routing_status=effect.status.value)
            )
        else:
            self.statements.extend(compliance.effect_statements(effect, at))  # issue 14


_BINARY_TYPES: dict[type, str] = {
    sa.String: "text",  # varchar's binary form is text's
    sa.Double: "float8",
    sa.Float: "float8",
    sa.BigInteger: "int8",
    sa.Integer: "int4",
    sa.Boolean: "bool",
    sa.JSON: "json",
}


@functools.cache
def _binary_copy(
    table: sa.Table, names: tuple[str, ...]
) -> tuple[str, list[str], frozenset[str], tuple[str, ...]]:
    """The binary ``COPY`` of ``names`` into ``table``: its SQL, the PostgreSQL type of each
    column (binary rows must be of the column's exact type), the JSON columns and the int4
    ones."""
    types = []
    for name in names:
        kind = type(table.c[name].type)
        found = next(
            (pg for sa_type, pg in _BINARY_TYPES.items() if issubclass(kind, sa_type)), None
        )
        if found is None:
            raise TypeError(f"{table.name}.{name}: no binary COPY type for {kind.__name__}")
        types.append(found)
    quoted = ", ".join(f'"{name}"' for name in names)
    json_columns = frozenset(n for n in names if isinstance(table.c[n].type, sa.JSON))
    int4_columns = tuple(n for n, pg in zip(names, types, strict=True) if pg == "int4")
    sql = f'COPY "{table.name}" ({quoted}) FROM STDIN (FORMAT BINARY)'
    return sql, types, json_columns, int4_columns


def _check_int4(table: sa.Table, name: str, value: object) -> None:
    """Refuse what an int4 column cannot hold, as the database does for text input: psycopg
    writes a binary int4 by truncating a larger integer."""
    if isinstance(value, int) and not -(2**31) <= value < 2**31:
        raise ValueError(f"{table.name}.{name}: {value} is out of the int4 range")


@dataclass(frozen=True, slots=True)
class _Upsert:
    table: sa.Table
    values: dict[str, Any]
    update: dict[str, Any]


class Store:
    """The database of one dialback service, writing the log of one shard (issue 17: each
    shard's runtime has its own ``Store``, with its own ``guard``)."""

    def __init__(self, engine: Engine, shard: str = t.DEFAULT_SHARD) -> None:
        self.engine = engine
        self.shard = shard
        # issue 17: runs first in every write's transaction and raises to refuse it (a node's
        # lease fencing, store/leases.py and service/node.py); None: one node owns the database
        self.guard: Callable[[Connection], None] | None = None

    # --- writing --------------------------------------------------------------------------------
    def commit(self, steps: Sequence[Step]) -> None:
        """Write the steps in one transaction. Raises what the driver raises; on error nothing
        of the batch is stored."""
        batch = _Batch(self.shard)
        for step in steps:
            batch.add(step)
        rows = [
            (t.events, batch.events),
            (t.interactions, list(batch.new_interactions.values())),
            (t.segments, list(batch.new_segments.values())),
            (t.pacing_decisions, batch.decisions),
            (t.idempotency_keys, batch.idempotent),
        ]
        with self.engine.begin() as c:
            if c.dialect.name == "postgresql":
                self._copy_rows(c, rows)
            else:
                if self.guard is not None:
                    self.guard(c)
                for table, new in rows:
                    self._insert(c, table, new)
            for statement in batch.statements:
                self._execute(c, statement)
            i = t.interactions
            for interaction_id, values in batch.interaction_updates.items():
                c.execute(i.update().where(i.c.id == interaction_id).values(**values))
            for closed in batch.segment_closes:
                self._close_segment(c, closed)

    def _copy_rows(self, c: Connection, rows: list[tuple[sa.Table, list[dict[str, Any]]]]) -> None:
        """PostgreSQL: the guard's check, then the batch's new rows by binary ``COPY``, the
        driver formatting each value in C. (Issue 17: a statement per row, even pipelined,
        cost the writer's thread more CPU than the database took, and every one of its waits
        is a wait for the interpreter too, which the event loop holds while serving requests:
        measured in bench/RESULTS.md.)"""
        if self.guard is not None:
            self.guard(c)
        driver = c.connection.driver_connection
        assert driver is not None
        wrap = _json_param(True)
        with driver.cursor() as cursor:
            for table, new in rows:
                if not new:
                    continue
                names = tuple(new[0])
                sql, types, json_columns, int4_columns = _binary_copy(table, names)
                with cursor.copy(sql) as copy:
                    copy.set_types(types)
                    for row in new:
                        for n in int4_columns:  # binary int4 would wrap, not refuse
                            _check_int4(table, n, row[n])
                        copy.write_row(
                            [wrap(row[n]) if n in json_columns else row[n] for n in names]
                        )

    @staticmethod
    def _insert(c: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Many rows through the driver's own executemany (SQLite): the hot path of every
        batch, where SQLAlchemy's per-row processing cost more than the database."""
        if not rows:
            return
        names = list(rows[0])
        json_columns = {col.name for col in table.columns if isinstance(col.type, sa.JSON)}
        quoted = ", ".join(f'"{name}"' for name in names)
        sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join(["?"] * len(names))})'
        wrap = _json_param(False)
        params = [
            tuple(wrap(row[n]) if n in json_columns else row[n] for n in names) for row in rows
        ]
        cursor = c.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, params)
        finally:
            cursor.close()

    def _execute(self, c: Connection, statement: Any) -> None:
        if not isinstance(statement, _Upsert):
            c.execute(statement)
            return
        table, values, update = statement.table, statement.values, statement.update
        keys = [col.name for col in table.primary_key.columns]
        where = [table.c[k] == values[k] for k in keys]
        exists = c.execute(sa.select(*[table.c[k] for k in keys]).where(*where)).first()
        if exists is None:
            c.execute(table.insert().values(**values))
        elif update:
            c.execute(table.update().where(*where).values(**update))

    @staticmethod
    def _close_segment(c: Connection, s: Segment) -> None:
        g = t.segments
        row = _segment_row(s)
        c.execute(
            g.update()
            .where(
                g.c.conversation_id == s.conversation_id,
                g.c.interaction_id == s.interaction_id,
                g.c.purpose == s.purpose.value,
                (g.c.agent_id == s.agent_id) if s.agent_id else g.c.agent_id.is_(None),
                g.c.media == s.media.value,
                g.c.type == s.type.value,
                g.c.start == s.start,
            )
            .values(**row)
        )

    # --- the log --------------------------------------------------------------------------------
    def events(self, batch: int = 5000) -> Iterator[tuple[Event, float]]:
        """Every event of this store's shard in order, with the time the engine was given."""
        last = 0
        e = t.events
        while True:
            with self.engine.connect() as c:
                rows = c.execute(
                    sa.select(e.c.seq, e.c.at, e.c.kind, e.c.payload)
                    .where(e.c.shard == self.shard, e.c.seq > last)
                    .order_by(t.events.c.seq)
                    .limit(batch)
                ).all()
            if not rows:
                return
            for seq, at, kind, payload in rows:
                yield decode_event(kind, payload), at
                last = seq

    def ping(self) -> None:
        """Raise what the driver raises when the database does not answer."""
        with self.engine.connect() as c:
            c.execute(sa.text("SELECT 1"))

    def seed(self) -> int:
        """The engine's random seed, chosen once per database."""
        with self.engine.begin() as c:
            found = c.execute(sa.select(t.meta.c.value).where(t.meta.c.key == "seed")).scalar()
            if found is not None:
                return int(found)
            seed = secrets.randbits(62)
            c.execute(t.meta.insert().values(key="seed", value=str(seed)))
            return seed

    def idempotent(self, scope: str, key: str) -> Idempotent | None:
        k = t.idempotency_keys
        with self.engine.connect() as c:
            row = c.execute(sa.select(k).where(k.c.scope == scope, k.c.key == key)).first()
        if row is None:
            return None
        return Idempotent(row.key, row.request_hash, row.status_code, row.response, row.scope)

    # --- tokens ---------------------------------------------------------------------------------
    def create_token(
        self, role: str, user_id: str | None = None, expires_at: float | None = None
    ) -> str:
        """A new bearer token (printed once; only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as c:
            c.execute(
                t.api_tokens.insert().values(
                    token_hash=hash_token(token),
                    role=role,
                    user_id=user_id,
                    created_at=time.time(),
                    expires_at=expires_at,
                )
            )
        return token

    def token(self, token: str, now: float | None = None) -> tuple[str, str | None] | None:
        """The role and user of a token, or None when it is unknown, revoked or expired."""
        a = t.api_tokens
        moment = time.time() if now is None else now
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(a.c.role, a.c.user_id, a.c.expires_at).where(
                    a.c.token_hash == hash_token(token)
                )
            ).first()
        if row is None or (row.expires_at is not None and row.expires_at <= moment):
            return None
        return (row.role, row.user_id)

    def token_holders(
        self, hashes: Sequence[str], now: float | None = None
    ) -> dict[str, tuple[str, str | None]]:
        """``token`` for many tokens at once, by their hashes (``hash_token``), in one query:
        the role and user of each hash that is known, unrevoked and unexpired."""
        a = t.api_tokens
        moment = time.time() if now is None else now
        with self.engine.connect() as c:
            rows = c.execute(
                sa.select(a.c.token_hash, a.c.role, a.c.user_id, a.c.expires_at).where(
                    a.c.token_hash.in_(list(hashes))
                )
            ).all()
        return {
            r.token_hash: (r.role, r.user_id)
            for r in rows
            if r.expires_at is None or r.expires_at > moment
        }

    def tokens(self) -> list[TokenRow]:
        a = t.api_tokens
        with self.engine.connect() as c:
            rows = c.execute(sa.select(a).order_by(a.c.created_at, a.c.token_hash)).all()
        return [
            TokenRow(r.token_hash[:TOKEN_ID], r.role, r.user_id, r.created_at, r.expires_at)
            for r in rows
        ]

    def revoke_token(self, token_id: str) -> int:
        """Delete the tokens whose id (hash start, at least ``TOKEN_ID`` characters) is
        ``token_id``: how many were deleted (0 or 1)."""
        a = t.api_tokens
        if len(token_id) < TOKEN_ID or not all(ch in "0123456789abcdef" for ch in token_id):
            return 0
        with self.engine.begin() as c:
            matches = c.execute(
                sa.select(a.c.token_hash).where(a.c.token_hash.startswith(token_id))
            ).all()
            if len(matches) != 1:
                return 0
            c.execute(a.delete().where(a.c.token_hash == matches[0].token_hash))
        return 1

    def meta(self, key: str) -> str | None:
        with self.engine.connect() as c:
            found = c.execute(sa.select(t.meta.c.value).where(t.meta.c.key == key)).scalar()
        return None if found is None else str(found)

    def set_meta(self, key: str, value: str) -> None:
        m = t.meta
        with self.engine.begin() as c:
            c.execute(m.delete().where(m.c.key == key))
            c.execute(m.insert().values(key=key, value=value))


TOKEN_ID = 12  # characters of a token's hash that name it


def _json_param(postgres: bool) -> Any:
    if postgres:
        from psycopg.types.json import Json

        return lambda value: None if value is None else Json(value)
    return lambda value: None if value is None else json.dumps(value)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- reading the read models ----------------------------------------------------------------------
def _segment_from(row: Any) -> Segment:
    return Segment(
        conversation_id=row.conversation_id,
        interaction_id=row.interaction_id,
        purpose=Purpose(row.purpose),
        media=MediaType(row.media),
        type=SegmentType(row.type),
        start=row.start,
        queue_id=row.queue_id,
        customer_first=row.customer_first,
        agent_id=row.agent_id,
        end=row.end,
        how_ended=HowEnded(row.how_ended) if row.how_ended else None,
        outcome=Outcome(row.outcome) if row.outcome else None,
        sip_code=row.sip_code,
        dial_id=row.dial_id,
        wrapup_code=row.wrapup_code,
        greeting_end=row.greeting_end,
        flow_id=row.flow_id,
        beep_end=row.beep_end,
    )


_TOKEN_HOLDERS = (
    "SELECT token_hash, role, user_id, expires_at FROM api_tokens WHERE token_hash = ANY(%s)"
)


class TokenReader:
    """PostgreSQL: ``Store.token_holders`` made on the event loop, on a connection of its own in
    autocommit, opened at the first lookup (issue 17). The API looks a token up on every
    request; through a worker thread, SQLAlchemy's pool and a transaction each lookup cost
    several times its query. Made by one event loop and used on it only; ``close`` it there."""

    def __init__(self, engine: Engine) -> None:
        # what SQLAlchemy's own connections are made with (a URL rendered back to text would
        # not always read the same to libpq: ``options=-c%20…``, names with spaces)
        args, self._connect = engine.dialect.create_connect_args(engine.url)
        assert not args
        self._connection: psycopg.AsyncConnection[tuple[Any, ...]] | None = None

    async def token_holders(
        self, hashes: Sequence[str], now: float | None = None
    ) -> dict[str, tuple[str, str | None]]:
        """As ``Store.token_holders``. A connection found broken is opened again once (the
        query only reads: asking again is safe); raises what the driver raises after that."""
        for attempt in (1, 2):
            if self._connection is None or self._connection.closed:
                self._connection = await psycopg.AsyncConnection.connect(
                    **{**self._connect, "autocommit": True}
                )
            try:
                cursor = await self._connection.execute(_TOKEN_HOLDERS, [list(hashes)])
                rows = await cursor.fetchall()
                break
            except psycopg.OperationalError:
                await self.close()
                if attempt == 2:
                    raise
        moment = time.time() if now is None else now
        return {
            digest: (role, user_id)
            for digest, role, user_id, expires_at in rows
            if expires_at is None or expires_at > moment
        }

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    def abandon(self) -> None:
        """Close the connection without the event loop it belonged to (that loop is gone)."""
        if self._connection is not None:
            self._connection.pgconn.finish()
            self._connection = None


class Reader:
    """Queries for the API; every method opens its own short connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def rows(self, statement: Any) -> list[Any]:
        with self.engine.connect() as c:
            return list(c.execute(statement).all())

    def queue(self, queue_id: str) -> Any:
        found = self.rows(sa.select(t.queues).where(t.queues.c.id == queue_id))
        return found[0] if found else None

    def queues(self, limit: int, offset: int) -> tuple[list[Any], int]:
        total = self.rows(sa.select(sa.func.count()).select_from(t.queues))[0][0]
        page = self.rows(
            sa.select(t.queues).order_by(t.queues.c.name, t.queues.c.id).limit(limit).offset(offset)
        )
        return page, int(total)

    def user(self, user_id: str) -> Any:
        found = self.rows(sa.select(t.users).where(t.users.c.id == user_id))
        return found[0] if found else None

    def members(self, queue_id: str) -> list[Any]:
        m, u = t.queue_members, t.users
        return self.rows(
            sa.select(u)
            .join(m, m.c.user_id == u.c.id)
            .where(m.c.queue_id == queue_id)
            .order_by(u.c.id)
        )

    def interactions_of(self, conversation_id: str) -> list[Any]:
        i = t.interactions
        return self.rows(
            sa.select(i)
            .where(i.c.conversation_id == conversation_id)
            .order_by(i.c.created_at, i.c.id)
        )

    def interaction(self, interaction_id: str) -> Any:
        found = self.rows(sa.select(t.interactions).where(t.interactions.c.id == interaction_id))
        return found[0] if found else None

    def conversation(self, conversation_id: str) -> Conversation | None:
        g = t.segments
        rows = self.rows(
            sa.select(g).where(g.c.conversation_id == conversation_id).order_by(g.c.id)
        )
        if not rows:
            return None
        timeline = Timeline()
        timeline.apply(SegmentOpened(_segment_from(r)) for r in rows)
        return timeline.conversations[rows[0].conversation_id]

    def conversations_between(self, start: float, end: float, limit: int) -> list[Conversation]:
        """Conversations with a segment starting in [start, end), oldest first."""
        g = t.segments
        ids = self.rows(
            sa.select(g.c.conversation_id, sa.func.min(g.c.start).label("first"))
            .where(g.c.start >= start, g.c.start < end)
            .group_by(g.c.conversation_id)
            .order_by(sa.text("first"), g.c.conversation_id)
            .limit(limit)
        )
        found = [self.conversation(row.conversation_id) for row in ids]
        return [c for c in found if c is not None]

    def pacing_decisions(self, queue_id: str, limit: int, offset: int) -> list[Any]:
        p = t.pacing_decisions
        return self.rows(
            sa.select(p)
            .where(p.c.queue_id == queue_id)
            .order_by(p.c.id.desc())
            .limit(limit)
            .offset(offset)
        )

    def counts_by_state(self) -> list[Any]:
        i = t.interactions
        return self.rows(
            sa.select(i.c.queue_id, i.c.state, sa.func.count()).group_by(i.c.queue_id, i.c.state)
        )
