"""A carrier in the process: one model of what happens to a dial, and the Dialer port over it.

- **The model** (``CarrierModel``) is pure: for a placed dial it says which outcome comes (drawn
  from a mix with a given ``random.Random``, ``Mix``, or scripted per number, ``Script``), when
  the phone rings, when the dial resolves, with which SIP code and, for a dial the dialer
  analyses, where the greeting starts and ends. No asyncio and no clock: times are seconds after
  the dial is placed. Its timings and SIP codes are parameters, so each driver keeps its own.
- **The shells** schedule what the model decides: ``SimulatedCarrier`` (the Dialer port adapter,
  asyncio, for ``dialback serve`` and tests of the service) in real time divided by ``speed``;
  the simulator (``sim/model.py``) and the scripted demo (``demo/script.py``) on their virtual
  clocks.

``SimulatedCarrier`` appends each placed call to an optional log file (JSON lines, flushed at
once) so a test can check, after killing the process, that no callback was dialed twice at once.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

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
"""The SIP final response of each unanswered outcome (an answered dial is 200)."""


# --- the model ----------------------------------------------------------------------------------
class Outcomes(Protocol):
    """Which outcome the next dial gets."""

    def __call__(self, call: PlaceCall) -> Outcome: ...


@dataclass
class Mix:
    """Outcomes drawn from ``weights`` with ``rng``: one ``rng.choices`` per dial, so a seeded
    run draws the same outcomes in the same order."""

    weights: Mapping[Outcome, float]
    rng: random.Random

    def __call__(self, call: PlaceCall) -> Outcome:
        outcomes, weights = zip(*self.weights.items(), strict=True)
        drawn: Outcome = self.rng.choices(outcomes, weights)[0]
        return drawn


@dataclass
class Script:
    """Each number answers its dials with the outcomes ``phones`` lists for it, in turn; the last
    one again once the list is used up. Raises ``KeyError`` for a number with no script."""

    phones: Mapping[str, Sequence[Outcome]]
    tries: dict[str, int] = field(default_factory=dict)  # dials so far, per number

    def __call__(self, call: PlaceCall) -> Outcome:
        script = self.phones[call.number]
        tries = self.tries.get(call.number, 0)
        self.tries[call.number] = tries + 1
        return script[min(tries, len(script) - 1)]


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the dialer's call progress analysis reports after an answer: the greeting's start
    (seconds after the answer), its end by outcome (None when not heard), and how long the
    analysis took (the result comes that many seconds after the answer)."""

    greeting_start: float
    greeting_end: Mapping[Outcome, float]
    seconds: float


@dataclass(frozen=True, slots=True)
class Progress:
    """What the carrier does with one dial, in seconds after it was placed: ring (None: the
    phone never rings), then resolve with ``result``."""

    rings_after: float | None
    resolves_after: float
    result: DialResult

    def reports(self, dial_id: DialId) -> list[tuple[float, DialRang | DialCompleted]]:
        """The carrier's reports of this dial, in order, each with its delay after the dial."""
        found: list[tuple[float, DialRang | DialCompleted]] = []
        if self.rings_after is not None:
            found.append((self.rings_after, DialRang(dial_id)))
        found.append((self.resolves_after, DialCompleted(dial_id, self.result)))
        return found


