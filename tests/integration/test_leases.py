"""Shard leases with fencing epochs on PostgreSQL (issue 17): one holder at a time, the
database's clock decides expiry, a new holder gets a new epoch, and a write with a stale epoch
is refused inside its own transaction."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dialback.domain.events import QueueConfigured
from dialback.domain.model import QueueId
from dialback.domain.settings import parse_queue
from dialback.store.db import connect, migrate
from dialback.store.leases import LeaseLost, Leases, list_leases
from dialback.store.repository import Idempotent, Step, Store

from . import postgres
from .conftest import eventually, pg_admin_url

SHARD = "all"


@pytest.fixture
def pg() -> Iterator[Engine]:
    with postgres.fresh_database(pg_admin_url()) as url:
        engine = connect(url)
        migrate(engine)
        yield engine
        engine.dispose()


def expired(engine: Engine) -> bool:
    return all(r.seconds_left <= 0 for r in list_leases(engine))


def waiting_on_a_lock(engine: Engine) -> bool:
    query = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    with engine.connect() as c:
        return bool(c.execute(sa.text(query)).scalar_one())


def a_step(name: str) -> Step:
    return Step(QueueConfigured(QueueId(name), parse_queue({})), 1.0, [])


def test_one_holder_at_a_time_and_a_new_epoch_on_take_over(pg: Engine) -> None:
    a, b = Leases(pg, "a", ttl=0.5), Leases(pg, "b", ttl=0.5)
    assert a.acquire(SHARD, None) == 1
    assert b.acquire(SHARD, None) is None  # a holds it
    assert a.acquire(SHARD, 1) == 1  # a renewal keeps the epoch
    eventually(lambda: expired(pg), what="a's lease to expire (database clock)")
    assert b.acquire(SHARD, None) == 2  # taken over: a new epoch
    assert a.acquire(SHARD, 1) is None
    [row] = list_leases(pg)
    assert (row.node_id, row.epoch) == ("b", 2)
    b.release(SHARD, 2)
    assert a.acquire(SHARD, None) == 3  # released: taken at once, with a new epoch


def test_a_node_that_lost_its_lease_cannot_commit(pg: Engine) -> None:
    a, b = Leases(pg, "a", ttl=0.5), Leases(pg, "b", ttl=30)
    store = Store(pg)
    assert a.acquire(SHARD, None) == 1
    store.guard = a.guard(SHARD, 1)
    store.commit([a_step("q1")])  # holding: the write goes through
    eventually(lambda: expired(pg), what="a's lease to expire")
    with pytest.raises(LeaseLost):
        store.commit([a_step("q2")])  # expired, even before anyone took it
    assert b.acquire(SHARD, None) == 2
    with pytest.raises(LeaseLost):
        store.commit([a_step("q3")])
    store.guard = b.guard(SHARD, 2)
    store.commit([a_step("q4")])
    with pg.connect() as c:
        kinds = c.execute(sa.text("SELECT payload->>'queue_id' FROM events ORDER BY seq")).all()
    assert [k[0] for k in kinds] == ["q1", "q4"]  # nothing of a stale holder was stored


def test_a_take_over_waits_for_a_write_that_passed_its_guard(pg: Engine) -> None:
    """The guard keeps a share lock on the lease row until its write commits, so a new holder
    acquires after that write, and the log it rebuilds from includes it."""
    a, b = Leases(pg, "a", ttl=1), Leases(pg, "b", ttl=30)
    assert a.acquire(SHARD, None) == 1
    taken: list[int | None] = []
    with pg.begin() as c:
        a.guard(SHARD, 1)(c)  # the write's transaction passed its check
        eventually(lambda: expired(pg), what="a's lease to expire")
        thief = threading.Thread(target=lambda: taken.append(b.acquire(SHARD, None)))
        thief.start()
        eventually(lambda: waiting_on_a_lock(pg), what="the take-over to wait on our lock")
        assert not taken
    thief.join(timeout=10)
    assert taken == [2]


def test_a_value_an_int4_column_cannot_hold_is_refused_and_nothing_is_stored(pg: Engine) -> None:
    """Rows go in by binary COPY (issue 17), where psycopg would truncate an integer too large
    for an int4 column: the commit refuses it, as the database refuses it in text, and stores
    nothing of the batch."""
    store = Store(pg)
    too_big = Idempotent("k", "h", 2**31, {}, "s")  # idempotency_keys.status_code is int4
    with pytest.raises(ValueError, match="int4"):
        store.commit([replace(a_step("q1"), idempotent=too_big)])
    store.commit([replace(a_step("q2"), idempotent=replace(too_big, status_code=200))])
    with pg.connect() as c:
        kinds = c.execute(sa.text("SELECT payload->>'queue_id' FROM events ORDER BY seq")).all()
        codes = c.execute(sa.text("SELECT status_code FROM idempotency_keys")).all()
    assert [k[0] for k in kinds] == ["q2"] and [c[0] for c in codes] == [200]
