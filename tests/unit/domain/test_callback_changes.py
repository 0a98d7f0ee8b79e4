"""Changing callbacks (R-C-5), keep my place (R-C-6) and where callbacks enter (R-O-2, R-O-3)."""

from __future__ import annotations

import pytest

from dialback.domain.effects import OfferToAgent, RevokeOffer
from dialback.domain.errors import (
    AgentNotHandling,
    CallbackAlreadyConnected,
    DuplicateId,
    InteractionEnded,
    UnknownAgent,
    UnknownInteraction,
    UnknownQueue,
)
from dialback.domain.events import (
    AgentDialed,
    AgentJoinedQueue,
    AgentPresenceChanged,
    AlertAccepted,
    CallAnsweredElsewhere,
    CallbackDisconnected,
    CallbackRequestedOnCall,
    CallbackRescheduled,
    CustomerHungUp,
    VoiceCallQueued,
    WrapUpCompleted,
)
from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    ConversationId,
    EndReason,
    InteractionId,
    MediaType,
    Outcome,
    Presence,
    QueueId,
    State,
)

from .harness import Q, World


def order_of_offers(world: World) -> list[str]:
    return [o.interaction_id for o in world.of(OfferToAgent)]


def idle_world(agents: int = 1) -> tuple[World, list[AgentId]]:
    w = World()
    w.queue()
    made = w.agents(agents)
    for agent in made:
        w.send(AgentPresenceChanged(agent, Presence.OFF_QUEUE))
    return w, made


def test_r_c_5_reschedule_moves_the_time_and_keeps_caller_id() -> None:
    w, (a1,) = idle_world()
    cb = w.callback("cb1", caller_id="+14155550123", caller_id_name="Ada Ltd")
    w.send(CallbackRescheduled(cb, scheduled_time=w.now + 900))
    assert w.last(cb).state is State.SCHEDULED
    request = w.engine.interactions[cb].request
    assert request is not None
    assert (request.caller_id, request.caller_id_name) == ("+14155550123", "Ada Ltd")
    w.send(AgentPresenceChanged(a1, Presence.ON_QUEUE))
    assert order_of_offers(w) == []
    w.advance(901)
    assert order_of_offers(w) == [cb]


def test_r_c_5_reschedule_to_another_queue_and_owner() -> None:
    w, (a1,) = idle_world()
    w.queue({"agentOwnedRouting": {"enableAgentOwnedCallbacks": True}}, queue_id=QueueId("q2"))
    cb = w.callback("cb1")
    w.send(CallbackRescheduled(cb, queue_id=QueueId("q2"), owner=a1))
    assert w.last(cb).queue_id == "q2"
    w.send(AgentJoinedQueue(a1, QueueId("q2")))
    w.send(AgentPresenceChanged(a1, Presence.ON_QUEUE))
    assert order_of_offers(w) == [cb]


def test_r_c_5_an_agent_reschedules_the_callback_it_handles_and_goes_to_acw() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    w.send(AlertAccepted(a1, cb))
    (dial,) = w.dials(w.send(AgentDialed(a1, cb)))
    w.complete(dial, Outcome.NO_ANSWER)
    w.send(CallbackRescheduled(cb, scheduled_time=w.now + 3600, by_agent=a1))
    assert w.last(cb).state is State.SCHEDULED
    assert cb in w.engine.agents[a1].acw
    w.send(WrapUpCompleted(a1, cb, "rescheduled"))
    assert w.last(cb).state is State.SCHEDULED  # the wrap-up ends the agent's work only
    w.advance(3601)
    assert order_of_offers(w)[-1] == cb


def test_r_c_5_reschedule_by_an_agent_not_handling_it_is_refused() -> None:
    w = World()
    w.queue()
    a1, a2 = w.agents(2)
    cb = w.callback("cb1")
    with pytest.raises(AgentNotHandling):
        w.send(CallbackRescheduled(cb, scheduled_time=w.now + 60, by_agent=a2))


def test_r_c_5_rescheduling_an_alerting_callback_withdraws_the_alert() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    effects = w.send(CallbackRescheduled(cb, scheduled_time=w.now + 60))
    assert RevokeOffer(a1, cb) in effects
    assert w.engine.agents[a1].load == 0


def test_r_c_5_disconnect_cancels_and_an_agent_holding_it_goes_to_acw() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    w.send(AlertAccepted(a1, cb))
    w.send(CallbackDisconnected(cb))
    assert w.last(cb).end_reason is EndReason.CANCELLED
    assert cb in w.engine.agents[a1].acw
    w.send(WrapUpCompleted(a1, cb, "cancelled"))
    assert w.engine.agents[a1].load == 0
    with pytest.raises(UnknownInteraction):
        w.send(CallbackDisconnected(cb))


def test_r_c_5_a_callback_connected_to_a_customer_cannot_be_changed() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    w.send(AlertAccepted(a1, cb))
    w.complete(w.dials(w.send(AgentDialed(a1, cb)))[0], Outcome.LIVE_VOICE)
    with pytest.raises(CallbackAlreadyConnected) as err:
        w.send(CallbackRescheduled(cb, scheduled_time=w.now + 60))
    assert err.value.code == "callback_already_connected"
    with pytest.raises(CallbackAlreadyConnected):
        w.send(CallbackDisconnected(cb))


