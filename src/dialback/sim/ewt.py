"""EWT by forward simulation (issue 18): the production engine, rebuilt from a queue's snapshot,
run forward many times on a virtual clock.

Each run builds a fresh ``Engine`` from the ``QueueSnapshot`` (agents busy with the rest of a
handle time, the waiting interactions in their order, scheduled callbacks and retries keeping
their place, idle agents, then a phantom new caller or new callback at the back), and lets a
small virtual world answer it: agents accept at once and hold each interaction for a handle time
drawn from the queue's ``History``; waiting callers give up when a patience drawn from the
history runs out; the carrier ends each dial with an outcome drawn from the history's mix. The
engine decides everything else (order, pacing, retries, conversion), so what it would do is
what the estimate assumes.

Pure: run ``k`` draws from ``Random(seed, k)`` only, so the same snapshot, history, seed and run
count give the same answer. A time budget may stop before ``runs``; the answer says how many
runs it used.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from dialback.domain.effects import Effect, OfferToAgent, PlaceCall
from dialback.domain.engine import Engine
from dialback.domain.events import (
    AgentJoinedQueue,
    AgentPresenceChanged,
    AgentRegistered,
    CallbackRequested,
    CallbackRequestedOnCall,
    CustomerHungUp,
    DialCompleted,
    Event,
    QueueConfigured,
    VoiceCallQueued,
)
from dialback.domain.ewt import QueueSnapshot, Waiting
from dialback.domain.facts import InteractionChanged
from dialback.domain.history import History
from dialback.domain.model import (
    CallbackRequest,
    ConversationId,
    DialResult,
    InteractionId,
    MediaType,
    Outcome,
    Presence,
    State,
)
from dialback.sim.agents import VirtualAgents
from dialback.sim.clock import VirtualClock

NEW_CALLER = InteractionId("ewt:new-caller")
NEW_CALLBACK = InteractionId("ewt:new-callback")
NUMBER = "+14155550100"
HORIZON = 6 * 3600.0  # seconds a run may look ahead; later answers count as this


@dataclass(frozen=True, slots=True)
class Spread:
    """Seconds from the snapshot's time: the median and an ``interval`` (low, high quantiles)
    over the runs where it happened; ``share`` of the runs where it did happen."""

    median: float
    low: float
    high: float
    share: float
    samples: int


@dataclass(frozen=True, slots=True)
class Forecast:
    """What the runs say. ``waits`` per waiting interaction and for ``NEW_CALLER`` (time until
    an agent gets it, among the runs where it was answered); for a new callback ``dial`` (its
    first dial) and ``agent`` (an agent gets it)."""

    at: float
    runs: int
    waits: Mapping[InteractionId, Spread]
    dials: Mapping[InteractionId, Spread] = field(default_factory=dict)  # callbacks' first dials
    dial: Spread | None = None
    agent: Spread | None = None
    unconditional: Spread | None = None  # the new caller's wait as if infinitely patient


@dataclass
class _Run:
    """One run's world: the carrier, the customers' patience and the record of what happened."""

    snap: QueueSnapshot
    history: History
    rng: random.Random
    clock: VirtualClock = field(init=False)
    offered: dict[InteractionId, float] = field(default_factory=dict)
    dialed: dict[InteractionId, float] = field(default_factory=dict)
    gone: set[InteractionId] = field(default_factory=set)
    residual: dict[InteractionId, float] = field(default_factory=dict)
    targets: set[InteractionId] = field(default_factory=set)
    rate: float = 0.0  # later callers per hour in this run

    def __post_init__(self) -> None:
        self.clock = VirtualClock(Engine(rng=random.Random(self.rng.random())), now=self.snap.at)
        self.agents = VirtualAgents(
            self.later,
            lambda _i: 1,
            talk_seconds=self._talk,
            accept_seconds=0.0,
            acw_seconds=0.0,
            redial_seconds=5.0,
        )
        self.clock.listeners.append(self._react)

    def later(self, seconds: float, event: Event) -> None:
        self.clock.post(event, self.clock.now + seconds)

    def _talk(self, interaction: InteractionId) -> float:
        left = self.residual.pop(interaction, None)
        return left if left is not None else self.history.draw_handle(self.rng)

    def _react(self, now: float, event: Event, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, OfferToAgent):
                if effect.interaction_id not in self.offered:
                    self.offered[effect.interaction_id] = now
                    self.targets.discard(effect.interaction_id)
            elif isinstance(effect, PlaceCall):
                self.dialed.setdefault(effect.interaction_id, now)
                outcome = self._outcome()
                self.later(
                    self.history.dial_time(outcome),
                    DialCompleted(effect.dial_id, DialResult(outcome)),
                )
            elif isinstance(effect, InteractionChanged):
                self._changed(effect)
        self.agents.react(now, event, effects)

    def _outcome(self) -> Outcome:
        outcomes = [o for o, _ in self.history.outcomes]
        weights = [w for _, w in self.history.outcomes]
        chosen: Outcome = self.rng.choices(outcomes, weights)[0]
        return chosen

    def _changed(self, change: InteractionChanged) -> None:
        if change.state is State.ENDED:
            self.gone.add(change.interaction_id)
            self.targets.discard(change.interaction_id)
        elif change.state is State.WAITING and change.media is MediaType.VOICE:
            live = self.clock.engine.interactions.get(change.interaction_id)
            if live is not None and live.converted:  # answered customer-first: waits on the line
                self._patience(live.id, 0.0)

    def _patience(self, interaction: InteractionId, waited: float, convert: bool = False) -> None:
        """The caller gives up when its patience runs out, or (a caller, not an answered
        callback) asks for a callback first, as the history's callers did (R-C-6)."""
        left = self.history.patience.sample(self.rng, waited)
        switch = self.history.converts.sample(self.rng, waited) if convert else math.inf
        if switch < left:
            self.clock.call_at(self.clock.now + switch, lambda: self._convert(interaction))
        elif math.isfinite(left):
            self.clock.call_at(self.clock.now + left, lambda: self._give_up(interaction))

    def _convert(self, interaction: InteractionId) -> None:
        live = self.clock.engine.interactions.get(interaction)
        if live is not None and live.state is State.WAITING and live.media is MediaType.VOICE:
            callback = InteractionId(f"{interaction}:callback")
            request = CallbackRequest(self.snap.queue_id, (NUMBER,))
            self.clock.send(CallbackRequestedOnCall(interaction, callback, request))

    def _give_up(self, interaction: InteractionId) -> None:
        live = self.clock.engine.interactions.get(interaction)
        if live is not None and live.state is State.WAITING and live.media is MediaType.VOICE:
            self.clock.send(CustomerHungUp(interaction))

    # --- building the engine from the snapshot ---------------------------------------------------
    def build(self, phantom: InteractionId | None) -> None:
        snap, send = self.snap, self.clock.send
        queue = snap.queue_id
        send(QueueConfigured(queue, snap.settings))
        for agent in [*(b.id for b in snap.busy), *snap.idle]:
            send(AgentRegistered(agent, 1, address=agent))
            send(AgentJoinedQueue(agent, queue))
        for busy in snap.busy:  # each takes a stand-in call it holds for the rest of a handle
            send(AgentPresenceChanged(busy.id, Presence.ON_QUEUE))
            stand_in = InteractionId(f"ewt:busy:{busy.id}")
            send(VoiceCallQueued(stand_in, ConversationId(stand_in), queue, NUMBER, snap.at))
            self.residual[stand_in] = self.history.draw_handle(self.rng, snap.at - busy.since)
        self.clock.run_until(snap.at)  # the stand-ins are accepted
        for item in snap.waiting:
            if item.dialing:
                self._dial_in_progress(item)
            elif item.callback:
                self._callback(item.id, item.entry_time, item.priority, item.numbers, None)
            else:
                send(
                    VoiceCallQueued(
                        item.id,
                        ConversationId(item.id),
                        queue,
                        NUMBER,
                        item.entry_time,
                        item.priority,
                    )
                )
                self._patience(item.id, snap.at - item.since, convert=not item.converted)
            self.targets.add(item.id)
        for later in snap.scheduled:
            self._callback(later.id, later.entry_time, later.priority, later.numbers, later.due)
        for agent in snap.idle:
            send(AgentPresenceChanged(agent, Presence.ON_QUEUE))
        if snap.settings.customer_first and self.history.arrivals_per_hour > 0:
            self.rate = self.history.draw_arrival_rate(self.rng)
            self._next_arrival(0)  # R-CF-3: later callers take the agents a dial waits for
        if phantom == NEW_CALLER:
            send(VoiceCallQueued(phantom, ConversationId(phantom), queue, NUMBER, snap.at))
        elif phantom == NEW_CALLBACK:
            request = CallbackRequest(queue, (NUMBER,))
            send(CallbackRequested(phantom, ConversationId(phantom), request))
        if phantom is not None:
            self.targets.add(phantom)

    def _next_arrival(self, n: int) -> None:
        """Callers keep arriving at the recent rate (Poisson) while a target still waits: they
        queue behind the targets, but in a customer-first queue they take the agents a
        callback's dial waits for (an idle agent), so they matter there."""
        gap = self.rng.expovariate(self.rate / 3600)

        def arrive() -> None:
            if not self.targets:
                return
            call = InteractionId(f"ewt:later:{n}")
            self.clock.send(
                VoiceCallQueued(
                    call, ConversationId(call), self.snap.queue_id, NUMBER, self.clock.now
                )
            )
            self._patience(call, 0.0, convert=True)
            self._next_arrival(n + 1)

        self.clock.call_at(self.clock.now + gap, arrive)

    def _dial_in_progress(self, item: Waiting) -> None:
        """A customer-first dial already out: it ends after the rest of a dial time with an
        outcome drawn from the history; a live customer then waits on the line with the
        callback's place (R-CF-5), anything else leaves the queue."""
        outcome = self._outcome()
        if outcome is not Outcome.LIVE_VOICE:
            return
        left = max(0.0, self.history.dial_time(outcome) - (self.snap.at - item.since))
        at = self.snap.at + left
        call = VoiceCallQueued(
            item.id,
            ConversationId(item.id),
            self.snap.queue_id,
            NUMBER,
            item.entry_time,
            item.priority,
        )

        def answered() -> None:
            self.clock.send(call)
            self._patience(item.id, 0.0)

        self.clock.call_at(at, answered)

    def _callback(
        self,
        callback: InteractionId,
        entry_time: float | None,
        priority: int,
        numbers: int,
        due: float | None,
    ) -> None:
        """A callback with its place: made from a stand-in call that entered at its entry time
        (R-O-2 keeps the call's entry time), so a retry or a waiting callback sorts where it
        did in the live queue."""
        queue = self.snap.queue_id
        request = CallbackRequest(queue, (NUMBER,) * max(1, numbers), due, priority)
        if entry_time is None:
            self.clock.send(CallbackRequested(callback, ConversationId(callback), request))
            return
        call = InteractionId(f"ewt:call:{callback}")
        self.clock.send(
            VoiceCallQueued(call, ConversationId(call), queue, NUMBER, entry_time, priority)
        )
        self.clock.send(CallbackRequestedOnCall(call, callback, request))

    def run(self, horizon: float) -> None:
        end = self.snap.at + horizon
        step = 300.0
        t = self.snap.at
        while self.targets and t < end and self.clock.pending:
            t = min(end, t + step)
            self.clock.run_until(t)
            step *= 1.5


