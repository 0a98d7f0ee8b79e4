"""Owned and preferred callbacks (SPEC §8: R-OW-1..3) and due scheduled callbacks (R-O-4)."""

from __future__ import annotations

from typing import Any

from dialback.domain.effects import OfferToAgent
from dialback.domain.events import AgentPresenceChanged, AlertAccepted, CallbackRescheduled
from dialback.domain.model import EndReason, Presence, State

from .harness import World

HOUR = 3600.0


def owned_queue(**owned: Any) -> dict[str, Any]:
    return {
        "agentOwnedRouting": {
            "enableAgentOwnedCallbacks": True,
            "maxOwnedCallbackHours": 2,
            **owned,
        }
    }


def offered_to(world: World, callback: str) -> list[str]:
    return [o.agent_id for o in world.of(OfferToAgent) if o.interaction_id == callback]


def test_r_ow_1_an_owned_callback_is_offered_only_to_its_owner() -> None:
    w = World()
    w.queue(owned_queue())
    a1, a2 = w.agents(2)
    w.send(AgentPresenceChanged(a2, Presence.OFF_QUEUE))
    cb = w.callback("cb1", owner=a2)
    assert offered_to(w, cb) == []  # a1 is idle but is not the owner
    w.send(AgentPresenceChanged(a2, Presence.ON_QUEUE))
    assert offered_to(w, cb) == [a2]


def test_r_ow_1_owned_callback_waits_for_its_time_then_for_its_owner() -> None:
    w = World()
    w.queue(owned_queue())
    (a1,) = w.agents(1)
    cb = w.callback("cb1", owner=a1, scheduled_time=w.now + HOUR)
    assert w.last(cb).state is State.SCHEDULED
    w.advance(HOUR - 1)
    assert offered_to(w, cb) == []
    w.advance(2)
    assert offered_to(w, cb) == [a1]


def test_r_ow_1_owner_weighs_its_owned_callbacks_against_the_queue_by_r_o_1() -> None:
    w = World()
    w.queue(owned_queue())
    (a1,) = w.agents(1, capacity=2)
    w.send(AgentPresenceChanged(a1, Presence.OFF_QUEUE))
    w.callback("queued", priority=0)
    w.now += 1
    w.callback("mine", owner=a1, priority=5)
    w.now += 1
    w.callback("older-mine", owner=a1, priority=0)
    w.send(AgentPresenceChanged(a1, Presence.ON_QUEUE))
    # first the higher priority, then of equal priorities the earlier entry
    assert [o.interaction_id for o in w.of(OfferToAgent)] == ["mine", "queued"]


def test_r_ow_2_expired_ownership_disconnects_with_ownership_expired() -> None:
    w = World()
    w.queue(owned_queue())
    a1, a2 = w.agents(2)
    w.send(AgentPresenceChanged(a1, Presence.OFF_QUEUE))
    cb = w.callback("cb1", owner=a1)
    w.advance(2 * HOUR - 1)
    assert w.last(cb).state is State.WAITING
    w.advance(2)
    assert w.last(cb).end_reason is EndReason.OWNERSHIP_EXPIRED
    assert offered_to(w, cb) == []


def test_r_ow_2_expired_ownership_can_go_to_any_agent_keeping_its_place() -> None:
    w = World()
    w.queue(owned_queue(assignToQueueOnOwnershipExpiry=True))
    a1, a2, a3 = w.agents(3)
    for agent in (a1, a2, a3):
        w.send(AgentPresenceChanged(agent, Presence.OFF_QUEUE))
    cb = w.callback("cb1", owner=a1)
    w.now += 60
    w.callback("later")
    w.advance(2 * HOUR + 1)
    w.send(AgentPresenceChanged(a2, Presence.ON_QUEUE))
    assert offered_to(w, cb) == [a2]  # older than "later": its place was kept


def test_r_ow_2_ownership_expiring_while_alerting_the_owner_waits_for_the_alert() -> None:
    w = World()
    w.queue(
        {
            **owned_queue(maxOwnedCallbackHours=1),
            "mediaSettings": {"callback": {"alertingTimeoutSeconds": 600}},
        }
    )
    a1, a2 = w.agents(2)
    w.send(AgentPresenceChanged(a2, Presence.OFF_QUEUE))
    w.send(AgentPresenceChanged(a1, Presence.OFF_QUEUE))
    cb = w.callback("cb1", owner=a1)
    w.advance(HOUR - 300)
    w.send(AgentPresenceChanged(a1, Presence.ON_QUEUE))
    assert w.last(cb).state is State.ALERTING
    w.advance(400)  # past the ownership deadline, alert still ringing
    assert w.last(cb).state is State.ALERTING
    w.advance(300)  # alert times out: now the ownership has expired
    assert w.last(cb).end_reason is EndReason.OWNERSHIP_EXPIRED


