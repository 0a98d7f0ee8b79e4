"""One node of several on one PostgreSQL (issue 17): for each shard, lead it while holding its
lease, follow (and forward writes to its leader) otherwise; ``ClusterShards`` keeps this node
to its fair share of the shards.

- **Lease.** A heartbeat renews the shard's lease every ``ttl / 4`` seconds while leading and
  tries to take it every ``poll`` seconds while following (``store/leases.py``: the database's
  clock decides expiry; a new holder gets a new epoch).
- **Fencing.** Leading installs a ``Store.guard`` checking the epoch in every commit's own
  transaction: a node whose lease ended cannot commit, and the runtime executes effects (dials)
  only after a commit. The holder also treats its lease as ending ``margin`` seconds before the
  database does (``deadline``, measured from when the renewal was *sent*): past it, it places no
  dial, cancels the dials it has in flight and steps down, even if the database is unreachable
  and it cannot learn that its lease ended.
- **Taking over.** The engine is rebuilt *after* the lease is acquired, from the newest snapshot
  and the tail: every commit of an earlier epoch either finished before (and is in the log) or
  fails its guard. Then timers are armed again and dials in flight are reconciled as after any
  restart (unknown → ``ERROR``, never a blind redial).
- **Following.** A follower keeps a replica of the engine (snapshot, then the log's tail every
  ``poll`` seconds) for reads, and forwards every event to the leader (``forward.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dialback.domain.events import Event
from dialback.domain.limits import BODY_BYTES
from dialback.service.forward import Forwarder
from dialback.service.runtime import Accepted, Runtime, ServiceUnavailable
from dialback.service.shards import ALL, Shards
from dialback.service.snapshots import rebuild
from dialback.store.leases import LeaseLost, Leases, list_leases, list_nodes
from dialback.store.repository import Idempotent
from dialback.store.snapshots import SnapshotStore, shard_names

log = logging.getLogger("dialback.node")


# Lease renewals have threads of their own: with many shards, every shard's commits and reads
# share asyncio's default pool (a few threads), and a renewal queued behind them could miss
# its lease while the database is answering. Sixteen: a renewal stuck on a dead connection
# holds its thread up to the statement timeout (a lease), and a node may lead many shards.
LEASE_THREADS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="dialback-lease")


def _refuse(_: Connection) -> None:
    raise LeaseLost("this node does not lead the shard")


@dataclass
class NodeRuntime(Runtime):
    """A ``Runtime`` that runs only while its node holds the shard's lease."""

    leases: Leases | None = None
    url: str = ""
    ttl: float = 8.0
    margin: float = 2.0
    poll: float = 1.0
    on_lead: Callable[[NodeRuntime], Awaitable[None]] | None = None
    leading: bool = False
    epoch: int | None = None
    deadline: float = 0.0  # time.monotonic() past which this node may no longer hold the lease
    owner_url: str | None = None
    secret: str = ""
    terms: list[tuple[int, float]] = field(default_factory=list)  # (epoch, seconds to lead)
    _beat: asyncio.Task[None] | None = None
    _leading: asyncio.Task[None] | None = None
    _watchdog: asyncio.TimerHandle | None = None
    _position: int = 0
    _replica: bool = False  # whether engine + _position follow the log (not a past term's)
    _client: httpx.AsyncClient | None = None
    forward_bytes: int = BODY_BYTES // 2  # the largest group of forwarded events (forward.py)
    _forwarder: Forwarder | None = None
    _listeners: int = 0
    _following: asyncio.Lock = field(default_factory=asyncio.Lock)
    _next_pass: asyncio.Future[None] | None = None  # the catch-up not started yet, to join
    _passes: set[asyncio.Task[None]] = field(default_factory=set)
    # several shards (issue 17): this node's share of them, and since when no node leads this one
    shares: ClusterShards | None = None
    free_since: float | None = None

    def __post_init__(self) -> None:
        self.may_dial = self._may_dial

    @property
    def node_id(self) -> str:
        assert self.leases is not None
        return self.leases.node_id

    def _may_dial(self) -> bool:
        return self.leading and time.monotonic() < self.deadline

    # --- life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        assert self.leases is not None
        self.loop = asyncio.get_running_loop()
        self.store.guard = _refuse
        self.secret = await asyncio.to_thread(self.leases.cluster_secret)
        for _ in range(3):  # nodes starting together on a new database race to choose the seed
            try:
                await asyncio.to_thread(self.store.seed)
                break
            except sa.exc.IntegrityError:
                continue
        async with self._following:
            await self._follow()
        self._client = httpx.AsyncClient(timeout=10)
        self._forwarder = Forwarder(self._client, batch_bytes=self.forward_bytes)
        self._beat = self.loop.create_task(self._heartbeat())

    async def stop(self) -> None:
        """A clean stop: drain and snapshot as a single node does, then hand the lease back."""
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
        if self._leading is not None and not self._leading.done():
            self._leading.cancel()
        epoch, was_leading = self.epoch, self.leading
        if was_leading:
            try:  # drain, snapshot; bounded: a database that does not answer cannot be waited for
                await asyncio.wait_for(Runtime.stop(self), timeout=self.ttl)
            except TimeoutError:
                log.error("stop did not finish within the lease: fencing")
                self._fence()
            self.leading = False
        assert self.leases is not None
        leases = self.leases
        with contextlib.suppress(Exception):
            if was_leading and epoch is not None:
                await asyncio.wait_for(
                    asyncio.to_thread(leases.release, self.shard, epoch), timeout=self.ttl / 4
                )
            await asyncio.wait_for(asyncio.to_thread(leases.unregister), timeout=self.ttl / 4)
        if self._forwarder is not None:
            await self._forwarder.close()
        if self._client is not None:
            await self._client.aclose()

    # --- the heartbeat --------------------------------------------------------------------------
    async def _heartbeat(self) -> None:
        while True:
            try:
                await self._beat_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("heartbeat failed")
            await asyncio.sleep(self.ttl / 4 if self.leading else self.poll)

    async def _beat_once(self) -> None:
        assert self.leases is not None
        leases = self.leases
        if self.leading and self.failed is not None:
            log.warning("the runtime failed (%s): stepping down", self.failed)
            await self._step_down()  # and take the shard again below, with a new epoch
        if self.leading and self.shares is not None and self.shares.hand_back(self):
            await self._hand_back()
            return
        if not self.leading and self.shares is not None and not self.shares.may_take(self):
            await self._refresh()  # this node leads its share: follow
            return
        held = self.epoch if self.leading else None
        sent = time.monotonic()

        def renew() -> int | None:
            leases.register(self.url)
            return leases.acquire(self.shard, held)

        taking = self.shares.taking if self.shares is not None and not self.leading else set()
        taking.add(self.shard)  # counted in this node's share while it tries
        try:
            renewal = self.loop.run_in_executor(LEASE_THREADS, renew)
            epoch = await asyncio.wait_for(renewal, timeout=self.ttl / 4)
        except (TimeoutError, Exception) as failure:
            log.warning("lease renewal failed: %s", failure)  # the watchdog fences at deadline
            return
        finally:
            taking.discard(self.shard)
        if epoch is None:
            if self.leading:
                log.warning("shard %s was taken over: stepping down", self.shard)
                await self._step_down()
            await self._refresh()
            return
        if self.leading and epoch == self.epoch:
            self._extend(sent)
            return
        if self.leading:
            await self._step_down()
        assert self.leases is not None
        log.info("node %s leads shard %s (epoch %d)", self.node_id, self.shard, epoch)
        self.store.guard = self.leases.guard(self.shard, epoch)
        self.leading, self.epoch, self.owner_url = True, epoch, self.url
        self._replica = False
        self._extend(sent)
        self._leading = self.loop.create_task(self._lead(epoch, sent))

    def _extend(self, sent: float) -> None:
        """The lease runs ``ttl`` from when the database granted it, which is after ``sent``."""
        self.deadline = sent + self.ttl - self.margin
        self._arm_watchdog()

    def _arm_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        left = self.deadline - time.monotonic()
        self._watchdog = self.loop.call_at(self.loop.time() + max(0.0, left), self._expired)

    def _expired(self) -> None:
        if not self.leading:
            return
        if time.monotonic() < self.deadline:  # the loop may run a timer a hair early
            self._arm_watchdog()
            return
        log.error("lease of shard %s not renewed in time: fencing this node", self.shard)
        self._fence()
        self.loop.create_task(self._step_down())

    # --- leading --------------------------------------------------------------------------------
    async def _lead(self, epoch: int, since: float) -> None:
        self._listeners = len(self.listeners)
        self._stopping = False  # after a hand-back, this node may lead the shard again
        try:
            await Runtime.start(self)  # rebuilt after the lease: includes every earlier commit
            if self.on_lead is not None:
                await self.on_lead(self)
        except Exception:
            log.exception("taking the lead failed")
            self.failed = self.failed or RuntimeError("start failed")
            return
        self.terms.append((epoch, time.monotonic() - since))
        log.info("node %s took shard %s in %.2f s", self.node_id, self.shard, self.terms[-1][1])

    async def _hand_back(self) -> None:
        """This node leads more than its share: stop dialing (the dials ringing are cancelled and
        end with ``ERROR`` at the next leader, as after a kill), drain and snapshot as at a
        clean stop, give the lease back and follow."""
        assert self.leases is not None
        epoch = self.epoch
        log.info("node %s hands shard %s back (more than its share)", self.node_id, self.shard)
        self._fence()
        try:
            await asyncio.wait_for(Runtime.stop(self), timeout=self.ttl / 2)
        except (TimeoutError, Exception) as failure:
            log.warning("handing shard %s back did not drain: %r", self.shard, failure)
        await self._step_down()
        if epoch is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.leases.release, self.shard, epoch)

    def _fence(self) -> None:
        """At once: no dial from now on, and none left ringing (R-CF-9)."""
        self.may_dial = lambda: False
        dialer = getattr(self, "dialer", None)
        if dialer is not None and hasattr(self, "engine"):
            for dial_id in list(self.engine.dials):
                dialer.cancel(dial_id)
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()

    async def _step_down(self) -> None:
        if not self.leading:
            return
        log.warning("node %s steps down from shard %s: no more dials", self.node_id, self.shard)
        self._fence()
        self.leading = False
        self.epoch = None
        self.store.guard = _refuse
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._leading is not None and not self._leading.done():
            self._leading.cancel()
        if self._writer is not None:
            self._writer.cancel()  # a commit stuck on a dead connection is not waited for
        self._fail_waiting()  # the batch in hand and the queued events: 503, retry
        for task in list(self._tasks):
            task.cancel()
        if hasattr(self, "dialer"):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.dialer.close(), timeout=5)
        del self.listeners[self._listeners :]
        self._writer, self.failed = None, None
        self._tasks, self._idempotent = set(), {}
        self.may_dial = self._may_dial
        self._replica = False
        try:
            async with self._following:
                await self._follow()
        except Exception as failure:  # the database is away: the next heartbeat tries again
            log.warning("cannot rebuild the replica: %s", failure)

    def _fail_waiting(self) -> None:
        """Answer the events of the abandoned batch (its commit's outcome unknown: a retry
        with the same ``Idempotency-Key`` tells) and those still queued."""
        abandoned = list(self._in_hand)
        self._in_hand = []
        while hasattr(self, "_queue") and not self._queue.empty():
            queued = self._queue.get_nowait()
            if queued is not None:  # (the writer that would stop there is gone)
                abandoned.append(queued)
        for item in abandoned:
            if not item.future.done():
                item.future.set_exception(ServiceUnavailable("this node stepped down; retry"))

    # --- following ------------------------------------------------------------------------------
    async def _follow(self) -> None:
        """A replica of the engine for reads: the newest snapshot and the log after it."""
        rebuilt = await asyncio.to_thread(
            rebuild,
            self.store,
            self.snapshots.store if self.snapshots else None,
            pacing_tick_seconds=self.pacing_tick_seconds,
        )
        self.engine, self._last_now = rebuilt.engine, rebuilt.last_now
        self._position, self._replica = rebuilt.position, True
        self.replayed_events = rebuilt.replayed

    async def _refresh(self) -> None:
        """Learn where the leader answers, and follow the log's tail."""
        leases = await asyncio.to_thread(list_leases, self.store.engine)
        self.owner_url = next(
            (r.url for r in leases if r.shard == self.shard and r.seconds_left > 0), None
        )
        if self.owner_url is not None:
            self.free_since = None
        elif self.free_since is None:
            self.free_since = time.monotonic()
        await self._catch_up()

    async def _catch_up(self) -> None:
        """Apply the events logged after the replica's position (one caller at a time)."""
        async with self._following:
            await self._catch_up_held()

    async def _catch_up_held(self) -> None:
        if self.leading:
            return
        if not self._replica:
            await self._follow()
            return
        source = SnapshotStore(self.store.engine, self.shard)
        tail = await asyncio.to_thread(lambda: list(source.events_after(self._position)))
        if tail and tail[0][0] != self._position + 1:  # a gap: a failed commit, or pruning
            pruned = await asyncio.to_thread(source.pruned_through)
            if pruned > self._position:  # events this replica never saw are gone
                await self._follow()
                return
        for seq, event, at in tail:
            if self.leading:
                return
            self.engine.handle(event, at)
            self._last_now, self._position = at, seq

    # --- events ---------------------------------------------------------------------------------
    async def submit(
        self, event: Event, *, idempotent: Idempotent | None = None, wait: bool = False
    ) -> Accepted:
        """Submit here while leading, else at the leader (``wait`` as in ``Runtime.submit``)."""
        if self.leading:
            return await self.submit_here(event, idempotent=idempotent, wait=wait)
        if self.owner_url is None or self.owner_url == self.url:
            await self._refresh()
        if self.owner_url is None or self.owner_url == self.url or self._forwarder is None:
            raise ServiceUnavailable("no node leads the shard at the moment; retry")
        forwarder = self._forwarder
        accepted = await forwarder.forward(
            self.owner_url, self.secret, event, idempotent, self.shard
        )
        with contextlib.suppress(Exception):  # read your writes here (the leader has them)
            await self._read_your_writes()
        return accepted

    async def _read_your_writes(self) -> None:
        """Catch the replica up in a pass that starts after this call. Forwarded writes that
        come back while one pass runs share the next one: a busy follower reads the log's tail
        once for many writes instead of once each, one after the other."""
        pending = self._next_pass
        if pending is None:
            pending = self._next_pass = self.loop.create_future()
            task = self.loop.create_task(self._pass(pending))
            self._passes.add(task)
            task.add_done_callback(self._passes.discard)
        await asyncio.shield(pending)

    async def _pass(self, pending: asyncio.Future[None]) -> None:
        try:
            async with self._following:
                self._next_pass = None  # started: later writes need a later pass
                await self._catch_up_held()
        except Exception as failure:
            self._next_pass = None if self._next_pass is pending else self._next_pass
            if not pending.done():
                pending.set_exception(failure)
                pending.exception()  # retrieved here: a caller may have given up waiting
            return
        if not pending.done():
            pending.set_result(None)

    async def submit_here(
        self, event: Event, *, idempotent: Idempotent | None = None, wait: bool = False
    ) -> Accepted:
        """A forwarded event: only the leader takes it (no forwarding loops)."""
        if not self.leading:
            raise ServiceUnavailable("this node does not lead the shard")
        # a step-down answers the events it abandons (``_fail_waiting``) with a 503
        return await Runtime.submit(self, event, idempotent=idempotent, wait=wait)

    def status(self) -> dict[str, Any]:
        """What this node knows of itself, for ``/api/v2/dialback/cluster``."""
        return {
            "nodeId": self.node_id,
            "shard": self.shard,
            "url": self.url,
            "leading": self.leading,
            "epoch": self.epoch,
            "leaderUrl": self.owner_url,
            "terms": [{"epoch": e, "seconds": round(s, 3)} for e, s in self.terms],
        }


