"""Customer-first callbacks (SPEC §7: R-CF-2..10) and caller ID (R-C-4)."""

from __future__ import annotations

from typing import Any

import pytest

from dialback.domain.effects import (
    CancelCall,
    ConnectToAgent,
    HangUpCustomer,
    OfferToAgent,
    TransferToFlow,
)
from dialback.domain.errors import CallbackAlreadyConnected, DialInProgress
from dialback.domain.events import (
    AgentHungUp,
    AlertAccepted,
    CallbackDisconnected,
    CallbackRescheduled,
    CustomerHungUp,
    DialCompleted,
    VoiceCallQueued,
    WrapUpCompleted,
)
from dialback.domain.model import (
    ConversationId,
    DialResult,
    EndReason,
    InteractionId,
    MediaType,
    Outcome,
    RoutingStatus,
    State,
)
from dialback.domain.pacing import Reason
from dialback.domain.settings import DeliveryMode, PacingTrigger

from .harness import Q, World

CALLER = "+14155550199"


def cf(**callback: Any) -> dict[str, Any]:
    return {
        "callingPartyNumber": CALLER,
        "mediaSettings": {"callback": {"mode": "CustomerFirst", **callback}},
    }


def test_r_cf_2_head_callback_is_dialed_by_the_dialer() -> None:
    w = World()
    w.queue(cf())
    w.agents(1)
    cb = w.callback("cb1")
    (dial,) = w.dials()
    assert (dial.interaction_id, dial.agent_id, dial.caller_id) == (cb, None, CALLER)
    assert w.last(cb).state is State.DIALING


def test_r_cf_2_cap_is_multiplier_times_on_queue_agents() -> None:
    w = World()
    w.queue(cf(pacingModifier=5, pacingTrigger="Pace"))
    w.agents(4)  # cap = 0.5 x 4 = 2 exactly, whatever the draw
    for i in range(5):
        w.callback(f"cb{i}")
    assert [d.interaction_id for d in w.dials()] == ["cb0", "cb1"]
    assert w.engine.queues[Q].outstanding == 2
    assert w.decisions()[-1].reason is Reason.CAP_REACHED


def test_r_cf_2_a_live_call_ahead_of_the_callback_is_served_first() -> None:
    w = World()
    w.queue(cf())
    w.send(VoiceCallQueued(InteractionId("v1"), ConversationId("cv1"), Q, "+14155550111", w.now))
    w.now += 1
    cb = w.callback("cb1")
    assert w.decisions() == []  # the head is a live call: there is nothing to evaluate
    (a1,) = w.agents(1)
    assert w.of(OfferToAgent)[0].interaction_id == "v1"
    # cb1 reached the head once a1 took v1, but no agent is idle any more (Idle trigger)
    assert w.decisions()[-1].reason is Reason.NO_IDLE_AGENT
    w.send(AlertAccepted(a1, InteractionId("v1")))
    w.send(AgentHungUp(a1, InteractionId("v1")))
    assert w.dials() == []
    w.send(WrapUpCompleted(a1, InteractionId("v1"), "done"))
    assert [d.interaction_id for d in w.dials()] == [cb]


def test_r_cf_2_community_example_idle_agent_dials_one_and_takes_the_live_call() -> None:
    """genesys-facts §7, example 1: 40 agents on queue all busy, two callbacks older than every
    waiting live call, pacing 10. One agent going idle launches exactly one callback and is
    itself given the oldest live call; the answered callback is the next call answered."""
    w = World()
    w.queue(cf(pacingModifier=10))
    agents = w.agents(40)

    def call(i: int) -> InteractionId:
        call_id = InteractionId(f"v{i}")
        w.send(VoiceCallQueued(call_id, ConversationId(f"cv{i}"), Q, "+14155550111", w.now))
        return call_id

    for i, agent in enumerate(agents):
        w.send(AlertAccepted(agent, call(i)))
    w.now += 1
    w.callback("cb0")
    w.callback("cb1")
    w.now += 1
    waiting = [call(i) for i in range(40, 60)]
    assert w.dials() == []
    w.send(AgentHungUp(agents[0], InteractionId("v0")))
    w.send(WrapUpCompleted(agents[0], InteractionId("v0"), "done"))
    assert [d.interaction_id for d in w.dials()] == ["cb0"]
    assert w.of(OfferToAgent)[-1].interaction_id == waiting[0]
    w.complete(w.dials()[0], Outcome.LIVE_VOICE)
    w.send(AgentHungUp(agents[1], InteractionId("v1")))
    w.send(WrapUpCompleted(agents[1], InteractionId("v1"), "done"))
    assert w.of(OfferToAgent)[-1].interaction_id == "cb0"


