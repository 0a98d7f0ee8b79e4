"""A carrier in the process: dials resolve after a ring time with an outcome drawn from a mix.

Used by the demo and by tests of the service. Each placed call is appended to an optional log
file (JSON lines, flushed at once) so a test can check, after killing the process, that no
callback was dialed twice at once.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from dialback.domain.effects import PlaceCall
from dialback.domain.events import CustomerHungUp, DialCompleted, DialRang
from dialback.domain.model import AgentId, DialId, DialResult, InteractionId, Outcome
from dialback.telephony.port import Report

DEFAULT_MIX: Mapping[Outcome, float] = {
    Outcome.LIVE_VOICE: 0.7,
    Outcome.ANSWERING_MACHINE: 0.12,
    Outcome.NO_ANSWER: 0.1,
    Outcome.BUSY: 0.05,
    Outcome.SIT_INVALID_NUMBER: 0.01,
    Outcome.FAX: 0.01,
    Outcome.REJECTED: 0.01,
}
SIP = {
    Outcome.BUSY: 486,
    Outcome.NO_ANSWER: 487,
    Outcome.SIT_INVALID_NUMBER: 404,
    Outcome.SIT_NO_CIRCUIT: 503,
    Outcome.REJECTED: 603,
    Outcome.ERROR: 500,
    Outcome.SIT_OTHER: 500,
}


@dataclass
class SimulatedCarrier:
    """``speed`` divides every delay (a demo may run faster than real time)."""

    report: Report
    rng: random.Random = field(default_factory=random.Random)
    mix: Mapping[Outcome, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    ring_seconds: float = 3.0
    answer_seconds: float = 6.0
    no_answer_seconds: float = 20.0
    speed: float = 1.0
    log_path: Path | None = None
    dials: dict[DialId, asyncio.Task[None]] = field(default_factory=dict)
    customers: set[InteractionId] = field(default_factory=set)
    _log: TextIO | None = None

    def _write(self, record: dict[str, object]) -> None:
        if self.log_path is None:
            return
        if self._log is None:
            self._log = self.log_path.open("a", encoding="utf-8")
        self._log.write(json.dumps(record) + "\n")
        self._log.flush()

    def place(self, call: PlaceCall) -> None:
        self._write(
            {
                "event": "place",
                "dial_id": call.dial_id,
                "callback": call.interaction_id,
                "attempt": call.attempt,
                "at": time.time(),
            }
        )
        self.dials[call.dial_id] = asyncio.get_running_loop().create_task(self._dial(call))

    async def _dial(self, call: PlaceCall) -> None:
        outcomes, weights = zip(*self.mix.items(), strict=True)
        outcome = self.rng.choices(outcomes, weights)[0]
        await asyncio.sleep(self.ring_seconds / self.speed)
        await self.report(DialRang(call.dial_id))
        wait = self.no_answer_seconds if outcome is Outcome.NO_ANSWER else self.answer_seconds
        await asyncio.sleep(max(0.0, wait - self.ring_seconds) / self.speed)
        answered = outcome in (Outcome.LIVE_VOICE, Outcome.ANSWERING_MACHINE, Outcome.FAX)
        result = DialResult(outcome, 200 if answered else SIP.get(outcome))
        if answered and outcome is Outcome.LIVE_VOICE:
            self.customers.add(call.interaction_id)
        self.dials.pop(call.dial_id, None)
        self._write(
            {
                "event": "result",
                "dial_id": call.dial_id,
                "outcome": outcome.value,
                "at": time.time(),
            }
        )
        await self.report(DialCompleted(call.dial_id, result))

    def cancel(self, dial_id: DialId) -> None:
        task = self.dials.pop(dial_id, None)
        if task is not None:
            task.cancel()
            self._write({"event": "cancel", "dial_id": dial_id, "at": time.time()})

    def connect(
        self, interaction_id: InteractionId, agent_id: AgentId, address: str | None
    ) -> None:
        self.customers.add(interaction_id)

    def transfer_to_flow(self, interaction_id: InteractionId, flow_id: str) -> None:
        self.customers.discard(interaction_id)

    def hang_up(self, interaction_id: InteractionId) -> None:
        self.customers.discard(interaction_id)

    def knows_dial(self, dial_id: DialId) -> bool:
        return dial_id in self.dials

    def has_customer(self, interaction_id: InteractionId) -> bool:
        return interaction_id in self.customers

    async def close(self) -> None:
        for task in self.dials.values():
            task.cancel()
        self.dials.clear()

    async def customer_hangs_up(self, interaction_id: InteractionId) -> None:
        self.customers.discard(interaction_id)
        await self.report(CustomerHungUp(interaction_id))
