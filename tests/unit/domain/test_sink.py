"""The engine's sink (issue 16): ``ListSink`` makes today's effect objects, ``TeeSink`` passes
every call to two sinks, and the base ``Sink`` ignores everything."""

from __future__ import annotations

import random

from dialback.domain.effects import (
    CancelCall,
    CancelTimer,
    ConnectToAgent,
    Effect,
    HangUpCustomer,
    OfferToAgent,
    PlaceCall,
    RecordPacingDecision,
    RevokeOffer,
    StartTimer,
    TransferToFlow,
)
from dialback.domain.engine import Engine
from dialback.domain.events import (
    AgentJoinedQueue,
    AgentRegistered,
    QueueConfigured,
    TimerKey,
    TimerKind,
)
from dialback.domain.facts import AgentStatusChanged, DialResolved, InteractionChanged
from dialback.domain.model import (
    AgentId,
    ConversationId,
    DialId,
    DialResult,
    InteractionId,
    MediaType,
    Outcome,
    Presence,
    QueueId,
    RoutingStatus,
    State,
)
from dialback.domain.pacing import PacingDecision, Reason
from dialback.domain.settings import PacingTrigger, QueueSettings
from dialback.domain.sink import ListSink, OpenSegment, Sink, TeeSink
from dialback.domain.timeline import HowEnded, Purpose, SegmentClosed, SegmentOpened, SegmentType

A, CB, Q = AgentId("a1"), InteractionId("cb1"), QueueId("q1")
DIAL = DialId("cb1#1")


def every_call(sink: Sink) -> None:
    """One call of each of the sink's methods."""
    segment = OpenSegment(
        ConversationId("c1"),
        CB,
        Purpose.DIALER,
        MediaType.VOICE,
        SegmentType.DIALING,
        5.0,
        Q,
        True,
        None,
    )
    decision = PacingDecision(
        1, 5.0, Q, CB, 3, 1, 0, 1.5, 1.5, 0.25, 2, PacingTrigger.IDLE, Reason.DIALED
    )
    sink.start_timer(TimerKind.PACING_TICK, Q, 10.0)
    sink.cancel_timer(TimerKind.PACING_TICK, Q)
    sink.offer_to_agent(A, CB, MediaType.CALLBACK, 30.0, None)
    sink.revoke_offer(A, CB, True)
    sink.place_call(PlaceCall(DIAL, CB, "+14155550100", None, None, None, 1))
    sink.cancel_call(DIAL)
    sink.connect_to_agent(CB, A, "sip:a1@phone")
    sink.transfer_to_flow(CB, "survey")
    sink.hang_up_customer(CB)
    sink.record_pacing_decision(decision)
    sink.dial_resolved(DIAL, CB, None, DialResult(Outcome.BUSY))
    sink.agent_status_changed(A, RoutingStatus.IDLE)
    sink.interaction_changed(
        CB, ConversationId("c1"), Q, MediaType.VOICE, State.ENDED, A, None, None, "ok"
    )
    sink.emit(HangUpCustomer(InteractionId("other")))
    sink.segment_opened(segment)
    sink.segment_closed(
        segment, 9.0, HowEnded.DIAL_ENDED, {"outcome": Outcome.BUSY, "sip_code": 486}
    )


def test_a_list_sink_makes_the_effect_objects_in_order() -> None:
    sink = ListSink()
    every_call(sink)
    effects = sink.take()
    assert [type(e) for e in effects] == [
        StartTimer,
        CancelTimer,
        OfferToAgent,
        RevokeOffer,
        PlaceCall,
        CancelCall,
        ConnectToAgent,
        TransferToFlow,
        HangUpCustomer,
        RecordPacingDecision,
        DialResolved,
        AgentStatusChanged,
        InteractionChanged,
        HangUpCustomer,
        SegmentOpened,
        SegmentClosed,
    ]
    assert effects[0] == StartTimer(TimerKey(TimerKind.PACING_TICK, Q), 10.0)
    opened, closed = effects[-2], effects[-1]
    assert isinstance(opened, SegmentOpened) and isinstance(closed, SegmentClosed)
    assert closed.segment == opened.segment.closed(
        9.0, HowEnded.DIAL_ENDED, outcome=Outcome.BUSY, sip_code=486
    )
    assert sink.take() == []


def test_a_tee_passes_every_call_to_both_sinks_and_takes_the_first() -> None:
    first, second = ListSink(), ListSink()
    tee = TeeSink(first, second)
    every_call(tee)
    seconds: list[Effect] = second.take()
    assert len(seconds) == 16
    assert tee.take() == seconds  # the first sink's, the same effects


def test_the_base_sink_keeps_nothing() -> None:
    sink = Sink()
    every_call(sink)
    assert sink.take() == []


def test_rules_off_the_hot_path_may_still_emit_objects_and_wrap_agent_changes() -> None:
    """``Core.emit`` and ``Core.changing`` stay for rules written against them."""
    engine = Engine(rng=random.Random(1))
    engine.handle(AgentRegistered(A), 0.0)
    engine.handle(QueueConfigured(Q, QueueSettings()), 0.0)
    engine.handle(AgentJoinedQueue(A, Q), 0.0)
    agent = engine.agents[A]
    with engine.changing(agent):
        agent.presence = Presence.ON_QUEUE
    engine.emit(HangUpCustomer(CB))
    assert engine.sink.take() == [AgentStatusChanged(A, RoutingStatus.IDLE), HangUpCustomer(CB)]
    assert engine.queues[Q].idle == 1 and A in engine.queues[Q].pool