def test_r_cf_2_pacing_tick_evaluates_again() -> None:
    w = World()
    w.queue(cf(pacingModifier=1))
    w.agents(1)  # cap 0.1 x 1: dial with probability 0.1 per evaluation
    w.callback("cb1")
    evaluations = len({d.evaluation for d in w.decisions()})
    w.advance(60)
    later = {d.evaluation for d in w.decisions()}
    assert len(later) >= evaluations + 5  # one per 5 s tick until it dials
    assert len(w.dials()) <= 1


def test_r_cf_3_idle_trigger_needs_more_idle_agents_than_outstanding_dials() -> None:
    w = World()
    w.queue(cf(pacingModifier=10))
    a1, _a2 = w.agents(2)
    w.send(
        VoiceCallQueued(InteractionId("v1"), ConversationId("cv1"), Q, "+14155550111", w.now - 100)
    )
    w.send(AlertAccepted(a1, InteractionId("v1")))  # a1 busy: on queue 2, idle 1
    for i in range(3):
        w.callback(f"cb{i}")
    assert len(w.dials()) == 1  # cap 2, but one idle agent
    assert w.decisions()[-1].reason is Reason.NO_IDLE_AGENT
    assert w.decisions()[-1].trigger is PacingTrigger.IDLE


def test_r_cf_3_pace_trigger_dials_up_to_the_cap_even_with_busy_agents() -> None:
    w = World()
    w.queue(cf(pacingModifier=10, pacingTrigger="Pace"))
    a1, a2 = w.agents(2)
    for i, agent in enumerate((a1, a2)):
        call = InteractionId(f"v{i}")
        w.send(VoiceCallQueued(call, ConversationId(f"cv{i}"), Q, "+14155550111", w.now - 100))
        w.send(AlertAccepted(agent, call))
    for i in range(3):
        w.callback(f"cb{i}")
    assert len(w.dials()) == 2  # cap 2 with no idle agent at all
    assert w.decisions()[-1].reason is Reason.CAP_REACHED


def test_r_cf_4_every_evaluation_is_recorded_with_its_inputs() -> None:
    w = World()
    w.queue(cf(pacingModifier=3))
    w.agents(3)  # cap 0.9: dials when the draw is under 0.9
    cb = w.callback("cb1")
    d = w.decisions()[-1]
    assert (d.queue_id, d.callback_id, d.on_queue, d.idle, d.outstanding) == (Q, cb, 3, 3, 0)
    assert d.multiplier == pytest.approx(0.3)
    assert d.cap_expected == pytest.approx(0.9)
    assert d.cap == (1 if d.draw < 0.9 else 0)
    assert d.reason is (Reason.DIALED if d.cap else Reason.CAP_REACHED)
    assert d.at == w.now


def test_r_cf_4_no_agent_on_queue_is_recorded() -> None:
    w = World()
    w.queue(cf())
    w.callback("cb1")
    assert w.decisions()[-1].reason is Reason.NO_AGENT_ON_QUEUE
    assert w.dials() == []


def test_r_c_4_without_any_caller_id_a_customer_first_callback_is_kept_not_dialed() -> None:
    w = World()
    w.queue({"mediaSettings": {"callback": {"mode": "CustomerFirst"}}})
    w.agents(2)
    cb = w.callback("cb1")
    assert w.decisions()[-1].reason is Reason.NO_CALLER_ID
    assert w.last(cb).state is State.WAITING
    own = w.callback("cb2", caller_id="+14155550123", caller_id_name="Ada Ltd")
    assert w.dials() == []  # cb1 is still the head
    w.send(CallbackDisconnected(cb))
    (dial,) = w.dials()
    assert (dial.interaction_id, dial.caller_id, dial.caller_id_name) == (
        own,
        "+14155550123",
        "Ada Ltd",
    )


def test_r_c_4_the_callbacks_caller_id_wins_over_the_queues() -> None:
    w = World()
    w.queue({**cf(), "callingPartyName": "Queue"})
    w.agents(1)
    w.callback("cb1", caller_id="+14155550123")
    (dial,) = w.dials()
    assert (dial.caller_id, dial.caller_id_name) == ("+14155550123", None)


