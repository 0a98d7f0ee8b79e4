"""Virtual agents: they accept alerts, dial agent-first callbacks (the next number after a
failed dial, then give up), talk, hang up and wrap up. Used by the scripted demo and by
``dialback serve --demo``; ``schedule`` says how a later event reaches the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dialback.domain.effects import ConnectToAgent, Effect, OfferToAgent, PlaceCall
from dialback.domain.events import (
    AgentDialed,
    AgentEndedCallback,
    AgentHungUp,
    AlertAccepted,
    CustomerHungUp,
    Event,
    WrapUpCompleted,
)
from dialback.domain.facts import DialResolved, InteractionChanged
from dialback.domain.model import InteractionId, MediaType, Outcome, State


@dataclass
class VirtualAgents:
    schedule: Callable[[float, Event], None]
    numbers_of: Callable[[InteractionId], int]
    talk_seconds: Callable[[InteractionId], float] = lambda _interaction: 240.0
    accept_seconds: float = 3.0
    acw_seconds: float = 30.0
    redial_seconds: float = 5.0
    wrapup_code: str = "resolved"
    dialed: dict[InteractionId, int] = field(default_factory=dict)  # dials per callback

    def react(self, _now: float, event: Event, effects: list[Effect]) -> None:
        for effect in effects:
            self._react(event, effect)

    def _react(self, event: Event, effect: Effect) -> None:
        if isinstance(effect, OfferToAgent):
            self.schedule(
                self.accept_seconds, AlertAccepted(effect.agent_id, effect.interaction_id)
            )
        elif isinstance(effect, PlaceCall) and effect.agent_id is not None:
            self.dialed[effect.interaction_id] = effect.attempt
        elif isinstance(effect, DialResolved) and effect.agent_id is not None:
            self._heard(effect)
        elif isinstance(effect, ConnectToAgent):
            self.schedule(
                self.talk_seconds(effect.interaction_id),
                AgentHungUp(effect.agent_id, effect.interaction_id),
            )
        elif isinstance(effect, InteractionChanged):
            self._changed(event, effect)

    def _heard(self, dial: DialResolved) -> None:
        """Agent-first: talk on live voice; otherwise try the next number, or give up (R-AF-3)."""
        assert dial.agent_id is not None
        agent, callback = dial.agent_id, dial.interaction_id
        if dial.result.outcome is Outcome.LIVE_VOICE:
            self.schedule(self.talk_seconds(callback), AgentHungUp(agent, callback))
        elif self.dialed.get(callback, 0) < self.numbers_of(callback):
            self.schedule(self.redial_seconds, AgentDialed(agent, callback))
        else:
            self.schedule(self.redial_seconds, AgentEndedCallback(agent, callback))

    def _changed(self, event: Event, change: InteractionChanged) -> None:
        agent, interaction = change.agent_id, change.interaction_id
        if change.state is State.ACW and agent is not None:
            self.schedule(self.acw_seconds, WrapUpCompleted(agent, interaction, self.wrapup_code))
        elif change.state is State.CONNECTED and change.media is MediaType.CALLBACK and agent:
            if isinstance(event, AlertAccepted):
                self.schedule(self.redial_seconds, AgentDialed(agent, interaction))  # R-AF-2
            elif isinstance(event, AgentHungUp | CustomerHungUp):
                self.schedule(self.redial_seconds, AgentEndedCallback(agent, interaction))
