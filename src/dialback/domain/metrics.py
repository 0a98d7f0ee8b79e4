"""Genesys-named metrics folded from a conversation's segments alone (SPEC §9, R-M-1..5).

``observations(conversation, service_levels)`` turns segments into ``Observation``s (a metric
name, a value in seconds or a count, the time it is emitted and what to group it by);
``aggregate`` sums them over intervals; ``stitch`` gives one record per conversation. Nothing
here keeps counters of its own: every figure comes from segments (R-M-4).

Definitions where Genesys' public text is thin (docs/decisions.md has the reasons):

- Queue (``acd`` communications), per *visit* (from the first ``interact`` to the segment
  that ends the visit): ``nOffered`` at its start; at its end ``tWait`` (time in queue, the
  ``scheduled`` waits of retries left out) and, by how it ended, ``tAnswered``, ``tAbandon`` or
  ``tFlowOut`` with the same value; ``tAcd`` for answered visits, from entry to the first alert;
  ``oServiceLevel`` (1 answered within the queue's service level, 0 answered later or
  abandoned) and ``nOverSla`` for visits over it.
- Agents, voice: ``tAlert`` per alert, ``tAnswered`` (the queue visit's, on the agent who
  answered: one per answer), ``tNotResponding``
  per missed alert, ``tTalk``, ``tHeld``, ``tAcw``, and ``tHandle`` (talk + held + ACW) when
  the wrap-up ends.
- Agents, agent-first callbacks (R-M-1): as voice, plus ``tFirstDial`` and ``tFirstConnect``
  from the accept, ``tDialing``, ``tContacting`` (analysis included), ``nCallbackAttempts``
  per dial, and ``tHandle`` = dialing + contacting + talk + held + ACW.
- Customer-first (R-M-2): the dialer's dials give the queue ``nCallbackAttempts``; each
  answered callback handed on gives ``nCfcOffered``, then ``tCfcAnswered``, ``tCfcAbandon`` or
  ``tCfcFlowOut`` (its wait as a voice interaction, or from the answer to the flow), and
  ``tCfcAcd`` (from the customer's answer to the agent's). Agents get voice metrics only.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from dialback.domain.enums import Closed
from dialback.domain.errors import ValueOutOfRange
from dialback.domain.model import AgentId, ConversationId, DialId, MediaType, Outcome, QueueId
from dialback.domain.settings import CallbackMode, ServiceLevel
from dialback.domain.timeline import (
    VISIT_ABANDONED,
    VISIT_ANSWERED,
    VISIT_ENDS,
    VISIT_FLOWED_OUT,
    Conversation,
    HowEnded,
    Purpose,
    Segment,
    SegmentType,
)


@dataclass(frozen=True, slots=True)
class Observation:
    """One value of one metric: seconds for ``t*``, 1 for ``n*``, 0 or 1 for ``oServiceLevel``."""

    name: str
    value: float
    emitted: float
    conversation_id: ConversationId
    queue_id: QueueId
    media: MediaType
    agent_id: AgentId | None
    mode: CallbackMode | None  # None: a plain voice call
    purpose: Purpose  # the participant whose session carries it


DEFAULT_LEVEL: Final = ServiceLevel()  # a queue with no service level of its own


def _mode(segment: Segment) -> CallbackMode | None:
    if segment.customer_first:
        return CallbackMode.CUSTOMER_FIRST
    return CallbackMode.AGENT_FIRST if segment.media is MediaType.CALLBACK else None


def _obs(name: str, value: float, at: float, s: Segment, agent: bool = True) -> Observation:
    """An observation from segment ``s``; ``agent=False`` makes it the queue's."""
    agent_id = s.agent_id if agent else None
    purpose = s.purpose if not agent or agent_id is None else Purpose.AGENT
    if not agent and s.purpose is Purpose.FLOW:
        purpose = Purpose.ACD
    return Observation(
        name, value, at, s.conversation_id, s.queue_id, s.media, agent_id, _mode(s), purpose
    )


