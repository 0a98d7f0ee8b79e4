"""Agent-first callbacks (SPEC §6: R-AF-1..4) and the order they are offered in (R-O-*)."""

from __future__ import annotations

import pytest

from dialback.domain.effects import HangUpCustomer, OfferToAgent, PlaceCall, RevokeOffer
from dialback.domain.errors import (
    AgentNotHandling,
    DialInProgress,
    InvalidInput,
    NotOfferedToAgent,
    UnknownDial,
)
from dialback.domain.events import (
    AgentDialed,
    AgentEndedCallback,
    AgentHungUp,
    AgentPresenceChanged,
    AgentWentIdle,
    AlertAccepted,
    CustomerHungUp,
    DialCompleted,
    WrapUpCompleted,
)
from dialback.domain.facts import AgentStatusChanged
from dialback.domain.model import (
    AgentId,
    DialId,
    DialResult,
    EndReason,
    InteractionId,
    Outcome,
    Presence,
    RoutingStatus,
    State,
)

from .harness import World


def offers(world: World) -> list[tuple[str, str]]:
    return [(o.agent_id, o.interaction_id) for o in world.of(OfferToAgent)]


def accepted(world: World, agent: AgentId, callback: InteractionId) -> None:
    world.send(AlertAccepted(agent, callback))


def test_r_af_1_head_goes_to_the_longest_idle_agent() -> None:
    w = World()
    w.queue()
    a1, a2 = w.agents(2)
    w.callback("cb1")
    w.callback("cb2")
    assert offers(w) == [(a1, "cb1"), (a2, "cb2")]


def test_r_af_1_missed_alert_makes_agent_not_responding_and_keeps_the_place() -> None:
    w = World()
    w.queue({"mediaSettings": {"callback": {"alertingTimeoutSeconds": 10}}})
    offered_at = w.now + 5
    w.callback("old")
    w.now += 5
    w.callback("new")
    (a1,) = w.agents(1)
    assert offers(w) == [(a1, "old")]
    timeout_at = w.of(OfferToAgent)[-1].timeout_at
    assert timeout_at == offered_at + 10
    w.advance(timeout_at - w.now - 0.1)
    assert w.engine.agents[a1].status is RoutingStatus.INTERACTING
    w.advance(0.2)
    assert w.of(RevokeOffer)[-1] == RevokeOffer(a1, InteractionId("old"), not_responding=True)
    assert w.engine.agents[a1].status is RoutingStatus.NOT_RESPONDING
    (a2,) = w.agents(1)
    # R-O-3: the re-offered callback is still ahead of the newer one
    assert offers(w)[-1] == (a2, "old")


def test_r_af_1_not_responding_agent_gets_nothing_until_idle_again() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    w.callback("cb1")
    w.advance(31)
    assert w.engine.agents[a1].status is RoutingStatus.NOT_RESPONDING
    assert offers(w) == [(a1, "cb1")]
    w.send(AgentWentIdle(a1))
    assert offers(w) == [(a1, "cb1"), (a1, "cb1")]


def test_r_af_1_capacity_limits_concurrent_callbacks() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1, capacity=2)
    for name in ("cb1", "cb2", "cb3"):
        w.callback(name)
    assert offers(w) == [(a1, "cb1"), (a1, "cb2")]
    assert w.engine.agents[a1].load == 2


def test_r_af_1_accepting_an_alert_not_offered_is_refused() -> None:
    w = World()
    w.queue()
    _a1, a2 = w.agents(2)
    w.callback("cb1")
    with pytest.raises(NotOfferedToAgent):
        w.send(AlertAccepted(a2, InteractionId("cb1")))


def test_r_af_2_accept_then_dial_then_talk_on_live_voice() -> None:
    w = World()
    w.queue({"callingPartyNumber": "+14155550199"})
    (a1,) = w.agents(1)
    cb = w.callback("cb1", numbers=("+14155550100", "+14155550101"))
    accepted(w, a1, cb)
    assert w.last(cb).state is State.CONNECTED
    effects = w.send(AgentDialed(a1, cb))
    (dial,) = w.dials(effects)
    assert dial == PlaceCall(
        DialId("cb1#1"), cb, "+14155550100", "+14155550199", None, a1, attempt=1
    )
    assert w.last(cb).state is State.DIALING
    w.complete(dial, Outcome.LIVE_VOICE, 200)
    assert w.last(cb).state is State.CONNECTED
    assert w.last(cb).outcome is Outcome.LIVE_VOICE
    assert w.engine.interactions[cb].on_call


def test_r_af_2_auto_dial_after_the_delay() -> None:
    w = World()
    w.queue(
        {"mediaSettings": {"callback": {"enableAutoDialAndEnd": True, "autoDialDelaySeconds": 20}}}
    )
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    accepted(w, a1, cb)
    assert w.dials(w.advance(19)) == []
    (dial,) = w.dials(w.advance(2))
    assert dial.agent_id == a1


def test_r_af_2_auto_answer_accepts_at_once() -> None:
    w = World()
    w.queue({"mediaSettings": {"callback": {"enableAutoAnswer": True}}})
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    assert w.last(cb).state is State.CONNECTED
    w.send(AgentDialed(a1, cb))


def test_r_af_2_a_second_dial_while_one_is_in_progress_is_refused() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    accepted(w, a1, cb)
    w.send(AgentDialed(a1, cb))
    with pytest.raises(DialInProgress):
        w.send(AgentDialed(a1, cb))


