"""A driver for the engine in unit tests: a fake clock that fires the engine's timers in order,
and helpers to build queues, agents and callbacks with little noise."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dialback.domain.effects import Effect, PlaceCall, RecordPacingDecision
from dialback.domain.engine import Engine
from dialback.domain.events import (
    AgentJoinedQueue,
    AgentPresenceChanged,
    AgentRegistered,
    CallbackRequested,
    DialCompleted,
    Event,
    QueueConfigured,
)
from dialback.domain.facts import InteractionChanged
from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    ConversationId,
    DialResult,
    InteractionId,
    Outcome,
    Presence,
    QueueId,
)
from dialback.domain.pacing import PacingDecision
from dialback.domain.settings import QueueSettings, parse_queue
from dialback.sim.clock import VirtualClock

T = TypeVar("T")

Q = QueueId("q1")


@dataclass
class World:
    """Drives an ``Engine`` on a virtual clock. Every effect is kept in ``log``."""

    seed: int = 1
    start: float = 1_000_000.0
    clock: VirtualClock = field(init=False)
    log: list[Effect] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clock = VirtualClock.seeded(self.seed, self.start)
        self.clock.listeners.append(lambda _now, _event, effects: self.log.extend(effects))

    @property
    def engine(self) -> Engine:
        return self.clock.engine

    @property
    def now(self) -> float:
        return self.clock.now

    @now.setter
    def now(self, value: float) -> None:
        self.clock.now = value

    def send(self, event: Event) -> list[Effect]:
        return self.clock.send(event)

    def advance(self, seconds: float) -> list[Effect]:
        """Move the clock, firing due timers in time order; returns their effects."""
        mark = len(self.log)
        self.clock.run_until(self.now + seconds)
        return self.log[mark:]

    # --- building -------------------------------------------------------------------------------
    def queue(self, body: dict[str, Any] | None = None, queue_id: QueueId = Q) -> QueueSettings:
        settings = parse_queue(body or {})
        self.send(QueueConfigured(queue_id, settings))
        return settings

    def agents(self, count: int, *, queue_id: QueueId = Q, capacity: int = 1) -> list[AgentId]:
        made = []
        for _ in range(count):
            agent = AgentId(f"a{len(self.engine.agents) + 1}")
            self.send(AgentRegistered(agent, capacity))
            self.send(AgentJoinedQueue(agent, queue_id))
            self.send(AgentPresenceChanged(agent, Presence.ON_QUEUE))
            made.append(agent)
            self.now += 1  # distinct idle-since times: a1 has been idle longest
        return made

    def callback(self, name: str, **fields: Any) -> InteractionId:
        fields.setdefault("queue_id", Q)
        fields.setdefault("numbers", ("+14155550100",))
        callback_id = InteractionId(name)
        self.send(
            CallbackRequested(callback_id, ConversationId(f"c-{name}"), CallbackRequest(**fields))
        )
        return callback_id

    def complete(self, dial: PlaceCall, outcome: Outcome, sip: int | None = None) -> list[Effect]:
        return self.send(DialCompleted(dial.dial_id, DialResult(outcome, sip)))

    # --- reading --------------------------------------------------------------------------------
    def of(self, kind: type[T], effects: Iterable[Effect] | None = None) -> list[T]:
        return [e for e in (self.log if effects is None else effects) if isinstance(e, kind)]

    def dials(self, effects: Iterable[Effect] | None = None) -> list[PlaceCall]:
        return self.of(PlaceCall, effects)

    def decisions(self, effects: Iterable[Effect] | None = None) -> list[PacingDecision]:
        return [r.decision for r in self.of(RecordPacingDecision, effects)]

    def changes(self, interaction: str) -> list[InteractionChanged]:
        return [c for c in self.of(InteractionChanged) if c.interaction_id == interaction]

    def last(self, interaction: str) -> InteractionChanged:
        return self.changes(interaction)[-1]
