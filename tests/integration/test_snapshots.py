"""Snapshots in the service (issue 17): the runtime writes them as it goes and at a clean stop;
a start loads the newest and replays only the tail, reaching the state a full replay reaches;
``dialback log prune`` removes what a snapshot covers."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from dialback.cli import app
from dialback.demo.center import DemoCenter
from dialback.domain.model import Outcome
from dialback.service.runtime import Runtime
from dialback.service.snapshots import SnapshotPolicy, SnapshotUnusable, rebuild
from dialback.store import tables
from dialback.store.db import connect, migrate
from dialback.store.repository import Store
from dialback.store.snapshots import SnapshotStore, snapshots
from dialback.telephony.simulated import SimulatedCarrier

from ..unit.service.test_snapshots import canonical, difference


def runtime(store: Store, every: int) -> Runtime:
    made = Runtime(
        store,
        lambda report: SimulatedCarrier(
            report, random.Random(5), mix={Outcome.LIVE_VOICE: 0.6, Outcome.BUSY: 0.4}, speed=500
        ),
    )
    made.snapshots = SnapshotPolicy(SnapshotStore(store.engine), every_events=every)
    return made


async def run_demo(store: Store, events: int, seed: int) -> int:
    """The demo contact center against a runtime until the log holds ``events`` more events."""
    running = runtime(store, every=40)
    await running.start()
    start = count_events(store)
    center = DemoCenter(running, speed=500, rng=random.Random(seed), callbacks_per_minute=60)
    await center.start()
    for _ in range(3000):  # bounded: about 30 s at most
        if count_events(store) >= start + events:
            break
        await asyncio.sleep(0.01)
    await running.stop()
    return count_events(store)


def count_events(store: Store) -> int:
    with store.engine.connect() as c:
        return int(c.execute(sa.select(sa.func.count()).select_from(tables.events)).scalar_one())


def test_a_start_from_the_snapshot_and_tail_equals_a_full_replay(
    database: str, tmp_path: Path
) -> None:
    engine = connect(database)
    migrate(engine)
    store = Store(engine)
    try:
        total = asyncio.run(run_demo(store, 400, 1))
        assert total >= 400
        with engine.connect() as c:
            written = c.execute(sa.select(sa.func.count()).select_from(snapshots)).scalar_one()
        assert 1 <= written <= 3  # older ones are deleted

        full = rebuild(store, None)
        assert (full.replayed, full.from_snapshot) == (total, False)
        from_snapshot = rebuild(store, SnapshotStore(engine))
        assert from_snapshot.from_snapshot and from_snapshot.replayed == 0  # the stop wrote one
        assert difference(canonical(from_snapshot.engine), canonical(full.engine)) is None

        # more events after the snapshot: the tail is replayed on top of it
        asyncio.run(run_demo(store, 100, 2))
        full = rebuild(store, None)
        assert (
            difference(
                canonical(rebuild(store, SnapshotStore(engine)).engine), canonical(full.engine)
            )
            is None
        )

        archive = tmp_path / "events.jsonl.gz"
        result = CliRunner().invoke(
            app, ["log", "prune", "--db", database, "--archive", str(archive)]
        )
        assert result.exit_code == 0, result.output
        assert count_events(store) == 0 and archive.stat().st_size > 0
        with pytest.raises(SnapshotUnusable):
            rebuild(store, None)  # a pruned log cannot be replayed from the start
        after = rebuild(store, SnapshotStore(engine))
        assert difference(canonical(after.engine), canonical(full.engine)) is None
        asyncio.run(run_demo(store, 20, 3))  # and the service goes on from it
    finally:
        engine.dispose()