def observations(
    conversation: Conversation, service_levels: Mapping[QueueId, ServiceLevel] | None = None
) -> list[Observation]:
    """Every metric of one conversation, in a stable order."""
    levels = service_levels or {}
    found: list[Observation] = []
    for communication in conversation.communications.values():
        segments = communication.segments
        if communication.purpose is Purpose.ACD:
            found += _queue_metrics(conversation, segments, levels)
        elif communication.purpose is Purpose.AGENT:
            found += _agent_metrics(segments)
        elif communication.purpose is Purpose.DIALER:
            found += [
                _obs("nCallbackAttempts", 1, s.start, s, agent=False)
                for s in segments
                if s.type is SegmentType.DIALING
            ]
    found += _customer_first_metrics(conversation)
    return found


# --- queues -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Visit:
    """One stay in a queue: ``segments`` from the first ``interact`` to the one ending it."""

    segments: tuple[Segment, ...]

    @property
    def start(self) -> float:
        """When the visit began: the start of its first ``interact`` (the queue entry)."""
        return self.segments[0].start

    @property
    def last(self) -> Segment:
        """The visit's latest segment; the one that ended it once ``ended``."""
        return self.segments[-1]

    @property
    def ended(self) -> bool:
        """Whether the visit is over: its last segment closed in a way that ends a visit
        (``VISIT_ENDS``: answered, abandoned, flowed out, …), not a retry's pause."""
        return self.last.end is not None and self.last.how_ended in VISIT_ENDS

    @property
    def wait(self) -> float:
        """Seconds spent waiting in the queue: the closed ``interact`` segments only (a
        retry's ``scheduled`` time inside the visit does not count)."""
        return sum(s.duration for s in self.segments if s.type is SegmentType.INTERACT and s.end)


def visits(segments: Sequence[Segment]) -> list[Visit]:
    """Split an ``acd`` communication into queue visits (a ``scheduled`` segment before the
    first ``interact`` is not part of a visit)."""
    found: list[Visit] = []
    current: list[Segment] = []
    for s in segments:
        if not current and s.type is not SegmentType.INTERACT:
            continue
        current.append(s)
        if s.how_ended in VISIT_ENDS:
            found.append(Visit(tuple(current)))
            current = []
    if current:
        found.append(Visit(tuple(current)))
    return found


def _queue_metrics(
    conversation: Conversation, segments: Sequence[Segment], levels: Mapping[QueueId, ServiceLevel]
) -> list[Observation]:
    found = []
    for visit in visits(segments):
        first = visit.segments[0]
        found.append(_obs("nOffered", 1, visit.start, first, agent=False))
        if not visit.ended:
            continue
        last = visit.last
        assert last.end is not None
        wait, end = visit.wait, last.end
        found.append(_obs("tWait", wait, end, last, agent=False))
        level = levels.get(last.queue_id) or DEFAULT_LEVEL
        within = wait <= level.duration_ms / 1000
        if last.how_ended in VISIT_ANSWERED:
            # One tAnswered per answer, on the answering agent (grouped by queue or by agent).
            who = replace(last, agent_id=_answering_agent(conversation, visit))
            found.append(_obs("tAnswered", wait, end, who))
            found.append(_obs("tAcd", _acd_time(conversation, visit), end, who))
        elif last.how_ended in VISIT_ABANDONED:
            found.append(_obs("tAbandon", wait, end, last, agent=False))
        else:
            found.append(_obs("tFlowOut", wait, end, last, agent=False))
        if last.how_ended not in VISIT_FLOWED_OUT:
            answered_in_time = within and last.how_ended in VISIT_ANSWERED
            found.append(_obs("oServiceLevel", float(answered_in_time), end, last, agent=False))
            if not within:
                found.append(_obs("nOverSla", 1, end, last, agent=False))
    return found