@pytest.mark.parametrize(
    "outcome",
    [o for o in Outcome if o is not Outcome.LIVE_VOICE],
    ids=lambda o: o.value,
)
def test_r_af_3_other_outcomes_end_that_dial_only_without_automatic_retry(outcome: Outcome) -> None:
    w = World()
    w.queue({"mediaSettings": {"callback": {"maxRetryCount": 5}}})
    (a1,) = w.agents(1)
    cb = w.callback("cb1", numbers=("+14155550100", "+14155550101"))
    accepted(w, a1, cb)
    (dial,) = w.dials(w.send(AgentDialed(a1, cb)))
    w.complete(dial, outcome)
    assert w.last(cb).state is State.CONNECTED
    assert w.last(cb).outcome is outcome
    assert w.dials(w.advance(3600)) == []  # no automatic retry
    (second,) = w.dials(w.send(AgentDialed(a1, cb)))  # the agent may dial again: next number
    assert (second.number, second.attempt) == ("+14155550101", 2)


def test_r_af_3_agent_may_pick_the_number_and_bad_index_is_refused() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    cb = w.callback("cb1", numbers=("+14155550100", "+14155550101"))
    accepted(w, a1, cb)
    with pytest.raises(InvalidInput):
        w.send(AgentDialed(a1, cb, number_index=2))
    (dial,) = w.dials(w.send(AgentDialed(a1, cb, number_index=1)))
    assert dial.number == "+14155550101"


def test_r_af_3_agent_ends_a_callback_that_never_connected() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    accepted(w, a1, cb)
    (dial,) = w.dials(w.send(AgentDialed(a1, cb)))
    w.complete(dial, Outcome.NO_ANSWER)
    w.send(AgentEndedCallback(a1, cb))
    assert w.last(cb).state is State.ACW
    w.send(WrapUpCompleted(a1, cb, "no-answer"))
    end = w.last(cb)
    assert (end.state, end.end_reason, end.outcome) == (
        State.ENDED,
        EndReason.DIAL_OUTCOME,
        Outcome.NO_ANSWER,
    )
    assert end.wrapup_code == "no-answer"
    assert w.engine.agents[a1].status is RoutingStatus.IDLE


def test_r_af_4_after_the_call_acw_ends_with_a_wrap_up_code() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    accepted(w, a1, cb)
    (dial,) = w.dials(w.send(AgentDialed(a1, cb)))
    w.complete(dial, Outcome.LIVE_VOICE)
    w.send(CustomerHungUp(cb))
    assert w.last(cb).state is State.CONNECTED  # the callback stays with the agent
    assert not w.engine.interactions[cb].on_call
    w.send(AgentEndedCallback(a1, cb))
    assert w.engine.agents[a1].status is RoutingStatus.INTERACTING  # in ACW
    w.send(WrapUpCompleted(a1, cb, "resolved"))
    end = w.last(cb)
    assert (end.end_reason, end.wrapup_code, end.outcome) == (EndReason.HANDLED, "resolved", None)
    assert w.engine.agents[a1].status is RoutingStatus.IDLE


def test_r_af_4_agent_hangs_up_then_auto_end_closes_the_callback() -> None:
    w = World()
    w.queue(
        {"mediaSettings": {"callback": {"enableAutoDialAndEnd": True, "autoEndDelaySeconds": 45}}}
    )
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    accepted(w, a1, cb)
    (dial,) = w.dials(w.send(AgentDialed(a1, cb)))
    w.complete(dial, Outcome.LIVE_VOICE)
    effects = w.send(AgentHungUp(a1, cb))
    assert HangUpCustomer(cb) in effects
    w.advance(44)
    assert w.last(cb).state is State.CONNECTED
    w.advance(2)
    assert w.last(cb).state is State.ACW


def test_r_af_4_wrap_up_of_something_not_in_acw_is_refused() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    accepted(w, a1, cb)
    with pytest.raises(AgentNotHandling):
        w.send(WrapUpCompleted(a1, cb, "x"))
    with pytest.raises(AgentNotHandling):
        w.send(AgentHungUp(a1, cb))  # nobody is on the line yet


def test_r_af_4_ending_a_callback_during_its_dial_is_refused_and_unknown_dials_too() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    accepted(w, a1, cb)
    w.send(AgentDialed(a1, cb))
    with pytest.raises(DialInProgress):
        w.send(AgentEndedCallback(a1, cb))
    with pytest.raises(UnknownDial):
        w.send(DialCompleted(DialId("nope"), DialResult(Outcome.BUSY)))


def test_r_af_4_ending_while_on_the_call_hangs_up_the_customer() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    cb = w.callback("cb1")
    accepted(w, a1, cb)
    (dial,) = w.dials(w.send(AgentDialed(a1, cb)))
    w.complete(dial, Outcome.LIVE_VOICE)
    effects = w.send(AgentEndedCallback(a1, cb))
    assert HangUpCustomer(cb) in effects
    assert w.last(cb).state is State.ACW


def test_agent_going_off_queue_returns_its_alerts_without_blame() -> None:
    w = World()
    w.queue()
    a1, a2 = w.agents(2)
    w.send(AgentPresenceChanged(a2, Presence.OFF_QUEUE))
    cb = w.callback("cb1")
    assert offers(w) == [(a1, cb)]
    w.send(AgentPresenceChanged(a1, Presence.OFF_QUEUE))
    assert w.last(cb).state is State.WAITING
    w.send(AgentPresenceChanged(a2, Presence.ON_QUEUE))
    assert offers(w)[-1] == (a2, cb)
    statuses = [s.status for s in w.of(AgentStatusChanged) if s.agent_id == a1]
    assert RoutingStatus.NOT_RESPONDING not in statuses
