"""The simulator's inner loop: the engine on a virtual clock, with the simulator as its sink
(issue 16).

``Driver`` keeps a heap of ``(time, sequence, what, a, b)`` entries (the sequence breaks ties,
so a run replays exactly) and feeds the engine through its one-method-per-event API, without
event or effect objects. It is the engine's ``Sink``: timers go straight onto the heap, and the
world's reactions (the customers', the carrier's and the agents' of ``sim/agents.py``) run
after each engine call in the order ``VirtualClock`` with ``VirtualAgents`` runs them: timers
first, then the customers and the carrier effect by effect, then the agents effect by effect.
Segments go to a ``Tally`` (the queue metrics) and to the agent-time and waiting-time sums the
figures need; nothing else is kept.

Anything posted with no delay (an agent's accept or wrap-up after 0 s) goes to a FIFO served
after the heap's entries due at the same instant, which is where the heap would have put it.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from collections.abc import Callable
from typing import Any, Final, cast
from zoneinfo import ZoneInfo

from dialback.domain.effects import Effect, PlaceCall
from dialback.domain.engine import Engine
from dialback.domain.errors import DialbackError
from dialback.domain.events import (
    AgentDialed,
    AgentEndedCallback,
    AgentHungUp,
    AlertAccepted,
    CallbackRequestedOnCall,
    CustomerHungUp,
    DncUpdated,
    Event,
    TimerFired,
    TimerKey,
    TimerKind,
    VoiceCallQueued,
    WrapUpCompleted,
)
from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    ConversationId,
    DialId,
    DialResult,
    EndReason,
    InteractionId,
    MediaType,
    Outcome,
    QueueId,
    State,
)
from dialback.domain.pacing import PacingDecision
from dialback.domain.records import CallAccounted
from dialback.domain.sink import ListSink, OpenSegment, Sink, TeeSink
from dialback.domain.tally import Tally
from dialback.domain.timeline import HowEnded, Purpose, SegmentType, Timeline
from dialback.sim.workload import Distribution, QueueSpec
from dialback.telephony.simulated import CarrierModel

# What a heap entry does (its third field); ``a`` and ``b`` are its arguments.
EVENT: Final = 0  # a: an Event, fed through Engine.handle (setup, the carrier's reports)
ARRIVAL: Final = 1  # a: the customer's number n, b: the queue
ACCEPT: Final = 2  # a: agent, b: interaction
HANG_UP: Final = 3
WRAP_UP: Final = 4
DIAL: Final = 5
END_CALLBACK: Final = 6
TIMER: Final = 7  # a: kind, b: subject
GIVE_UP: Final = 8  # a: interaction (the customer's patience ran out)
TAKE_OFFER: Final = 9  # a: n, b: queue (the caller accepts the callback offer)

# Reactions run after an engine call (the second field of a pending reaction).
_CARRIER: Final = 0
_PATIENCE: Final = 1
_OFFERED: Final = 2
_AGENT_DIALED: Final = 3
_HEARD: Final = 4
_CONNECTED: Final = 5
_CHANGED: Final = 6

ENGINE_MOVES: Final = (TimerKind.AUTO_DIAL, TimerKind.AUTO_END)
WRAPUP_CODE: Final = "resolved"
REDIAL_SECONDS: Final = 5.0

# Bound once: mypyc reads a Final module name from a C static, not the module dict.
_heappush: Final = heapq.heappush
_heappop: Final = heapq.heappop


def _number(n: int) -> str:
    """Caller ``n``'s phone number, ``+1415555`` and four digits (``f"{n % 10_000:04d}"``, built
    without the formatting machinery)."""
    return "+1415555" + str(10_000 + n % 10_000)[1:]


def draw(distribution: Distribution, rng: random.Random) -> float:
    """``distribution.sample(rng)``, with the exponential drawn here: the same arithmetic as
    ``rng.expovariate`` (so the same numbers), without a call into interpreted code."""
    if distribution.kind == "exponential":
        return -math.log(1.0 - rng.random()) / (1 / distribution.mean)
    return distribution.sample(rng)


def _zone(spec: QueueSpec, rng: random.Random) -> str | None:
    """R-X-2: the customer's zone, drawn from the workload's shares (none: no draw)."""
    if not spec.callee_time_zones:
        return None
    zones, shares = zip(*spec.callee_time_zones.items(), strict=True)
    drawn: str = rng.choices(zones, shares)[0]
    return drawn


class Arrivals:
    """A queue's callers: a Poisson process per 30-minute interval, its rate from the workload,
    drawn one arrival at a time with ``rng``; ``next`` is +inf once the day is over."""

    def __init__(self, spec: QueueSpec, rng: random.Random, start: float, end: float) -> None:
        self.spec = spec
        self.rng = rng
        self.start = start
        self.end = end
        self.t = start
        self.rates = spec.arrivals_per_hour  # QueueSpec.arrival_rate, read here
        self.piecewise = len(self.rates) > 1

    def next(self) -> float:
        """The next arrival's time (epoch seconds), or +inf after the end."""
        start = self.start
        t = self.t
        while True:
            rates = self.rates
            hourly = (
                rates[min(int((t - start) / 3600 * 2), len(rates) - 1)]
                if self.piecewise
                else rates[0]
            )
            rate = hourly / 3600
            boundary = start + (math.floor((t - start) / 1800) + 1) * 1800
            if rate <= 0:
                t = boundary
                if t >= self.end:
                    self.t = t
                    return math.inf
                continue
            gap = -math.log(1.0 - self.rng.random()) / rate  # rng.expovariate(rate), inlined
            if t + gap > boundary and self.piecewise:
                t = boundary  # memoryless: start afresh at the new rate
                continue
            t += gap
            self.t = t
            return t if t < self.end else math.inf


