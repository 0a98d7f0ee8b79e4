"""Analytics in Genesys' shapes: conversation details, details query, aggregates query."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request

from dialback.api.auth import Auth, Role
from dialback.api.common import JsonBody, object_body, queries
from dialback.api.genesys import aggregates, conversation_detail, stitched
from dialback.domain.callbacks import parse_time
from dialback.domain.errors import (
    InvalidChoice,
    InvalidInput,
    InvalidType,
    UnknownInteraction,
    ValueOutOfRange,
)
from dialback.domain.metrics import GroupBy, aggregate, observations, stitch
from dialback.domain.model import QueueId
from dialback.domain.settings import ServiceLevel, parse_queue

router = APIRouter(prefix="/api/v2/analytics/conversations", tags=["analytics"])
MAX_CONVERSATIONS = 10_000


def _levels(request: Request) -> dict[QueueId, ServiceLevel]:
    rows, _ = queries(request).queues(10_000, 0)
    return {QueueId(r.id): parse_queue(r.settings).callback.service_level for r in rows}


def _interval(body: dict[str, Any]) -> tuple[float, float]:
    raw = body.get("interval")
    if not isinstance(raw, str) or raw.count("/") != 1:
        raise InvalidInput("interval is start/end in ISO-8601", field="interval")
    start, end = (parse_time(part, "interval") for part in raw.split("/"))
    if end <= start:
        raise ValueOutOfRange("the interval ends before it starts", field="interval")
    return start, end


def _granularity(body: dict[str, Any]) -> int:
    """ISO-8601 duration such as ``PT30M`` or ``PT1H``; multiples of 15 minutes."""
    raw = body.get("granularity", "PT30M")
    match = (
        re.fullmatch(r"P(?:(\d{1,4})D)?(?:T(?:(\d{1,5})H)?(?:(\d{1,6})M)?)?", raw)
        if isinstance(raw, str)
        else None
    )
    if match is None or not any(match.groups()):
        raise InvalidInput("granularity is an ISO-8601 duration", field="granularity")
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    seconds = ((days * 24 + hours) * 60 + minutes) * 60
    if seconds % 900:
        raise ValueOutOfRange("granularity is a multiple of 15 minutes", field="granularity")
    return seconds


@router.get("/{conversation_id}/details")
async def details(request: Request, conversation_id: str, who: Auth) -> dict[str, Any]:
    who.require(Role.SUPERVISOR)
    conversation = queries(request).conversation(conversation_id)
    if conversation is None:
        raise UnknownInteraction(f"no conversation {conversation_id}")
    found = conversation_detail(conversation, _levels(request))
    found["stitched"] = stitched(stitch(conversation))  # ext: R-M-5
    return found


@router.post("/details/query")
async def details_query(request: Request, who: Auth, body: JsonBody) -> dict[str, Any]:
    """Conversations with a segment starting in ``interval``, oldest first."""
    who.require(Role.SUPERVISOR)
    fields = object_body(body)
    start, end = _interval(fields)
    levels = _levels(request)
    conversations = queries(request).conversations_between(start, end, MAX_CONVERSATIONS)
    return {
        "conversations": [conversation_detail(c, levels) for c in conversations],
        "totalHits": len(conversations),
    }


@router.post("/aggregates/query")
async def aggregates_query(request: Request, who: Auth, body: JsonBody) -> dict[str, Any]:
    """``interval``, ``granularity`` (default ``PT30M``), ``groupBy`` (queueId, mediaType,
    userId, callbackMode) and ``metrics`` (names; all when absent)."""
    who.require(Role.SUPERVISOR)
    fields = object_body(body)
    start, end = _interval(fields)
    seconds = _granularity(fields)
    group_by = []
    names = fields.get("groupBy") or ["queueId"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise InvalidType("groupBy is a list of names", field="groupBy")
    for name in names:
        try:
            group_by.append(GroupBy(name))
        except ValueError:
            raise InvalidChoice(f"cannot group by {name}", field="groupBy") from None
    wanted = fields.get("metrics")
    if wanted is not None and not (
        isinstance(wanted, list) and all(isinstance(m, str) for m in wanted)
    ):
        raise InvalidType("metrics is a list of names", field="metrics")
    levels = _levels(request)
    conversations = queries(request).conversations_between(start - 86_400, end, MAX_CONVERSATIONS)
    found = [
        o
        for c in conversations
        for o in observations(c, levels)
        if start <= o.emitted < end and (wanted is None or o.name in wanted)
    ]
    return aggregates(aggregate(found, interval_seconds=seconds, group_by=group_by), levels)
