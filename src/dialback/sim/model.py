"""The what-if simulator: ``domain.engine`` on a virtual clock with synthetic customers, agents and
a carrier. No engine rule is copied here: customers call in, wait, abandon, accept callback
offers and answer (or not) when called back; the engine decides everything else.

Figures come from the engine's segments (``domain.tally``: the timeline's metrics, kept as
running totals while the segments close), counted from the end of the warm-up, not from a
second bookkeeping of our own. The inner loop is ``sim/driver.py``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from dialback.domain.effects import Effect
from dialback.domain.engine import Engine
from dialback.domain.events import (
    AgentJoinedQueue,
    AgentPresenceChanged,
    AgentRegistered,
    Event,
    QueueConfigured,
)
from dialback.domain.metrics import Observation, observations
from dialback.domain.model import (
    ANSWERED_OUTCOMES,
    AgentId,
    MediaType,
    Outcome,
    Presence,
    QueueId,
)
from dialback.domain.records import CallAccounted
from dialback.domain.timeline import Timeline
from dialback.sim.driver import EVENT, Driver
from dialback.sim.workload import QueueSpec, Workload
from dialback.telephony.simulated import SIP, CarrierModel, Mix

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z: a fixed origin, so runs replay exactly


class Simulation:
    """One simulated day (or many) of ``workload`` with ``seed``. The figures come from the
    engine's segments as they close (``domain/tally.py``); ``timeline=True`` keeps every segment
    as well (``observations`` needs it), ``record=True`` every event fed with its effects
    (``record``: the replay test), ``listen=True`` passes each to ``driver.listeners`` as it
    happens (issue 18's EWT check)."""

    def __init__(
        self,
        workload: Workload,
        seed: int,
        *,
        timeline: bool = False,
        record: bool = False,
        listen: bool = False,
    ) -> None:
        self.workload = workload
        self.seed = seed
        self.rng = random.Random(seed * 7919 + 1)  # customers' and carrier's randomness
        self.specs: dict[QueueId, QueueSpec] = {QueueId(q.name): q for q in workload.queues}
        self.carriers = {q: carrier_model(spec, self.rng) for q, spec in self.specs.items()}
        self.timeline: Timeline | None = Timeline() if timeline else None
        self.record: list[tuple[float, Event, list[Effect]]] | None = [] if record else None
        self.driver = Driver(
            seed,
            START,
            self.specs,
            self.carriers,
            self.rng,
            self.warm,
            self.end,
            timeline=self.timeline,
            record=self.record,
            listen=listen,
        )
        self._closed = False

    @property
    def warm(self) -> float:
        return START + self.workload.warmup_minutes * 60

    @property
    def end(self) -> float:
        return self.warm + self.workload.hours * 3600

    @property
    def engine(self) -> Engine:
        return self.driver.engine

    @property
    def decisions(self) -> list[tuple[float, str, bool]]:
        """Pacing evaluations after warm-up: (time, queue, dialed)."""
        return self.driver.decisions

    @property
    def accounted(self) -> list[CallAccounted]:
        """The dialer's answered calls accounted after warm-up (R-X-12, issue 14)."""
        return self.driver.accounted

    # --- building the day -----------------------------------------------------------------------
    def setup(self) -> None:
        for queue_id, spec in self.specs.items():
            self.driver.post(START, EVENT, QueueConfigured(queue_id, spec.settings))
            self._staff(queue_id, spec)
            self.driver.arrivals(queue_id, spec)

    def _staff(self, queue_id: QueueId, spec: QueueSpec) -> None:
        most = max(s.agents for s in spec.shifts)
        post = self.driver.post
        for k in range(most):
            agent = AgentId(f"{queue_id}/{k + 1}")
            post(START, EVENT, AgentRegistered(agent, 1, agent))
            post(START, EVENT, AgentJoinedQueue(agent, queue_id))
        for shift in spec.shifts:
            for k in range(shift.agents):
                agent = AgentId(f"{queue_id}/{k + 1}")
                on = AgentPresenceChanged(agent, Presence.ON_QUEUE)
                post(START + shift.start_hour * 3600, EVENT, on)
                if math.isfinite(shift.end_hour):
                    off = AgentPresenceChanged(agent, Presence.OFF_QUEUE)
                    post(START + shift.end_hour * 3600, EVENT, off)

    # --- running --------------------------------------------------------------------------------
    def run(self, progress: Callable[[float], None] | None = None) -> None:
        self.setup()
        step = 600.0
        t = START
        while t < self.end:
            t = min(self.end, t + step)
            self.driver.run_until(t)
            if progress is not None:
                progress((t - START) / (self.end - START))

    # --- figures --------------------------------------------------------------------------------
    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self.driver.still_open()

    def observations(self) -> list[Observation]:
        """Every metric of the run after warm-up, from the timeline (``timeline=True``)."""
        if self.timeline is None:
            raise ValueError("observations need the timeline: Simulation(..., timeline=True)")
        levels = {QueueId(q.name): q.settings.callback.service_level for q in self.workload.queues}
        return [
            o
            for c in self.timeline.conversations.values()
            for o in observations(c, levels)
            if self.warm <= o.emitted < self.end
        ]

    def waiting_over_day(self, step: float = 900.0) -> dict[str, dict[str, list[float]]]:
        """Mean number waiting in each queue per ``step`` seconds (a multiple of 300) from the
        start of the day (warm-up included), from the ACD segments: ``voice`` counts callers on
        the line (converted customer-first callbacks included), ``callback`` the callbacks
        waiting to be offered or dialed. Scheduled callbacks not yet due are not waiting."""
        self._close()
        k = round(step / self.driver.step)
        if k < 1 or not math.isclose(k * self.driver.step, step):
            raise ValueError(f"step must be a multiple of {self.driver.step:g} s")
        bins = math.ceil((self.end - START) / step)
        found: dict[str, dict[str, list[float]]] = {}
        for q, by_media in self.driver.waiting.items():
            series = {"hours": [round(i * step / 3600, 6) for i in range(bins)]}
            for media, name in ((MediaType.VOICE, "voice"), (MediaType.CALLBACK, "callback")):
                fine = by_media[media]
                series[name] = [round(sum(fine[i * k : (i + 1) * k]) / k, 6) for i in range(bins)]
            found[self.specs[q].name] = series
        return found

    def figures(self) -> dict[str, Any]:
        self._close()
        result: dict[str, Any] = {}
        for queue_id, spec in self.specs.items():
            result[spec.name] = _queue_figures(self, queue_id, spec)
        return {"seed": self.seed, "hours": self.workload.hours, "queues": result}


def carrier_model(spec: QueueSpec, rng: random.Random) -> CarrierModel:
    """The simulator's carrier for a queue: outcomes drawn from the queue's mix with ``rng``; an
    answered dial resolves after ``ring_seconds`` (200), an unanswered one after
    ``no_answer_seconds`` (487), any other fails after 2 s; a dial rings after 2 s if it has not
    resolved by then."""
    answered = dict.fromkeys(ANSWERED_OUTCOMES, 200)
    return CarrierModel(
        Mix(spec.outcomes, rng),
        ring_seconds=2.0,
        resolve_seconds=dict.fromkeys(ANSWERED_OUTCOMES, spec.ring_seconds)
        | {Outcome.NO_ANSWER: spec.no_answer_seconds},
        resolve_default=2.0,
        sip_codes=SIP | answered | {Outcome.NO_ANSWER: 487},
        sip_default=500,
    )


def _queue_figures(sim: Simulation, queue_id: QueueId, spec: QueueSpec) -> dict[str, Any]:
    tally = sim.driver.tally.queue(queue_id)
    voice, callback = MediaType.VOICE, MediaType.CALLBACK
    waits = tally.get("tWait", voice)
    decisions = [d for d in sim.decisions if d[1] == queue_id]
    return {
        "offered": tally.get("nOffered", voice).count,
        "answered": tally.get("tAnswered", voice).count,
        "abandoned": tally.get("tAbandon", voice).count,
        "mean_wait_seconds": round(waits.mean, 6),
        "p_wait": round(tally.waited.get(voice, 0) / waits.count if waits.count else 0.0, 6),
        "service_level": round(tally.get("oServiceLevel", voice).mean, 6),
        "agent_occupancy": round(_occupancy(sim, queue_id, spec), 6),
        "callbacks_requested": tally.get("nOffered", callback).count,
        "dials": tally.get("nCallbackAttempts", None).count,
        "outcomes": dict(sorted(tally.outcomes.items())),
        "cfc_offered": tally.get("nCfcOffered", None).count,
        "cfc_abandoned": tally.get("tCfcAbandon", None).count,
        "mean_cfc_acd_seconds": round(tally.get("tCfcAcd", None).mean, 6),
        "pacing_evaluations": len(decisions),
        "pacing_dispatches": sum(1 for d in decisions if d[2]),
        **_abandonment_figures(sim, queue_id),
    }


def _abandonment_figures(sim: Simulation, queue_id: QueueId) -> dict[str, Any]:
    """R-X-12, R-X-13: live answers of the dialer, abandoned calls and their rate."""
    live = [a for a in sim.accounted if a.queue_id == queue_id and not a.machine]
    abandoned = sum(1 for a in live if a.abandoned)
    return {
        "live_answers": len(live),
        "abandoned_calls": abandoned,
        "abandon_rate": round(abandoned / len(live), 6) if live else 0.0,
    }


def _occupancy(sim: Simulation, queue_id: QueueId, spec: QueueSpec) -> float:
    """Agent time busy with interactions (alerting to wrap-up) over staffed time, after warm-up."""
    busy = sim.driver.busy.get(queue_id, 0.0)
    staffed = 0.0
    for shift in spec.shifts:
        start = max(START + shift.start_hour * 3600, sim.warm)
        end = (
            min(START + shift.end_hour * 3600, sim.end)
            if math.isfinite(shift.end_hour)
            else sim.end
        )
        staffed += shift.agents * max(0.0, end - start)
    return busy / staffed if staffed else 0.0


def simulate(
    workload: Workload,
    seed: int | None = None,
    progress: Callable[[float], None] | None = None,
    *,
    timeline: bool = False,
) -> tuple[Simulation, dict[str, Any]]:
    """Run a workload; returns the simulation and its figures. ``timeline=True`` keeps every
    segment too (``Simulation.observations``)."""
    sim = Simulation(workload, workload.seed if seed is None else seed, timeline=timeline)
    sim.run(progress)
    return sim, sim.figures()