def cluster(shards: Shards) -> dict[str, Any]:
    """Nodes, shards and leases as the database sees them, and this node's view of each of its
    shards (``self``: the default shard's, ``selfShards``: every shard's)."""
    engine = shards.store.engine
    if engine.dialect.name != "postgresql":
        return {
            "mode": "single",
            "nodes": [],
            "shards": [{"shard": s, "leaseholder": None} for s in shards.runtimes],
        }
    mine = [r.status() for r in shards.runtimes.values() if isinstance(r, NodeRuntime)]
    leases, named = list_leases(engine), shard_names(engine)
    leased = {r.shard for r in leases}
    return {
        "mode": "cluster",
        "self": mine[0] if mine else None,
        "selfShards": mine,
        "nodes": [
            {
                "nodeId": n.node_id,
                "url": n.url,
                "startedAt": n.started_at.isoformat(),
                "secondsSinceSeen": round(n.seconds_since_seen, 3),
            }
            for n in list_nodes(engine)
        ],
        "shards": [
            {
                "shard": r.shard,
                "leaseholder": r.node_id if r.seconds_left > 0 else None,
                "epoch": r.epoch,
                "expiresAt": r.expires_at.isoformat(),
                "acquiredAt": r.acquired_at.isoformat() if r.acquired_at else None,
                "secondsLeft": round(r.seconds_left, 3),
                "url": r.url,
            }
            for r in leases
        ]
        + [{"shard": s, "leaseholder": None} for s in named if s not in leased],
    }


