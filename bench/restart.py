"""How long a start takes against the length of the event log, with and without snapshots
(issue 17). Run by hand (not part of the tests):

    .venv/bin/python bench/restart.py --db postgresql://postgres@127.0.0.1:5432/test \
        --events 10000 100000 1000000

For each length it makes a fresh database (PostgreSQL: a new database next to the one given;
SQLite: a new file), writes a simulated contact center's history of that many events into the
log (the simulator's customer-first day, stretched), and measures ``snapshots.rebuild``, the part
of ``Runtime.start`` that grows with the log: (a) no snapshot, the whole log replayed; (b) a
snapshot as the service leaves it with ``--snapshot-events 10000`` (at most that many events
after it: we put it ``--tail`` events before the end). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from dialback.domain.engine import Engine
from dialback.domain.events import Event
from dialback.service.snapshots import dump, rebuild, snapshot_format
from dialback.sim.model import Simulation
from dialback.sim.workload import parse_workload
from dialback.store import tables as t
from dialback.store.codec import encode_event
from dialback.store.db import connect, migrate
from dialback.store.repository import Store
from dialback.store.snapshots import SnapshotStore
from dialback.store.snapshots import snapshots as snapshot_table

SEED = 7


def history(events: int) -> list[tuple[float, Event]]:
    """A simulated customer-first center's accepted events, about ``events`` of them."""
    hours = max(1.0, events / 8000)  # about 4 events per arrival, 2,000 arrivals an hour
    workload = parse_workload(
        {
            "simulation": {"hours": hours, "warmup_minutes": 0, "seed": SEED},
            "queue": [
                {
                    "name": "support",
                    "mode": "CustomerFirst",
                    "pacing_modifier": 5,
                    "agents": 60,
                    "arrivals_per_hour": 2000,
                    "handle_seconds": {"distribution": "exponential", "mean": 100},
                    "patience_seconds": {"distribution": "exponential", "mean": 120},
                    "callback_offer": {"after_wait_seconds": 60, "accept": 0.5},
                }
            ],
        }
    )
    sim = Simulation(workload, SEED, record=True)
    sim.run()
    assert sim.record is not None
    return [(at, event) for at, event, _ in sim.record][:events]


@contextmanager
def fresh(db: str) -> Iterator[str]:
    if not db.startswith("postgres"):
        with tempfile.TemporaryDirectory() as folder:
            yield str(Path(folder) / "restart.db")
        return
    name = f"dialback_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{db.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(db, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_log(store: Store, events: list[tuple[float, Event]]) -> None:
    rows = []
    for at, event in events:
        kind, payload = encode_event(event)
        rows.append({"at": at, "kind": kind, "payload": payload})
    for start in range(0, len(rows), 50_000):
        with store.engine.begin() as c:
            store._insert(c, t.events, rows[start : start + 50_000])


def measure(db: str, events: list[tuple[float, Event]], tail: int) -> tuple[float, float, int]:
    """(seconds without a snapshot, seconds with one, snapshot bytes)."""
    engine = connect(db)
    try:
        migrate(engine)
        store = Store(engine)
        store.seed()
        with engine.begin() as c:  # the simulator's seed, so the replay matches the history
            c.execute(t.meta.update().where(t.meta.c.key == "seed").values(value=str(SEED)))
        write_log(store, events)
        started = time.perf_counter()
        full = rebuild(store, None)
        without = time.perf_counter() - started
        assert full.replayed == len(events)
        head = Engine(rng=random.Random(SEED))
        for at, event in events[: len(events) - tail]:
            head.handle(event, at)
        snapshots = SnapshotStore(engine)
        state = dump(head, events[len(events) - tail - 1][0])
        with engine.begin() as c:
            c.execute(
                snapshot_table.insert().values(
                    shard="all",
                    seq=len(events) - tail,
                    at=0.0,
                    format=snapshot_format(),
                    state=state,
                    created_at=time.time(),
                )
            )
        started = time.perf_counter()
        quick = rebuild(store, snapshots)
        with_snapshot = time.perf_counter() - started
        assert quick.from_snapshot and quick.replayed == tail
        return without, with_snapshot, len(state)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--events", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--tail", type=int, default=10_000)
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, Python {sys.version.split()[0]}")
    print(
        "| events in the log | start without snapshot s | with snapshot s | events replayed "
        "after it | snapshot KiB |"
    )
    print("|---:|---:|---:|---:|---:|")
    for n in args.events:
        events = history(n)
        tail = min(args.tail, len(events) // 2)
        with fresh(args.db) as db:
            without, with_snapshot, size = measure(db, events, tail)
        kib = size // 1024
        print(
            f"| {len(events):,} | {without:.2f} | {with_snapshot:.2f} | {tail:,} | {kib:,} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