def _answering_agent(conversation: Conversation, visit: Visit) -> AgentId | None:
    end = visit.last.end
    for s in conversation.segments():
        if (
            s.purpose is Purpose.AGENT
            and s.media is visit.last.media
            and (
                (s.type is SegmentType.ALERT and s.how_ended is HowEnded.ANSWERED and s.end == end)
                or (s.type is SegmentType.INTERACT and s.start == end)
            )
        ):
            return s.agent_id
    return None


def _acd_time(conversation: Conversation, visit: Visit) -> float:
    """From entering the queue to the first alert at an agent during the visit."""
    end = visit.last.end
    assert end is not None
    alerts = [
        s.start
        for s in conversation.segments()
        if s.purpose is Purpose.AGENT
        and s.type is SegmentType.ALERT
        and s.media is visit.last.media
        and visit.start <= s.start <= end
    ]
    return (min(alerts) if alerts else end) - visit.start


# --- agents -------------------------------------------------------------------------------------
_HANDLE = {
    MediaType.CALLBACK: {
        SegmentType.DIALING,
        SegmentType.CONTACTING,
        SegmentType.CONVERTING,
        SegmentType.INTERACT,
        SegmentType.HOLD,
        SegmentType.WRAPUP,
    },
    MediaType.VOICE: {SegmentType.INTERACT, SegmentType.HOLD, SegmentType.WRAPUP},
}
_DURATIONS = {
    SegmentType.ALERT: "tAlert",
    SegmentType.DIALING: "tDialing",
    SegmentType.CONTACTING: "tContacting",
    SegmentType.CONVERTING: "tContacting",
    SegmentType.INTERACT: "tTalk",
    SegmentType.HOLD: "tHeld",
    SegmentType.WRAPUP: "tAcw",
}


def _agent_metrics(segments: Sequence[Segment]) -> list[Observation]:
    """Per closed segment, plus per handling session (accept to the end of wrap-up) the
    first-dial and first-connect times and the handle time."""
    found: list[Observation] = []
    accepted: float | None = None
    handle = 0.0
    dialed = connected = False
    for s in segments:
        if s.media is MediaType.CALLBACK and accepted is not None:  # emitted at the start
            if s.type is SegmentType.DIALING:
                found.append(_obs("nCallbackAttempts", 1, s.start, s))
                if not dialed:
                    found.append(_obs("tFirstDial", s.start - accepted, s.start, s))
                    dialed = True
            if s.type is SegmentType.INTERACT and not connected:
                found.append(_obs("tFirstConnect", s.start - accepted, s.start, s))
                connected = True
        if s.end is None:
            continue
        name = _DURATIONS.get(s.type)
        if name is not None:
            found.append(_obs(name, s.duration, s.end, s))
        if s.type is SegmentType.ALERT:
            if s.how_ended is HowEnded.ANSWERED:  # its tAnswered comes with the queue visit
                accepted, handle, dialed, connected = s.end, 0.0, False, False
            elif s.how_ended is HowEnded.NOT_RESPONDING:
                found.append(_obs("tNotResponding", s.duration, s.end, s))
            continue
        if s.type in _HANDLE[s.media]:
            handle += s.duration
        if s.type is SegmentType.WRAPUP:
            found.append(_obs("tHandle", handle, s.end, s))
            accepted, handle = None, 0.0
    return found