def node_engine(url: str, ttl: float) -> Any:
    """A PostgreSQL engine whose connections fail within a fraction of the lease instead of
    hanging on a dead network (keepalives, ``tcp_user_timeout``, ``statement_timeout``): a node
    cut off from the database must learn it while its lease is still running."""
    from dialback.store.db import database_url

    quarter = max(1, int(ttl / 4))
    return sa.create_engine(
        database_url(url),
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": quarter,
            "keepalives": 1,
            "keepalives_idle": 1,
            "keepalives_interval": 1,
            "keepalives_count": 2,
            "tcp_user_timeout": int(ttl * 250),
            "options": f"-c statement_timeout={int(ttl * 1000)}",
        },
    )


class ClusterShards(Shards):
    """The shards of one node of several (issue 17): each shard's ``NodeRuntime`` leads it while
    holding its lease, or follows. A node takes a free or expired shard only while it leads
    fewer than its fair share, ``ceil(shards / live nodes)`` (live: seen within half a lease),
    or when the shard has had no leader for a whole lease; a node leading more than its share
    hands one shard back (a node joined). Every ``poll`` seconds it opens the shards other nodes
    named and counts the live nodes."""

    def __init__(self, first: NodeRuntime, make: Callable[[str], NodeRuntime]) -> None:
        self.fair = 1  # until the first count of the live nodes
        self.taking: set[str] = set()  # shards this node is trying to take just now
        self._over_since: float | None = None
        self._watch: asyncio.Task[None] | None = None
        super().__init__(first, make, lagging=True)
        self.node = first

    def _prepare(self, runtime: Runtime) -> None:
        if isinstance(runtime, NodeRuntime):
            runtime.shares = self
        super()._prepare(runtime)

    def leading(self) -> list[NodeRuntime]:
        return [r for r in self.runtimes.values() if isinstance(r, NodeRuntime) and r.leading]

    def may_take(self, runtime: NodeRuntime) -> bool:
        if len(self.leading()) + len(self.taking - {runtime.shard}) < self.fair:
            return True
        free = runtime.free_since
        return free is not None and time.monotonic() - free > runtime.ttl

    def hand_back(self, runtime: NodeRuntime) -> bool:
        """Whether ``runtime`` should give its shard back now: this node has led more than its
        share for two polls, and it is the shard chosen (not the default one if another)."""
        leading = self.leading()
        if len(leading) <= self.fair:
            self._over_since = None
            return False
        now = time.monotonic()
        if self._over_since is None:
            self._over_since = now
        chosen = max(leading, key=lambda r: (r.shard != ALL, r.shard))
        return chosen is runtime and now - self._over_since >= 2 * runtime.poll

    def led_here(self) -> list[Runtime]:
        return [r for r in self.leading() if r.taking_events]

    async def start(self) -> None:
        """Follow every shard named so far, then try to take this node's share (a shard's
        engine is caught up with the others' before its timers, when this node takes it)."""
        await self._count()
        await self.first.start()
        self._started = True
        self._checking()
        self._watch = asyncio.get_running_loop().create_task(self._watching())

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await super().stop()

    async def _count(self) -> None:
        node = self.node
        assert node.leases is not None
        leases = node.leases

        def count() -> tuple[int, list[str]]:
            leases.register(node.url)
            live = [n for n in list_nodes(leases.engine) if n.seconds_since_seen < node.ttl / 2]
            return len(live), shard_names(leases.engine)

        live, named = await asyncio.to_thread(count)
        self.fair = max(1, math.ceil(len(named) / max(1, live)))
        for shard in named:
            if shard not in self.runtimes:
                await self.open(shard)

    async def _watching(self) -> None:
        while True:
            await asyncio.sleep(self.node.poll)
            try:
                await self._count()
            except Exception:
                log.exception("counting the nodes and shards failed")

    async def opened(self, runtime: Runtime) -> None:
        """A shard this request named first: wait (at most two leases) for a node to lead it."""
        if not isinstance(runtime, NodeRuntime):
            return
        deadline = time.monotonic() + 2 * runtime.ttl
        while runtime.owner_url is None and time.monotonic() < deadline:
            await asyncio.sleep(runtime.poll / 4)  # polls a condition, bounded by the deadline
            with contextlib.suppress(Exception):
                await runtime._refresh()
