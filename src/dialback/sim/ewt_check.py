"""How right the estimated wait time is, in the simulator (issue 18).

A workload runs as usual; at every arrival after the warm-up (a caller entering the queue, a
callback made from a waiting caller) the queue is snapshotted and each estimator predicts that
interaction's wait: the forward simulation (``BEST``: its median and 80% interval), ``SIMPLE``
and ``ABANDON``, with the history refitted from the run's own timeline every ``refit_seconds``.
The actual wait is the time until an agent was offered it. Callers who abandoned have no actual
wait (they are counted, not scored); callers who found an idle agent have nothing to predict
and are left out, so coverage is not inflated by trivial zero-width intervals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from dialback.domain.effects import Effect, OfferToAgent, PlaceCall
from dialback.domain.events import CallbackRequestedOnCall, Event, VoiceCallQueued
from dialback.domain.ewt import Formula, simple_estimates, snapshot
from dialback.domain.history import History, fit_history
from dialback.domain.metrics import observations
from dialback.domain.model import InteractionId, QueueId, State
from dialback.sim.ewt import Spread, forecast
from dialback.sim.model import Simulation
from dialback.sim.workload import Workload


@dataclass
class Prediction:
    """One arrival's predictions (seconds from ``at``) and, once known, what happened."""

    id: InteractionId
    kind: str  # "call" or "callback"
    at: float
    best: Spread | None
    simple: float | None
    abandon: float | None
    dial: Spread | None = None
    actual: float | None = None
    actual_dial: float | None = None


@dataclass
class Checker:
    """Listens to a ``Simulation``'s driver (made with ``timeline=True, listen=True``) and
    predicts at each arrival."""

    sim: Simulation
    runs: int = 40
    seed: int = 0
    refit_seconds: float = 600.0
    predictions: dict[InteractionId, Prediction] = field(default_factory=dict)
    offered: dict[InteractionId, float] = field(default_factory=dict)
    dialed: dict[InteractionId, float] = field(default_factory=dict)
    seconds: float = 0.0  # wall time spent in forecasts
    cpu_seconds: float = 0.0  # CPU time of this process in them (steadier on a shared machine)
    estimates: int = 0
    run_count: int = 0
    _history: dict[QueueId, tuple[float, History]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sim.timeline is None or not self.sim.driver.listen:
            raise ValueError("the checker needs Simulation(..., timeline=True, listen=True)")
        self.sim.driver.listeners.append(self.react)

    def history(self, queue_id: QueueId, now: float) -> History:
        made = self._history.get(queue_id)
        if made is None or now - made[0] >= self.refit_seconds:
            assert self.sim.timeline is not None
            conversations = list(self.sim.timeline.conversations.values())
            found = [o for c in conversations for o in observations(c, {})]
            made = (now, fit_history(found, conversations, queue_id, now=now))
            self._history[queue_id] = made
        return made[1]

    def react(self, now: float, event: Event, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, OfferToAgent):
                self.offered.setdefault(effect.interaction_id, now)
            elif isinstance(effect, PlaceCall):
                self.dialed.setdefault(effect.interaction_id, now)
        if now < self.sim.warm:
            return
        if isinstance(event, VoiceCallQueued):
            self._predict(event.call_id, event.queue_id, "call", now)
        elif isinstance(event, CallbackRequestedOnCall):
            live = self.sim.engine.interactions.get(event.callback_id)
            if live is not None:
                self._predict(event.callback_id, live.queue_id, "callback", now)

    def _predict(
        self, interaction: InteractionId, queue_id: QueueId, kind: str, now: float
    ) -> None:
        live = self.sim.engine.interactions.get(interaction)
        if live is None or live.state is not State.WAITING:
            return  # an idle agent took it at once: nothing to predict
        snap = snapshot(self.sim.engine, queue_id, now)
        history = self.history(queue_id, now)
        started, cpu = time.perf_counter(), time.process_time()
        found = forecast(snap, history, phantom=None, runs=self.runs, seed=self.seed)
        self.seconds += time.perf_counter() - started
        self.cpu_seconds += time.process_time() - cpu
        self.estimates += 1
        self.run_count += found.runs
        simple = simple_estimates(snap, history, interaction)
        self.predictions[interaction] = Prediction(
            interaction,
            kind,
            now,
            found.waits.get(interaction),
            simple[Formula.SIMPLE],
            simple[Formula.ABANDON],
            found.dials.get(interaction),
        )

    def settle(self) -> None:
        """Fill in what actually happened (after the run)."""
        for p in self.predictions.values():
            if p.id in self.offered:
                p.actual = self.offered[p.id] - p.at
            if p.id in self.dialed:
                p.actual_dial = self.dialed[p.id] - p.at


def _median(p: Prediction) -> float | None:
    return p.best.median if p.best is not None and p.best.samples else None


def summarise(predictions: list[Prediction]) -> dict[str, Any]:
    """MAE of each estimator and the BEST interval's coverage, over the predictions that have an
    actual wait. A missing estimate (no agent on queue, no run saw it answered) counts as the
    largest actual wait of the set, so no estimator gains by abstaining."""
    scored = [p for p in predictions if p.actual is not None]
    if not scored:
        return {"n": 0}
    worst = max(p.actual for p in scored if p.actual is not None)

    def mae(get: Any) -> float:
        total = 0.0
        for p in scored:
            value = get(p)
            assert p.actual is not None
            total += abs((worst if value is None else value) - p.actual)
        return total / len(scored)

    inside = sum(
        1
        for p in scored
        if p.best is not None and p.actual is not None and p.best.low <= p.actual <= p.best.high
    )
    return {
        "n": len(scored),
        "unanswered": len(predictions) - len(scored),
        "mean_actual": sum(p.actual for p in scored if p.actual is not None) / len(scored),
        "mae_best": mae(_median),
        "mae_simple": mae(lambda p: p.simple),
        "mae_abandon": mae(lambda p: p.abandon),
        "coverage": inside / len(scored),
    }


def check(
    workload: Workload, *, seed: int | None = None, runs: int = 40, forecast_seed: int = 0
) -> tuple[Checker, dict[str, Any]]:
    """Run ``workload`` with a checker; returns it and the summary per kind and overall."""
    sim = Simulation(workload, workload.seed if seed is None else seed, timeline=True, listen=True)
    checker = Checker(sim, runs=runs, seed=forecast_seed)
    sim.run()
    checker.settle()
    found = list(checker.predictions.values())
    summary = {
        "all": summarise(found),
        "call": summarise([p for p in found if p.kind == "call"]),
        "callback": summarise([p for p in found if p.kind == "callback"]),
        "ms_per_estimate": 1000 * checker.seconds / max(checker.estimates, 1),
        "ms_per_run": 1000 * checker.seconds / max(checker.run_count, 1),
        "cpu_ms_per_estimate": 1000 * checker.cpu_seconds / max(checker.estimates, 1),
        "cpu_ms_per_run": 1000 * checker.cpu_seconds / max(checker.run_count, 1),
        "estimates": checker.estimates,
    }
    dials = [p for p in found if p.dial is not None and p.actual_dial is not None]
    if dials:
        summary["dial_mae"] = sum(
            abs(p.dial.median - p.actual_dial)  # type: ignore[union-attr,operator]
            for p in dials
        ) / len(dials)
        summary["dial_n"] = len(dials)
    return checker, summary