# --- customer-first -----------------------------------------------------------------------------
def _customer_first_metrics(conversation: Conversation) -> list[Observation]:
    """R-M-2: what the queue gets for answered customer-first callbacks."""
    found: list[Observation] = []
    answers = [s.start for s in conversation.of(Purpose.CUSTOMER, MediaType.VOICE)]
    found += [
        _obs("nCfcOffered", 1, s.end, s, agent=False)
        for s in conversation.of(Purpose.ACD, MediaType.CALLBACK)
        if s.customer_first and s.how_ended is HowEnded.CONVERTED and s.end is not None
    ]
    for s in conversation.of(Purpose.FLOW, MediaType.VOICE):
        if s.customer_first and s.end is not None:
            answered = _latest(answers, s.start)
            found.append(_obs("nCfcOffered", 1, s.start, s, agent=False))
            found.append(_obs("tCfcFlowOut", s.start - answered, s.end, s, agent=False))
    for visit in visits(conversation.of(Purpose.ACD, MediaType.VOICE)):
        last = visit.last
        if not (last.customer_first and visit.ended) or last.end is None:
            continue
        if last.how_ended in VISIT_ANSWERED:
            found.append(_obs("tCfcAnswered", visit.wait, last.end, last, agent=False))
            answered = _latest(answers, visit.start)
            found.append(_obs("tCfcAcd", last.end - answered, last.end, last, agent=False))
        elif last.how_ended in VISIT_ABANDONED:
            found.append(_obs("tCfcAbandon", visit.wait, last.end, last, agent=False))
        else:
            found.append(_obs("tCfcFlowOut", visit.wait, last.end, last, agent=False))
    return found


def _latest(times: Sequence[float], before: float) -> float:
    earlier = [t for t in times if t <= before]
    return max(earlier) if earlier else before


# --- aggregation --------------------------------------------------------------------------------
class GroupBy(Closed):
    """The keys aggregates can be grouped by (R-M-3), with Genesys' names as values."""

    QUEUE = "queueId"
    MEDIA = "mediaType"
    AGENT = "userId"
    MODE = "callbackMode"


@dataclass(slots=True)
class Stats:
    """Genesys aggregate stats; for ``oServiceLevel`` ``sum`` is the numerator and ``count`` the
    denominator."""

    count: int = 0
    sum: float = 0.0
    min: float = math.inf
    max: float = -math.inf

    def add(self, value: float) -> None:
        """Count one observation of ``value``."""
        self.count += 1
        self.sum += value
        self.min = min(self.min, value)
        self.max = max(self.max, value)

    @property
    def mean(self) -> float:
        """``sum / count``; 0.0 when nothing was counted."""
        return self.sum / self.count if self.count else 0.0


@dataclass(slots=True)
class AggregateRow:
    """The stats of each metric for one group (pairs of key and value) in one interval
    [``interval_start``, ``interval_end``), epoch seconds."""

    group: tuple[tuple[GroupBy, str], ...]
    interval_start: float
    interval_end: float
    metrics: dict[str, Stats] = field(default_factory=dict)


def _group_value(o: Observation, by: GroupBy) -> str | None:
    if by is GroupBy.QUEUE:
        return o.queue_id
    if by is GroupBy.MEDIA:
        return o.media.value
    if by is GroupBy.AGENT:
        return o.agent_id
    return o.mode.value if o.mode else None


def aggregate(
    found: Iterable[Observation],
    *,
    interval_seconds: int = 1800,
    group_by: Sequence[GroupBy] = (GroupBy.QUEUE, GroupBy.MEDIA),
) -> list[AggregateRow]:
    """Stats per group and interval (aligned to the epoch, so to UTC quarter hours). An
    observation lacking a grouping value (an agent for a queue metric) goes to a group without
    that key. Raises ``ValueOutOfRange`` unless the interval is a positive multiple of 15 min."""
    if interval_seconds <= 0 or interval_seconds % 900:
        raise ValueOutOfRange("intervals are multiples of 15 minutes", field="interval")
    rows: dict[tuple[tuple[tuple[GroupBy, str], ...], float], AggregateRow] = {}
    for o in found:
        group = tuple((by, value) for by in group_by if (value := _group_value(o, by)) is not None)
        start = math.floor(o.emitted / interval_seconds) * interval_seconds
        row = rows.get((group, start))
        if row is None:
            row = rows[(group, start)] = AggregateRow(group, start, start + interval_seconds)
        row.metrics.setdefault(o.name, Stats()).add(o.value)
    return sorted(rows.values(), key=lambda r: (r.group, r.interval_start))


def totals(found: Iterable[Observation]) -> dict[str, Stats]:
    """Stats per metric over everything given."""
    by_name: dict[str, Stats] = defaultdict(Stats)
    for o in found:
        by_name[o.name].add(o.value)
    return dict(by_name)


