"""Properties of the engine under random sequences of events (Hypothesis), and replay.

After every step: no callback is lost; no agent holds more than its capacity; no two dials of
one callback overlap (R-CF-9); outstanding customer-first dials never exceed the cap drawn at the
last dispatch; the queue order obeys R-O-1 and no routable agent idles while work waits; and
an event refused with an error changes nothing.
"""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from dialback.domain.effects import CancelCall, Effect, PlaceCall
from dialback.domain.errors import DialbackError
from dialback.domain.events import (
    AgentDialed,
    AgentEndedCallback,
    AgentHungUp,
    AgentJoinedQueue,
    AgentPresenceChanged,
    AgentRegistered,
    AgentWentIdle,
    AlertAccepted,
    CallbackDisconnected,
    CallbackRescheduled,
    CustomerHungUp,
    DialCompleted,
    Event,
    QueueConfigured,
    VoiceCallQueued,
    WrapUpCompleted,
)
from dialback.domain.facts import DialResolved, InteractionChanged
from dialback.domain.metrics import observations, totals
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
    Presence,
    QueueId,
    RoutingStatus,
    State,
)
from dialback.domain.settings import parse_queue
from dialback.domain.timeline import Timeline

from .harness import World

AF, CF = QueueId("af"), QueueId("cf")
LIVE_STATES = {
    State.SCHEDULED,
    State.WAITING,
    State.ALERTING,
    State.DIALING,
    State.CONNECTED,
    State.ACW,
}


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.w = World(seed=3)
        self.callbacks: set[InteractionId] = set()
        self.ended: dict[InteractionId, InteractionChanged] = {}
        self.in_flight: dict[DialId, InteractionId] = {}
        self.n = 0
        # Queue visits counted from state changes alone, to check the segment metrics against.
        self.last_seen: dict[InteractionId, InteractionChanged] = {}
        self.in_visit: set[InteractionId] = set()
        self.visits: Counter[str] = Counter()

    def send(self, event: Event) -> list[Effect]:
        before = self.snapshot()
        try:
            effects = self.w.send(event)
        except DialbackError:
            assert self.snapshot() == before, "a refused event changed the state"
            return []
        self.track(effects)
        return effects

    def track(self, effects: list[Effect]) -> None:
        for e in effects:
            if isinstance(e, PlaceCall):
                assert e.interaction_id not in self.in_flight.values(), "R-CF-9: overlapping dials"
                self.in_flight[e.dial_id] = e.interaction_id
            elif isinstance(e, DialResolved | CancelCall):
                self.in_flight.pop(e.dial_id)
            elif isinstance(e, InteractionChanged):
                self.count_visits(e)
                if e.state is State.ENDED:
                    assert e.end_reason is not None
                    self.ended[e.interaction_id] = e

    def count_visits(self, e: InteractionChanged) -> None:
        """Offered, answered, abandoned and flowed out, from the state changes only."""
        before = self.last_seen.get(e.interaction_id)
        self.last_seen[e.interaction_id] = e
        visiting = e.interaction_id in self.in_visit
        converted = (
            before is not None and before.media is MediaType.CALLBACK and e.media is MediaType.VOICE
        )
        if converted and visiting:
            self.close_visit(e, "flowed")
            visiting = False
        if not visiting:
            if e.state is State.WAITING or (converted and e.state is State.CONNECTED):
                self.visits["offered"] += 1
                self.in_visit.add(e.interaction_id)
                if e.state is State.CONNECTED:  # straight to a reserved agent
                    self.close_visit(e, "answered")
            return
        assert before is not None
        if e.state is State.CONNECTED and before.state is State.ALERTING:
            self.close_visit(e, "answered")
        elif e.state is State.ENDED:
            flowed = e.end_reason in (EndReason.FLOW_OUT, EndReason.ANSWERED_ELSEWHERE)
            self.close_visit(e, "flowed" if flowed else "abandoned")
        elif e.state is State.SCHEDULED and before.state is not State.DIALING:
            self.close_visit(e, "flowed")  # rescheduled (a retry stays in the visit)

    def close_visit(self, e: InteractionChanged, how: str) -> None:
        self.visits[how] += 1
        self.in_visit.discard(e.interaction_id)

    def snapshot(self) -> Any:
        engine = self.w.engine
        return (
            sorted(
                (i.id, i.state, i.agent_id, i.key, i.media) for i in engine.interactions.values()
            ),
            sorted((a.id, a.load, a.status) for a in engine.agents.values()),
            sorted(
                (q.id, q.outstanding, q.on_queue, q.idle, len(q.waiting), len(q.undialed))
                for q in engine.queues.values()
            ),
        )

    def next_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    @initialize(
        modifier=st.sampled_from([1, 2.5, 5, 10]),
        trigger=st.sampled_from(["Idle", "Pace"]),
        delivery=st.sampled_from(["NoAgentReservation", "UseAgentReservation"]),
        retries=st.integers(0, 2),
        auto=st.booleans(),
    )
    def queues(
        self, modifier: float, trigger: str, delivery: str, retries: int, auto: bool
    ) -> None:
        owned = {
            "enableAgentOwnedCallbacks": True,
            "maxOwnedCallbackHours": 1,
            "assignToQueueOnOwnershipExpiry": auto,
        }
        af = parse_queue(
            {
                "agentOwnedRouting": owned,
                "mediaSettings": {
                    "callback": {
                        "enableAutoDialAndEnd": auto,
                        "autoDialDelaySeconds": 30,
                        "autoEndDelaySeconds": 30,
                    }
                },
            }
        )
        cf = parse_queue(
            {
                "callingPartyNumber": "+14155550199",
                "agentOwnedRouting": owned,
                "mediaSettings": {
                    "callback": {
                        "mode": "CustomerFirst",
                        "pacingModifier": modifier,
                        "pacingTrigger": trigger,
                        "customerFirstDeliveryMode": delivery,
                        "maxRetryCount": retries,
                        "retryDelaySeconds": 60,
                    }
                },
            }
        )
        self.send(QueueConfigured(AF, af))
        self.send(QueueConfigured(CF, cf))

    # --- agents ---------------------------------------------------------------------------------
    @precondition(lambda self: len(self.w.engine.agents) < 5)
    @rule(capacity=st.integers(1, 2), queues=st.sampled_from([(AF,), (CF,), (AF, CF)]))
    def add_agent(self, capacity: int, queues: tuple[QueueId, ...]) -> None:
        agent = AgentId(self.next_id("a"))
        self.send(AgentRegistered(agent, capacity))
        for queue in queues:
            self.send(AgentJoinedQueue(agent, queue))
        self.send(AgentPresenceChanged(agent, Presence.ON_QUEUE))

    def pick(self, data: st.DataObject, items: list[Any]) -> Any:
        return data.draw(st.sampled_from(sorted(items)))

    @precondition(lambda self: self.w.engine.agents)
    @rule(data=st.data(), on=st.booleans())
    def presence(self, data: st.DataObject, on: bool) -> None:
        agent = self.pick(data, list(self.w.engine.agents))
        self.send(AgentPresenceChanged(agent, Presence.ON_QUEUE if on else Presence.OFF_QUEUE))

    @precondition(lambda self: self.w.engine.agents)
    @rule(data=st.data())
    def went_idle(self, data: st.DataObject) -> None:
        self.send(AgentWentIdle(self.pick(data, list(self.w.engine.agents))))

    # --- interactions arriving ------------------------------------------------------------------
    @rule(
        queue=st.sampled_from([AF, CF]),
        later=st.sampled_from([None, 120.0, 4000.0]),
        priority=st.integers(0, 2),
        owned=st.booleans(),
        numbers=st.integers(1, 2),
    )
    def callback(
        self, queue: QueueId, later: float | None, priority: int, owned: bool, numbers: int
    ) -> None:
        agents = sorted(self.w.engine.agents)
        owner = agents[0] if owned and agents else None
        callback = InteractionId(self.next_id("cb"))
        when = self.w.now + later if later else None
        phones = tuple(f"+1415555{n:04d}" for n in range(numbers))
        request = CallbackRequest(queue, phones, when, priority, owner=owner)
        from dialback.domain.events import CallbackRequested

        self.callbacks.add(callback)
        self.send(CallbackRequested(callback, ConversationId(f"c-{callback}"), request))

    @rule(queue=st.sampled_from([AF, CF]), priority=st.integers(0, 2))
    def voice_call(self, queue: QueueId, priority: int) -> None:
        call = InteractionId(self.next_id("v"))
        self.send(
            VoiceCallQueued(
                call, ConversationId(f"c-{call}"), queue, "+14155550111", self.w.now, priority
            )
        )

    # --- agents working -------------------------------------------------------------------------
    def held(self, *states: State) -> list[tuple[AgentId, InteractionId]]:
        return [
            (agent.id, interaction)
            for agent in self.w.engine.agents.values()
            for interaction, state in agent.work.items()
            if state in states
        ]

    @rule(data=st.data())
    def accept(self, data: st.DataObject) -> None:
        alerts = self.held(State.ALERTING)
        if alerts:
            self.send(AlertAccepted(*self.pick(data, alerts)))

    @rule(data=st.data())
    def agent_dials(self, data: st.DataObject) -> None:
        held = self.held(State.CONNECTED)
        if held:
            self.send(AgentDialed(*self.pick(data, held)))

    @rule(data=st.data(), outcome=st.sampled_from(list(Outcome)))
    def dial_completes(self, data: st.DataObject, outcome: Outcome) -> None:
        if self.in_flight:
            dial = self.pick(data, list(self.in_flight))
            self.send(
                DialCompleted(
                    dial, DialResult(outcome, 200 if outcome is Outcome.LIVE_VOICE else 486)
                )
            )

    @rule(data=st.data())
    def customer_hangs_up(self, data: st.DataObject) -> None:
        voice = [
            i.id
            for i in self.w.engine.interactions.values()
            if i.media is MediaType.VOICE or i.on_call
        ]
        if voice:
            self.send(CustomerHungUp(self.pick(data, voice)))

    @rule(data=st.data())
    def agent_hangs_up(self, data: st.DataObject) -> None:
        held = self.held(State.CONNECTED)
        if held:
            self.send(AgentHungUp(*self.pick(data, held)))

    @rule(data=st.data())
    def agent_ends_callback(self, data: st.DataObject) -> None:
        held = self.held(State.CONNECTED)
        if held:
            self.send(AgentEndedCallback(*self.pick(data, held)))

    @rule(data=st.data())
    def wrap_up(self, data: st.DataObject) -> None:
        acw = [(a.id, i) for a in self.w.engine.agents.values() for i in a.acw]
        if acw:
            agent, interaction = self.pick(data, acw)
            self.send(WrapUpCompleted(agent, interaction, "done"))

    # --- changes through the API, and time ------------------------------------------------------
    @rule(data=st.data(), later=st.sampled_from([0.0, 300.0]), by_agent=st.booleans())
    def reschedule(self, data: st.DataObject, later: float, by_agent: bool) -> None:
        live = [c for c in self.callbacks if c in self.w.engine.interactions]
        if live:
            callback = self.pick(data, live)
            agent = self.w.engine.interactions[callback].agent_id if by_agent else None
            self.send(
                CallbackRescheduled(callback, scheduled_time=self.w.now + later, by_agent=agent)
            )

    @rule(data=st.data())
    def disconnect(self, data: st.DataObject) -> None:
        live = [c for c in self.callbacks if c in self.w.engine.interactions]
        if live:
            self.send(CallbackDisconnected(self.pick(data, live)))

    @rule(seconds=st.sampled_from([1.0, 10.0, 40.0, 90.0, 700.0, 4000.0]))
    def time_passes(self, seconds: float) -> None:
        mark = len(self.w.log)
        self.w.advance(seconds)
        self.track(self.w.log[mark:])

    # --- invariants -----------------------------------------------------------------------------
    @invariant()
    def no_callback_is_lost(self) -> None:
        engine = self.w.engine
        for callback in self.callbacks:
            live = engine.interactions.get(callback)
            if live is None:
                assert callback in self.ended, f"{callback} vanished without an outcome"
            else:
                assert live.state in LIVE_STATES and callback not in self.ended

    @invariant()
    def agents_within_capacity_and_holdings_agree(self) -> None:
        engine = self.w.engine
        for agent in engine.agents.values():
            assert agent.load <= agent.capacity
            for interaction_id, state in agent.work.items():
                interaction = engine.interactions[interaction_id]
                assert interaction.agent_id == agent.id
                assert state is State.ALERTING or interaction.state in (
                    State.CONNECTED,
                    State.DIALING,
                )
        for interaction in engine.interactions.values():
            if interaction.state in (State.ALERTING, State.CONNECTED) and interaction.agent_id:
                assert interaction.id in engine.agents[interaction.agent_id].work

    @invariant()
    def dials_never_overlap_and_match_the_outstanding_count(self) -> None:
        engine = self.w.engine
        assert sorted(engine.dials) == sorted(self.in_flight)
        per_queue = Counter(
            engine.interactions[i].queue_id
            for i in self.in_flight.values()
            if not engine.interactions[i].dial_by_agent
        )
        for queue in engine.queues.values():
            assert queue.outstanding == per_queue[queue.id]
            assert queue.outstanding <= queue.last_cap  # the cap drawn at the last dispatch

    @invariant()
    def segment_metrics_equal_the_counters_and_segments_are_well_formed(self) -> None:
        timeline = Timeline()
        timeline.apply(self.w.log)
        found = totals(o for c in timeline.conversations.values() for o in observations(c))

        def count(name: str) -> int:
            return found[name].count if name in found else 0

        v = self.visits
        assert v["offered"] == v["answered"] + v["abandoned"] + v["flowed"] + len(self.in_visit)
        assert count("nOffered") == v["offered"]
        assert count("tAnswered") == v["answered"]
        assert count("tAbandon") == v["abandoned"]
        assert count("tFlowOut") == v["flowed"]
        dials = sum(1 for e in self.w.log if isinstance(e, PlaceCall))
        assert count("nCallbackAttempts") == dials
        for conversation in timeline.conversations.values():
            for communication in conversation.communications.values():
                segments = communication.segments
                assert all(s.end is not None for s in segments[:-1]), "an open segment not last"
                for a, b in itertools.pairwise(segments):
                    assert a.end is not None and a.end <= b.start, "segments overlap"
                    if a.how_ended is None:
                        assert b.start == a.end, f"a gap in an active {communication.purpose}"

    @invariant()
    def queue_order_and_no_idle_agent_while_work_waits(self) -> None:
        engine = self.w.engine
        for queue in engine.queues.values():
            waiting = [
                i
                for i in engine.interactions.values()
                if i.queue_id == queue.id and i.state is State.WAITING and not i.owned_pending
            ]
            expected = {
                i.id
                for i in waiting
                if not (i.media is MediaType.CALLBACK and queue.settings.customer_first)
            }
            assert set(queue.waiting) == expected
            head = queue.waiting.peek()
            if head is not None:
                assert head[1] == min(engine.interactions[i].key for i in expected)  # type: ignore[type-var]
                # a routable agent idles only beside the interaction it is still wrapping up
                idle = [engine.agents[a] for a in queue.pool]
                assert all(head[0] in a.acw for a in idle), (
                    "a routable agent idles while work waits"
                )
            statuses = [engine.agents[a].status for a in queue.members]
            assert queue.idle == statuses.count(RoutingStatus.IDLE)
            assert queue.on_queue == len(statuses) - statuses.count(RoutingStatus.OFF_QUEUE)


EngineMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=50, deadline=None)
test_engine_state_machine = EngineMachine.TestCase