def test_r_ow_2_an_accepted_owned_callback_is_the_owners_whatever_the_deadline() -> None:
    w = World()
    w.queue(owned_queue(maxOwnedCallbackHours=1))
    (a1,) = w.agents(1)
    cb = w.callback("cb1", owner=a1)
    w.send(AlertAccepted(a1, cb))
    w.advance(2 * HOUR)
    assert w.last(cb).state is State.CONNECTED


def test_r_ow_2_owned_callbacks_in_a_customer_first_queue_are_offered_to_the_owner() -> None:
    w = World()
    w.queue(
        {
            **owned_queue(),
            "callingPartyNumber": "+14155550199",
            "mediaSettings": {"callback": {"mode": "CustomerFirst"}},
        }
    )
    (a1,) = w.agents(1)
    cb = w.callback("cb1", owner=a1)
    assert offered_to(w, cb) == [a1]
    assert w.dials() == []


def test_r_ow_3_preferred_agents_are_tried_first_when_idle() -> None:
    w = World()
    w.queue()
    a1, a2, a3 = w.agents(3)
    cb = w.callback("cb1", preferred_agents=(a3, a2))
    assert offered_to(w, cb) == [a2]  # a2 has been idle longer than a3


def test_r_ow_3_otherwise_any_agent() -> None:
    w = World()
    w.queue()
    a1, a2 = w.agents(2)
    w.send(AgentPresenceChanged(a2, Presence.OFF_QUEUE))
    cb = w.callback("cb1", preferred_agents=(a2,))
    assert offered_to(w, cb) == [a1]


def test_r_ow_3_a_freed_agent_leaves_a_head_to_its_idle_preferred_agent() -> None:
    w = World()
    w.queue()
    a1, a2 = w.agents(2)
    w.send(AgentPresenceChanged(a1, Presence.OFF_QUEUE))
    w.send(AgentPresenceChanged(a2, Presence.OFF_QUEUE))
    w.callback("cb1", preferred_agents=(a2,))
    w.callback("cb2")
    w.send(AgentPresenceChanged(a2, Presence.ON_QUEUE))
    w.send(AgentPresenceChanged(a1, Presence.ON_QUEUE))
    assert offered_to(w, "cb1") == [a2]
    assert offered_to(w, "cb2") == [a1]


def test_r_o_4_a_due_scheduled_callback_goes_to_the_next_available_agent() -> None:
    w = World()
    w.queue()
    a1, a2 = w.agents(2)
    w.send(AgentPresenceChanged(a1, Presence.OFF_QUEUE))
    cb = w.callback("cb1", scheduled_time=w.now + 600, preferred_agents=(a1,))
    w.advance(601)
    assert offered_to(w, cb) == [a2]


def test_r_o_4_with_no_agent_on_queue_a_due_callback_waits() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1)
    w.send(AgentPresenceChanged(a1, Presence.OFF_QUEUE))
    cb = w.callback("cb1", scheduled_time=w.now + 600)
    w.advance(3 * HOUR)
    assert w.last(cb).state is State.WAITING
    w.send(AgentPresenceChanged(a1, Presence.ON_QUEUE))
    assert offered_to(w, cb) == [a1]


def test_r_ow_1_a_rescheduled_owned_callback_stays_owned_with_a_new_window() -> None:
    w = World()
    w.queue(owned_queue())
    a1, a2 = w.agents(2)
    w.send(AgentPresenceChanged(a1, Presence.OFF_QUEUE))
    cb = w.callback("cb1", owner=a1)
    w.advance(HOUR)
    w.send(CallbackRescheduled(cb, scheduled_time=w.now + HOUR))
    w.advance(HOUR + 1)
    assert offered_to(w, cb) == []  # a2 is idle, but the callback is still a1's
    w.advance(2 * HOUR - 2)
    assert w.last(cb).state is State.WAITING  # the window restarted when it came due again
    w.advance(2)
    assert w.last(cb).end_reason is EndReason.OWNERSHIP_EXPIRED
