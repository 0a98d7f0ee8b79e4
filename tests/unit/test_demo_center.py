"""The live demo's contact center on a virtual clock: its queues, its agents and the service's
carrier, driven exactly as ``dialback serve --demo`` drives them, but in virtual time."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from dialback.demo.center import demo_agents, setup_events
from dialback.domain.effects import Effect, PlaceCall
from dialback.domain.events import AgentDialed, CallbackRequested, Event
from dialback.domain.facts import DialResolved, InteractionChanged
from dialback.domain.model import (
    CallbackRequest,
    ConversationId,
    EndReason,
    InteractionId,
    QueueId,
    State,
)
from dialback.sim.clock import VirtualClock
from dialback.telephony.simulated import DEFAULT_MIX, Mix, service_model

START = 1_767_225_600.0


def run_center(speed: float, hours: float = 1.0) -> tuple[VirtualClock, list[Effect]]:
    """A bounded demo day: a billing or support callback every 20 s, one or two numbers each.
    The agents' seconds pass ``speed`` times faster than the engine's, as in the live demo."""
    clock = VirtualClock.seeded(3, START)
    rng = random.Random(3)
    numbers: dict[InteractionId, int] = {}

    def later(seconds: float, event: Event) -> None:
        clock.post(event, clock.now + seconds / speed)

    agents = demo_agents(later, lambda callback: numbers.get(callback, 1), rng, speed)
    carrier = service_model(Mix(DEFAULT_MIX, random.Random(4)))
    seen: list[Effect] = []

    def react(now: float, event: Event, effects: list[Effect]) -> None:
        seen.extend(effects)
        agents.react(now, event, effects)
        for effect in effects:
            if isinstance(effect, PlaceCall):
                for after, report in carrier.dial(effect).reports(effect.dial_id):
                    clock.post(report, clock.now + after / speed)

    clock.listeners.append(react)
    for event in setup_events():
        clock.post(event)
    for k in range(int(hours * 180)):
        callback = InteractionId(f"cb-{k}")
        queue = QueueId("billing" if k % 2 else "support")
        phones = tuple(f"+1415555{2000 + k:04d}{n}" for n in range(1 + k % 3 // 2))
        numbers[callback] = len(phones)
        request = CallbackRequest(queue, phones)
        clock.post(CallbackRequested(callback, ConversationId(f"c-{k}"), request), START + 20 * k)
    clock.run_until(START + hours * 3600 + 1800)
    return clock, seen


@pytest.mark.parametrize("speed", [pytest.param(s, id=f"speed-{s:g}") for s in (1, 0.5, 20)])
def test_demo_agents_never_dial_a_callback_the_engine_is_dialing(speed: float) -> None:
    """R-AF-2 with auto-dial (the demo's Billing queue): the engine announces its auto-dial timer,
    so an agent leaves that dial to the engine instead of racing it into ``dial_in_progress``."""
    clock, seen = run_center(speed)
    refusals = Counter((type(event).__name__, error.code) for _, event, error in clock.refused)
    assert refusals[("AgentDialed", "dial_in_progress")] == 0, refusals
    assert not [e for _, e, _ in clock.refused if isinstance(e, AgentDialed)], refusals
    agent_dials = [e for e in seen if isinstance(e, DialResolved) and e.agent_id is not None]
    assert len(agent_dials) >= 40  # the billing agents did work their callbacks
    handled = [
        e
        for e in seen
        if isinstance(e, InteractionChanged)
        and e.state is State.ENDED
        and e.end_reason is EndReason.HANDLED
    ]
    assert len(handled) >= 40