def forecast(
    snap: QueueSnapshot,
    history: History,
    *,
    phantom: InteractionId | None = NEW_CALLER,
    runs: int = 64,
    seed: int = 0,
    budget_ms: float | None = None,
    coverage: float = 0.8,
    horizon: float = HORIZON,
) -> Forecast:
    """Run the queue forward ``runs`` times (fewer if ``budget_ms`` of wall time runs out, never
    fewer than 8) and summarise: waits of every waiting interaction and of ``phantom``
    (``NEW_CALLER`` or ``NEW_CALLBACK``; None for no phantom). The interval holds ``coverage``
    of the runs, split evenly either side."""
    started = time.perf_counter()
    waits: dict[InteractionId, list[float]] = {}
    first_dials: dict[InteractionId, list[float]] = {}
    dials: list[float] = []
    patient: list[float] = []
    done = 0
    for k in range(runs):
        spent = (time.perf_counter() - started) * 1000
        if budget_ms is not None and k >= 8 and spent > budget_ms:
            break
        rng = random.Random(f"{seed}:{k}")
        world = _Run(snap, history, rng)
        world.build(phantom)
        watched = set(world.targets)
        patience = history.patience.sample(rng, 0.0)
        world.run(horizon)
        done += 1
        for target in watched - {NEW_CALLER}:
            offered = world.offered.get(target)
            if offered is not None:
                waits.setdefault(target, []).append(offered - snap.at)
            if target in world.dialed:
                first_dials.setdefault(target, []).append(world.dialed[target] - snap.at)
        if phantom == NEW_CALLER:
            wait = world.offered.get(phantom, snap.at + horizon) - snap.at
            patient.append(wait)
            if wait <= patience:  # else this caller would have given up first
                waits.setdefault(phantom, []).append(wait)
        if phantom is not None and phantom in world.dialed:
            dials.append(world.dialed[phantom] - snap.at)
    tail = (1 - coverage) / 2
    spreads = {i: _spread(w, done, tail) for i, w in waits.items()}
    dialed = {i: _spread(w, done, tail) for i, w in first_dials.items()}
    if phantom == NEW_CALLER:
        return Forecast(snap.at, done, spreads, dialed, unconditional=_spread(patient, done, tail))
    if phantom == NEW_CALLBACK:
        return Forecast(
            snap.at, done, spreads, dialed, _maybe(dials, done, tail), spreads.get(phantom)
        )
    return Forecast(snap.at, done, spreads, dialed)


def _maybe(values: list[float], runs: int, tail: float) -> Spread | None:
    return _spread(values, runs, tail) if values else None


def _spread(values: list[float], runs: int, tail: float) -> Spread:
    ordered = sorted(values)
    if not ordered:
        return Spread(math.inf, math.inf, math.inf, 0.0, 0)
    return Spread(
        statistics.median(ordered),
        _quantile(ordered, tail),
        _quantile(ordered, 1 - tail),
        len(ordered) / max(runs, 1),
        len(ordered),
    )


def _quantile(ordered: list[float], q: float) -> float:
    """The q-quantile with the (n + 1) q plotting position (1-based), interpolated between
    order statistics and clamped to the sample: an interval between two such quantiles holds
    the next value with probability close to their difference, even for a few dozen runs."""
    x = min(max(q * (len(ordered) + 1), 1.0), float(len(ordered))) - 1
    low = math.floor(x)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (x - low)
