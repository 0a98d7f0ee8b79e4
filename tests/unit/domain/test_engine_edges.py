"""Engine behaviour at the edges: membership and mode changes, refusals, stale timers."""

from __future__ import annotations

import pytest

from dialback.domain.effects import CancelCall, OfferToAgent
from dialback.domain.errors import (
    AgentNotHandling,
    DuplicateId,
    InteractionEnded,
    InvalidInput,
    UnknownAgent,
    UnknownInteraction,
)
from dialback.domain.events import (
    AgentDialed,
    AgentEndedCallback,
    AgentJoinedQueue,
    AgentLeftQueue,
    AgentRegistered,
    AlertAccepted,
    CallAnsweredElsewhere,
    CallbackDisconnected,
    QueueConfigured,
    TimerFired,
    TimerKey,
    TimerKind,
    VoiceCallQueued,
    WrapUpCompleted,
)
from dialback.domain.model import AgentId, ConversationId, EndReason, InteractionId, QueueId, State
from dialback.domain.settings import parse_queue

from .harness import Q, World

CUSTOMER_FIRST = {
    "callingPartyNumber": "+14155550199",
    "mediaSettings": {"callback": {"mode": "CustomerFirst"}},
}


def test_switching_a_queue_to_customer_first_hands_its_waiting_callbacks_to_the_dialer() -> None:
    w = World()
    w.queue()
    w.callback("first")
    w.callback("second")
    assert w.dials() == []
    w.agents(1)  # takes "first" as an agent-first callback
    w.send(QueueConfigured(Q, parse_queue(CUSTOMER_FIRST)))
    assert [d.interaction_id for d in w.dials()] == []  # the only agent is busy (Idle trigger)
    w.send(
        QueueConfigured(
            Q,
            parse_queue(
                {
                    **CUSTOMER_FIRST,
                    "mediaSettings": {
                        "callback": {"mode": "CustomerFirst", "pacingTrigger": "Pace"}
                    },
                }
            ),
        )
    )
    assert [d.interaction_id for d in w.dials()] == ["second"]


def test_switching_back_to_agent_first_offers_undialed_callbacks_to_agents() -> None:
    w = World()
    w.queue({"mediaSettings": {"callback": {"mode": "CustomerFirst"}}})  # no caller ID: no dials
    w.agents(1)
    cb = w.callback("cb1")
    assert w.of(OfferToAgent) == []
    w.send(QueueConfigured(Q, parse_queue({})))
    assert w.of(OfferToAgent)[-1].interaction_id == cb


def test_registering_twice_or_with_no_capacity_is_refused() -> None:
    w = World()
    w.send(AgentRegistered(AgentId("a")))
    with pytest.raises(DuplicateId):
        w.send(AgentRegistered(AgentId("a")))
    with pytest.raises(InvalidInput):
        w.send(AgentRegistered(AgentId("b"), capacity=0))
    with pytest.raises(UnknownAgent):
        w.send(AgentJoinedQueue(AgentId("ghost"), Q))


def test_joining_twice_changes_nothing_and_leaving_stops_routing() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    assert w.send(AgentJoinedQueue(a1, Q)) == []
    w.send(AgentLeftQueue(a1, Q))
    assert w.engine.queues[Q].on_queue == 0
    w.callback("cb1")
    assert w.of(OfferToAgent) == []
    assert w.send(AgentLeftQueue(a1, Q)) == []
    w.send(AgentJoinedQueue(a1, Q))
    assert w.of(OfferToAgent)[-1].agent_id == a1


def test_voice_call_ids_are_unique_and_only_queued_pbx_calls_are_answered_elsewhere() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    call = InteractionId("v1")
    w.send(VoiceCallQueued(call, ConversationId("c"), Q, "+14155550111", w.now))
    with pytest.raises(DuplicateId):
        w.send(VoiceCallQueued(call, ConversationId("c"), Q, "+14155550111", w.now))
    w.send(AlertAccepted(a1, call))
    with pytest.raises(InteractionEnded):
        w.send(CallAnsweredElsewhere(call))
    with pytest.raises(AgentNotHandling):
        w.send(AgentEndedCallback(a1, call))  # a voice call is hung up, not ended
    with pytest.raises(AgentNotHandling):
        w.send(AgentDialed(a1, call))


def test_a_pbx_call_answered_elsewhere_while_alerting_frees_the_agent() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    call = InteractionId("v1")
    w.send(VoiceCallQueued(call, ConversationId("c"), Q, "+14155550111", w.now))
    w.send(CallAnsweredElsewhere(call))
    assert w.last(call).end_reason is EndReason.ANSWERED_ELSEWHERE
    assert w.engine.agents[a1].load == 0


def test_cancelling_an_agent_first_dial_sends_the_agent_to_acw() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    w.send(AlertAccepted(a1, cb))
    (dial,) = w.dials(w.send(AgentDialed(a1, cb)))
    effects = w.send(CallbackDisconnected(cb))
    assert CancelCall(dial.dial_id) in effects
    assert w.last(cb).end_reason is EndReason.CANCELLED
    assert cb in w.engine.agents[a1].acw
    w.send(WrapUpCompleted(a1, cb, "x"))
    assert w.engine.agents[a1].load == 0


def test_a_voice_call_is_not_a_callback_for_the_callback_api() -> None:
    w = World()
    w.queue()
    call = InteractionId("v1")
    w.send(VoiceCallQueued(call, ConversationId("c"), Q, "+14155550111", w.now))
    with pytest.raises(UnknownInteraction):
        w.send(CallbackDisconnected(call))


def test_a_late_timer_changes_nothing() -> None:
    w = World()
    w.queue()
    w.callback("cb1", scheduled_time=w.now + 600)
    key = TimerKey(TimerKind.CALLBACK_DUE, "cb1")
    assert w.send(TimerFired(key, w.now + 1)) == []  # not the time it was started for
    assert w.last("cb1").state is State.SCHEDULED
    assert w.send(TimerFired(TimerKey(TimerKind.PACING_TICK, "q1"), w.now)) == []


def test_an_owned_callback_for_an_unknown_owner_is_refused() -> None:
    w = World()
    w.queue()
    with pytest.raises(UnknownAgent):
        w.callback("cb1", owner=AgentId("ghost"))
    assert "cb1" not in w.engine.interactions


def test_queues_are_independent() -> None:
    w = World()
    w.queue()
    w.queue(queue_id=QueueId("q2"))
    (a1,) = w.agents(1, queue_id=QueueId("q2"))
    w.callback("cb1")
    assert w.of(OfferToAgent) == []
    w.callback("cb2", queue_id=QueueId("q2"))
    assert w.of(OfferToAgent)[-1].interaction_id == "cb2"
