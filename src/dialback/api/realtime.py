"""Genesys' real-time APIs (issue 18): estimated wait time, queue observations, active
callbacks, and (ext) the callback offer advice an IVR asks for.

Shapes followed: ``EstimatedWaitTimePredictions`` (``results[]`` of ``PredictionResults``:
``intent``, ``formula``, ``estimatedWaitTimeSeconds``), ``QueueObservationQueryResponse``
(``results[].group``, ``data[]`` of ``ObservationMetricData``: ``metric``, ``qualifier``,
``stats``, ``observations``) and ``CallbackConversationEntityListing``. The forward simulation's
answer is formula ``BEST``; its interval is in the extension field ``estimatedWaitTimeInterval``.
"""

from __future__ import annotations

import math
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request

from dialback.api.auth import Auth, Role
from dialback.api.common import JsonBody, object_body, page, queries
from dialback.api.genesys import iso
from dialback.domain.callbacks import parse_time
from dialback.domain.errors import (
    InvalidChoice,
    InvalidInput,
    InvalidType,
    MissingField,
    UnknownInteraction,
    ValueOutOfRange,
)
from dialback.domain.ewt import Formula
from dialback.domain.model import AgentId, InteractionId, MediaType, QueueId, RoutingStatus
from dialback.domain.windows import closes_at
from dialback.service.estimates import Estimate, WaitEstimates
from dialback.service.queries import QueueView

router = APIRouter(tags=["realtime"])
INTENTS = {"call": "CALL", "callback": "CALLBACK"}
COVERAGE = 0.8


def estimates(request: Request) -> WaitEstimates:
    """The app's EWT cache, made on first use."""
    found: WaitEstimates | None = getattr(request.app.state, "estimates", None)
    if found is None:
        running = request.app.state.runtime
        found = WaitEstimates(queries(request), clock=running.clock, spawn=running.spawn)
        request.app.state.estimates = found
    return found


def _seconds(value: float | None) -> int | None:
    return None if value is None or not math.isfinite(value) else round(value)


def _results(estimate: Estimate, intent: str) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    best = estimate.best
    if best is not None and best.samples:
        results.append(
            {
                "intent": intent,
                "formula": Formula.BEST.value,
                "estimatedWaitTimeSeconds": _seconds(best.median),
                "estimatedWaitTimeInterval": {  # ext: the forward simulation's interval
                    "lowSeconds": _seconds(best.low),
                    "highSeconds": _seconds(best.high),
                    "coverage": COVERAGE,
                },
                "runs": estimate.runs,  # ext
                "computedAt": iso(estimate.at),  # ext
            }
        )
        if estimate.dial is not None:
            results[-1]["estimatedDialTimeSeconds"] = _seconds(estimate.dial.median)  # ext
            results[-1]["estimatedDialTimeInterval"] = {
                "lowSeconds": _seconds(estimate.dial.low),
                "highSeconds": _seconds(estimate.dial.high),
                "coverage": COVERAGE,
            }
    for formula in (Formula.SIMPLE, Formula.ABANDON):
        value = estimate.simple.get(formula)
        if value is not None:
            results.append(
                {
                    "intent": intent,
                    "formula": formula.value,
                    "estimatedWaitTimeSeconds": _seconds(value),
                }
            )
    return {"results": results}


@router.get("/api/v2/routing/queues/{queue_id}/estimatedwaittime")
async def estimated_wait_time(
    request: Request, queue_id: str, who: Auth, conversationId: str | None = None
) -> dict[str, Any]:
    """EWT for a new caller, or with ``conversationId`` for that conversation's interaction
    waiting in the queue (the rest of its wait)."""
    who.require(Role.SUPERVISOR, Role.AGENT)
    queue = QueueId(queue_id)
    if conversationId is None:
        return _results(await estimates(request).new_caller(queue), "CALL")
    rows = [
        r
        for r in queries(request).interactions_of(conversationId)
        if r.state != "ended" and r.queue_id == queue_id
    ]
    if not rows:
        raise UnknownInteraction(f"nothing of conversation {conversationId} is in this queue")
    row = rows[-1]
    found = await estimates(request).waiting(queue, InteractionId(row.id))
    converted = row.media == MediaType.VOICE.value and row.request is not None
    callback = row.media == MediaType.CALLBACK.value or converted
    return _results(found, "CALLBACK" if callback else "CALL")


@router.get("/api/v2/routing/queues/{queue_id}/mediatypes/{media_type}/estimatedwaittime")
async def estimated_wait_time_by_media(
    request: Request, queue_id: str, media_type: str, who: Auth
) -> dict[str, Any]:
    """EWT for a new interaction of ``media_type``: ``call`` (a new caller) or ``callback``
    (a callback requested now: when an agent gets it, ext: when it is first dialed)."""
    who.require(Role.SUPERVISOR, Role.AGENT)
    intent = INTENTS.get(media_type.lower())
    if intent is None:
        raise InvalidChoice("dialback queues take call and callback", field="mediaType")
    queue = QueueId(queue_id)
    if intent == "CALL":
        return _results(await estimates(request).new_caller(queue), intent)
    return _results(await estimates(request).new_callback(queue), intent)