class Driver(Sink):
    """Runs ``engine`` (built here, seeded with ``seed``) for the queues of ``specs``;
    ``rng`` draws the carrier's and the handle times' randomness, ``callers`` (seeded from
    ``seed``) the callers'. ``warm``/``end`` bound the
    figures. ``timeline`` keeps every segment too (for ``Simulation.observations``);
    ``record`` keeps every event fed with its effects (the replay test); with ``listen`` each
    ``listeners`` entry is called with every event fed and its effects as it happens."""

    def __init__(
        self,
        seed: int,
        start: float,
        specs: dict[QueueId, QueueSpec],
        carriers: dict[QueueId, CarrierModel],
        rng: random.Random,
        warm: float,
        end: float,
        *,
        timeline: Timeline | None = None,
        record: list[tuple[float, Event, list[Effect]]] | None = None,
        listen: bool = False,
    ) -> None:
        self.specs = specs
        self.carriers = carriers
        self.rng = rng
        # The callers (arrivals, patience, offers taken, zones, DNC) draw from a stream of their
        # own: the same callers in every run of a seed whatever the engine dials (common random
        # numbers across a sweep's rows, as the eager arrivals before issue 16 gave).
        self.callers = random.Random(seed * 7919 + 2)
        self.warm = warm
        self.end = end
        self.now = start
        self.start = start
        self.timeline = timeline
        self.record = record
        self.listen = listen
        self.listeners: list[Callable[[float, Event, list[Effect]], None]] = []
        self._events = record is not None or listen  # event objects are built for these
        self._list: ListSink | None = None
        sink: Sink = self
        if timeline is not None or record is not None or listen:
            self._list = ListSink()
            sink = TeeSink(self._list, self)
        # issue 14: calling windows in the callee's zone (R-X-2)
        self.engine = Engine(rng=random.Random(seed), sink=sink, zones=ZoneInfo)
        self.tally = Tally(
            {q: spec.settings.callback.service_level for q, spec in specs.items()}, warm, end
        )
        self.first_queue = next(iter(specs))
        self.decisions: list[tuple[float, str, bool]] = []
        self.accounted: list[CallAccounted] = []  # R-X-12, after warm-up (issue 14)
        self._zones: dict[int, str] = {}  # caller n's time zone, when the workload draws one
        self.busy: dict[QueueId, float] = dict.fromkeys(specs, 0.0)
        self.step = 300.0  # the waiting-queue bins; figures add them up to 900 s
        bins = math.ceil((end - start) / self.step)
        self.waiting: dict[QueueId, dict[MediaType, list[float]]] = {
            q: {MediaType.VOICE: [0.0] * bins, MediaType.CALLBACK: [0.0] * bins} for q in specs
        }
        # The heap: distinct times in a heap of floats (cheap to compare), and what is due at
        # each time in posting order, (sequence, what, a, b) each.
        self._times: list[float] = []
        self._due: dict[float, list[tuple[int, int, Any, Any]]] = {}
        self._now_fifo: deque[tuple[int, int, Any, Any]] = deque()
        self._seq = 0
        self._engine_moves: dict[tuple[TimerKind, str], float] = {}
        self._dialed: dict[InteractionId, int] = {}
        self._handling: dict[InteractionId, QueueId] = {}
        self._first: list[tuple[int, Any, Any, Any]] = []
        self._then: list[tuple[int, Any, Any, Any]] = []
        self._what = EVENT
        self.customers = 0
        self._arrivals: dict[QueueId, Arrivals] = {}

    # --- posting --------------------------------------------------------------------------------
    def post(self, at: float, what: int, a: Any = None, b: Any = None) -> None:
        """Do ``what`` at ``at``."""
        self._seq += 1
        entry = (self._seq, what, a, b)
        bucket = self._due.get(at)
        if bucket is None:
            self._due[at] = [entry]
            _heappush(self._times, at)
        else:
            bucket.append(entry)

    def later(self, seconds: float, what: int, a: Any, b: Any) -> None:
        """Do ``what`` ``seconds`` from now (at once: after what is already due now)."""
        if seconds == 0.0:
            self._seq += 1
            self._now_fifo.append((self._seq, what, a, b))
        else:
            self.post(self.now + seconds, what, a, b)

    def arrivals(self, queue_id: QueueId, spec: QueueSpec) -> None:
        """Start the arrivals of ``queue_id``: the first caller is drawn now, each next one when
        the one before arrives (the heap holds one future arrival per queue, not the day's)."""
        process = Arrivals(spec, self.callers, self.start, self.end)
        self._arrivals[queue_id] = process
        self._next_customer(queue_id, process)

    def _next_customer(self, queue_id: QueueId, process: Arrivals) -> None:
        at = process.next()
        if at < self.end:
            self.customer(queue_id, process.spec, at)

    def customer(self, queue_id: QueueId, spec: QueueSpec, at: float) -> None:
        """A caller joins ``queue_id`` at ``at``: their patience and whether they will take a
        callback offer are drawn now."""
        self.customers += 1
        n = self.customers
        self.post(at, ARRIVAL, n, queue_id)
        if spec.patience is not None:
            rng = self.callers
            self.post(at + draw(spec.patience, rng), GIVE_UP, cast(InteractionId, f"call-{n}"))
        offer = spec.callback_offer
        if offer is not None and self.callers.random() < offer.accept:
            if len(self.specs) > 1:  # the carrier's queue; with one queue it is that one
                self._handling[cast(InteractionId, f"cb-{n}")] = queue_id
            self.post(at + offer.after_wait_seconds, TAKE_OFFER, n, queue_id)
            zone = _zone(spec, self.callers)
            if zone is not None:
                self._zones[n] = zone
            if spec.dnc_share and self.callers.random() < spec.dnc_share:  # R-X-8: listed meanwhile
                listed = DncUpdated("sim", (_number(n),))
                self.post(at + offer.after_wait_seconds + 1, EVENT, listed)

    # --- running --------------------------------------------------------------------------------
    def run_until(self, until: float) -> None:
        """Do everything due by ``until``."""
        times, due, fifo = self._times, self._due, self._now_fifo
        while True:
            if fifo:
                if times and (
                    times[0] < self.now
                    or (times[0] == self.now and due[times[0]][0][0] < fifo[0][0])
                ):
                    at = times[0]
                    _, what, a, b = self._pop(at)
                else:
                    _, what, a, b = fifo.popleft()
                    at = self.now
            elif times and times[0] <= until:
                at = times[0]
                _, what, a, b = self._pop(at)
            else:
                break
            if what == TIMER:
                if self.engine.timer_at(a, b) != at:
                    continue  # cancelled or restarted
                if a is TimerKind.AUTO_DIAL or a is TimerKind.AUTO_END:
                    self._engine_moves.pop((a, b), None)
            if at > self.now:
                self.now = at
            if what == ARRIVAL:
                self._next_customer(b, self._arrivals[b])
            self._what = what
            try:
                self._feed(what, a, b, at)
            except DialbackError:
                # The world races like the real one (a customer already served hangs up): the
                # engine's refusal is kept out of the run.
                self._first.clear()
                self._then.clear()
                if self._list is not None:
                    self._list.take()
                continue
            if self._first or self._then:
                self._react()
        if until > self.now:
            self.now = until

    def _pop(self, at: float) -> tuple[int, int, Any, Any]:
        """The first entry due at ``at`` (the heap's first time), taken off."""
        bucket = self._due[at]
        entry = bucket[0]
        if len(bucket) == 1:
            _heappop(self._times)
            del self._due[at]
        else:
            del bucket[0]
        return entry

    def _feed(self, what: int, a: Any, b: Any, at: float) -> None:
        engine, now = self.engine, self.now
        event = self._event(what, a, b, at) if self._events else None
        if what == ACCEPT:
            engine.alert_accepted(now, a, b)
        elif what == WRAP_UP:
            engine.wrap_up_completed(now, a, b, WRAPUP_CODE)
        elif what == HANG_UP:
            engine.agent_hung_up(now, a, b)
        elif what == ARRIVAL:
            n: int = a
            engine.voice_call_queued(
                now,
                cast(InteractionId, f"call-{n}"),
                cast(ConversationId, f"c-{n}"),
                b,
                _number(n),
                at,
            )
        elif what == TIMER:
            engine.timer_fired(now, a, b, at)
        elif what == GIVE_UP:
            if self._waiting(a):
                engine.customer_hung_up(now, a)
        elif what == TAKE_OFFER:
            call = cast(InteractionId, f"call-{a}")
            if self._waiting(call):
                request = CallbackRequest(b, (_number(a),), time_zone=self._zones.pop(a, None))
                engine.callback_requested_on_call(
                    now, call, cast(InteractionId, f"cb-{a}"), request
                )
        elif what == DIAL:
            engine.agent_dialed(now, a, b)
        elif what == END_CALLBACK:
            engine.agent_ended_callback(now, a, b)
        else:
            engine.feed(a, now)
        if self._list is not None:
            effects = self._list.take()
            if self.timeline is not None:
                self.timeline.apply(effects)
            if event is not None:
                if self.record is not None:
                    self.record.append((now, event, effects))
                for listener in self.listeners:
                    listener(now, event, effects)

    def _waiting(self, interaction: InteractionId) -> bool:
        live = self.engine.interactions.get(interaction)
        return live is not None and live.state is State.WAITING and live.media is MediaType.VOICE

    def _event(self, what: int, a: Any, b: Any, at: float) -> Event | None:
        """Record mode: the event object of what is fed (None for a check that finds the
        customer gone)."""
        event: Event | None
        if what == ACCEPT:
            event = AlertAccepted(a, b)
        elif what == WRAP_UP:
            event = WrapUpCompleted(a, b, WRAPUP_CODE)
        elif what == HANG_UP:
            event = AgentHungUp(a, b)
        elif what == ARRIVAL:
            event = VoiceCallQueued(
                cast(InteractionId, f"call-{a}"),
                cast(ConversationId, f"c-{a}"),
                b,
                _number(a),
                at,
            )
        elif what == TIMER:
            event = TimerFired(TimerKey(a, b), at)
        elif what == GIVE_UP:
            event = CustomerHungUp(a) if self._waiting(a) else None
        elif what == TAKE_OFFER:
            call = cast(InteractionId, f"call-{a}")
            request = CallbackRequest(b, (_number(a),), time_zone=self._zones.get(a))
            cb = cast(InteractionId, f"cb-{a}")
            event = CallbackRequestedOnCall(call, cb, request) if self._waiting(call) else None
        elif what == DIAL:
            event = AgentDialed(a, b)
        elif what == END_CALLBACK:
            event = AgentEndedCallback(a, b)
        else:
            event = a
        return event

    # --- reacting after each engine call (VirtualClock's listeners' order) -----------------------
    def _react(self) -> None:
        first, then = self._first, self._then  # nothing below reaches the sink
        for kind, a, b, _ in first:
            if kind == _CARRIER:
                self._carrier(a)
            else:
                self._patience(a, b)
        for kind, a, b, c in then:
            if kind == _OFFERED:
                self.later(0.0, ACCEPT, a, b)
            elif kind == _CONNECTED:
                self.later(self._talk_seconds(a), HANG_UP, b, a)
            elif kind == _CHANGED:
                self._changed(a, b, c)
            elif kind == _AGENT_DIALED:
                self._dialed[a] = b
            else:
                self._heard(a, b, c)
        first.clear()
        then.clear()

    def _carrier(self, call: PlaceCall) -> None:
        queue = self._handling.get(call.interaction_id, self.first_queue)
        for after, report in self.carriers[queue].dial(call).reports(call.dial_id):
            self.later(after, EVENT, report, None)

    def _patience(self, interaction_id: InteractionId, queue_id: QueueId) -> None:
        """An answered customer-first callback waits for an agent; the customer may give up."""
        live = self.engine.interactions.get(interaction_id)
        spec = self.specs[queue_id]
        if live is not None and live.converted and spec.patience is not None:
            self.post(self.now + draw(spec.patience, self.rng), GIVE_UP, live.id)

    def _talk_seconds(self, interaction_id: InteractionId) -> float:
        live = self.engine.interactions.get(interaction_id)
        queue = live.queue_id if live is not None else self.first_queue
        return draw(self.specs[queue].handle, self.rng)

    def _move(self, callback: InteractionId, what: int, agent: AgentId) -> None:
        """Dial or end ``callback`` after ``REDIAL_SECONDS``, unless the engine has said it will
        dial or end it by then (its move comes first; ours would be refused)."""
        due = self.now + REDIAL_SECONDS
        for kind in ENGINE_MOVES:
            at = self._engine_moves.get((kind, callback))
            if at is not None and at <= due:
                return
        self.later(REDIAL_SECONDS, what, agent, callback)

    def _heard(self, callback: InteractionId, agent: AgentId, outcome: Outcome) -> None:
        """Agent-first: talk on live voice; otherwise try the next number, or give up."""
        if outcome is Outcome.LIVE_VOICE:
            self.later(self._talk_seconds(callback), HANG_UP, agent, callback)
            return
        live = self.engine.interactions.get(callback)
        numbers = len(live.request.numbers) if live is not None and live.request else 1
        if self._dialed.get(callback, 0) < numbers:
            self._move(callback, DIAL, agent)
        else:
            self._move(callback, END_CALLBACK, agent)

    def _changed(self, interaction_id: InteractionId, state: State, agent: AgentId | None) -> None:
        if state is State.ENDED:
            self._dialed.pop(interaction_id, None)
            for kind in ENGINE_MOVES:
                self._engine_moves.pop((kind, interaction_id), None)
        elif state is State.ACW:
            self.later(0.0, WRAP_UP, agent, interaction_id)
        elif agent is not None:  # a callback connected to its agent (R-AF-2)
            if self._what == ACCEPT:
                self._move(interaction_id, DIAL, agent)
            elif self._what == HANG_UP or self._what == GIVE_UP:
                self._move(interaction_id, END_CALLBACK, agent)

    # --- the sink -------------------------------------------------------------------------------
    def start_timer(self, kind: TimerKind, subject: str, at: float) -> None:
        # A cancelled timer stays on the heap; when it comes up the engine says it is not
        # running any more (Engine.timer_at) and it is skipped.
        self.post(at, TIMER, kind, subject)
        if kind is TimerKind.AUTO_DIAL or kind is TimerKind.AUTO_END:
            self._engine_moves[(kind, subject)] = at

    def cancel_timer(self, kind: TimerKind, subject: str) -> None:
        if kind is TimerKind.AUTO_DIAL or kind is TimerKind.AUTO_END:
            self._engine_moves.pop((kind, subject), None)

    def offer_to_agent(
        self,
        agent_id: AgentId,
        interaction_id: InteractionId,
        media: MediaType,
        timeout_at: float,
        script_id: str | None,
    ) -> None:
        self._then.append((_OFFERED, agent_id, interaction_id, None))

    def place_call(self, call: PlaceCall) -> None:
        self._first.append((_CARRIER, call, None, None))
        if call.agent_id is not None:
            self._then.append((_AGENT_DIALED, call.interaction_id, call.attempt, None))

    def connect_to_agent(
        self, interaction_id: InteractionId, agent_id: AgentId, address: str | None
    ) -> None:
        self._then.append((_CONNECTED, interaction_id, agent_id, None))

    def record_pacing_decision(self, decision: PacingDecision) -> None:
        if self.now >= self.warm:
            self.decisions.append((self.now, decision.queue_id, decision.dialed))

    def call_accounted(self, record: CallAccounted) -> None:
        if self.warm <= self.now < self.end:
            self.accounted.append(record)

    def dial_resolved(
        self,
        dial_id: DialId,
        interaction_id: InteractionId,
        agent_id: AgentId | None,
        result: DialResult,
    ) -> None:
        if agent_id is not None:
            self._then.append((_HEARD, interaction_id, agent_id, result.outcome))

    def interaction_changed(
        self,
        interaction_id: InteractionId,
        conversation_id: ConversationId,
        queue_id: QueueId,
        media: MediaType,
        state: State,
        agent_id: AgentId | None,
        outcome: Outcome | None,
        end_reason: EndReason | None,
        wrapup_code: str | None,
    ) -> None:
        if state is State.WAITING:
            # Only an answered customer-first callback gets a new patience (a converted one
            # stays converted, so looking now is looking after the event).
            if media is MediaType.VOICE and self._converted(interaction_id):
                self._first.append((_PATIENCE, interaction_id, queue_id, None))
        elif state is State.ENDED:
            if self._dialed or self._engine_moves:
                self._then.append((_CHANGED, interaction_id, state, None))
        elif state is State.ACW:
            if agent_id is not None:
                self._then.append((_CHANGED, interaction_id, state, agent_id))
        elif state is State.CONNECTED and media is MediaType.CALLBACK and agent_id:
            self._then.append((_CHANGED, interaction_id, state, agent_id))

    def _converted(self, interaction_id: InteractionId) -> bool:
        live = self.engine.interactions.get(interaction_id)
        return live is not None and live.converted

    def segment_opened(self, segment: OpenSegment) -> None:
        self.tally.opened(segment)

    def segment_closed(
        self,
        segment: OpenSegment,
        end: float,
        how: HowEnded | None,
        details: dict[str, Any] | None,
    ) -> None:
        self.tally.closed(segment, end, how, details)
        purpose = segment.purpose
        if purpose is Purpose.AGENT:
            if segment.type is not SegmentType.CALLBACK:
                self._busy(segment, end)
        elif purpose is Purpose.ACD and segment.type is SegmentType.INTERACT:
            self._waited(segment, end)

    def _busy(self, segment: OpenSegment, end: float) -> None:
        """Agent time busy with interactions (alerting to wrap-up), after warm-up."""
        busy = min(end, self.end) - max(segment.start, self.warm)
        if busy > 0.0:
            self.busy[segment.queue_id] = self.busy.get(segment.queue_id, 0.0) + busy

    def _waited(self, segment: OpenSegment, end: float) -> None:
        """Spread an ACD interact segment over the waiting-queue bins of its medium."""
        step, origin = self.step, self.start
        into = self.waiting[segment.queue_id][
            MediaType.VOICE if segment.media is MediaType.VOICE else MediaType.CALLBACK
        ]
        start, stop = segment.start - origin, min(end, self.end) - origin
        for b in range(int(start // step), min(len(into), math.ceil(stop / step))):
            overlap = min(stop, (b + 1) * step) - max(start, b * step)
            if overlap > 0.0:
                into[b] += overlap / step

    def still_open(self) -> None:
        """At the end of the run: count the segments still open up to the end (agent time
        and waiting), as the timeline's figures do. Call once."""
        for interaction in self.engine.interactions.values():
            for segment in interaction.open.values():
                self.segment_open_at_end(segment)
        for agent in self.engine.agents.values():
            for segment in agent.acw.values():
                self.segment_open_at_end(segment)

    def segment_open_at_end(self, segment: OpenSegment) -> None:
        if segment.purpose is Purpose.AGENT:
            if segment.type is not SegmentType.CALLBACK:
                self._busy(segment, self.end)
        elif segment.purpose is Purpose.ACD and segment.type is SegmentType.INTERACT:
            self._waited(segment, self.end)