def test_r_cf_5_live_voice_transfer_to_queue_converts_and_keeps_the_place() -> None:
    w = World()
    w.queue(cf(pacingTrigger="Pace"))
    (a1,) = w.agents(1)
    w.send(
        VoiceCallQueued(InteractionId("v0"), ConversationId("cv0"), Q, "+14155550111", w.now - 50)
    )
    w.send(AlertAccepted(a1, InteractionId("v0")))  # a1 busy
    cb = w.callback("cb1")
    (dial,) = w.dials()
    w.now += 10
    w.send(VoiceCallQueued(InteractionId("v1"), ConversationId("cv1"), Q, "+14155550111", w.now))
    w.complete(dial, Outcome.LIVE_VOICE)
    change = w.last(cb)
    assert (change.media, change.state) == (MediaType.VOICE, State.WAITING)
    assert change.conversation_id == "c-cb1"
    queue = w.engine.queues[Q]
    head = queue.waiting.peek()
    assert head is not None
    assert head[0] == cb  # ahead of v1


def test_r_cf_5_converted_callback_goes_to_the_next_agent_as_an_inbound_call() -> None:
    w = World()
    w.queue(
        {**cf(), "defaultScripts": {"CALL": {"id": "call-script"}, "CALLBACK": {"id": "cb-script"}}}
    )
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    w.complete(w.dials()[0], Outcome.LIVE_VOICE)
    offer = w.of(OfferToAgent)[-1]
    # R-Q-3: customer-first callbacks reach agents as inbound calls, with the CALL script
    assert (offer.agent_id, offer.media, offer.script_id) == (a1, MediaType.VOICE, "call-script")
    effects = w.send(AlertAccepted(a1, cb))
    assert ConnectToAgent(cb, a1) in effects


@pytest.mark.parametrize(
    ("settings", "outcome", "expected"),
    [
        pytest.param(
            {"liveVoiceReactionType": "TransferToFlow", "liveVoiceFlow": {"id": "f1"}},
            Outcome.LIVE_VOICE,
            EndReason.FLOW_OUT,
            id="live-flow",
        ),
        pytest.param(
            {"liveVoiceReactionType": "HangUp"},
            Outcome.LIVE_VOICE,
            EndReason.HUNG_UP,
            id="live-hangup",
        ),
        pytest.param({}, Outcome.ANSWERING_MACHINE, EndReason.HUNG_UP, id="machine-default-hangup"),
        pytest.param(
            {
                "answeringMachineReactionType": "TransferToFlow",
                "answeringMachineFlow": {"id": "f2"},
            },
            Outcome.ANSWERING_MACHINE,
            EndReason.FLOW_OUT,
            id="machine-flow",
        ),
    ],
)
def test_r_cf_5_and_r_cf_6_reactions_to_an_answer(
    settings: dict[str, Any], outcome: Outcome, expected: EndReason
) -> None:
    w = World()
    w.queue(cf(**settings))
    w.agents(1)
    cb = w.callback("cb1")
    effects = w.complete(w.dials()[0], outcome)
    end = w.last(cb)
    assert (end.state, end.end_reason, end.outcome) == (State.ENDED, expected, outcome)
    if expected is EndReason.FLOW_OUT:
        flow = settings.get("liveVoiceFlow") or settings["answeringMachineFlow"]
        assert TransferToFlow(cb, flow["id"]) in effects
    else:
        assert HangUpCustomer(cb) in effects
    assert w.engine.queues[Q].outstanding == 0


def test_r_cf_6_answering_machine_transfer_to_queue_converts_like_live_voice() -> None:
    w = World()
    w.queue(cf(answeringMachineReactionType="TransferToQueue"))
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    w.complete(w.dials()[0], Outcome.ANSWERING_MACHINE)
    assert (w.of(OfferToAgent)[-1].agent_id, w.last(cb).media) == (a1, MediaType.VOICE)


RETRYABLE = [
    Outcome.BUSY,
    Outcome.NO_ANSWER,
    Outcome.SIT_NO_CIRCUIT,
    Outcome.REJECTED,
    Outcome.ERROR,
]
FINAL = [Outcome.SIT_INVALID_NUMBER, Outcome.FAX, Outcome.SIT_OTHER, Outcome.CUSTOMER_HANGUP]


