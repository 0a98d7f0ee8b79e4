"""Snapshots of the engine's state, with the log position they cover, and pruning the log.

A snapshot row holds an opaque ``state`` (the service decides the format and names it in
``format``) and ``seq``: the last event of the log the state includes. A start loads the newest
snapshot of a format it understands and replays only the events after ``seq``.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dialback.domain.events import Event
from dialback.store import tables as t
from dialback.store.codec import decode_event

Guard = Callable[[Connection], None]
"""Run first in a write's transaction; raises to refuse the write (a lost lease, issue 17)."""

ALL = t.DEFAULT_SHARD  # the default shard (docs/decisions.md, "Shards")
KEEP = 3  # snapshots kept per shard; older ones are deleted when a new one is written
PRUNED_THROUGH = "log_pruned_through"  # meta key: the last event seq pruned from the log

snapshots = sa.Table(
    "snapshots",
    t.metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("shard", sa.String(64), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("at", t.Time, nullable=False),
    sa.Column("format", sa.String(80), nullable=False),
    sa.Column("state", sa.LargeBinary, nullable=False),
    sa.Column("created_at", t.Time, nullable=False),
    sa.Index("ix_snapshots_shard", "shard", "seq"),
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    seq: int  # the last event the state includes (0: none)
    at: float  # the engine's clock when it was taken
    format: str
    state: bytes


class SnapshotStore:
    """Snapshots of one shard in the database of ``engine``."""

    def __init__(self, engine: Engine, shard: str = ALL) -> None:
        self.engine = engine
        self.shard = shard

    def latest(self, format: str) -> Snapshot | None:
        """The newest snapshot written in ``format``, or None."""
        s = snapshots
        with self.engine.connect() as c:
            row = c.execute(
                sa.select(s.c.seq, s.c.at, s.c.format, s.c.state)
                .where(s.c.shard == self.shard, s.c.format == format)
                .order_by(s.c.seq.desc(), s.c.id.desc())
                .limit(1)
            ).first()
        return None if row is None else Snapshot(row.seq, row.at, row.format, bytes(row.state))

    def write(self, state: bytes, at: float, format: str, guard: Guard | None = None) -> int:
        """Store a state that includes every event committed so far (the caller is the only
        writer, between batches); returns the log position it covers. ``guard`` runs first in
        the same transaction."""
        s = snapshots
        with self.engine.begin() as c:
            if guard is not None:
                guard(c)
            e = t.events
            last = sa.select(sa.func.coalesce(sa.func.max(e.c.seq), 0)).where(
                e.c.shard == self.shard
            )
            seq = int(c.execute(last).scalar_one())
            c.execute(
                s.insert().values(
                    shard=self.shard,
                    seq=seq,
                    at=at,
                    format=format,
                    state=state,
                    created_at=time.time(),
                )
            )
            old = (
                sa.select(s.c.id)
                .where(s.c.shard == self.shard)
                .order_by(s.c.seq.desc(), s.c.id.desc())
                .offset(KEEP)
            )
            c.execute(s.delete().where(s.c.id.in_(old.scalar_subquery())))
        return seq

    def events_after(self, seq: int, batch: int = 5000) -> Iterator[tuple[int, Event, float]]:
        """The shard's log after position ``seq``, in order: (seq, event, time the engine was
        given)."""
        e = t.events
        last = seq
        while True:
            with self.engine.connect() as c:
                rows = c.execute(
                    sa.select(e.c.seq, e.c.at, e.c.kind, e.c.payload)
                    .where(e.c.shard == self.shard, e.c.seq > last)
                    .order_by(e.c.seq)
                    .limit(batch)
                ).all()
            if not rows:
                return
            for row_seq, at, kind, payload in rows:
                yield row_seq, decode_event(kind, payload), at
                last = row_seq

    @property
    def _pruned_key(self) -> str:
        """The meta key of this shard's pruning (the default shard's is the older one)."""
        return PRUNED_THROUGH if self.shard == ALL else f"{PRUNED_THROUGH}:{self.shard}"

    def pruned_through(self) -> int:
        """The last event seq of this shard removed from the log by ``prune`` (0: whole)."""
        with self.engine.connect() as c:
            found = c.execute(sa.select(t.meta.c.value).where(t.meta.c.key == self._pruned_key))
            value = found.scalar()
        return int(value) if value is not None else 0

    def prune(self, format: str, before: int | None = None, archive: Path | None = None) -> int:
        """Delete the events the newest snapshot of ``format`` covers (only those with seq below
        ``before`` when given), first appending them to ``archive`` (gzip JSON lines) when
        given. Returns how many were deleted."""
        latest = self.latest(format)
        if latest is None:
            return 0
        through = latest.seq if before is None else min(latest.seq, before - 1)
        e = t.events
        with self.engine.begin() as c:
            if archive is not None:
                self._archive(c, through, archive)
            mine = e.c.shard == self.shard
            deleted = c.execute(e.delete().where(mine, e.c.seq <= through)).rowcount
            m, key = t.meta, self._pruned_key
            done = c.execute(sa.select(m.c.value).where(m.c.key == key)).scalar()
            if done is None:
                c.execute(m.insert().values(key=key, value=str(through)))
            elif int(done) < through:
                c.execute(m.update().where(m.c.key == key).values(value=str(through)))
        return int(deleted)

    def _archive(self, c: Connection, through: int, archive: Path, batch: int = 5000) -> None:
        e = t.events
        last = 0
        with gzip.open(archive, "at", encoding="utf-8") as out:
            while True:
                rows = c.execute(
                    sa.select(e.c.seq, e.c.at, e.c.kind, e.c.payload)
                    .where(e.c.shard == self.shard, e.c.seq > last, e.c.seq <= through)
                    .order_by(e.c.seq)
                    .limit(batch)
                ).all()
                if not rows:
                    return
                for seq, at, kind, payload in rows:
                    record = {"seq": seq, "at": at, "kind": kind, "payload": payload}
                    if self.shard != ALL:
                        record["shard"] = self.shard
                    out.write(json.dumps(record) + "\n")
                last = rows[-1].seq


def shard_names(engine: Engine) -> list[str]:
    """Every shard named so far (the default one first): the shards a service runs."""
    with engine.connect() as c:
        found = [str(n) for n in c.execute(sa.select(t.shards.c.name)).scalars()]
    return [ALL, *sorted(n for n in found if n != ALL)]


def add_shard(engine: Engine, name: str) -> None:
    """Name a shard (nothing when it is named already: several nodes may race to)."""
    s = t.shards
    with engine.begin() as c:
        if c.execute(sa.select(s.c.name).where(s.c.name == name)).first() is not None:
            return
        with contextlib.suppress(sa.exc.IntegrityError), c.begin_nested():
            c.execute(s.insert().values(name=name, created_at=time.time()))
