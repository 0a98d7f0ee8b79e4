"""Virtual agents: they accept alerts, dial agent-first callbacks (the next number after a
failed dial, then give up), talk, hang up and wrap up. Used by the scripted demo, the simulator
and ``dialback serve --demo``; ``schedule`` says how a later event reaches the engine.

They act only on what the engine tells them: its orders (``OfferToAgent``, ``PlaceCall``,
``ConnectToAgent``), its facts (``DialResolved``, ``InteractionChanged``) and the timers it
starts. A queue with auto-dial and auto-end (R-AF-2, R-AF-4) has the engine itself dial or end a
callback when its timer fires; an agent does not plan a move on a callback that the engine has
said it will move first, since that move would race the engine's and be refused (an
``AgentDialed`` on a callback the engine is already dialing is ``dial_in_progress``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dialback.domain.effects import (
    CancelTimer,
    ConnectToAgent,
    Effect,
    OfferToAgent,
    PlaceCall,
    StartTimer,
)
from dialback.domain.events import (
    AgentDialed,
    AgentEndedCallback,
    AgentHungUp,
    AlertAccepted,
    CustomerHungUp,
    Event,
    TimerFired,
    TimerKey,
    TimerKind,
    WrapUpCompleted,
)
from dialback.domain.facts import DialResolved, InteractionChanged
from dialback.domain.model import InteractionId, MediaType, Outcome, State

ENGINE_MOVES = frozenset({TimerKind.AUTO_DIAL, TimerKind.AUTO_END})
"""Timers whose firing dials or ends a callback the agent holds: the engine moves it itself."""


@dataclass
class VirtualAgents:
    """``schedule(seconds, event)`` sends ``event`` that many of the agents' seconds later;
    ``speed`` is how many of their seconds pass in one second of the engine's clock (the live
    demo runs its world faster than the engine's timers)."""

    schedule: Callable[[float, Event], None]
    numbers_of: Callable[[InteractionId], int]
    talk_seconds: Callable[[InteractionId], float] = lambda _interaction: 240.0
    accept_seconds: float = 3.0
    acw_seconds: float = 30.0
    redial_seconds: float = 5.0
    wrapup_code: str = "resolved"
    speed: float = 1.0
    dialed: dict[InteractionId, int] = field(default_factory=dict)  # dials per callback
    engine_moves: dict[TimerKey, float] = field(default_factory=dict)
    """The auto-dial and auto-end timers the engine has started and not yet cancelled or fired
    (engine time)."""

    def react(self, now: float, event: Event, effects: list[Effect]) -> None:
        if isinstance(event, TimerFired):
            self.engine_moves.pop(event.key, None)
        for effect in effects:
            if isinstance(effect, StartTimer) and effect.key.kind in ENGINE_MOVES:
                self.engine_moves[effect.key] = effect.at
            elif isinstance(effect, CancelTimer):
                self.engine_moves.pop(effect.key, None)
        for effect in effects:
            self._react(now, event, effect)

    def _react(self, now: float, event: Event, effect: Effect) -> None:
        if isinstance(effect, OfferToAgent):
            self.schedule(
                self.accept_seconds, AlertAccepted(effect.agent_id, effect.interaction_id)
            )
        elif isinstance(effect, PlaceCall) and effect.agent_id is not None:
            self.dialed[effect.interaction_id] = effect.attempt
        elif isinstance(effect, DialResolved) and effect.agent_id is not None:
            self._heard(now, effect)
        elif isinstance(effect, ConnectToAgent):
            self.schedule(
                self.talk_seconds(effect.interaction_id),
                AgentHungUp(effect.agent_id, effect.interaction_id),
            )
        elif isinstance(effect, InteractionChanged):
            self._changed(now, event, effect)

    def _move(self, now: float, callback: InteractionId, event: Event) -> None:
        """Dial or end ``callback`` after ``redial_seconds``, unless the engine has said it will
        dial or end it by then (its move comes first; ours would be refused)."""
        due = now + self.redial_seconds / self.speed
        for kind in ENGINE_MOVES:
            at = self.engine_moves.get(TimerKey(kind, callback))
            if at is not None and at <= due:
                return
        self.schedule(self.redial_seconds, event)

    def _heard(self, now: float, dial: DialResolved) -> None:
        """Agent-first: talk on live voice; otherwise try the next number, or give up (R-AF-3)."""
        assert dial.agent_id is not None
        agent, callback = dial.agent_id, dial.interaction_id
        if dial.result.outcome is Outcome.LIVE_VOICE:
            self.schedule(self.talk_seconds(callback), AgentHungUp(agent, callback))
        elif self.dialed.get(callback, 0) < self.numbers_of(callback):
            self._move(now, callback, AgentDialed(agent, callback))
        else:
            self._move(now, callback, AgentEndedCallback(agent, callback))

    def _changed(self, now: float, event: Event, change: InteractionChanged) -> None:
        agent, interaction = change.agent_id, change.interaction_id
        if change.state is State.ENDED:
            self.dialed.pop(interaction, None)
            for kind in ENGINE_MOVES:
                self.engine_moves.pop(TimerKey(kind, interaction), None)
        elif change.state is State.ACW and agent is not None:
            self.schedule(self.acw_seconds, WrapUpCompleted(agent, interaction, self.wrapup_code))
        elif change.state is State.CONNECTED and change.media is MediaType.CALLBACK and agent:
            if isinstance(event, AlertAccepted):
                self._move(now, interaction, AgentDialed(agent, interaction))  # R-AF-2
            elif isinstance(event, AgentHungUp | CustomerHungUp):
                self._move(now, interaction, AgentEndedCallback(agent, interaction))