@pytest.mark.parametrize("outcome", RETRYABLE + FINAL, ids=lambda o: o.value)
def test_r_cf_7_without_retries_any_other_outcome_ends_the_callback(outcome: Outcome) -> None:
    w = World()
    w.queue(cf())
    w.agents(1)
    cb = w.callback("cb1")
    w.complete(w.dials()[0], outcome)
    end = w.last(cb)
    assert (end.state, end.end_reason, end.outcome) == (
        State.ENDED,
        EndReason.DIAL_OUTCOME,
        outcome,
    )
    assert w.dials(w.advance(86_400)) == []


@pytest.mark.parametrize("outcome", RETRYABLE, ids=lambda o: o.value)
def test_r_cf_7_retryable_outcomes_retry_after_the_delay_on_the_next_number(
    outcome: Outcome,
) -> None:
    w = World()
    w.queue(cf(maxRetryCount=2, retryDelaySeconds=120))
    w.agents(1)
    cb = w.callback("cb1", numbers=("+14155550100", "+14155550101"))
    w.complete(w.dials()[0], outcome)
    assert w.last(cb).state is State.SCHEDULED
    assert w.dials(w.advance(119)) == []
    (second,) = w.dials(w.advance(2))
    assert (second.number, second.attempt) == ("+14155550101", 2)
    w.complete(second, outcome)
    (third,) = w.dials(w.advance(121))
    assert (third.number, third.attempt) == ("+14155550100", 3)
    w.complete(third, outcome)  # retries exhausted: 1 + maxRetryCount dials
    assert w.last(cb).end_reason is EndReason.DIAL_OUTCOME
    assert w.dials(w.advance(1000)) == []


@pytest.mark.parametrize("outcome", FINAL, ids=lambda o: o.value)
def test_r_cf_7_invalid_number_fax_and_the_rest_never_retry(outcome: Outcome) -> None:
    w = World()
    w.queue(cf(maxRetryCount=5))
    w.agents(1)
    cb = w.callback("cb1")
    w.complete(w.dials()[0], outcome)
    assert w.last(cb).state is State.ENDED
    assert w.dials(w.advance(3600)) == []


def test_r_cf_7_a_retry_keeps_its_place_ahead_of_newer_callbacks() -> None:
    w = World()
    w.queue(cf(maxRetryCount=1, retryDelaySeconds=60, pacingModifier=10))
    (_a1,) = w.agents(1)
    w.callback("old")
    w.complete(w.dials()[0], Outcome.BUSY)
    w.now += 1
    w.send(VoiceCallQueued(InteractionId("v1"), ConversationId("cv1"), Q, "+14155550111", w.now))
    w.now += 5
    w.callback("new")  # a1 is busy with v1, so "new" cannot be dialed (Idle trigger)
    assert [d.interaction_id for d in w.dials()] == ["old"]
    w.advance(61)
    queue = w.engine.queues[Q]
    head = queue.head()
    assert head is not None and head[0] == "old"  # R-O-3: back ahead of "new"


def test_r_cf_8_hanging_up_while_waiting_after_conversion_is_an_abandon() -> None:
    w = World()
    w.queue(cf(pacingTrigger="Pace"))
    w.agents(1)
    w.send(
        VoiceCallQueued(InteractionId("v0"), ConversationId("cv0"), Q, "+14155550111", w.now - 50)
    )
    cb = w.callback("cb1")
    w.send(AlertAccepted(w.of(OfferToAgent)[0].agent_id, InteractionId("v0")))
    w.complete(w.dials()[0], Outcome.LIVE_VOICE)
    assert w.last(cb).state is State.WAITING
    w.send(CustomerHungUp(cb))
    end = w.last(cb)
    assert (end.end_reason, end.media, end.outcome) == (
        EndReason.ABANDONED,
        MediaType.VOICE,
        Outcome.LIVE_VOICE,
    )


def test_r_cf_8_hanging_up_while_alerting_is_an_abandon_and_frees_the_agent() -> None:
    w = World()
    w.queue(cf())
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    w.complete(w.dials()[0], Outcome.LIVE_VOICE)
    assert w.last(cb).state is State.ALERTING
    w.send(CustomerHungUp(cb))
    assert w.last(cb).end_reason is EndReason.ABANDONED
    assert w.engine.agents[a1].status is RoutingStatus.IDLE


