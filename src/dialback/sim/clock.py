"""Drive the engine on a virtual clock: a heap of (time, sequence, event), where the engine's
timers become events too. Used by the demo and the tests; the simulator builds on the same idea.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from dialback.domain.effects import CancelTimer, Effect, StartTimer
from dialback.domain.engine import Engine
from dialback.domain.errors import DialbackError
from dialback.domain.events import Event, TimerFired, TimerKey

Listener = Callable[[float, Event, list[Effect]], None]


@dataclass
class VirtualClock:
    """Runs ``engine`` in virtual time. ``post`` schedules an event; ``run_until`` feeds events
    in (time, sequence) order, so a run replays exactly. Timers the engine starts are posted as
    ``TimerFired`` events; cancelled ones are skipped. ``listeners`` see every step; ``send``
    raises what the engine refuses, posted events that are refused land in ``refused``."""

    engine: Engine
    now: float = 0.0
    listeners: list[Listener] = field(default_factory=list)
    _heap: list[tuple[float, int, Event | Callable[[], None]]] = field(default_factory=list)
    _seq: int = 0
    _timers: dict[TimerKey, float] = field(default_factory=dict)
    refused: list[tuple[float, Event, DialbackError]] = field(default_factory=list)
    """Posted events the engine refused: the virtual world races like the real one (a customer
    hangs up just as the agent does), and the engine's answer is kept, not raised."""

    @staticmethod
    def seeded(seed: int, start: float = 0.0) -> VirtualClock:
        return VirtualClock(Engine(rng=random.Random(seed), zones=ZoneInfo), now=start)

    def post(self, event: Event, at: float | None = None) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (self.now if at is None else at, self._seq, event))

    def call_at(self, at: float, action: Callable[[], None]) -> None:
        """Run ``action`` at ``at`` (in heap order with the events): a driver's own step, such as
        a customer whose patience runs out looking whether they are still waiting."""
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, action))

    def send(self, event: Event) -> list[Effect]:
        """Feed one event now, outside the heap."""
        effects = self.engine.handle(event, self.now)
        for effect in effects:
            if isinstance(effect, StartTimer):
                self._timers[effect.key] = effect.at
                self.post(TimerFired(effect.key, effect.at), effect.at)
            elif isinstance(effect, CancelTimer):
                self._timers.pop(effect.key, None)
        for listener in self.listeners:
            listener(self.now, event, effects)
        return effects

    def run_until(self, until: float, max_steps: int = 10_000_000) -> int:
        """Feed every event due by ``until``; returns how many were fed."""
        steps = 0
        while self._heap and self._heap[0][0] <= until and steps < max_steps:
            at, _, event = heapq.heappop(self._heap)
            if callable(event):
                self.now = max(self.now, at)
                event()
                steps += 1
                continue
            if isinstance(event, TimerFired) and self._timers.get(event.key) != event.at:
                continue  # cancelled or restarted
            if isinstance(event, TimerFired):
                del self._timers[event.key]
            self.now = max(self.now, at)
            try:
                self.send(event)
            except DialbackError as refusal:
                self.refused.append((self.now, event, refusal))
            steps += 1
        self.now = max(self.now, until)
        return steps

    @property
    def pending(self) -> int:
        return len(self._heap)