def test_r_c_5_unknown_targets_are_refused_and_nothing_changes() -> None:
    w, _ = idle_world()
    cb = w.callback("cb1")
    before = len(w.log)
    with pytest.raises(UnknownQueue):
        w.send(CallbackRescheduled(cb, queue_id=QueueId("nope")))
    with pytest.raises(UnknownAgent):
        w.send(CallbackRescheduled(cb, owner=AgentId("nobody")))
    assert len(w.log) == before
    assert w.last(cb).state is State.WAITING
    with pytest.raises(DuplicateId):
        w.callback("cb1")


def call(w: World, name: str, entry: float, priority: int = 0) -> InteractionId:
    call_id = InteractionId(name)
    w.send(
        VoiceCallQueued(call_id, ConversationId(f"c-{name}"), Q, "+14155550111", entry, priority)
    )
    return call_id


def test_r_c_6_a_waiting_caller_becomes_a_callback_keeping_its_place() -> None:
    w, (a1,) = idle_world()
    early = call(w, "v-early", w.now - 300, priority=2)
    w.callback("cb-older", priority=2)  # entered now: after the caller's entry time
    cb = InteractionId("cb-from-call")
    w.send(
        CallbackRequestedOnCall(
            early, cb, CallbackRequest(QueueId("ignored"), ("+14155550111",), priority=0)
        )
    )
    assert w.last(early).end_reason is EndReason.FLOW_OUT
    callback = w.engine.interactions[cb]
    assert (callback.conversation_id, callback.queue_id, callback.priority) == ("c-v-early", Q, 2)
    assert callback.entry_time == w.now - 300
    w.send(AgentPresenceChanged(a1, Presence.ON_QUEUE))
    assert order_of_offers(w) == [cb]  # R-O-2: the caller's place, ahead of cb-older


def test_r_c_6_only_a_call_still_waiting_can_become_a_callback() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    v = call(w, "v1", w.now)
    w.send(AlertAccepted(a1, v))
    with pytest.raises(InteractionEnded):
        w.send(
            CallbackRequestedOnCall(v, InteractionId("cb"), CallbackRequest(Q, ("+14155550111",)))
        )


def test_r_c_6_a_call_answered_elsewhere_or_abandoned_leaves_the_queue() -> None:
    w, (a1,) = idle_world()
    v1, v2 = call(w, "v1", w.now), call(w, "v2", w.now)
    w.send(CallAnsweredElsewhere(v1))
    w.send(CustomerHungUp(v2))
    assert w.last(v1).end_reason is EndReason.ANSWERED_ELSEWHERE
    assert w.last(v2).end_reason is EndReason.ABANDONED
    assert len(w.engine.queues[Q].waiting) == 0
    with pytest.raises(UnknownInteraction):
        w.send(CustomerHungUp(v1))


def test_r_c_6_a_rescheduled_call_callback_keeps_the_callers_entry_time() -> None:
    w, (a1,) = idle_world()
    v = call(w, "v1", w.now - 500)
    cb = InteractionId("cb1")
    w.send(CallbackRequestedOnCall(v, cb, CallbackRequest(Q, ("+14155550111",))))
    w.send(CallbackRescheduled(cb, scheduled_time=w.now + 60))
    w.advance(61)
    assert w.engine.interactions[cb].entry_time == w.now - 561


def test_r_o_2_entry_time_is_the_scheduled_time_else_the_creation_time() -> None:
    w, (a1,) = idle_world()
    scheduled = w.callback("scheduled", scheduled_time=w.now + 100)
    w.now += 50
    created = w.callback("created")
    w.advance(60)
    assert w.engine.interactions[scheduled].entry_time == w.now - 10
    assert w.engine.interactions[created].entry_time == w.now - 60
    w.send(AgentPresenceChanged(a1, Presence.ON_QUEUE))
    assert order_of_offers(w) == [created]


def test_r_o_3_a_callback_keeps_its_place_when_re_offered() -> None:
    w = World()
    w.queue({"mediaSettings": {"callback": {"alertingTimeoutSeconds": 10}}})
    a1, a2 = w.agents(2)
    w.send(AgentPresenceChanged(a2, Presence.OFF_QUEUE))
    first = w.callback("first")
    w.callback("second")
    w.advance(11)  # a1 misses the alert
    w.send(AgentPresenceChanged(a2, Presence.ON_QUEUE))
    assert order_of_offers(w) == [first, first]


def test_customer_hang_up_without_a_customer_on_the_line_is_refused() -> None:
    w, _ = idle_world()
    cb = w.callback("cb1")
    with pytest.raises(InteractionEnded):
        w.send(CustomerHungUp(cb))
    assert w.last(cb).media is MediaType.CALLBACK


def test_r_c_5_a_callback_rescheduled_to_now_is_not_offered_to_the_agent_wrapping_it_up() -> None:
    w = World()
    w.queue()
    a1, a2 = w.agents(2, capacity=2)
    w.send(AgentPresenceChanged(a2, Presence.OFF_QUEUE))
    cb = w.callback("cb")
    w.send(AlertAccepted(a1, cb))
    w.send(CallbackRescheduled(cb, scheduled_time=w.now))  # a1 goes to after-call work on it
    assert cb in w.engine.agents[a1].acw
    assert w.last(cb).state is State.WAITING  # not offered back to a1 while a1 wraps it up
    w.send(AgentPresenceChanged(a2, Presence.ON_QUEUE))
    assert order_of_offers(w)[-1] == cb and w.of(OfferToAgent)[-1].agent_id == a2
    w.send(AgentPresenceChanged(a2, Presence.OFF_QUEUE))
    w.send(WrapUpCompleted(a1, cb, "moved"))
    assert w.of(OfferToAgent)[-1].agent_id == a1  # free of it, a1 may take it again