@router.get("/api/v2/routing/queues/{queue_id}/callbackoffer")
async def callback_offer(
    request: Request,
    queue_id: str,
    who: Auth,
    minEstimatedWaitSeconds: float | None = None,
    closesAt: str | None = None,
) -> dict[str, Any]:
    """(ext) Whether an IVR should offer a callback now, by the queue's stored rule
    (``callbackOffer``): yes when the rule is enabled, a new caller's EWT is over its
    ``minEstimatedWaitSeconds`` and a callback requested now is expected to reach an agent (its
    interval's high end) before the queue closes (the end of today's ``openingHours`` in its
    ``timeZone``). ``minEstimatedWaitSeconds`` and ``closesAt`` (ISO-8601) given here override
    the stored threshold and closing time for this one question."""
    who.require(Role.SUPERVISOR, Role.AGENT)
    queue = QueueId(queue_id)
    rule = queries(request).queue_settings(queue).callback_offer
    threshold = rule.min_wait_seconds
    if minEstimatedWaitSeconds is not None:
        if not 0 <= minEstimatedWaitSeconds <= 86_400:
            raise ValueOutOfRange(
                "a number of seconds in 0..86400", field="minEstimatedWaitSeconds"
            )
        threshold = minEstimatedWaitSeconds
    now = request.app.state.runtime.clock()
    closes: float | None
    if closesAt is not None:
        closes = parse_time(closesAt, "closesAt")
    else:
        closes = closes_at(rule.hours, ZoneInfo(rule.time_zone), now)
    caller = await estimates(request).new_caller(queue)
    callback = await estimates(request).new_callback(queue)
    wait = caller.best.median if caller.best and caller.best.samples else None
    if wait is None:
        wait = caller.simple.get(Formula.ABANDON)
    expected = callback.best if callback.best and callback.best.samples else None
    reasons = []
    if not rule.enabled:
        reasons.append("offer_disabled")
    if closes is None:
        reasons.append("queue_closed")
    if wait is None or wait <= threshold:
        reasons.append("wait_below_threshold")
    if expected is None:
        reasons.append("no_expected_callback_time")
    elif closes is not None and callback.at + expected.high > closes:
        reasons.append("not_before_closing")
    body: dict[str, Any] = {
        "offer": not reasons,
        "reasons": reasons,
        "estimatedWaitTimeSeconds": _seconds(wait),
        "minEstimatedWaitSeconds": threshold,
        "closesAt": iso(closes) if closes is not None and math.isfinite(closes) else None,
    }
    if expected is not None:
        body["expectedCallbackTime"] = iso(callback.at + expected.median)
        body["expectedCallbackInterval"] = {
            "start": iso(callback.at + expected.low),
            "end": iso(callback.at + expected.high),
            "coverage": COVERAGE,
        }
    return body


# --- queue observations ---------------------------------------------------------------------------
CONVERSATION_METRICS = ("oWaiting", "oInteracting", "oAlerting", "oLongestWaiting")
USER_METRICS = (
    "oOnQueueUsers",
    "oOffQueueUsers",
    "oActiveUsers",
    "oMemberUsers",
    "oUserRoutingStatuses",
)
GENESYS_STATUS = {
    RoutingStatus.IDLE: "IDLE",
    RoutingStatus.INTERACTING: "INTERACTING",
    RoutingStatus.NOT_RESPONDING: "NOT_RESPONDING",
    RoutingStatus.OFF_QUEUE: "OFF_QUEUE",
}


def _dimensions(node: Any, where: str, found: dict[str, list[str]]) -> None:
    if not isinstance(node, dict):
        raise InvalidType("expected an object", field=where)
    for k, predicate in enumerate(node.get("predicates") or []):
        at = f"{where}.predicates[{k}]"
        if not isinstance(predicate, dict):
            raise InvalidType("expected an object", field=at)
        dimension, value = predicate.get("dimension"), predicate.get("value")
        if dimension not in ("queueId", "mediaType"):
            raise InvalidChoice("dimension is queueId or mediaType", field=f"{at}.dimension")
        if not isinstance(value, str):
            raise InvalidType("expected a string", field=f"{at}.value")
        found[dimension].append(value)
    for k, clause in enumerate(node.get("clauses") or []):
        _dimensions(clause, f"{where}.clauses[{k}]", found)


def _stat(metric: str, count: int, qualifier: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"metric": metric, "stats": {"count": count}}
    if qualifier is not None:
        item["qualifier"] = qualifier
    return item


