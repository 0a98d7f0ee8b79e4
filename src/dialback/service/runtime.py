"""The asyncio runtime: one writer feeds events to the engine, commits, then executes effects.

- **One writer.** Every event (API requests, timers, telephony reports) goes through one queue
  and one task, so the engine sees a single order. Agents belong to several queues, so the engine
  is one state machine; the writer batches what is waiting into one transaction.
- **Commit before effect.** A batch's events and read models are committed before any of its
  effects runs (a dial is placed only once the dial is on record).
- **A failed commit stops nothing.** The engine ran ahead of the database, so the runtime
  rebuilds it from the log (answering new requests 503 with ``Retry-After`` meanwhile), then
  writes the batch's events again one at a time: the one the database refuses is answered with
  ``EventNotStored`` (or ``ServiceUnavailable`` when the database itself is down) and the others
  are committed as usual. No person has to restart anything (issue 12).
- **Restart.** The engine is rebuilt from the newest snapshot and the events logged after it (the
  whole log with the database's seed when there is none; ``snapshots.py``); timers
  are armed again (those due during the downtime fire at once); a dial the carrier no longer knows
  ends with outcome ``ERROR`` (retried only by the retry rule), never re-dialed blindly; a customer
  whose call the carrier no longer has is recorded as hung up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from dialback.domain.effects import (
    CancelCall,
    CancelTimer,
    ConnectToAgent,
    Effect,
    HangUpCustomer,
    PlaceCall,
    PlayInformationMessage,
    StartTimer,
    TransferToFlow,
)
from dialback.domain.engine import Engine
from dialback.domain.errors import DialbackError
from dialback.domain.events import (
    AgentHungUp,
    CallbackRequested,
    CallbackRequestedOnCall,
    CallbackRescheduled,
    CustomerHungUp,
    DialCompleted,
    DialRang,
    Event,
    TimerFired,
    TimerKey,
)
from dialback.domain.model import DialResult, InteractionId, MediaType, Outcome, State
from dialback.service.snapshots import SnapshotPolicy, dump, rebuild
from dialback.store.repository import Idempotent, Step, Store
from dialback.telephony.port import Dialer, Report

__all__ = ["Accepted", "EventNotStored", "Idempotent", "Runtime", "ServiceUnavailable"]

log = logging.getLogger("dialback.runtime")

Listener = Callable[[float, Event, list[Effect]], None]


class ServiceUnavailable(DialbackError):
    """The runtime cannot take events now (it is stopping, its database is down, or it is
    rebuilding its engine): try again after ``retry_after`` seconds."""

    code = "service_unavailable"

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class EventNotStored(DialbackError):
    """The database refused this one event while it took others (a value it cannot hold): the
    request changed nothing."""

    code = "event_not_stored"


@dataclass(frozen=True, slots=True)
class Accepted:
    """What ``submit`` returns: the effects, or the first answer to a retried request."""

    effects: list[Effect]
    replayed: Idempotent | None = None


@dataclass(slots=True)
class _Item:
    event: Event
    future: asyncio.Future[Accepted]
    idempotent: Idempotent | None = None
    wait: bool = False  # the outside world's report or a timer: kept through an outage


@dataclass
class Runtime:
    """The service's engine host: one writer, commit before effect, timers, restart.

    ``store`` is the database; ``dialer_factory`` builds the telephony adapter once the runtime
    can take its reports; ``clock`` gives wall time in seconds (the engine's ``now`` never goes
    back: a clock step backwards is clamped to the last time used); ``pacing_tick_seconds`` is
    R-CF-2's tick; ``batch_max`` bounds the events of one transaction; each of ``listeners`` is
    called with ``(at, event, effects)`` after its batch committed (metrics, live views).
    Only ``service/`` touches ``engine``: everything else reads through ``service.queries``.
    """

    store: Store
    dialer_factory: Callable[[Report], Dialer]
    clock: Callable[[], float] = time.time
    pacing_tick_seconds: float = 5.0
    batch_max: int = 256
    listeners: list[Listener] = field(default_factory=list)
    engine: Engine = field(init=False)
    dialer: Dialer = field(init=False)
    replayed_events: int = 0
    failed: BaseException | None = None  # the last commit failure, kept for the logs and health
    recovering: bool = False  # rebuilding the engine after a failed commit
    recoveries: int = 0
    retry_after_seconds: int = 2
    _queue: asyncio.Queue[_Item | None] = field(init=False)
    _in_hand: list[_Item] = field(init=False, default_factory=list)  # the batch being written
    _writer: asyncio.Task[None] | None = None
    _timers: dict[TimerKey, asyncio.TimerHandle] = field(default_factory=dict)
    _tasks: set[asyncio.Task[object]] = field(default_factory=set)
    _last_now: float = 0.0
    loop: asyncio.AbstractEventLoop = field(init=False)
    _idempotent: dict[tuple[str, str], Idempotent] = field(default_factory=dict)
    _stopping: bool = False
    # issue 17: snapshots to start from and take; whether a placed dial may go out now (a node
    # whose lease may have ended dials nothing, service/node.py)
    snapshots: SnapshotPolicy | None = None
    may_dial: Callable[[], bool] = field(default=lambda: True)
    # issue 17: run once the writer takes events and before the timers are armed (shards log
    # what other shards know here, service/shards.py); ``prepare`` built the engine already
    before_timers: Callable[[Runtime], Awaitable[None]] | None = None
    _prepared: bool = False

    @property
    def shard(self) -> str:
        """The shard whose log this runtime writes (issue 17; ``service/shards.py``)."""
        return self.store.shard

    # --- life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Rebuild the engine from the event log, start the writer, arm the timers again and
        settle what the carrier forgot during the downtime (see the module docstring)."""
        if not self._prepared:
            await self.prepare()
        self._prepared = False
        self.dialer = self.dialer_factory(self.report)
        self._queue = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        if self.before_timers is not None:
            await self.before_timers(self)
        for key, at in list(self.engine.timers.items()):
            self._arm(key, at)
        await self._reconcile()
        log.info("engine rebuilt from %d events", self.replayed_events)

    @property
    def taking_events(self) -> bool:
        """Whether this runtime's writer takes events now."""
        return self._writer is not None and not self._writer.done() and not self._stopping

    async def prepare(self) -> None:
        """Rebuild the engine from the log, and no more (``start`` then uses it): a process's
        shards are all built before any starts, so each starts knowing the others' state."""
        self.loop = asyncio.get_running_loop()
        self.engine, self.replayed_events, self._last_now = await asyncio.to_thread(self._replayed)
        self._prepared = True

    def _replayed(self) -> tuple[Engine, int, float]:
        """The engine as of the end of the committed log, from the newest snapshot and the
        events after it (issue 17): (engine, events replayed, time of the last one)."""
        rebuilt = rebuild(
            self.store,
            self.snapshots.store if self.snapshots else None,
            pacing_tick_seconds=self.pacing_tick_seconds,
        )
        return rebuilt.engine, rebuilt.replayed, max(self._last_now, rebuilt.last_now)

    async def _reconcile(self) -> None:
        """After a restart: settle what the carrier no longer knows."""
        for dial_id in list(self.engine.dials):
            if not self.dialer.knows_dial(dial_id):
                await self.submit_quietly(DialCompleted(dial_id, DialResult(Outcome.ERROR)))
        for interaction in list(self.engine.interactions.values()):
            live = interaction.on_call or (
                interaction.converted
                and interaction.media is MediaType.VOICE
                and interaction.state in (State.WAITING, State.ALERTING, State.CONNECTED)
            )
            if live and not self.dialer.has_customer(interaction.id):
                await self.submit_quietly(CustomerHungUp(interaction.id))

    async def stop(self) -> None:
        """Stop the timers, let the writer finish the batch in hand, end background tasks and
        close the dialer. Events submitted afterwards get ``ServiceUnavailable``."""
        self._stopping = True
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self._writer is not None:
            await self._queue.put(None)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer
            if self.failed is None and self.snapshots is not None and self.snapshots.pending():
                await self._snapshot()
        for task in list(self._tasks):
            task.cancel()
        if hasattr(self, "dialer"):
            await self.dialer.close()

    # --- taking events --------------------------------------------------------------------------
    async def submit(
        self, event: Event, *, idempotent: Idempotent | None = None, wait: bool = False
    ) -> Accepted:
        """Feed ``event`` to the engine; returns once it is committed and its effects started.
        Raises the engine's ``DialbackError`` (nothing changed), ``EventNotStored`` or
        ``ServiceUnavailable``. While the engine is rebuilt a request is refused at once, unless
        ``wait`` (the outside world's reports and timers, which must not be lost)."""
        if self._writer is None or self._writer.done():
            raise ServiceUnavailable("the runtime is not taking events")
        if self.recovering and not wait:
            raise ServiceUnavailable(
                "the engine is being rebuilt after a failed write",
                retry_after=self.retry_after_seconds,
            )
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Item(event, future, idempotent, wait))
        return await future

    async def report(self, event: DialRang | DialCompleted | CustomerHungUp | AgentHungUp) -> None:
        """Telephony's reports: a late one about a dial already settled changes nothing."""
        await self.submit_quietly(event)

    async def submit_quietly(self, event: Event) -> None:
        """Submit, logging (not raising) a refusal: for events of the outside world, which
        race (a customer hangs up as the agent does)."""
        try:
            await self.submit(event, wait=True)
        except ServiceUnavailable:
            log.warning("dropped %s: the runtime is not taking events", type(event).__name__)
        except DialbackError as refused:
            log.info("refused %s: %s", type(event).__name__, refused)

    # --- the writer -----------------------------------------------------------------------------
    async def _write_loop(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            items = [first]
            while len(items) < self.batch_max and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    self._queue.put_nowait(None)  # stop after this batch
                    break
                items.append(item)
            self._in_hand = items  # a node stepping down answers them (service/node.py)
            try:
                await self._write(items)
            except Exception:  # the writer never dies: answer what is pending, go on
                log.exception("writing a batch failed")
                for item in items:
                    if not item.future.done():
                        item.future.set_exception(ServiceUnavailable("the write failed"))
            live = len(self.engine.interactions)
            self._in_hand = []
            if self.snapshots is not None and self.snapshots.count(len(items), live):
                await self._snapshot()

    async def _snapshot(self) -> None:
        """Between batches (the engine holds exactly the committed log): write a snapshot. A
        failure costs only a longer replay at the next start."""
        assert self.snapshots is not None
        try:
            state = await asyncio.to_thread(dump, self.engine, self._last_now)
            await asyncio.to_thread(self.snapshots.write, state, self._last_now, self.store.guard)
        except Exception:
            log.exception("snapshot failed")

    async def _write(self, items: list[_Item]) -> None:
        steps, done, repeats = await self._handle(items)
        if not steps:
            return
        try:
            await asyncio.to_thread(self.store.commit, steps)
        except Exception as failure:
            log.exception(
                "a batch of %d events failed to commit; isolating the bad one", len(steps)
            )
            self.failed = failure
            await self._isolate([item for item, _ in done] + [item for item, _ in repeats])
            return
        self._finish(steps, done, repeats)

    async def _handle(
        self, items: list[_Item]
    ) -> tuple[list[Step], list[tuple[_Item, list[Effect]]], list[tuple[_Item, Idempotent]]]:
        """Feed the items to the engine: the steps to commit, the items they answer, and the
        items repeating a key first seen in this batch (answered once the batch is stored)."""
        steps: list[Step] = []
        done: list[tuple[_Item, list[Effect]]] = []
        repeats: list[tuple[_Item, Idempotent]] = []
        fresh: dict[tuple[str, str], Idempotent] = {}
        for item in items:
            slot = item.idempotent.slot if item.idempotent else None
            if slot is not None:
                if slot in fresh:
                    repeats.append((item, fresh[slot]))
                    continue
                earlier = self._idempotent.get(slot)
                if earlier is None:
                    try:
                        earlier = await asyncio.to_thread(self.store.idempotent, *slot)
                    except Exception:
                        log.exception("reading an idempotency key failed")
                        item.future.set_exception(
                            ServiceUnavailable(
                                "the database is not answering",
                                retry_after=self.retry_after_seconds,
                            )
                        )
                        continue
                if earlier is not None:
                    item.future.set_result(Accepted([], replayed=earlier))
                    continue
            now = max(self._last_now, self.clock())
            try:
                effects = self.engine.handle(item.event, now)
            except DialbackError as refused:
                item.future.set_exception(refused)
                continue
            self._last_now = now
            steps.append(
                Step(item.event, now, effects, self._requests(item.event), item.idempotent)
            )
            done.append((item, effects))
            if item.idempotent is not None:
                fresh[item.idempotent.slot] = item.idempotent
        return steps, done, repeats

    def _finish(
        self,
        steps: list[Step],
        done: list[tuple[_Item, list[Effect]]],
        repeats: list[tuple[_Item, Idempotent]],
    ) -> None:
        """After the commit: execute the effects and answer the requests."""
        for step, (item, effects) in zip(steps, done, strict=True):
            if step.idempotent is not None:
                self._idempotent[step.idempotent.slot] = step.idempotent
            self._execute(effects)
            for listener in self.listeners:
                listener(step.at, step.event, effects)
            item.future.set_result(Accepted(effects))
        for item, first in repeats:
            item.future.set_result(Accepted([], replayed=first))

    async def _isolate(self, items: list[_Item]) -> None:
        """After a failed commit: rebuild the engine from the log, then write the items one at
        a time, answering the one the database refuses (and rebuilding again after it)."""
        self.recovering = True
        self.recoveries += 1
        try:
            await self._rebuild(items)
            for item in items:
                if item.future.done():  # refused during an outage
                    continue
                if self._stopping:
                    item.future.set_exception(ServiceUnavailable("the runtime is stopping"))
                    continue
                steps, done, repeats = await self._handle([item])
                if not steps:
                    self._finish(steps, done, repeats)
                    continue
                try:
                    await asyncio.to_thread(self.store.commit, steps)
                except Exception as failure:
                    self.failed = failure
                    item.future.set_exception(await self._refusal(failure))
                    await self._rebuild(items)
                    continue
                self._finish(steps, done, repeats)
        finally:
            self.recovering = False

    async def _refusal(self, failure: Exception) -> DialbackError:
        """What to answer for an event the database refused alone: its own fault when the
        database still answers, else the database is down."""
        try:
            await asyncio.to_thread(self.store.ping)
        except Exception:
            return ServiceUnavailable(
                "the database is not answering", retry_after=self.retry_after_seconds
            )
        log.warning("the database refused one event: %s", failure)
        return EventNotStored("the database refused this request; nothing was changed")

    async def _rebuild(self, pending: list[_Item]) -> None:
        """A new engine from the committed log, retried (with growing pauses) until the
        database answers; the timers are armed again from it (those due fire at once). When
        the database does not answer, the ``pending`` requests are refused at once (503: none
        was stored) rather than kept waiting; reports and timers wait for the database."""
        for pause in _backoff():
            try:
                engine, count, last = await asyncio.to_thread(self._replayed)
                break
            except Exception:
                if self._stopping:
                    raise
                for item in pending:
                    if not item.wait and not item.future.done():
                        item.future.set_exception(
                            ServiceUnavailable(
                                "the database is not answering",
                                retry_after=self.retry_after_seconds,
                            )
                        )
                log.exception("rebuilding the engine failed; trying again in %.1f s", pause)
                await asyncio.sleep(pause)  # a retry pause, not a wait for a condition
        self.engine, self.replayed_events, self._last_now = engine, count, last
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        for key, at in list(self.engine.timers.items()):
            self._arm(key, at)
        log.info("engine rebuilt from %d events after a failed commit", count)

    def _requests(self, event: Event) -> dict[InteractionId, object]:
        """The stored request of a callback this event created or changed."""
        if isinstance(event, CallbackRequested | CallbackRequestedOnCall | CallbackRescheduled):
            interaction = self.engine.interactions.get(event.callback_id)
            if interaction is not None and interaction.request is not None:
                return {event.callback_id: interaction.request}
        return {}

    # --- effects --------------------------------------------------------------------------------
    def _execute(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, StartTimer):
                self._arm(effect.key, effect.at)
            elif isinstance(effect, CancelTimer):
                handle = self._timers.pop(effect.key, None)
                if handle is not None:
                    handle.cancel()
            elif isinstance(effect, PlaceCall):
                if self.may_dial():
                    self.dialer.place(effect)
                else:  # on record, never placed: the next owner ends it with ERROR (R-CF-9)
                    log.warning("dial %s not placed: this node's lease may be over", effect.dial_id)
            elif isinstance(effect, CancelCall):
                self.dialer.cancel(effect.dial_id)
            elif isinstance(effect, ConnectToAgent):
                self.dialer.connect(effect.interaction_id, effect.agent_id, effect.address)
            elif isinstance(effect, TransferToFlow):
                self.dialer.transfer_to_flow(effect.interaction_id, effect.flow_id)
            elif isinstance(effect, HangUpCustomer):
                self.dialer.hang_up(effect.interaction_id)
            elif isinstance(effect, PlayInformationMessage):  # issue 14: R-X-14
                self.dialer.play_message(effect.interaction_id, effect.audio)

    def _arm(self, key: TimerKey, at: float) -> None:
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        delay = max(0.0, at - self.clock())
        self._timers[key] = loop.call_later(delay, self._fire, key, at)

    def _fire(self, key: TimerKey, at: float) -> None:
        self._timers.pop(key, None)
        self.spawn(self.submit_quietly(TimerFired(key, at)))

    def spawn(self, coroutine: object) -> None:
        """Run a coroutine in the background, keeping a reference until it ends."""
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(coroutine)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _backoff() -> Iterator[float]:
    """Pauses between attempts to rebuild: 0.1 s doubling to 5 s, then every 5 s."""
    pause = 0.1
    while True:
        yield pause
        pause = min(pause * 2, 5.0)
