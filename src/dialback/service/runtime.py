"""The asyncio runtime: one writer feeds events to the engine, commits, then executes effects.

- **One writer.** Every event (API requests, timers, telephony reports) goes through one queue
  and one task, so the engine sees a single order. Agents belong to several queues, so the engine
  is one state machine; the writer batches what is waiting into one transaction.
- **Commit before effect.** A batch's events and read models are committed before any of its
  effects runs (a dial is placed only once the dial is on record). If the commit fails, the
  runtime stops taking events: the engine ran ahead of the database, and a restart rebuilds it.
- **Restart.** The engine is rebuilt by replaying the event log with the database's seed; timers
  are armed again (those due during the downtime fire at once); a dial the carrier no longer knows
  ends with outcome ``ERROR`` (retried only by the retry rule), never re-dialed blindly; a customer
  whose call the carrier no longer has is recorded as hung up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

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
from dialback.store.repository import Idempotent, Step, Store

__all__ = ["Accepted", "Idempotent", "Runtime", "ServiceUnavailable"]
from dialback.telephony.port import Dialer, Report

log = logging.getLogger("dialback.runtime")

Listener = Callable[[float, Event, list[Effect]], None]


class ServiceUnavailable(DialbackError):
    """The runtime cannot take events (it is stopping, or its database failed)."""

    code = "service_unavailable"


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
    failed: BaseException | None = None
    _queue: asyncio.Queue[_Item | None] = field(init=False)
    _writer: asyncio.Task[None] | None = None
    _timers: dict[TimerKey, asyncio.TimerHandle] = field(default_factory=dict)
    _tasks: set[asyncio.Task[object]] = field(default_factory=set)
    _last_now: float = 0.0
    loop: asyncio.AbstractEventLoop = field(init=False)
    _idempotent: dict[str, Idempotent] = field(default_factory=dict)

    # --- life cycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Rebuild the engine from the event log, start the writer, arm the timers again and
        settle what the carrier forgot during the downtime (see the module docstring)."""
        self.loop = asyncio.get_running_loop()
        seed = await asyncio.to_thread(self.store.seed)
        self.engine = Engine(
            rng=random.Random(seed),
            pacing_tick_seconds=self.pacing_tick_seconds,
            zones=ZoneInfo,  # issue 14: calling windows in the callee's zone (R-X-2)
        )
        self.replayed_events = await asyncio.to_thread(self._replay)
        self.dialer = self.dialer_factory(self.report)
        self._queue = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())
        for key, at in list(self.engine.timers.items()):
            self._arm(key, at)
        await self._reconcile()
        log.info("engine rebuilt from %d events", self.replayed_events)

    def _replay(self) -> int:
        count = 0
        for event, at in self.store.events():
            self.engine.handle(event, at)  # effects were executed when the event was new
            self._last_now = at
            count += 1
        return count

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
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self._writer is not None:
            await self._queue.put(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        for task in list(self._tasks):
            task.cancel()
        if hasattr(self, "dialer"):
            await self.dialer.close()

    # --- taking events --------------------------------------------------------------------------
    async def submit(self, event: Event, *, idempotent: Idempotent | None = None) -> Accepted:
        """Feed ``event`` to the engine; returns once it is committed and its effects started.
        Raises the engine's ``DialbackError`` (nothing changed) or ``ServiceUnavailable``."""
        if self.failed is not None or self._writer is None or self._writer.done():
            raise ServiceUnavailable("the runtime is not taking events")
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Item(event, future, idempotent))
        return await future

    async def report(self, event: DialRang | DialCompleted | CustomerHungUp | AgentHungUp) -> None:
        """Telephony's reports: a late one about a dial already settled changes nothing."""
        await self.submit_quietly(event)

    async def submit_quietly(self, event: Event) -> None:
        """Submit, logging (not raising) a refusal: for events of the outside world, which
        race (a customer hangs up as the agent does)."""
        try:
            await self.submit(event)
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
            await self._write(items)

    async def _write(self, items: list[_Item]) -> None:
        steps: list[Step] = []
        done: list[tuple[_Item, list[Effect]]] = []
        fresh: dict[str, Idempotent] = {}
        for item in items:
            key = item.idempotent.key if item.idempotent else None
            if key is not None:
                earlier = fresh.get(key) or self._idempotent.get(key)
                if earlier is None:
                    earlier = await asyncio.to_thread(self.store.idempotent, key)
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
                fresh[item.idempotent.key] = item.idempotent
        if not steps:
            return
        try:
            await asyncio.to_thread(self.store.commit, steps)
        except Exception as failure:
            # The engine has moved past the database: take no more events. A restart rebuilds
            # the engine from what was committed.
            log.exception("commit failed; the runtime stops taking events")
            self.failed = failure
            for item, _ in done:
                item.future.set_exception(ServiceUnavailable("the database write failed"))
            raise
        self._idempotent.update(fresh)
        for step, (item, effects) in zip(steps, done, strict=True):
            self._execute(effects)
            for listener in self.listeners:
                listener(step.at, step.event, effects)
            item.future.set_result(Accepted(effects))

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
                self.dialer.place(effect)
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
