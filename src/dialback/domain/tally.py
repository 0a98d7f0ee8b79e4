"""Queue metrics kept as running totals while segments open and close (issue 16).

``metrics.observations`` folds a whole conversation's segments after the fact; ``Tally`` gets
the same segments one by one, as the engine opens and closes them (a sink passes them on), and
adds each observation to a running ``Stats`` the moment it is emitted, so figures need no second
pass over every conversation. The definitions are ``metrics.py``'s (R-M-4: everything comes from
segments); a test checks both give the same figures. Only queue-level metrics are kept, the
ones a what-if run reports: ``nOffered``, ``tWait``, ``tAnswered``, ``tAbandon``, ``tFlowOut``,
``oServiceLevel``, ``nOverSla`` per queue visit, ``nCallbackAttempts`` per dial, and the
customer-first ``nCfcOffered``, ``tCfcAnswered``, ``tCfcAbandon``, ``tCfcFlowOut``,
``tCfcAcd`` (R-M-2), plus dial outcomes and ``waited`` (visits that waited at all).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mypy_extensions import mypyc_attr

from dialback.domain.metrics import DEFAULT_LEVEL, Stats
from dialback.domain.model import ConversationId, MediaType, QueueId
from dialback.domain.settings import ServiceLevel
from dialback.domain.sink import OpenSegment
from dialback.domain.timeline import (
    VISIT_ABANDONED,
    VISIT_ANSWERED,
    VISIT_ENDS,
    VISIT_FLOWED_OUT,
    HowEnded,
    Purpose,
    SegmentType,
)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # docs/decisions.md
class _Visit:
    """A queue visit in progress: its start, its wait so far and, for a customer-first one,
    when the customer answered."""

    __slots__ = ("answered", "start", "wait")

    def __init__(self, start: float, answered: float) -> None:
        self.start = start
        self.wait = 0.0
        self.answered = answered


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # docs/decisions.md
class QueueTally:
    """One queue's running figures: ``stats[(name, media)]`` per metric and medium (``media``
    None for the customer-first metrics, which are the queue's whatever the medium), ``waited``
    per medium (visits whose wait was over zero), ``outcomes`` (dials per outcome)."""

    __slots__ = ("outcomes", "stats", "waited")

    def __init__(self) -> None:
        self.stats: dict[tuple[str, MediaType | None], Stats] = {}
        self.waited: dict[MediaType, int] = {}
        self.outcomes: dict[str, int] = {}

    def add(self, name: str, media: MediaType | None, value: float) -> None:
        """Count one observation of ``name``."""
        stats = self.stats.get((name, media))
        if stats is None:
            stats = self.stats[(name, media)] = Stats()
        stats.add(value)

    def get(self, name: str, media: MediaType | None) -> Stats:
        """The stats of ``name`` (empty ones if never observed)."""
        return self.stats.get((name, media)) or Stats()


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # docs/decisions.md
class Tally:
    """Folds segments into per-queue ``QueueTally``s, counting what is emitted in
    [``since``, ``until``) (epoch seconds) as ``metrics.observations`` would, with each
    queue's service level from ``service_levels``."""

    def __init__(
        self,
        service_levels: Mapping[QueueId, ServiceLevel],
        since: float = float("-inf"),
        until: float = float("inf"),
    ) -> None:
        self.levels = dict(service_levels)
        self.since = since
        self.until = until
        self.queues: dict[QueueId, QueueTally] = {}
        self._visits: dict[tuple[ConversationId, MediaType], _Visit] = {}
        self._answers: dict[ConversationId, float] = {}  # customer-first answers

    def queue(self, queue_id: QueueId) -> QueueTally:
        """The figures of ``queue_id`` so far."""
        found = self.queues.get(queue_id)
        if found is None:
            found = self.queues[queue_id] = QueueTally()
        return found

    def _count(self, at: float) -> bool:
        return self.since <= at < self.until

    def opened(self, s: OpenSegment) -> None:
        """A segment started."""
        purpose, kind = s.purpose, s.type
        if purpose is Purpose.ACD:
            if kind is SegmentType.INTERACT:
                key = (s.conversation_id, s.media)
                if key not in self._visits:
                    answered = s.start
                    if s.customer_first and s.media is MediaType.VOICE:
                        answered = self._answers.pop(s.conversation_id, s.start)
                    self._visits[key] = _Visit(s.start, answered)
                    if self._count(s.start):
                        self.queue(s.queue_id).add("nOffered", s.media, 1.0)
        elif kind is SegmentType.DIALING:
            if (purpose is Purpose.DIALER or purpose is Purpose.AGENT) and self._count(s.start):
                self.queue(s.queue_id).add("nCallbackAttempts", None, 1.0)
        elif purpose is Purpose.CUSTOMER and s.customer_first:
            self._answers[s.conversation_id] = s.start
        elif purpose is Purpose.FLOW and s.customer_first:
            self._flow_started(s)

    def _flow_started(self, s: OpenSegment) -> None:
        # The flow's segment is closed at once (customer_first.dial_completed): nCfcOffered at
        # its start, tCfcFlowOut from the customer's answer at its end (the same instant).
        answered = self._answers.pop(s.conversation_id, s.start)
        if self._count(s.start):
            tally = self.queue(s.queue_id)
            tally.add("nCfcOffered", None, 1.0)
            tally.add("tCfcFlowOut", None, s.start - answered)

    def closed(
        self, s: OpenSegment, end: float, how: HowEnded | None, details: dict[str, Any] | None
    ) -> None:
        """A segment ended at ``end``, ``how``, with ``details`` (as ``Sink.segment_closed``)."""
        if details is not None and self._count(end):
            outcome = details.get("outcome")
            if outcome is not None:
                outcomes = self.queue(s.queue_id).outcomes
                outcomes[outcome.value] = outcomes.get(outcome.value, 0) + 1
        if s.purpose is not Purpose.ACD:
            return
        converted = s.media is MediaType.CALLBACK and how is HowEnded.CONVERTED
        if converted and s.customer_first and self._count(end):
            self.queue(s.queue_id).add("nCfcOffered", None, 1.0)
        key = (s.conversation_id, s.media)
        visit = self._visits.get(key)
        if visit is None:
            return  # a scheduled wait before the first interact: not part of a visit
        if s.type is SegmentType.INTERACT:
            visit.wait += end - s.start
        if how in VISIT_ENDS:
            del self._visits[key]
            if self._count(end):
                self._visit_ended(s, visit, end, how)

    def _visit_ended(self, s: OpenSegment, visit: _Visit, end: float, how: HowEnded | None) -> None:
        tally = self.queue(s.queue_id)
        wait, media = visit.wait, s.media
        tally.add("tWait", media, wait)
        if wait > 1e-9:
            tally.waited[media] = tally.waited.get(media, 0) + 1
        level = self.levels.get(s.queue_id) or DEFAULT_LEVEL
        within = wait <= level.duration_ms / 1000
        if how in VISIT_ANSWERED:
            tally.add("tAnswered", media, wait)
        elif how in VISIT_ABANDONED:
            tally.add("tAbandon", media, wait)
        else:
            tally.add("tFlowOut", media, wait)
        if how not in VISIT_FLOWED_OUT:
            tally.add("oServiceLevel", media, float(within and how in VISIT_ANSWERED))
            if not within:
                tally.add("nOverSla", media, 1.0)
        if s.customer_first and media is MediaType.VOICE:
            if how in VISIT_ANSWERED:
                tally.add("tCfcAnswered", None, wait)
                tally.add("tCfcAcd", None, end - visit.answered)
            elif how in VISIT_ABANDONED:
                tally.add("tCfcAbandon", None, wait)
            else:
                tally.add("tCfcFlowOut", None, wait)
