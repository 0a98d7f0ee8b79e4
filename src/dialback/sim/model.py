"""The what-if simulator: ``domain.engine`` on a virtual clock with synthetic customers, agents and
a carrier. No engine rule is copied here: customers call in, wait, abandon, accept callback
offers and answer (or not) when called back; the engine decides everything else.

Figures come from the timeline's metrics (``domain.metrics``), counted from the end of the
warm-up, not from a second bookkeeping of our own.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dialback.domain.effects import Effect, PlaceCall, RecordPacingDecision
from dialback.domain.errors import DialbackError
from dialback.domain.events import (
    AgentJoinedQueue,
    AgentPresenceChanged,
    AgentRegistered,
    CallbackRequestedOnCall,
    CustomerHungUp,
    DncUpdated,
    Event,
    QueueConfigured,
    VoiceCallQueued,
)
from dialback.domain.facts import InteractionChanged
from dialback.domain.metrics import Observation, observations
from dialback.domain.model import (
    ANSWERED_OUTCOMES,
    AgentId,
    CallbackRequest,
    ConversationId,
    InteractionId,
    MediaType,
    Outcome,
    Presence,
    QueueId,
    State,
)
from dialback.domain.records import CallAccounted
from dialback.domain.timeline import Purpose, SegmentType, Timeline
from dialback.sim.agents import VirtualAgents
from dialback.sim.clock import VirtualClock
from dialback.sim.workload import QueueSpec, Workload
from dialback.telephony.simulated import SIP, CarrierModel, Mix

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z: a fixed origin, so runs replay exactly


@dataclass
class Simulation:
    workload: Workload
    seed: int
    clock: VirtualClock = field(init=False)
    rng: random.Random = field(init=False)
    timeline: Timeline = field(default_factory=Timeline)
    decisions: list[tuple[float, str, bool]] = field(default_factory=list)
    record: list[tuple[float, Event]] | None = None  # every event fed, when asked for
    agents: VirtualAgents = field(init=False)
    specs: dict[QueueId, QueueSpec] = field(default_factory=dict)
    carriers: dict[QueueId, CarrierModel] = field(default_factory=dict)
    accounted: list[CallAccounted] = field(default_factory=list)  # R-X-12, after warm-up
    _n: int = 0

    def __post_init__(self) -> None:
        self.clock = VirtualClock.seeded(self.seed, START)
        self.rng = random.Random(self.seed * 7919 + 1)  # customers' and carrier's randomness
        self.agents = VirtualAgents(
            self.later,
            self._numbers,
            talk_seconds=self._handle,
            accept_seconds=0.0,
            acw_seconds=0.0,
            redial_seconds=5.0,
        )
        self.clock.listeners.append(self._react)
        self.specs = {QueueId(q.name): q for q in self.workload.queues}
        self.carriers = {q: carrier_model(spec, self.rng) for q, spec in self.specs.items()}
        self._handling: dict[InteractionId, QueueId] = {}

    @property
    def warm(self) -> float:
        return START + self.workload.warmup_minutes * 60

    @property
    def end(self) -> float:
        return self.warm + self.workload.hours * 3600

    def later(self, seconds: float, event: Event) -> None:
        self.clock.post(event, self.clock.now + seconds)

    def _numbers(self, callback: InteractionId) -> int:
        live = self.clock.engine.interactions.get(callback)
        return len(live.request.numbers) if live and live.request else 1

    def _handle(self, interaction: InteractionId) -> float:
        """Handle time drawn from the workload of the interaction's queue."""
        live = self.clock.engine.interactions.get(interaction)
        queue = live.queue_id if live else next(iter(self.specs))
        return self.specs[queue].handle.sample(self.rng)

    # --- building the day -----------------------------------------------------------------------
    def setup(self) -> None:
        for queue_id, spec in self.specs.items():
            self.clock.post(QueueConfigured(queue_id, spec.settings), START)
            self._staff(queue_id, spec)
            self._arrivals(queue_id, spec)

    def _staff(self, queue_id: QueueId, spec: QueueSpec) -> None:
        most = max(s.agents for s in spec.shifts)
        for k in range(most):
            agent = AgentId(f"{queue_id}/{k + 1}")
            self.clock.post(AgentRegistered(agent, 1, agent), START)
            self.clock.post(AgentJoinedQueue(agent, queue_id), START)
        for shift in spec.shifts:
            for k in range(shift.agents):
                agent = AgentId(f"{queue_id}/{k + 1}")
                self.clock.post(
                    AgentPresenceChanged(agent, Presence.ON_QUEUE), START + shift.start_hour * 3600
                )
                if math.isfinite(shift.end_hour):
                    self.clock.post(
                        AgentPresenceChanged(agent, Presence.OFF_QUEUE),
                        START + shift.end_hour * 3600,
                    )

    def _arrivals(self, queue_id: QueueId, spec: QueueSpec) -> None:
        """A Poisson process per 30-minute interval, its rate from the workload."""
        t = START
        while True:
            rate = spec.arrival_rate((t - START) / 3600) / 3600
            if rate <= 0:
                t = START + (math.floor((t - START) / 1800) + 1) * 1800
                if t >= self.end:
                    return
                continue
            gap = self.rng.expovariate(rate)
            boundary = START + (math.floor((t - START) / 1800) + 1) * 1800
            if t + gap > boundary and len(spec.arrivals_per_hour) > 1:
                t = boundary  # memoryless: start afresh at the new rate
                continue
            t += gap
            if t >= self.end:
                return
            self._customer(queue_id, spec, t)

    def _customer(self, queue_id: QueueId, spec: QueueSpec, at: float) -> None:
        self._n += 1
        call = InteractionId(f"call-{self._n}")
        number = f"+1415555{self._n % 10_000:04d}"
        self.clock.post(
            VoiceCallQueued(call, ConversationId(f"c-{self._n}"), queue_id, number, at), at
        )
        self._handling[call] = queue_id
        if spec.patience is not None:
            self._give_up_at(call, at + spec.patience.sample(self.rng))
        offer = spec.callback_offer
        if offer is not None and self.rng.random() < offer.accept:
            request = CallbackRequest(queue_id, (number,), time_zone=self._zone(spec))
            callback = InteractionId(f"cb-{self._n}")
            self._handling[callback] = queue_id
            event = CallbackRequestedOnCall(call, callback, request)
            self.clock.call_at(at + offer.after_wait_seconds, lambda: self._if_waiting(call, event))
            if spec.dnc_share and self.rng.random() < spec.dnc_share:  # R-X-8: listed meanwhile
                self.clock.post(DncUpdated("sim", (number,)), at + offer.after_wait_seconds + 1)

    def _zone(self, spec: QueueSpec) -> str | None:
        """R-X-2: the customer's zone, drawn from the workload's shares (none: no draw)."""
        if not spec.callee_time_zones:
            return None
        zones, shares = zip(*spec.callee_time_zones.items(), strict=True)
        drawn: str = self.rng.choices(zones, shares)[0]
        return drawn

    def _give_up_at(self, interaction: InteractionId, at: float) -> None:
        """Patience: the customer hangs up at ``at`` if still waiting for an agent then."""
        self.clock.call_at(at, lambda: self._if_waiting(interaction, CustomerHungUp(interaction)))

    def _if_waiting(self, interaction: InteractionId, event: Event) -> None:
        live = self.clock.engine.interactions.get(interaction)
        if live is not None and live.state is State.WAITING and live.media is MediaType.VOICE:
            try:
                self.clock.send(event)
            except DialbackError as refused:  # e.g. a number already on a DNC list (R-X-7)
                self.clock.refused.append((self.clock.now, event, refused))

    # --- reacting -------------------------------------------------------------------------------
    def _react(self, now: float, event: Event, effects: list[Effect]) -> None:
        if self.record is not None:
            self.record.append((now, event))
        self.timeline.apply(effects)
        for effect in effects:
            if isinstance(effect, PlaceCall):
                self._carrier(effect)
            elif isinstance(effect, RecordPacingDecision) and now >= self.warm:
                d = effect.decision
                self.decisions.append((now, d.queue_id, d.dialed))
            elif isinstance(effect, InteractionChanged):
                self._waiting_customer(effect)
            elif isinstance(effect, CallAccounted) and now >= self.warm and now < self.end:
                self.accounted.append(effect)  # R-X-12
        self.agents.react(now, event, effects)

    def _carrier(self, dial: PlaceCall) -> None:
        queue = self._handling.get(dial.interaction_id, next(iter(self.specs)))
        for after, report in self.carriers[queue].dial(dial).reports(dial.dial_id):
            self.later(after, report)

    def _waiting_customer(self, change: InteractionChanged) -> None:
        """An answered customer-first callback waits for an agent; the customer may give up."""
        if change.state is State.WAITING and change.media is MediaType.VOICE:
            live = self.clock.engine.interactions.get(change.interaction_id)
            spec = self.specs[change.queue_id]
            if live is not None and live.converted and spec.patience is not None:
                self._give_up_at(live.id, self.clock.now + spec.patience.sample(self.rng))

    # --- running --------------------------------------------------------------------------------
    def run(self, progress: Callable[[float], None] | None = None) -> None:
        self.setup()
        step = 600.0
        t = START
        while t < self.end:
            t = min(self.end, t + step)
            self.clock.run_until(t)
            self.clock.refused.clear()  # the world's races (a customer already served hangs up)
            if progress is not None:
                progress((t - START) / (self.end - START))

    # --- figures --------------------------------------------------------------------------------
    def observations(self) -> list[Observation]:
        levels = {QueueId(q.name): q.settings.callback.service_level for q in self.workload.queues}
        return [
            o
            for c in self.timeline.conversations.values()
            for o in observations(c, levels)
            if self.warm <= o.emitted < self.end
        ]

    def waiting_over_day(self, step: float = 900.0) -> dict[str, dict[str, list[float]]]:
        """Mean number waiting in each queue per ``step`` seconds from the start of the day
        (warm-up included), from the timeline's ACD segments: ``voice`` counts callers on the
        line (converted customer-first callbacks included), ``callback`` the callbacks waiting
        to be offered or dialed. Scheduled callbacks not yet due are not waiting."""
        bins = math.ceil((self.end - START) / step)
        series = {
            q: {"hours": [i * step / 3600 for i in range(bins)], "voice": [0.0] * bins}
            | {"callback": [0.0] * bins}
            for q in self.specs
        }
        for conversation in self.timeline.conversations.values():
            for s in conversation.segments():
                if s.purpose is not Purpose.ACD or s.type is not SegmentType.INTERACT:
                    continue
                into = series[s.queue_id]["voice" if s.media is MediaType.VOICE else "callback"]
                start, end = s.start - START, min(s.end or self.end, self.end) - START
                for b in range(int(start // step), min(bins, math.ceil(end / step))):
                    overlap = min(end, (b + 1) * step) - max(start, b * step)
                    into[b] += max(0.0, overlap) / step
        return {
            self.specs[q].name: {k: [round(v, 6) for v in vs] for k, vs in found.items()}
            for q, found in series.items()
        }

    def figures(self) -> dict[str, Any]:
        found = self.observations()
        result: dict[str, Any] = {}
        for queue_id, spec in self.specs.items():
            mine = [o for o in found if o.queue_id == queue_id]
            result[spec.name] = _queue_figures(mine, self, queue_id, spec)
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


def _values(found: list[Observation], name: str, media: MediaType | None = None) -> list[float]:
    return [o.value for o in found if o.name == name and (media is None or o.media is media)]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _queue_figures(
    found: list[Observation], sim: Simulation, queue_id: QueueId, spec: QueueSpec
) -> dict[str, Any]:
    voice = MediaType.VOICE
    waits = _values(found, "tWait", voice)
    answered = _values(found, "tAnswered", voice)
    outcomes: Counter[str] = Counter()
    for conversation in sim.timeline.conversations.values():
        for s in conversation.segments():
            if s.queue_id == queue_id and s.outcome and s.end and sim.warm <= s.end < sim.end:
                outcomes[s.outcome.value] += 1
    decisions = [d for d in sim.decisions if d[1] == queue_id]
    return {
        "offered": len(_values(found, "nOffered", voice)),
        "answered": len(answered),
        "abandoned": len(_values(found, "tAbandon", voice)),
        "mean_wait_seconds": round(_mean(waits), 6),
        "p_wait": round(_mean([1.0 if w > 1e-9 else 0.0 for w in waits]), 6),
        "service_level": round(_mean(_values(found, "oServiceLevel", voice)), 6),
        "agent_occupancy": round(_occupancy(sim, queue_id, spec), 6),
        "callbacks_requested": len(_values(found, "nOffered", MediaType.CALLBACK)),
        "dials": len(_values(found, "nCallbackAttempts")),
        "outcomes": dict(sorted(outcomes.items())),
        "cfc_offered": len(_values(found, "nCfcOffered")),
        "cfc_abandoned": len(_values(found, "tCfcAbandon")),
        "mean_cfc_acd_seconds": round(_mean(_values(found, "tCfcAcd")), 6),
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
    busy = 0.0
    for conversation in sim.timeline.conversations.values():
        for s in conversation.segments():
            if (
                s.purpose is Purpose.AGENT
                and s.queue_id == queue_id
                and s.type is not SegmentType.CALLBACK
            ):
                end = s.end if s.end is not None else sim.end
                busy += max(0.0, min(end, sim.end) - max(s.start, sim.warm))
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
    workload: Workload, seed: int | None = None, progress: Callable[[float], None] | None = None
) -> tuple[Simulation, dict[str, Any]]:
    """Run a workload; returns the simulation and its figures."""
    sim = Simulation(workload, workload.seed if seed is None else seed)
    sim.run(progress)
    return sim, sim.figures()