def test_r_cf_9_a_callback_being_dialed_is_never_dialed_again() -> None:
    w = World()
    w.queue(cf(pacingTrigger="Pace"))
    w.agents(5)
    w.callback("cb1")
    w.advance(600)  # many ticks
    assert len(w.dials()) == 1
    with pytest.raises(DialInProgress):
        w.send(CallbackRescheduled(InteractionId("cb1"), scheduled_time=w.now + 60))


def test_r_cf_9_cancelling_during_a_dial_cancels_the_call_and_ignores_its_late_result() -> None:
    w = World()
    w.queue(cf(maxRetryCount=3, retryDelaySeconds=60))
    w.agents(1)
    cb = w.callback("cb1")
    (dial,) = w.dials()
    effects = w.send(CallbackDisconnected(cb))
    assert CancelCall(dial.dial_id) in effects
    assert w.last(cb).end_reason is EndReason.CANCELLED
    assert w.engine.queues[Q].outstanding == 0
    assert w.send(DialCompleted(dial.dial_id, DialResult(Outcome.BUSY))) == []
    assert w.dials(w.advance(600)) == []


def test_r_cf_9_a_connected_customer_first_callback_cannot_be_rescheduled_or_cancelled() -> None:
    w = World()
    w.queue(cf())
    w.agents(1)
    cb = w.callback("cb1")
    w.complete(w.dials()[0], Outcome.LIVE_VOICE)
    with pytest.raises(CallbackAlreadyConnected):
        w.send(CallbackRescheduled(cb, scheduled_time=w.now + 60))
    with pytest.raises(CallbackAlreadyConnected):
        w.send(CallbackDisconnected(cb))


def test_r_cf_10_reservation_holds_an_idle_agent_and_connects_live_voice_to_it() -> None:
    w = World()
    w.queue(cf(customerFirstDeliveryMode="UseAgentReservation"))
    a1, a2 = w.agents(2)
    cb = w.callback("cb1")
    decision = w.decisions()[-1]
    assert decision.reserved_agent == a1
    assert w.engine.agents[a1].status is RoutingStatus.INTERACTING
    # a live call arriving meanwhile goes to a2, never to the reserved a1
    w.send(VoiceCallQueued(InteractionId("v1"), ConversationId("cv1"), Q, "+14155550111", w.now))
    assert w.of(OfferToAgent)[-1].agent_id == a2
    effects = w.complete(w.dials()[0], Outcome.LIVE_VOICE)
    assert ConnectToAgent(cb, a1) in effects
    assert w.last(cb).state is State.CONNECTED


def test_r_cf_10_other_outcomes_release_the_reserved_agent() -> None:
    w = World()
    w.queue(cf())
    (a1,) = w.agents(1)
    w.callback("cb1", delivery_mode=DeliveryMode.USE_AGENT_RESERVATION)
    assert w.engine.agents[a1].reserved_for == "cb1"
    w.complete(w.dials()[0], Outcome.NO_ANSWER)
    assert w.engine.agents[a1].status is RoutingStatus.IDLE
    assert w.engine.queues[Q].reserved_dials == 0


def test_r_cf_10_a_reservation_needs_an_idle_agent_whatever_the_trigger() -> None:
    w = World()
    w.queue(cf(pacingTrigger="Pace", customerFirstDeliveryMode="UseAgentReservation"))
    a1, a2 = w.agents(2)
    for i in range(3):
        w.callback(f"cb{i}")
    reserved = [d.reserved_agent for d in w.decisions() if d.dialed]
    assert reserved == [a1, a2]  # one per idle agent, although the cap is 2 with Pace
    assert w.decisions()[-1].reason in (Reason.NO_IDLE_AGENT, Reason.CAP_REACHED)


def test_r_cf_10_reserved_agent_going_off_queue_sends_the_answer_to_the_queue() -> None:
    from dialback.domain.events import AgentPresenceChanged
    from dialback.domain.model import Presence

    w = World()
    w.queue(cf(customerFirstDeliveryMode="UseAgentReservation"))
    a1, a2 = w.agents(2)
    cb = w.callback("cb1")
    w.send(AgentPresenceChanged(a1, Presence.OFF_QUEUE))
    assert w.engine.queues[Q].reserved_dials == 0
    w.complete(w.dials()[0], Outcome.LIVE_VOICE)
    assert w.of(OfferToAgent)[-1].agent_id == a2
    assert w.last(cb).state is State.ALERTING
