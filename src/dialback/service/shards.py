"""Shards (issue 17): one runtime per shard in a process, and each event routed to its shard.

- **Grouping.** A queue names its shard (``shard`` in its settings, default ``all``) when it is
  created and never changes it; an agent is put in a shard when it is registered (default
  ``all``) and can only join queues of that shard. So queues that share agents share a shard,
  and each shard's engine is a whole state machine: nothing of one shard waits for another.
- **Routing.** An event goes to the shard of what it names: a queue, an agent, an interaction
  (a callback or a call), a dial (its id starts with its callback's). Where each lives is read
  from the shards' engines (a leader's, or a follower's replica); a replica that has not yet
  seen something (written through another node a moment ago) is helped by the database's read
  models. Timers and the carrier's reports never come here: each runtime submits its own.
- **``DncUpdated``** is logged in every shard's log (each engine checks its dials against its
  own copy of the list, R-X-7); a change is idempotent, so a retry after a partial failure
  completes it.
- **R-X-14's lockouts** are shared: a shard whose engine locks a number out after an abandoned
  call (``NumberLockedOut``) has the lockout logged in every other shard's log
  (``LockoutsShared``) once its commit is done, retried while a shard is rebuilding or led by
  nobody. A share lost anyway (a crash between the commit and the share) is made good by the
  shards that lead here: each brings its engine up to the lockouts every engine here knows
  (leaders' and replicas') before its timers are armed when it starts or is taken over, and
  every ``LOCKOUT_CHECK_SECONDS`` after (``reconcile_lockouts``).
- **Reads** look across every shard's engine (``queries.py``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Callable, Coroutine
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from dialback.domain.effects import Effect
from dialback.domain.engine import Engine
from dialback.domain.errors import (
    AgentInOtherShard,
    QueueInOtherShard,
    ShardFixed,
    UnknownShard,
)
from dialback.domain.events import (
    AgentRegistered,
    CallAnsweredElsewhere,
    CallbackDisconnected,
    CallbackRequested,
    CallbackRequestedOnCall,
    CallbackRescheduled,
    CustomerHungUp,
    DialCompleted,
    DialRang,
    DncUpdated,
    Event,
    LockoutsShared,
    QueueConfigured,
    TimerFired,
    VoiceCallQueued,
)
from dialback.domain.records import NumberLockedOut
from dialback.domain.settings import DEFAULT_SHARD, check_shard, parse_queue
from dialback.service.runtime import Accepted, Runtime, ServiceUnavailable
from dialback.service.snapshots import SnapshotPolicy
from dialback.store import tables as t
from dialback.store.compliance import ComplianceReader
from dialback.store.repository import Idempotent, Store
from dialback.store.snapshots import SnapshotStore, add_shard, shard_names

log = logging.getLogger("dialback.shards")

ALL = DEFAULT_SHARD
DNC_CHUNK = 1000  # numbers per DncUpdated when a shard is brought up to the stored lists
LOCKOUT_CHUNK = 200  # lockouts per LockoutsShared (about 8 KB: fits any forwarded group)
LOCKOUT_CHECK_SECONDS = 10.0  # how often the shards led here are checked for missed lockouts
SHARE_PAUSES = (0.5, 1.0, 2.0, 4.0)  # between attempts at a share a shard refused (503)


def sibling(first: Runtime, shard: str) -> Runtime:
    """A runtime for ``shard`` made like ``first`` (same database, carrier, clock, snapshots)."""
    made = Runtime(
        Store(first.store.engine, shard),
        first.dialer_factory,
        clock=first.clock,
        pacing_tick_seconds=first.pacing_tick_seconds,
        batch_max=first.batch_max,
        retry_after_seconds=first.retry_after_seconds,
    )
    if first.snapshots is not None:
        policy = first.snapshots
        made.snapshots = SnapshotPolicy(
            SnapshotStore(first.store.engine, shard),
            every_events=policy.every_events,
            every_seconds=policy.every_seconds,
        )
    return made


class Shards:
    """The runtimes of this process, one per shard, behind one ``submit``.

    ``first`` is the default shard's runtime; ``make`` builds the runtime of another shard
    (``sibling`` by default). ``listeners`` hear every shard's commits. ``lagging``: some
    engines are followers' replicas, so where something lives may have to be read from the
    database (several nodes)."""

    def __init__(
        self,
        first: Runtime,
        make: Callable[[str], Runtime] | None = None,
        *,
        lagging: bool = False,
    ) -> None:
        assert first.shard == ALL, "the first runtime is the default shard's"
        self.first = first
        self.make = make or (lambda shard: sibling(first, shard))
        self.lagging = lagging
        self.runtimes: dict[str, Runtime] = {}
        self.listeners: list[Callable[[float, Event, list[Effect]], None]] = []
        self._started = False
        self._opening: dict[str, asyncio.Future[Runtime]] = {}
        self._sharing: set[asyncio.Task[None]] = set()
        self._keys: dict[tuple[str, str], asyncio.Future[Accepted]] = {}  # keyed requests
        self._check: asyncio.Task[None] | None = None
        self._add(first)

    # --- what the API and the pages use of a runtime ---------------------------------------------
    @property
    def store(self) -> Store:
        return self.first.store

    @property
    def clock(self) -> Callable[[], float]:
        return self.first.clock

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self.first.loop

    @property
    def recovering(self) -> bool:
        return any(r.recovering for r in self.runtimes.values())

    @property
    def replayed_events(self) -> int:
        return sum(r.replayed_events for r in self.runtimes.values())

    @property
    def secret(self) -> str:
        """The token nodes show each other when forwarding ("": not a node of a cluster)."""
        return str(getattr(self.first, "secret", ""))

    async def submit_here(
        self, event: Event, *, idempotent: Idempotent | None = None, shard: str = ALL
    ) -> Accepted:
        """An event another node forwarded: only this shard's leader takes it."""
        runtime = self.runtimes.get(shard)
        here = getattr(runtime, "submit_here", None)
        if here is None:
            raise ServiceUnavailable(f"this node does not lead shard {shard}")
        accepted: Accepted = await here(event, idempotent=idempotent)
        return accepted

    def spawn(self, coroutine: object) -> None:
        self.first.spawn(coroutine)

    def engines(self) -> list[Engine]:
        """Every shard's engine that is built (a leader's or a replica), the default first."""
        return [r.engine for r in self.runtimes.values() if hasattr(r, "engine")]

    def _relay(self, at: float, event: Event, effects: list[Effect]) -> None:
        for listener in list(self.listeners):
            listener(at, event, effects)

    def _prepare(self, runtime: Runtime) -> None:
        """Before the runtime starts: it tells this process's listeners of its commits, its
        lockouts go to the other shards, and it learns the others' state before its timers."""
        runtime.listeners.append(self._relay)
        runtime.listeners.append(functools.partial(self._locked_out, runtime.shard))
        runtime.before_timers = self._before_timers

    def _add(self, runtime: Runtime) -> None:
        self._prepare(runtime)
        self.runtimes[runtime.shard] = runtime

    # --- life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Build the engine of every shard named so far, then start them, the default first:
        each starts knowing what the others' engines know (R-X-14's lockouts) before its
        timers are armed."""
        named = await asyncio.to_thread(shard_names, self.store.engine)
        later = []
        for shard in named:
            if shard != ALL and shard not in self.runtimes:
                runtime = self.make(shard)
                self._prepare(runtime)
                later.append(runtime)
        for runtime in [self.first, *later]:
            await runtime.prepare()
        self.runtimes.update((runtime.shard, runtime) for runtime in later)
        await self.first.start()
        self._started = True
        for runtime in later:
            await runtime.start()
            log.info("shard %s started", runtime.shard)
        self._checking()

    def _checking(self) -> None:
        self._check = asyncio.get_running_loop().create_task(self._check_lockouts())

    async def stop(self) -> None:
        for task in [*self._sharing, *([self._check] if self._check else [])]:
            task.cancel()
        others = [r for r in self.runtimes.values() if r is not self.first]
        await asyncio.gather(*(r.stop() for r in others), return_exceptions=True)
        await self.first.stop()

    async def open(self, shard: str) -> Runtime:
        """The runtime of ``shard``, made, named in the database and started if it is new."""
        found = self.runtimes.get(shard)
        if found is not None:
            return found
        pending = self._opening.get(shard)
        if pending is None:
            pending = self._opening[shard] = asyncio.get_running_loop().create_future()
            try:
                await asyncio.to_thread(add_shard, self.store.engine, shard)
                runtime = self.make(shard)
                self._prepare(runtime)
                await runtime.start()
                self.runtimes[shard] = runtime
                log.info("shard %s opened", shard)
                pending.set_result(runtime)
            except BaseException as failure:
                pending.set_exception(failure)
                pending.exception()  # retrieved: the waiters below raise it
                raise
            finally:
                del self._opening[shard]
        return await asyncio.shield(pending)

    async def _before_timers(self, runtime: Runtime) -> None:
        """A shard's engine is built and its writer takes events; before its timers are armed
        (so before it can dial) it is brought up to the stored do-not-call lists (R-X-7) and to
        the lockouts the other engines here know (R-X-14)."""
        try:
            await self._sync_dnc(runtime)
            await self.reconcile_lockouts(only=[runtime])
        except Exception:  # the next check makes the lockouts good; a DNC change is retried
            log.exception("shard %s: catching up with the other shards failed", runtime.shard)

    async def _sync_dnc(self, runtime: Runtime) -> None:
        """R-X-7 in a shard that starts or is taken over: its engine's do-not-call lists are
        made the stored ones (the default shard's), by ``DncUpdated`` events in its own log. A
        new shard starts with the lists of the day, and one that missed a change (named on
        another node a moment before the change) gets it here."""
        if runtime is self.first or not hasattr(runtime, "engine"):
            return
        stored = await asyncio.to_thread(ComplianceReader(self.store.engine).dnc_numbers)
        have: dict[str, set[str]] = {}
        for number, lists in runtime.engine.guard.dnc.items():
            for list_id in lists:
                have.setdefault(list_id, set()).add(number)
        for list_id in sorted(stored.keys() | have.keys()):
            added = sorted(stored.get(list_id, set()) - have.get(list_id, set()))
            removed = sorted(have.get(list_id, set()) - stored.get(list_id, set()))
            for i in range(0, max(len(added), len(removed)), DNC_CHUNK):
                change = DncUpdated(
                    list_id,
                    tuple(added[i : i + DNC_CHUNK]),
                    tuple(removed[i : i + DNC_CHUNK]),
                )
                try:
                    await runtime.submit(change, wait=True)
                except ServiceUnavailable as failure:  # a cluster shard nobody leads yet
                    log.warning(
                        "shard %s: DNC list not brought up to date: %s", runtime.shard, failure
                    )
                    return

    # --- R-X-14 across shards ---------------------------------------------------------------------
    def _locked_out(self, shard: str, at: float, event: Event, effects: list[Effect]) -> None:
        """A commit of ``shard``: its new lockouts go to every other shard, in the background
        (the commit's requests are answered without waiting for the other shards)."""
        found = tuple((e.number, e.until) for e in effects if isinstance(e, NumberLockedOut))
        if not found or len(self.runtimes) < 2:
            return
        others = [r for name, r in list(self.runtimes.items()) if name != shard]
        self._background(self._share(found, others))

    def _background(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._sharing.add(task)
        task.add_done_callback(self._sharing.discard)

    async def _share(self, lockouts: tuple[tuple[str, float], ...], to: list[Runtime]) -> None:
        """Log ``lockouts`` in each of ``to``'s shards: queued while a shard is rebuilt, tried
        again while it cannot take events (a shard starting, or led by nobody for a moment);
        what is still not logged is left to the next check."""
        for runtime in to:
            for i in range(0, len(lockouts), LOCKOUT_CHUNK):
                event = LockoutsShared(lockouts[i : i + LOCKOUT_CHUNK])
                for pause in (*SHARE_PAUSES, None):
                    try:
                        await runtime.submit(event, wait=True)
                        break
                    except ServiceUnavailable as failure:
                        if pause is None:
                            log.warning(
                                "shard %s: lockouts not shared yet: %s", runtime.shard, failure
                            )
                            return
                        await asyncio.sleep(pause)  # a retry's pause, not a wait for a condition
                    except Exception as failure:
                        log.warning("shard %s: lockouts not shared: %r", runtime.shard, failure)
                        return

    def led_here(self) -> list[Runtime]:
        """The shards this process leads and that take events now (all that are started)."""
        return [r for r in list(self.runtimes.values()) if r.taking_events]

    async def reconcile_lockouts(self, only: list[Runtime] | None = None) -> None:
        """R-X-14: bring the engines of ``only`` (default: the shards led here) up to the latest
        lockouts any engine here knows, leaders' and replicas' alike. A share lost to a crash
        between a shard's commit and its shares is made good here."""
        now = self.clock()
        latest: dict[str, float] = {}
        for runtime in [*self.runtimes.values(), *(only or [])]:
            if hasattr(runtime, "engine"):
                for number, until in runtime.engine.guard.active_lockouts(now).items():
                    latest[number] = max(until, latest.get(number, 0.0))
        for runtime in self.led_here() if only is None else only:
            have = runtime.engine.guard.lockout_until
            missing = tuple(sorted((n, u) for n, u in latest.items() if have.get(n, 0.0) < u))
            if missing:
                await self._share(missing, [runtime])

    async def _check_lockouts(self) -> None:
        while True:
            await asyncio.sleep(LOCKOUT_CHECK_SECONDS)  # a period, not a wait for a condition
            try:
                await self.reconcile_lockouts()
            except Exception:
                log.exception("checking the shards' lockouts failed")

    # --- taking events --------------------------------------------------------------------------
    async def submit(
        self,
        event: Event,
        *,
        idempotent: Idempotent | None = None,
        wait: bool = False,
        shard: str | None = None,
    ) -> Accepted:
        """Submit ``event`` to its shard's runtime (``shard``: an agent's, at registration).
        Raises what ``Runtime.submit`` raises, and the grouping rule's refusals."""
        if isinstance(event, DncUpdated):
            return await self._everywhere(event, idempotent, wait)
        if idempotent is not None:
            return await self._keyed(event, idempotent, wait, shard)
        return await self._submit(event, None, wait, shard)

    async def _keyed(
        self, event: Event, idempotent: Idempotent, wait: bool, shard: str | None
    ) -> Accepted:
        """A request with an ``Idempotency-Key``: requests with the same key go one after the
        other here, so the second finds the first's stored answer even when its event goes to
        another shard (two shards committing the same new key at once would cost one of them
        its batch, and an engine rebuild)."""
        slot = idempotent.slot
        while (before := self._keys.get(slot)) is not None:
            await asyncio.wait([before])
        mine = asyncio.ensure_future(self._submit(event, idempotent, wait, shard))
        self._keys[slot] = mine

        def done(task: asyncio.Future[Accepted]) -> None:
            if self._keys.get(slot) is task:
                del self._keys[slot]
            if not task.cancelled():
                task.exception()  # retrieved: the request may have gone

        mine.add_done_callback(done)
        return await asyncio.shield(mine)  # a request that goes leaves its event to finish

    async def _submit(
        self, event: Event, idempotent: Idempotent | None, wait: bool, shard: str | None
    ) -> Accepted:
        target = await self.route(event, shard)
        runtime = self.runtimes.get(target)
        if runtime is None:
            if isinstance(event, QueueConfigured):
                self._first_queue_fits(event)
            runtime = await self.open(target)
            await self.opened(runtime)
        return await runtime.submit(event, idempotent=idempotent, wait=wait)

    def _first_queue_fits(self, event: QueueConfigured) -> None:
        """The first queue of a new shard, checked by an empty engine as the new shard's will
        (its settings are all it reads), before the shard is named: a refused creation names
        no shard."""
        Engine(rng=random.Random(0), zones=ZoneInfo).handle(event, self.clock())

    async def opened(self, runtime: Runtime) -> None:
        """After this process opened a shard for an event: nothing (it leads it at once)."""

    async def submit_quietly(self, event: Event) -> None:
        target = await self.route(event)
        runtime = self.runtimes.get(target) or await self.open(target)
        await runtime.submit_quietly(event)

    async def _everywhere(
        self, event: Event, idempotent: Idempotent | None, wait: bool
    ) -> Accepted:
        """The default shard first (it keeps the idempotency key), then every other one."""
        accepted = await self.first.submit(event, idempotent=idempotent, wait=wait)
        others = [r for r in list(self.runtimes.values()) if r is not self.first]
        answers = await asyncio.gather(
            *(r.submit(event, wait=wait) for r in others), return_exceptions=True
        )
        for answer in answers:
            if isinstance(answer, BaseException):
                raise answer
        return accepted

    async def check(self, event: Event, shard: str | None = None) -> str:
        """The shard ``event`` goes to, or the grouping rule's refusal (for all-or-nothing
        writes that check every event before submitting any)."""
        return await self.route(event, shard)

    # --- routing --------------------------------------------------------------------------------
    async def route(self, event: Event, shard: str | None = None) -> str:
        """The shard of ``event``. Raises ``AgentInOtherShard``, ``QueueInOtherShard``,
        ``ShardFixed`` or ``UnknownShard``; what it names and no shard knows goes to the
        default shard, whose engine refuses it as before."""
        if isinstance(event, AgentRegistered):
            return await self._registration(shard)
        if isinstance(event, QueueConfigured):
            existing = await self.queue_shard(event.queue_id)
            if existing is not None and existing != event.settings.shard:
                raise ShardFixed(
                    f"queue {event.queue_id} is in shard {existing!r}; its shard cannot change",
                    field="shard",
                )
            return event.settings.shard
        if isinstance(event, CallbackRequested | CallbackRequestedOnCall | VoiceCallQueued):
            queue_id = event.queue_id if isinstance(event, VoiceCallQueued) else None
            queue_id = queue_id or getattr(getattr(event, "request", None), "queue_id", None)
            target = (await self.queue_shard(str(queue_id))) or ALL
            if isinstance(event, CallbackRequestedOnCall):
                call = await self.interaction_shard(event.call_id)
                if call is not None and call != target:
                    raise QueueInOtherShard(
                        f"call {event.call_id} is in shard {call!r}, the queue in {target!r}",
                        field="queueId",
                    )
            request = getattr(event, "request", None)
            owner = getattr(request, "owner", None)
            await self._same_agent_shard(owner, target, "routingData.scoredAgents")
            return target
        if isinstance(event, CallbackRescheduled):
            target = (await self.interaction_shard(event.callback_id)) or ALL
            if event.queue_id is not None:
                moved = await self.queue_shard(event.queue_id)
                if moved is not None and moved != target:
                    raise QueueInOtherShard(
                        f"queue {event.queue_id} is in shard {moved!r}, the callback in {target!r}",
                        field="queueId",
                    )
            await self._same_agent_shard(event.owner, target, "agentId")
            return target
        agent_id = getattr(event, "agent_id", None)
        queue_id = getattr(event, "queue_id", None)
        if agent_id is not None and queue_id is not None:  # joining or leaving a queue
            agent = await self.agent_shard(agent_id)
            queue = await self.queue_shard(queue_id)
            if agent is not None and queue is not None and agent != queue:
                raise AgentInOtherShard(
                    f"agent {agent_id} is in shard {agent!r}, queue {queue_id} in {queue!r}",
                    field="id",
                )
            return agent or queue or ALL
        if agent_id is not None:
            return (await self.agent_shard(agent_id)) or ALL
        subject = _interaction_of(event)
        if subject is not None:
            return (await self.interaction_shard(subject)) or ALL
        if isinstance(event, TimerFired):
            key = event.key
            found = self._in_engines(lambda e: e.timer_at(key.kind, key.subject) is not None)
            return found or ALL
        return ALL

    async def _registration(self, shard: str | None) -> str:
        if shard is None or shard == ALL:
            return ALL
        check_shard(shard)
        if shard in self.runtimes:
            return shard
        named = await asyncio.to_thread(shard_names, self.store.engine)
        if shard not in named:
            raise UnknownShard(f"no queue is in shard {shard!r}", field="shard")
        return shard

    async def _same_agent_shard(self, agent_id: str | None, target: str, field: str) -> None:
        if agent_id is None:
            return
        found = await self.agent_shard(agent_id)
        if found is not None and found != target:
            raise AgentInOtherShard(
                f"agent {agent_id} is in shard {found!r}, not {target!r}", field=field
            )

    def _in_engines(self, look: Callable[[Engine], bool]) -> str | None:
        for shard, runtime in self.runtimes.items():
            if hasattr(runtime, "engine") and look(runtime.engine):
                return shard
        return None

    async def queue_shard(self, queue_id: str) -> str | None:
        found = self._in_engines(lambda e: queue_id in e.queues)
        if found is None and self.lagging:
            found = await asyncio.to_thread(_stored_queue_shard, self.store.engine, queue_id)
        return found

    async def agent_shard(self, agent_id: str) -> str | None:
        found = self._in_engines(lambda e: agent_id in e.agents)
        if found is None and self.lagging:
            found = await asyncio.to_thread(_stored_agent_shard, self.store.engine, agent_id)
        return found

    async def interaction_shard(self, interaction_id: str) -> str | None:
        found = self._in_engines(lambda e: interaction_id in e.interactions)
        if found is None and self.lagging:
            queue_id = await asyncio.to_thread(
                _stored_interaction_queue, self.store.engine, interaction_id
            )
            if queue_id is not None:
                found = await self.queue_shard(queue_id)
        return found


def _interaction_of(event: Event) -> str | None:
    """The interaction an event names without an agent (a dial's id starts with it)."""
    if isinstance(event, CallAnsweredElsewhere):
        return event.call_id
    if isinstance(event, CustomerHungUp):
        return event.interaction_id
    if isinstance(event, CallbackDisconnected):
        return event.callback_id
    if isinstance(event, DialRang | DialCompleted):
        return str(event.dial_id).rpartition("#")[0] or str(event.dial_id)
    return None


# --- where the read models say something lives (a replica may not have it yet) -------------------
def _stored_queue_shard(engine: sa.Engine, queue_id: str) -> str | None:
    q = t.queues
    with engine.connect() as c:
        settings: Any = c.execute(sa.select(q.c.settings).where(q.c.id == queue_id)).scalar()
    if settings is None:
        return None
    try:
        return parse_queue(settings).shard
    except Exception:  # a row this version cannot read: the default shard's engine decides
        return None


def _stored_agent_shard(engine: sa.Engine, agent_id: str) -> str | None:
    u = t.users
    with engine.connect() as c:
        found = c.execute(sa.select(u.c.shard).where(u.c.id == agent_id)).scalar()
    return None if found is None else str(found)


def _stored_interaction_queue(engine: sa.Engine, interaction_id: str) -> str | None:
    i = t.interactions
    with engine.connect() as c:
        found = c.execute(sa.select(i.c.queue_id).where(i.c.id == interaction_id)).scalar()
    return None if found is None else str(found)