def _conversation_data(
    view: QueueView, media: MediaType, wanted: set[str], details: set[str], now: float
) -> list[dict[str, Any]]:
    waiting = view.waiting[media]
    data: list[dict[str, Any]] = []
    if "oWaiting" in wanted:
        item = _stat("oWaiting", len(waiting))
        if "oWaiting" in details:
            item["observations"] = [
                {"observationDate": iso(since), "sessionId": i} for i, since in waiting
            ]
        data.append(item)
    if "oInteracting" in wanted:
        data.append(_stat("oInteracting", view.interacting[media]))
    if "oAlerting" in wanted:
        data.append(_stat("oAlerting", view.alerting[media]))
    if "oLongestWaiting" in wanted and waiting:
        oldest_id, oldest = min(waiting, key=lambda w: w[1])
        item = _stat("oLongestWaiting", 1)
        item["stats"]["calculatedMetricValue"] = round((now - oldest) * 1000)
        item["observations"] = [{"observationDate": iso(oldest), "sessionId": oldest_id}]
        data.append(item)
    return data


def _user_data(view: QueueView, wanted: set[str]) -> list[dict[str, Any]]:
    members = view.members
    on_queue = [s for s in RoutingStatus if s is not RoutingStatus.OFF_QUEUE]
    data: list[dict[str, Any]] = []
    if "oOnQueueUsers" in wanted:
        data += [_stat("oOnQueueUsers", len(members[s]), GENESYS_STATUS[s]) for s in on_queue]
    if "oOffQueueUsers" in wanted:
        data.append(_stat("oOffQueueUsers", len(members[RoutingStatus.OFF_QUEUE])))
    if "oActiveUsers" in wanted:
        data.append(_stat("oActiveUsers", sum(len(members[s]) for s in on_queue)))
    if "oMemberUsers" in wanted:
        data.append(_stat("oMemberUsers", sum(len(v) for v in members.values())))
    if "oUserRoutingStatuses" in wanted:
        data += [
            _stat("oUserRoutingStatuses", len(members[s]), GENESYS_STATUS[s]) for s in RoutingStatus
        ]
    return data


@router.post("/api/v2/analytics/queues/observations/query")
async def observations_query(request: Request, who: Auth, body: JsonBody) -> dict[str, Any]:
    """The queues' real-time view: ``filter`` naming queues (``queueId``) and optionally media
    types (``mediaType``: voice, callback), ``metrics`` (names; all when absent) and
    ``detailMetrics`` (``oWaiting`` lists the waiting interactions). Conversation metrics come
    grouped by queue and media type, user metrics by queue."""
    who.require(Role.SUPERVISOR)
    fields = object_body(body)
    found: dict[str, list[str]] = {"queueId": [], "mediaType": []}
    if "filter" not in fields:
        raise MissingField("a filter naming queues is needed", field="filter")
    _dimensions(fields["filter"], "filter", found)
    if not found["queueId"]:
        raise InvalidInput("the filter names no queueId", field="filter")
    known = {*CONVERSATION_METRICS, *USER_METRICS}
    metrics = fields.get("metrics") or sorted(known)
    details = fields.get("detailMetrics") or []
    for name, names in (("metrics", metrics), ("detailMetrics", details)):
        if not isinstance(names, list) or not all(isinstance(m, str) for m in names):
            raise InvalidType("a list of metric names", field=name)
        for metric in names:
            if metric not in known:
                raise InvalidChoice(f"unknown metric {metric}", field=name)
    try:
        medias = [MediaType(m.lower()) for m in found["mediaType"]] or list(MediaType)
    except ValueError:
        raise InvalidChoice("mediaType is voice or callback", field="filter") from None
    now = request.app.state.runtime.clock()
    results: list[dict[str, Any]] = []
    for queue_id in dict.fromkeys(found["queueId"]):
        view = queries(request).queue_view(QueueId(queue_id))
        for media in medias:
            data = _conversation_data(view, media, set(metrics), set(details), now)
            if data:
                results.append(
                    {"group": {"queueId": queue_id, "mediaType": media.value}, "data": data}
                )
        users = _user_data(view, set(metrics))
        if users:
            results.append({"group": {"queueId": queue_id}, "data": users})
    return {"results": results}


# --- active callbacks -----------------------------------------------------------------------------
@router.get("/api/v2/conversations/callbacks")
async def active_callbacks(request: Request, who: Auth) -> dict[str, Any]:
    """Active callback conversations: every one for supervisors, an agent's own (held or
    owned) for an agent. Genesys paging (``pageSize``, ``pageNumber``)."""
    who.require(Role.SUPERVISOR, Role.AGENT)
    agent = AgentId(who.user_id) if who.role is Role.AGENT and who.user_id else None
    found = queries(request).active_callbacks(agent)
    size, offset = page(request)
    entities = [
        {
            "id": c.conversation_id,
            "participants": [
                {
                    "id": c.id,
                    "purpose": "customer",
                    "state": c.state.value,
                    "queue": {"id": c.queue_id},
                    "callbackNumbers": list(c.numbers),
                }
            ],
            "selfUri": f"/api/v2/conversations/callbacks/{c.conversation_id}",
        }
        for c in found[offset : offset + size]
    ]
    return {
        "entities": entities,
        "pageSize": size,
        "pageNumber": offset // size + 1,
        "total": len(found),
        "pageCount": max(1, -(-len(found) // size)),
    }
