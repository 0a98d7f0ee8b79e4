"""Today's figures per queue, as contact-center people read them, from the analytics API.

The numbers are the analytics API's own answer (``POST /api/v2/analytics/conversations/
aggregates/query``, called as a function with the supervisor's principal), summed over the day:
the dashboard and the API cannot disagree. Callback outcomes come from each conversation's
stitched record (R-M-5), the chart from the half-hour intervals of the same answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import Request

from dialback.api import analytics_routes
from dialback.api.auth import Principal
from dialback.api.common import queries
from dialback.api.genesys import iso
from dialback.domain.metrics import stitch
from dialback.domain.model import Outcome

OUTCOME_GROUPS: dict[str, tuple[Outcome, ...]] = {
    "Live voice": (Outcome.LIVE_VOICE,),
    "Machine": (Outcome.ANSWERING_MACHINE,),
    "No answer": (Outcome.NO_ANSWER,),
    "Busy": (Outcome.BUSY,),
    "SIT": (Outcome.SIT_INVALID_NUMBER, Outcome.SIT_NO_CIRCUIT, Outcome.SIT_OTHER),
    "Fax": (Outcome.FAX,),
    "Other": (Outcome.REJECTED, Outcome.CUSTOMER_HANGUP, Outcome.ERROR),
}
SLOT_SECONDS = 1800


@dataclass(frozen=True, slots=True)
class Slot:
    start: float
    offered: int
    answered: int
    abandoned: int


@dataclass(slots=True)
class QueueFigures:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    flowed_out: int = 0
    sl_numerator: float = 0.0
    sl_denominator: int = 0
    answered_ms: float = 0.0  # sum of tAnswered
    outcomes: Counter[str] = field(default_factory=Counter)
    slots: dict[float, Slot] = field(default_factory=dict)

    @property
    def service_level(self) -> float | None:
        return self.sl_numerator / self.sl_denominator if self.sl_denominator else None

    @property
    def asa_seconds(self) -> float | None:
        return self.answered_ms / self.answered / 1000 if self.answered else None


@dataclass(frozen=True, slots=True)
class Day:
    start: float
    end: float

    @property
    def interval(self) -> str:
        return f"{iso(self.start)}/{iso(self.end)}"


def today(now: float) -> Day:
    """The server's local calendar day around ``now``."""
    midnight = (
        datetime.fromtimestamp(now).astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    )
    start = midnight.timestamp()
    return Day(start, start + 86_400)


def _count(stats: dict[str, Any]) -> int:
    return int(stats.get("count", 0))


def read_aggregates(answer: dict[str, Any]) -> dict[str, QueueFigures]:
    """Per queue: the day's sums of the aggregates answer, and its half-hour slots."""
    found: dict[str, QueueFigures] = {}
    for result in answer["results"]:
        queue = result["group"].get("queueId")
        if queue is None:
            continue
        figures = found.setdefault(queue, QueueFigures())
        for data in result["data"]:
            start = datetime.fromisoformat(data["interval"].split("/")[0]).timestamp()
            metrics = {m["metric"]: m["stats"] for m in data["metrics"]}
            offered = _count(metrics.get("nOffered", {}))
            answered = _count(metrics.get("tAnswered", {}))
            abandoned = _count(metrics.get("tAbandon", {}))
            figures.offered += offered
            figures.answered += answered
            figures.abandoned += abandoned
            figures.flowed_out += _count(metrics.get("tFlowOut", {}))
            figures.answered_ms += float(metrics.get("tAnswered", {}).get("sum", 0))
            level = metrics.get("oServiceLevel")
            if level:
                figures.sl_numerator += float(level["numerator"])
                figures.sl_denominator += int(level["denominator"])
            figures.slots[start] = Slot(start, offered, answered, abandoned)
    return found


def _outcomes(request: Request, day: Day, figures: dict[str, QueueFigures]) -> None:
    conversations = queries(request).conversations_between(
        day.start, day.end, analytics_routes.MAX_CONVERSATIONS
    )
    for conversation in conversations:
        record = stitch(conversation)
        counts = figures.setdefault(record.queue_id, QueueFigures()).outcomes
        for dial in record.dials:
            if dial.outcome is None or not day.start <= dial.end < day.end:
                continue
            label = next(k for k, v in OUTCOME_GROUPS.items() if dial.outcome in v)
            counts[label] += 1


async def compute(request: Request, who: Principal, day: Day) -> dict[str, QueueFigures]:
    body = {"interval": day.interval, "granularity": "PT30M", "groupBy": ["queueId"]}
    answer = await analytics_routes.aggregates_query(request, who, body)
    figures = read_aggregates(answer)
    _outcomes(request, day, figures)
    return figures


@dataclass(slots=True)
class FiguresCache:
    """One computation shared by every open dashboard: again when something changed, at most
    every ``min_age`` seconds, in a worker thread (it reads the day's conversations)."""

    min_age: float = 3.0
    version: int = -1
    at: float = 0.0
    day: Day | None = None
    figures: dict[str, QueueFigures] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(
        self, request: Request, who: Principal, version: int
    ) -> tuple[Day, dict[str, QueueFigures]]:
        async with self._lock:
            now = time.time()
            day = today(now)
            stale = version != self.version or day != self.day
            if self.day is None or (stale and now - self.at >= self.min_age):
                self.figures = await asyncio.to_thread(asyncio.run, compute(request, who, day))
                self.version, self.at, self.day = version, now, day
            assert self.day is not None
            return self.day, self.figures
