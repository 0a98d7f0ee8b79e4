"""CPU and wall time of the writer's commit, without HTTP (issue 17): batches of callback
creations through a ``Runtime`` on PostgreSQL, the commit timed in the writer's thread.

Run by hand (not part of the tests), from the project root:

    .venv/bin/python bench/commit_cost.py --db postgresql://postgres@127.0.0.1:5432/test

A fresh database; one queue; the store guarded by a lease (``Fence``) as a node's is; then
``--warm`` batches and ``--batches`` measured batches of ``--size`` creations submitted at
once (``asyncio.gather``), so each is one commit. Prints the mean thread CPU and wall time of
``Store.commit`` per batch, and of a whole round (submit to answers). Nothing else competes for
the interpreter here: under HTTP load each wait of the commit is also a wait for the event
loop to let go of the interpreter (``bench/one_node.py`` measures that).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the root

from bench import api_load
from dialback.api.numbers import normalize_number, zones_for_number
from dialback.domain.callbacks import parse_callback_request
from dialback.domain.events import CallbackRequested, QueueConfigured
from dialback.domain.model import ConversationId, InteractionId, QueueId
from dialback.domain.settings import QueueSettings
from dialback.service.runtime import Runtime
from dialback.store.db import connect, migrate
from dialback.store.leases import Leases
from dialback.store.repository import Step, Store
from dialback.telephony.simulated import SimulatedCarrier


class TimedStore(Store):
    """A store that records each commit's thread CPU and wall seconds."""

    timings: list[tuple[float, float]]

    def commit(self, steps: Sequence[Step]) -> None:
        cpu, wall = time.thread_time(), time.perf_counter()
        super().commit(steps)
        self.timings.append((time.thread_time() - cpu, time.perf_counter() - wall))


async def measure(db: str, size: int, warm: int, batches: int) -> None:
    engine = connect(db)
    migrate(engine)
    store = TimedStore(engine)
    store.timings = []
    leases = Leases(engine, "bench", 60)
    epoch = leases.acquire("all", None)
    assert epoch is not None
    store.guard = leases.guard("all", epoch)
    runtime = Runtime(store, lambda report: SimulatedCarrier(report, random.Random(1)))
    await runtime.start()
    settings = QueueSettings(name="bench")
    await runtime.submit(QueueConfigured(QueueId("q"), settings))

    def creation(i: int) -> CallbackRequested:
        request = parse_callback_request(
            {"queueId": "q", "callbackNumbers": [f"+1415555{2000 + i % 7000:04d}"]},
            now=time.time(),
            queue_settings=lambda _: settings,
            normalize=normalize_number,
            zones=zones_for_number,
        )
        ids = InteractionId(str(uuid.uuid4())), ConversationId(str(uuid.uuid4()))
        return CallbackRequested(*ids, request)

    made = 0
    rounds: list[float] = []
    for n in range(warm + batches):
        if n == warm:
            store.timings.clear()
        events = [creation(made + k) for k in range(size)]
        made += size
        started = time.perf_counter()
        await asyncio.gather(*(runtime.submit(e) for e in events))
        if n >= warm:
            rounds.append(time.perf_counter() - started)
    await runtime.stop()
    engine.dispose()
    cpu = sum(c for c, _ in store.timings) / len(store.timings) * 1000
    wall = sum(w for _, w in store.timings) / len(store.timings) * 1000
    print(
        f"{len(store.timings)} commits of {size}: CPU {cpu:.2f} ms, wall {wall:.2f} ms per "
        f"commit; a round {sum(rounds) / len(rounds) * 1000:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a postgresql:// admin URL")
    parser.add_argument("--size", type=int, default=16, help="creations per batch")
    parser.add_argument("--warm", type=int, default=400)
    parser.add_argument("--batches", type=int, default=600)
    args = parser.parse_args()
    print(f"{api_load.machine()}; command: {' '.join(sys.argv)}")
    with api_load.fresh_database(args.db) as db:
        asyncio.run(measure(db, args.size, args.warm, args.batches))


if __name__ == "__main__":
    main()
