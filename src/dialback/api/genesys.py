"""Timeline and metrics as JSON in Genesys Cloud's analytics shapes, so tooling written for
Genesys analytics (conversation details, aggregates) reads ours.

Shapes followed: ``AnalyticsConversation`` (conversation detail: ``participants[].sessions[]
.segments[]`` and ``.metrics[]``) and ``ConversationAggregateQueryResponse`` (``results[].group``,
``data[].interval``, ``metrics[].metric``, ``stats``). Durations are milliseconds, times ISO-8601
UTC with milliseconds, as Genesys sends them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from dialback.domain.metrics import (
    AggregateRow,
    Observation,
    Stats,
    StitchedRecord,
    observations,
)
from dialback.domain.model import QueueId
from dialback.domain.settings import ServiceLevel
from dialback.domain.timeline import Communication, Conversation, Purpose, Segment

LAST_MOMENT = 253_402_300_799.999  # 9999-12-31T23:59:59.999Z, the last time ISO-8601 writes


def iso(t: float) -> str:
    """Seconds since the epoch as Genesys writes times: ``2026-11-25T08:00:00.000Z``. A time
    past the year 9999 (a row stored before its input was bounded) is written as the last
    moment of 9999 rather than failing the whole answer."""
    t = min(t, LAST_MOMENT)
    return (
        datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{round(t * 1000) % 1000:03d}Z"
    )


def metric_value(name: str, value: float) -> float | int:
    """``t*`` metrics in milliseconds, counts as integers, observed ratios as they are."""
    if name.startswith("t"):
        return round(value * 1000)
    if name.startswith("n"):
        return int(value)
    return value


def _segment(s: Segment) -> dict[str, Any]:
    body: dict[str, Any] = {
        "segmentStart": iso(s.start),
        "segmentType": s.type.value,
        "queueId": s.queue_id,
    }
    if s.end is not None:
        body["segmentEnd"] = iso(s.end)
    if s.disconnect_type:
        body["disconnectType"] = s.disconnect_type
    if s.wrapup_code:
        body["wrapUpCode"] = s.wrapup_code
    if s.sip_code is not None:
        body["sipResponseCodes"] = [s.sip_code]
    if s.outcome is not None:
        body["callProgressOutcome"] = s.outcome.value  # ext: SPEC §5's outcome of the dial
    if s.flow_id:
        body["flowId"] = s.flow_id
    if s.beep_end is not None:
        body["beepEnd"] = iso(s.beep_end)  # ext (issue 15): a machine's beep ended
    return body


def _direction(c: Communication) -> str:
    outbound = c.purpose in (Purpose.DIALER, Purpose.AGENT) and c.media.value == "callback"
    return "outbound" if outbound or c.purpose is Purpose.DIALER else "inbound"


def _session(
    conversation: Conversation, c: Communication, found: Iterable[Observation]
) -> dict[str, Any]:
    metrics = [
        {"name": o.name, "value": metric_value(o.name, o.value), "emitDate": iso(o.emitted)}
        for o in found
        if o.purpose is c.purpose and o.media is c.media and o.agent_id == c.agent_id
    ]
    session: dict[str, Any] = {
        "sessionId": "-".join(
            part for part in (conversation.id, c.purpose.value, c.agent_id, c.media.value) if part
        ),
        "mediaType": c.media.value,
        "direction": _direction(c),
        "segments": [_segment(s) for s in c.segments],
    }
    if metrics:
        session["metrics"] = metrics
    return session


def conversation_detail(
    conversation: Conversation, service_levels: Mapping[QueueId, ServiceLevel] | None = None
) -> dict[str, Any]:
    """One conversation as Genesys' ``AnalyticsConversation``."""
    found = observations(conversation, service_levels)
    participants: dict[tuple[Purpose, str | None], dict[str, Any]] = {}
    for c in conversation.communications.values():
        key = (c.purpose, c.agent_id)
        participant = participants.get(key)
        if participant is None:
            participant = participants[key] = {
                "participantId": "-".join(
                    p for p in (conversation.id, c.purpose.value, c.agent_id) if p
                ),
                "purpose": c.purpose.value,
                "sessions": [],
            }
            if c.agent_id:
                participant["userId"] = c.agent_id
        participant["sessions"].append(_session(conversation, c, found))
    segments = list(conversation.segments())
    body: dict[str, Any] = {
        "conversationId": conversation.id,
        "conversationStart": iso(min(s.start for s in segments)),
        "participants": list(participants.values()),
    }
    if all(s.end is not None for s in segments):
        body["conversationEnd"] = iso(max(s.end for s in segments if s.end is not None))
    return body


def _stats(name: str, stats: Stats, target: float | None) -> dict[str, Any]:
    if name == "oServiceLevel":  # sum counts the answers within the service level
        body: dict[str, Any] = {
            "ratio": stats.mean,
            "numerator": stats.sum,
            "denominator": stats.count,
        }
        if target is not None:
            body["target"] = target
        return body
    return {
        "count": stats.count,
        "sum": metric_value(name, stats.sum),
        "min": metric_value(name, stats.min),
        "max": metric_value(name, stats.max),
    }


def aggregates(
    rows: Iterable[AggregateRow], service_levels: Mapping[QueueId, ServiceLevel] | None = None
) -> dict[str, Any]:
    """Aggregate rows as Genesys' ``ConversationAggregateQueryResponse``."""
    levels = service_levels or {}
    results: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for row in rows:
        group = tuple((by.value, value) for by, value in row.group)
        result = results.setdefault(group, {"group": dict(group), "data": []})
        queue = dict(group).get("queueId")
        level = levels.get(QueueId(queue)) if queue else None
        target = level.percentage if level else None
        result["data"].append(
            {
                "interval": f"{iso(row.interval_start)}/{iso(row.interval_end)}",
                "metrics": [
                    {"metric": name, "stats": _stats(name, stats, target)}
                    for name, stats in sorted(row.metrics.items())
                ],
            }
        )
    return {"results": list(results.values())}


def stitched(record: StitchedRecord) -> dict[str, Any]:
    """R-M-5's one row per conversation (our shape; Genesys has none)."""

    def when(t: float | None) -> str | None:
        return iso(t) if t is not None else None

    def ms(seconds: float | None) -> int | None:
        return round(seconds * 1000) if seconds is not None else None

    return {
        "conversationId": record.conversation_id,
        "queueId": record.queue_id,
        "callbackMode": record.mode.value if record.mode else None,
        "firstQueueEntry": when(record.first_queue_entry),
        "lastQueueEntry": when(record.last_queue_entry),
        "agentConnected": when(record.agent_connected),
        "userId": record.agent_id,
        "grossWaitMs": ms(record.gross_wait),
        "netWaitMs": ms(record.net_wait),
        "dials": [
            {
                "dialId": d.dial_id,
                "start": iso(d.start),
                "end": iso(d.end),
                "outcome": d.outcome.value if d.outcome else None,
                "sipResponseCode": d.sip_code,
                "placedBy": d.agent_id or "dialer",
                "answered": when(d.answered),
                "beepEnd": when(d.beep_end),  # issue 15: a machine's beep ended
            }
            for d in record.dials
        ],
        "greetingEnd": when(record.greeting_end),
        "greetingEndToAgentMs": ms(record.greeting_end_to_agent),
        "ended": when(record.ended),
        "howEnded": record.how_ended.value if record.how_ended else None,
    }
