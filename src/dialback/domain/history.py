"""What a queue's recent history says, for the estimated wait time (issue 18): handle times,
patience (Kaplan-Meier), callers asking for a callback, dial outcomes and durations, and the
arrival rate, fitted from the stored timeline's metrics; priors where the history is thin.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass

from dialback.domain.metrics import Observation
from dialback.domain.model import ANSWERED_OUTCOMES, MediaType, Outcome, QueueId
from dialback.domain.timeline import Conversation, SegmentType

PRIOR_HANDLE = 300.0  # seconds: a typical voice handle time when a queue has no history yet
PRIOR_OUTCOMES: tuple[tuple[Outcome, float], ...] = (
    (Outcome.LIVE_VOICE, 0.75),
    (Outcome.ANSWERING_MACHINE, 0.1),
    (Outcome.NO_ANSWER, 0.15),
)
MIN_SAMPLES = 20
DIAL_SEGMENTS = frozenset({SegmentType.DIALING, SegmentType.CONTACTING, SegmentType.CONVERTING})


@dataclass(frozen=True, slots=True)
class Patience:
    """Kaplan-Meier survival of patience: ``times`` ascending, ``survival[k]`` = P(patience >
    times[k]). Answered callers are censored observations (they were still patient when
    answered). Past the last abandon the curve is flat: those callers never give up."""

    times: tuple[float, ...] = ()
    survival: tuple[float, ...] = ()

    @staticmethod
    def fit(observed: Iterable[tuple[float, bool]]) -> Patience:
        """From (seconds waited, abandoned) pairs."""
        pairs = sorted(observed)
        at_risk, times, survival, s = len(pairs), [], [], 1.0
        k = 0
        while k < len(pairs):
            t, deaths, leaving = pairs[k][0], 0, 0
            while k < len(pairs) and pairs[k][0] == t:
                deaths += pairs[k][1]
                leaving += 1
                k += 1
            if deaths:
                s *= 1 - deaths / at_risk
                times.append(t)
                survival.append(s)
            at_risk -= leaving
        return Patience(tuple(times), tuple(survival))

    def alive(self, t: float) -> float:
        k = bisect.bisect_right(self.times, t)
        return 1.0 if k == 0 else self.survival[k - 1]

    def sample(self, rng: random.Random, waited: float) -> float:
        """Seconds of patience left for a caller who has waited ``waited`` already
        (``math.inf``: never gives up)."""
        target = self.alive(waited) * rng.random()
        k = bisect.bisect_right(self.times, waited)
        while k < len(self.times) and self.survival[k] > target:
            k += 1
        if k == len(self.times):
            return math.inf
        low = self.times[k - 1] if k > 0 and self.times[k - 1] > waited else waited
        return max(0.0, low + (self.times[k] - low) * rng.random() - waited)

    @property
    def abandon_share(self) -> float:
        return 1.0 - (self.survival[-1] if self.survival else 1.0)


@dataclass(frozen=True, slots=True)
class History:
    """A queue's recent behaviour, for the forward simulation: handle times (agent-side, from
    connect to the end of wrap-up), patience, dial outcomes and dial durations; plus the counts
    the simple formulas need. ``fitted`` is False where a prior stood in for thin data."""

    handle: tuple[float, ...] = ()
    patience: Patience = Patience()
    converts: Patience = Patience()  # callers asking for a callback while waiting (R-C-6)
    outcomes: tuple[tuple[Outcome, float], ...] = PRIOR_OUTCOMES
    dial_seconds: tuple[tuple[Outcome, float], ...] = ()
    answered: int = 0
    abandoned: int = 0
    arrivals_per_hour: float = 0.0  # callers entering the queue lately
    arrivals_seen: int = 0  # how many, for the rate's uncertainty

    def draw_arrival_rate(self, rng: random.Random) -> float:
        """Callers per hour for one forward run: the recent rate with its uncertainty (the
        gamma posterior of a Poisson count), since a rate seen over half an hour is a guess."""
        if self.arrivals_seen <= 0:
            return self.arrivals_per_hour
        return (
            self.arrivals_per_hour * rng.gammavariate(self.arrivals_seen, 1.0) / self.arrivals_seen
        )

    @property
    def fitted(self) -> bool:
        return len(self.handle) >= MIN_SAMPLES

    @property
    def mean_handle(self) -> float:
        return sum(self.handle) / len(self.handle) if self.fitted else PRIOR_HANDLE

    def dial_time(self, outcome: Outcome) -> float:
        """Mean seconds from placing a dial to its outcome (priors: 8 s answered, 25 s no
        answer, 2 s otherwise)."""
        for known, seconds in self.dial_seconds:
            if known is outcome:
                return seconds
        if outcome in ANSWERED_OUTCOMES:
            return 8.0
        return 25.0 if outcome is Outcome.NO_ANSWER else 2.0

    @property
    def abandon_rate(self) -> float:
        total = self.answered + self.abandoned
        return self.abandoned / total if total else 0.0

    def draw_handle(self, rng: random.Random, elapsed: float = 0.0) -> float:
        """A handle time's remainder after ``elapsed`` seconds: resampled from the history's
        handle times longer than ``elapsed`` (exponential with the prior's mean when thin)."""
        if not self.fitted:
            return rng.expovariate(1 / PRIOR_HANDLE)
        longer = self.handle[bisect.bisect_right(self.handle, elapsed) :]
        if len(longer) < 5:  # the tail is thin: memoryless beyond it
            return rng.expovariate(1 / max(self.mean_handle, 1.0))
        return longer[rng.randrange(len(longer))] - elapsed


def fit_history(
    found: Iterable[Observation],
    conversations: Iterable[Conversation],
    queue_id: QueueId,
    *,
    now: float | None = None,
    rate_window: float = 1800.0,
    most: int = 2000,
) -> History:
    """Fit a ``History`` from the queue's metrics (``observations`` of its recent
    conversations) and the dial segments of those conversations. ``most`` caps each sample at
    the latest values. The arrival rate counts callers entering in the ``rate_window`` seconds
    before ``now`` (no rate without ``now``)."""
    arrived = 0
    handle: list[tuple[float, float]] = []
    waits: list[tuple[float, float, bool]] = []
    visits: list[tuple[float, float, bool]] = []  # voice waits, flowed out to a callback or not
    for o in found:
        if o.queue_id != queue_id:
            continue
        if o.name == "nOffered" and o.media is MediaType.VOICE and o.mode is None:
            arrived += now is not None and now - rate_window <= o.emitted < now
        if o.name == "tHandle" and o.agent_id is not None and o.media is MediaType.VOICE:
            # voice only: an agent-first callback's handle also holds its dials, which the
            # forward simulation plays out itself (a failed dial is not a short talk)
            handle.append((o.emitted, o.value))
        elif o.name in ("tAnswered", "tCfcAnswered") and o.media is MediaType.VOICE:
            waits.append((o.emitted, o.value, False))
        elif o.name in ("tAbandon", "tCfcAbandon") and o.media is MediaType.VOICE:
            waits.append((o.emitted, o.value, True))
        elif o.name == "tFlowOut" and o.media is MediaType.VOICE:  # still patient then
            waits.append((o.emitted, o.value, False))
        if o.media is MediaType.VOICE and o.mode is None:
            if o.name in ("tAnswered", "tAbandon"):
                visits.append((o.emitted, o.value, False))
            elif o.name == "tFlowOut":
                visits.append((o.emitted, o.value, True))
    dial_outcomes: dict[Outcome, int] = {}
    dial_time: dict[Outcome, float] = {}
    for conversation in conversations:
        for communication in conversation.communications.values():
            start: float | None = None
            for s in communication.segments:
                if s.queue_id != queue_id or s.type not in DIAL_SEGMENTS:
                    start = None
                    continue
                start = s.start if start is None else start
                if s.outcome is not None and s.end is not None:
                    dial_outcomes[s.outcome] = dial_outcomes.get(s.outcome, 0) + 1
                    dial_time[s.outcome] = dial_time.get(s.outcome, 0.0) + s.end - start
                    start = None
    dials = sum(dial_outcomes.values())
    handle = sorted(handle)[-most:]
    waits = sorted(waits)[-most:]
    visits = sorted(visits)[-most:]
    outcomes = PRIOR_OUTCOMES
    if dials >= MIN_SAMPLES:
        outcomes = tuple(
            (k, n / dials) for k, n in sorted(dial_outcomes.items(), key=lambda p: p[0].value)
        )
    return History(
        handle=tuple(sorted(v for _, v in handle)),
        patience=Patience.fit((w, a) for _, w, a in waits)
        if len(waits) >= MIN_SAMPLES
        else Patience(),
        converts=Patience.fit((w, c) for _, w, c in visits)
        if len(visits) >= MIN_SAMPLES
        else Patience(),
        outcomes=outcomes,
        dial_seconds=tuple(
            (k, dial_time[k] / n)
            for k, n in sorted(dial_outcomes.items(), key=lambda p: p[0].value)
        ),
        answered=sum(1 for w in waits if not w[2]),
        abandoned=sum(1 for w in waits if w[2]),
        arrivals_per_hour=arrived * 3600 / rate_window,
        arrivals_seen=arrived,
    )
