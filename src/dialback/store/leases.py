"""Shard leases with fencing epochs, and the nodes that hold them (PostgreSQL only, issue 17).

A lease is one row per shard: who holds it, its ``epoch`` (the fencing token: it grows on every
grant to a new holder or after a lapse) and ``expires_at``, always computed by the database's
clock (``now()``), never a node's. Acquire, renew and take-over are one ``INSERT … ON CONFLICT DO
UPDATE … RETURNING epoch``. ``guard`` checks, inside a write's own transaction, that the epoch is
still the holder's and unexpired, and keeps a share lock on the row until the write commits: a
take-over waits for that write, and a write after a take-over fails (``LeaseLost``). No session
advisory locks: they do not survive transaction poolers (docs/decisions.md).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dialback.domain.errors import DialbackError
from dialback.store import tables as t

shard_leases = sa.Table(
    "shard_leases",
    t.metadata,
    sa.Column("shard", sa.String(64), primary_key=True),
    sa.Column("node_id", sa.String(128)),
    sa.Column("epoch", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("acquired_at", sa.DateTime(timezone=True)),
)

nodes = sa.Table(
    "nodes",
    t.metadata,
    sa.Column("node_id", sa.String(128), primary_key=True),
    sa.Column("url", sa.String(256), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)

_ACQUIRE = sa.text(
    """
    INSERT INTO shard_leases AS l (shard, node_id, epoch, expires_at, acquired_at)
    VALUES (:shard, :me, 1, now() + make_interval(secs => :ttl), now())
    ON CONFLICT (shard) DO UPDATE SET
        node_id = :me,
        epoch = CASE WHEN l.node_id = :me AND l.epoch = :held AND l.expires_at > now()
                     THEN l.epoch ELSE l.epoch + 1 END,
        acquired_at = CASE WHEN l.node_id = :me AND l.epoch = :held AND l.expires_at > now()
                           THEN l.acquired_at ELSE now() END,
        expires_at = now() + make_interval(secs => :ttl)
    WHERE l.node_id = :me OR l.node_id IS NULL OR l.expires_at <= now()
    RETURNING epoch
    """
)
_GUARD = """
    SELECT 1 FROM shard_leases
    WHERE shard = %(shard)s AND node_id = %(me)s AND epoch = %(epoch)s AND expires_at > now()
    FOR SHARE
"""


class LeaseLost(DialbackError):
    """This node's lease of the shard ended (expired or taken over): it may not write."""

    code = "lease_lost"


@dataclass(frozen=True, slots=True)
class Fence:
    """The check a leaseholder's writes make first in their own transaction (a
    ``Store.guard``): ``node_id`` still holds ``shard`` at ``epoch``, unexpired by the
    database's clock (``now()`` is the transaction's start), with a share lock on the lease row
    until the write commits."""

    node_id: str
    shard: str
    epoch: int

    def __call__(self, c: Connection) -> None:
        params = {"shard": self.shard, "me": self.node_id, "epoch": self.epoch}
        if c.exec_driver_sql(_GUARD, params).first() is None:
            raise LeaseLost(
                f"node {self.node_id} no longer holds shard {self.shard} (epoch {self.epoch})"
            )


@dataclass(frozen=True, slots=True)
class LeaseRow:
    shard: str
    node_id: str | None
    epoch: int
    expires_at: datetime
    acquired_at: datetime | None
    url: str | None
    seconds_left: float  # by the database's clock; negative once expired


@dataclass(frozen=True, slots=True)
class NodeRow:
    node_id: str
    url: str
    started_at: datetime
    seen_at: datetime
    seconds_since_seen: float


class Leases:
    """The leases of one node (``node_id``), each ``ttl`` seconds long."""

    def __init__(self, engine: Engine, node_id: str, ttl: float) -> None:
        self.engine = engine
        self.node_id = node_id
        self.ttl = ttl

    def acquire(self, shard: str, held: int | None) -> int | None:
        """Renew the lease of epoch ``held`` (same epoch while it has not lapsed), or take the
        shard when it is free or its lease expired (a new epoch). None: another node holds it."""
        with self.engine.begin() as c:
            row = c.execute(
                _ACQUIRE,
                {"shard": shard, "me": self.node_id, "ttl": self.ttl, "held": held or -1},
            ).first()
        return None if row is None else int(row.epoch)

    def guard(self, shard: str, epoch: int) -> Fence:
        """A ``Store.guard``: refuses the write unless this node holds ``epoch`` unexpired."""
        return Fence(self.node_id, shard, epoch)

    def release(self, shard: str, epoch: int) -> None:
        """Give the shard up at once (a clean stop): another node need not wait for expiry."""
        s = shard_leases
        with self.engine.begin() as c:
            c.execute(
                s.update()
                .where(s.c.shard == shard, s.c.node_id == self.node_id, s.c.epoch == epoch)
                .values(node_id=None, expires_at=sa.func.now())
            )

    # --- nodes ----------------------------------------------------------------------------------
    def register(self, url: str) -> None:
        """Say this node is alive and where it answers (called with every heartbeat)."""
        n = nodes
        with self.engine.begin() as c:
            # nodes not seen for an hour are gone (killed ones never unregister)
            c.execute(n.delete().where(n.c.seen_at < sa.func.now() - sa.text("interval '1 hour'")))
            updated = c.execute(
                n.update().where(n.c.node_id == self.node_id).values(url=url, seen_at=sa.func.now())
            ).rowcount
            if not updated:
                c.execute(
                    n.insert().values(
                        node_id=self.node_id,
                        url=url,
                        started_at=sa.func.now(),
                        seen_at=sa.func.now(),
                    )
                )

    def unregister(self) -> None:
        with self.engine.begin() as c:
            c.execute(nodes.delete().where(nodes.c.node_id == self.node_id))

    def cluster_secret(self) -> str:
        """The token nodes show each other when forwarding (one per database)."""
        m = t.meta
        with self.engine.begin() as c:
            found = c.execute(sa.select(m.c.value).where(m.c.key == "cluster_secret")).scalar()
            if found is not None:
                return str(found)
            secret = secrets.token_urlsafe(32)
            c.execute(
                sa.text(
                    "INSERT INTO meta (key, value) VALUES ('cluster_secret', :v) "
                    "ON CONFLICT (key) DO NOTHING"
                ),
                {"v": secret},
            )
            value = c.execute(sa.select(m.c.value).where(m.c.key == "cluster_secret")).scalar()
            return str(value)


def list_leases(engine: Engine) -> list[LeaseRow]:
    """Every shard's lease with its holder's address, by the database's clock."""
    s, n = shard_leases, nodes
    left = sa.func.extract("epoch", s.c.expires_at - sa.func.now())
    query = (
        sa.select(s, n.c.url, left.label("seconds_left"))
        .select_from(s.outerjoin(n, n.c.node_id == s.c.node_id))
        .order_by(s.c.shard)
    )
    with engine.connect() as c:
        rows: list[Any] = list(c.execute(query))
    return [
        LeaseRow(
            r.shard, r.node_id, r.epoch, r.expires_at, r.acquired_at, r.url, float(r.seconds_left)
        )
        for r in rows
    ]


def list_nodes(engine: Engine) -> list[NodeRow]:
    n = nodes
    since = sa.func.extract("epoch", sa.func.now() - n.c.seen_at)
    with engine.connect() as c:
        rows: list[Any] = list(c.execute(sa.select(n, since.label("since")).order_by(n.c.node_id)))
    return [NodeRow(r.node_id, r.url, r.started_at, r.seen_at, float(r.since)) for r in rows]