@dataclass
class CarrierModel:
    """The simulated carrier's decisions, without a clock.

    A dial resolves ``resolve_seconds[outcome]`` seconds after it is placed
    (``resolve_default`` for an outcome not listed). It rings ``ring_seconds`` after it is
    placed if that is before it resolves and its outcome is not ``silent`` (a busy line or a
    dead number may fail at once). Its SIP code is ``sip_codes[outcome]`` (``sip_default``
    otherwise). With ``analysis``, an answered dial placed by the dialer (not by an agent, who
    listens for themselves) carries the greeting times and the analysis time.
    """

    outcomes: Outcomes
    ring_seconds: float
    resolve_seconds: Mapping[Outcome, float]
    resolve_default: float
    sip_codes: Mapping[Outcome, int]
    sip_default: int | None = None
    silent: frozenset[Outcome] = frozenset()
    analysis: Analysis | None = None

    def dial(self, call: PlaceCall) -> Progress:
        """Decide what happens to ``call`` (draws one outcome)."""
        outcome = self.outcomes(call)
        resolves = self.resolve_seconds.get(outcome, self.resolve_default)
        if outcome is Outcome.NO_ANSWER:  # R-X-15: the dialer lets it ring long enough
            resolves = max(resolves, call.minimum_ring_seconds)
        rings = self.ring_seconds if outcome not in self.silent else None
        if rings is not None and not rings < resolves:
            rings = None
        result = DialResult(outcome, self.sip_codes.get(outcome, self.sip_default))
        if self.analysis is not None and result.answered and call.agent_id is None:
            result = DialResult(
                outcome,
                result.sip_code,
                self.analysis.greeting_start,
                self.analysis.greeting_end.get(outcome),
                self.analysis.seconds,
            )
        return Progress(rings, resolves, result)


def service_model(
    outcomes: Outcomes,
    ring_seconds: float = 3.0,
    answer_seconds: float = 6.0,
    no_answer_seconds: float = 20.0,
) -> CarrierModel:
    """The service's carrier: every dial rings after ``ring_seconds``; an unanswered one gives
    up after ``no_answer_seconds``, any other resolves after ``answer_seconds``."""
    answered = dict.fromkeys((Outcome.LIVE_VOICE, Outcome.ANSWERING_MACHINE, Outcome.FAX), 200)
    return CarrierModel(
        outcomes,
        ring_seconds,
        {Outcome.NO_ANSWER: max(ring_seconds, no_answer_seconds)},
        max(ring_seconds, answer_seconds),
        answered | SIP,
    )


# --- the Dialer port adapter --------------------------------------------------------------------
@dataclass
class SimulatedCarrier:
    """The Dialer port over ``model`` (by default the service's timings over ``mix`` drawn with
    ``rng``). ``speed`` divides every delay (a demo may run faster than real time)."""

    report: Report
    rng: random.Random = field(default_factory=random.Random)
    mix: Mapping[Outcome, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    speed: float = 1.0
    log_path: Path | None = None
    model: CarrierModel | None = None
    dials: dict[DialId, asyncio.Task[None]] = field(default_factory=dict)
    customers: set[InteractionId] = field(default_factory=set)
    messages: list[tuple[InteractionId, str | None]] = field(default_factory=list)  # R-X-14
    _log: TextIO | None = None

    def __post_init__(self) -> None:
        if self.model is None:
            self.model = service_model(Mix(self.mix, self.rng))

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
        assert self.model is not None
        progress = self.model.dial(call)
        self.dials[call.dial_id] = asyncio.get_running_loop().create_task(
            self._dial(call, progress)
        )

    async def _dial(self, call: PlaceCall, progress: Progress) -> None:
        elapsed = 0.0
        for after, report in progress.reports(call.dial_id):
            await asyncio.sleep(max(0.0, after - elapsed) / self.speed)
            elapsed = after
            if isinstance(report, DialCompleted):
                self._completed(call, report.result)
            await self.report(report)

    def _completed(self, call: PlaceCall, result: DialResult) -> None:
        if result.outcome is Outcome.LIVE_VOICE:
            self.customers.add(call.interaction_id)
        self.dials.pop(call.dial_id, None)
        self._write(
            {
                "event": "result",
                "dial_id": call.dial_id,
                "outcome": result.outcome.value,
                "at": time.time(),
            }
        )

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

    def play_message(self, interaction_id: InteractionId, audio: str | None) -> None:
        """R-X-14: a simulated customer hears nothing; the message is recorded."""
        self.messages.append((interaction_id, audio))
        self._write({"event": "message", "interaction_id": interaction_id, "audio": audio})

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