# --- the stitched record (R-M-5) ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DialRecord:
    """One dial in a stitched record (R-M-5): from ``dialing`` to the segment carrying its
    outcome, epoch seconds."""

    dial_id: DialId | None
    start: float
    end: float
    outcome: Outcome | None
    sip_code: int | None
    agent_id: AgentId | None  # None: the dialer placed it
    answered: float | None = None  # the far end picked up (call progress analysis began)
    beep_end: float | None = None  # issue 15: a machine's beep ended


@dataclass(frozen=True, slots=True)
class StitchedRecord:
    """One row per conversation, joining request, dials and agent connect (R-M-5)."""

    conversation_id: ConversationId
    queue_id: QueueId
    mode: CallbackMode | None
    first_queue_entry: float | None
    last_queue_entry: float | None
    agent_connected: float | None
    agent_id: AgentId | None
    gross_wait: float | None
    net_wait: float | None
    dials: tuple[DialRecord, ...]
    greeting_end: float | None
    greeting_end_to_agent: float | None  # what regulators count (2 s rule)
    ended: float | None
    how_ended: HowEnded | None


def stitch(conversation: Conversation) -> StitchedRecord:
    """R-M-5: the conversation's stitched record. Gross wait runs from the first queue
    entry to the first agent connect, net wait from the last entry before it; the greeting end
    is the latest one a dial reported. ``ended`` is None while any segment is open. Expects a
    conversation with at least one segment."""

    segments = sorted(conversation.segments(), key=lambda s: (s.start, s.end or math.inf))
    acd = [s for s in segments if s.purpose is Purpose.ACD and s.type is SegmentType.INTERACT]
    talks = [s for s in segments if s.purpose is Purpose.AGENT and s.type is SegmentType.INTERACT]
    connect = talks[0] if talks else None
    entries = [
        visit.start
        for communication in conversation.communications.values()
        if communication.purpose is Purpose.ACD
        for visit in visits(communication.segments)
        if connect is None or visit.start <= connect.start
    ]
    dials = _dials(segments)
    greeting = next((s.greeting_end for s in reversed(segments) if s.greeting_end), None)
    closed = [s for s in segments if s.end is not None]
    last = max(closed, key=lambda s: s.end or 0.0) if closed else None
    first = acd[0] if acd else segments[0]
    return StitchedRecord(
        conversation_id=conversation.id,
        queue_id=first.queue_id,
        mode=next((_mode(s) for s in segments if _mode(s)), None),
        first_queue_entry=min(entries) if entries else None,
        last_queue_entry=max(entries) if entries else None,
        agent_connected=connect.start if connect else None,
        agent_id=connect.agent_id if connect else None,
        gross_wait=connect.start - min(entries) if connect and entries else None,
        net_wait=connect.start - max(entries) if connect and entries else None,
        dials=dials,
        greeting_end=greeting,
        greeting_end_to_agent=connect.start - greeting if connect and greeting else None,
        ended=None if any(s.end is None for s in segments) else (last.end if last else None),
        how_ended=last.how_ended if last else None,
    )


def _dials(segments: Sequence[Segment]) -> tuple[DialRecord, ...]:
    kinds = {SegmentType.DIALING, SegmentType.CONTACTING, SegmentType.CONVERTING}
    found: list[DialRecord] = []
    start: float | None = None
    for s in segments:
        if s.type not in kinds or s.purpose not in (Purpose.DIALER, Purpose.AGENT):
            continue
        if s.type is SegmentType.DIALING:
            start = s.start
        if s.how_ended is not None and s.end is not None and start is not None:
            answered = s.start if s.type is SegmentType.CONVERTING else None
            found.append(
                DialRecord(
                    s.dial_id,
                    start,
                    s.end,
                    s.outcome,
                    s.sip_code,
                    s.agent_id,
                    answered,
                    s.beep_end,
                )
            )
            start = None
    return tuple(found)
