"""Estimated wait times for the API (issue 18): the forward simulation of ``sim/ewt.py`` on a
snapshot of the live queue, cached per queue and refreshed in the background.

A request gets the cached forecast while it is younger than ``fresh_seconds``; an older one
(up to ``stale_seconds``) is still served while a refresh runs in the background; past that, or
with none, the request waits for one. The snapshot is copied on the event loop (the engine
changes only there); the runs themselves happen in a worker thread, bounded by ``budget_ms``.
The simple formulas are computed on every request from the same snapshot and history.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from dialback.domain.ewt import Formula, QueueSnapshot, simple_estimates
from dialback.domain.history import History
from dialback.domain.model import InteractionId, QueueId
from dialback.service.queries import Queries
from dialback.sim.ewt import HORIZON, NEW_CALLBACK, NEW_CALLER, Forecast, Spread, forecast

HORIZON_SECONDS = HORIZON
"""How far a forecast looks ahead: a wait of this length means no run saw an answer before."""


@dataclass(frozen=True, slots=True)
class Estimate:
    """One answer: ``best`` from the forward simulation (None when no run saw it answered),
    the simple formulas, the forecast's time and run count."""

    best: Spread | None
    simple: dict[Formula, float | None]
    at: float
    runs: int
    dial: Spread | None = None  # a new callback's first dial


@dataclass
class _Cached:
    forecast: Forecast
    snap: QueueSnapshot
    history: History
    made: float


@dataclass
class WaitEstimates:
    """EWT per queue, cached. ``clock`` is the wall clock (seconds); ``runs`` and ``budget_ms``
    bound each forecast; ``seed`` makes answers reproducible for one snapshot."""

    queries: Queries
    clock: Callable[[], float] = time.time
    spawn: Callable[[Coroutine[Any, Any, None]], None] | None = None  # the runtime's, ideally
    runs: int = 64
    budget_ms: float = 250.0
    seed: int = 18
    fresh_seconds: float = 5.0
    stale_seconds: float = 60.0
    history_seconds: float = 60.0  # how long a fitted history is reused (it reads the store)
    _cache: dict[tuple[QueueId, InteractionId], _Cached] = field(default_factory=dict)
    _refreshing: set[tuple[QueueId, InteractionId]] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _histories: dict[QueueId, tuple[float, History]] = field(default_factory=dict)

    def _history(self, queue_id: QueueId, now: float) -> History:
        made = self._histories.get(queue_id)
        if made is None or now - made[0] > self.history_seconds:
            made = (now, self.queries.queue_history(queue_id, now))
            self._histories[queue_id] = made
        return made[1]

    async def _compute(self, queue_id: QueueId, phantom: InteractionId) -> _Cached:
        now = self.clock()
        snap = self.queries.ewt_snapshot(queue_id)
        history = self._history(queue_id, now)
        found = await asyncio.to_thread(
            forecast,
            snap,
            history,
            phantom=phantom,
            runs=self.runs,
            seed=self.seed,
            budget_ms=self.budget_ms,
        )
        cached = _Cached(found, snap, history, now)
        self._cache[(queue_id, phantom)] = cached
        return cached

    async def _refresh(self, key: tuple[QueueId, InteractionId]) -> None:
        try:
            await self._compute(*key)
        finally:
            self._refreshing.discard(key)

    async def _forecast(self, queue_id: QueueId, phantom: InteractionId) -> _Cached:
        self.queries.queue_settings(queue_id)  # UnknownQueue before anything else
        key = (queue_id, phantom)
        cached = self._cache.get(key)
        age = self.clock() - cached.made if cached else None
        if cached is None or age is None or age > self.stale_seconds:
            return await self._compute(queue_id, phantom)
        if age > self.fresh_seconds:
            self._start_refresh(key)
        return cached

    def _start_refresh(self, key: tuple[QueueId, InteractionId]) -> None:
        """A forecast for ``key`` in the background, unless one is already running."""
        if key in self._refreshing:
            return
        self._refreshing.add(key)
        if self.spawn is not None:
            self.spawn(self._refresh(key))  # ended with the runtime
        else:
            task = asyncio.get_running_loop().create_task(self._refresh(key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def cached_new_caller(self, queue_id: QueueId, fresh_seconds: float) -> Estimate | None:
        """A new caller's estimate as cached, at once: never waits for runs (the dashboard's
        read, issue 18 item 5). Starts a background forecast when the cached one is missing or
        older than ``fresh_seconds``; None while there is none, or only one older than
        ``stale_seconds``. Must be called on the event loop."""
        key = (queue_id, NEW_CALLER)
        cached = self._cache.get(key)
        age = None if cached is None else self.clock() - cached.made
        if age is None or age > fresh_seconds:
            self._start_refresh(key)
        if cached is None or age is None or age > self.stale_seconds:
            return None
        return Estimate(
            cached.forecast.waits.get(NEW_CALLER),
            simple_estimates(cached.snap, cached.history),
            cached.made,
            cached.forecast.runs,
        )

    async def new_caller(self, queue_id: QueueId) -> Estimate:
        """A caller entering the queue now."""
        cached = await self._forecast(queue_id, NEW_CALLER)
        return Estimate(
            cached.forecast.waits.get(NEW_CALLER),
            simple_estimates(cached.snap, cached.history),
            cached.made,
            cached.forecast.runs,
        )

    async def waiting(self, queue_id: QueueId, interaction_id: InteractionId) -> Estimate:
        """An interaction waiting in the queue: the rest of its wait, from the forecast's time.
        One no longer waiting gets 0 from every formula."""
        cached = await self._forecast(queue_id, NEW_CALLER)
        if cached.snap.position(interaction_id) is None:
            cached = await self._compute(queue_id, NEW_CALLER)  # it may have arrived since
        spread = cached.forecast.waits.get(interaction_id)
        if cached.snap.position(interaction_id) is None:
            spread = Spread(0.0, 0.0, 0.0, 1.0, 0)
        return Estimate(
            spread,
            simple_estimates(cached.snap, cached.history, interaction_id),
            cached.made,
            cached.forecast.runs,
        )

    async def new_callback(self, queue_id: QueueId) -> Estimate:
        """A callback requested now: when it reaches an agent (``best``) and its first dial."""
        cached = await self._forecast(queue_id, NEW_CALLBACK)
        return Estimate(
            cached.forecast.agent,
            simple_estimates(cached.snap, cached.history),
            cached.made,
            cached.forecast.runs,
            cached.forecast.dial,
        )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
