"""Queues (SPEC §2) in Genesys' shape: ``/api/v2/routing/queues``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from dialback.api.auth import Auth, Role
from dialback.api.common import (
    JsonBody,
    new_id,
    now,
    object_body,
    optional_time,
    page,
    queries,
    runtime,
)
from dialback.api.genesys import iso
from dialback.domain.errors import AgentInOtherShard, InvalidType, MissingField, UnknownAgent
from dialback.domain.events import (
    AgentJoinedQueue,
    AgentLeftQueue,
    QueueConfigured,
    VoiceCallQueued,
)
from dialback.domain.model import AgentId, ConversationId, InteractionId, QueueId
from dialback.domain.settings import QueueSettings, parse_queue, queue_to_json, update_queue

router = APIRouter(prefix="/api/v2/routing/queues", tags=["queues"])


def queue_json(queue_id: str, settings: Any) -> dict[str, Any]:
    return {
        "id": queue_id,
        **queue_to_json(settings),
        "selfUri": f"/api/v2/routing/queues/{queue_id}",
    }


def _settings(request: Request, queue_id: str) -> QueueSettings:
    return queries(request).queue_settings(QueueId(queue_id))


@router.post("")
async def create_queue(request: Request, who: Auth, body: JsonBody) -> dict[str, Any]:
    """Create a queue; ``mediaSettings.callback`` and ``agentOwnedRouting`` as in Genesys."""
    who.require()
    settings = parse_queue(object_body(body))
    queue_id = new_id()
    await runtime(request).submit(QueueConfigured(QueueId(queue_id), settings))
    return queue_json(queue_id, settings)


@router.get("")
async def list_queues(request: Request, who: Auth) -> dict[str, Any]:
    who.require(Role.SUPERVISOR, Role.AGENT)
    size, offset = page(request)
    rows, total = queries(request).queues(size, offset)
    entities = [queue_json(r.id, parse_queue(r.settings)) for r in rows]
    return {
        "entities": entities,
        "pageSize": size,
        "pageNumber": offset // size + 1,
        "total": total,
        "pageCount": (total + size - 1) // size,
    }


@router.get("/{queue_id}")
async def get_queue(request: Request, queue_id: str, who: Auth) -> dict[str, Any]:
    who.require(Role.SUPERVISOR, Role.AGENT)
    return queue_json(queue_id, _settings(request, queue_id))


@router.put("/{queue_id}")
async def update(request: Request, queue_id: str, who: Auth, body: JsonBody) -> dict[str, Any]:
    """Change a queue. Fields absent from the body keep their values (docs/decisions.md)."""
    who.require()
    settings = update_queue(_settings(request, queue_id), object_body(body))
    await runtime(request).submit(QueueConfigured(QueueId(queue_id), settings))
    return queue_json(queue_id, settings)


@router.post("/{queue_id}/members")
async def members(
    request: Request, queue_id: str, who: Auth, body: JsonBody, delete: bool = False
) -> dict[str, Any]:
    """Add users to the queue (``[{"id": userId}]``), or remove them with ``?delete=true``."""
    who.require()
    _settings(request, queue_id)
    if not isinstance(body, list) or not all(
        isinstance(m, dict) and isinstance(m.get("id"), str) for m in body
    ):
        raise InvalidType('expected [{"id": userId}, ...]', field="body")
    event = AgentLeftQueue if delete else AgentJoinedQueue
    for i, member in enumerate(body):  # all or nothing: every user is known before any change
        if queries(request).agent(AgentId(member["id"])) is None:
            raise UnknownAgent(f"no user {member['id']}", field=f"body[{i}].id")
        try:  # and in the queue's shard (issue 17)
            await runtime(request).check(event(AgentId(member["id"]), QueueId(queue_id)))
        except AgentInOtherShard as refused:
            raise AgentInOtherShard(refused.message, field=f"body[{i}].id") from None
    for member in body:
        await runtime(request).submit(event(AgentId(member["id"]), QueueId(queue_id)))
    return {"entities": [{"id": m["id"]} for m in body]}


@router.get("/{queue_id}/members")
async def list_members(request: Request, queue_id: str, who: Auth) -> dict[str, Any]:
    who.require(Role.SUPERVISOR)
    _settings(request, queue_id)
    rows = queries(request).members(queue_id)
    return {
        "entities": [
            {
                "id": r.id,
                "name": r.name,
                "user": {"id": r.id},
                "routingStatus": {"status": r.routing_status.upper()},
            }
            for r in rows
        ]
    }


@router.get("/{queue_id}/pacing/decisions")
async def pacing_decisions(request: Request, queue_id: str, who: Auth) -> dict[str, Any]:
    """Every customer-first pacing evaluation (R-CF-4), newest first."""
    who.require(Role.SUPERVISOR)
    _settings(request, queue_id)
    size, offset = page(request)
    rows = queries(request).pacing_decisions(queue_id, size, offset)
    return {
        "entities": [
            {
                "evaluation": r.evaluation,
                "time": iso(r.at),
                "queueId": r.queue_id,
                "callbackId": r.callback_id,
                "onQueueAgents": r.on_queue,
                "idleAgents": r.idle,
                "outstandingDials": r.outstanding,
                "multiplier": r.multiplier,
                "capExpected": r.cap_expected,
                "draw": r.draw,
                "cap": r.cap,
                "trigger": r.trigger,
                "decision": "dialed" if r.reason == "dialed" else "held",
                "reason": r.reason,
                "reservedAgentId": r.reserved_agent,
                # R-X-18: a budget-mode decision's inputs (null in Fixed mode)
                "abandonmentBudget": r.budget,
                "liveAnswerRate": r.live_rate,
                "abandonRisk": r.risk,
            }
            for r in rows
        ],
        "pageSize": size,
        "pageNumber": offset // size + 1,
    }


@router.post("/{queue_id}/calls")
async def queue_call(request: Request, queue_id: str, who: Auth, body: JsonBody) -> dict[str, Any]:
    """(ext) A live call waiting in this queue, registered by a PBX (R-C-6)."""
    who.require(Role.SUPERVISOR)
    _settings(request, queue_id)
    fields = object_body(body)
    caller = fields.get("callerNumber")
    if not isinstance(caller, str) or not caller:
        raise MissingField("callerNumber is needed", field="callerNumber")
    entry = optional_time(fields, "entryTime") or now()
    priority = fields.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise InvalidType("expected an integer", field="priority")
    conversation, call = new_id(), new_id()
    await runtime(request).submit(
        VoiceCallQueued(
            InteractionId(call),
            ConversationId(conversation),
            QueueId(queue_id),
            caller,
            entry,
            priority,
        )
    )
    return {"conversationId": conversation, "participantId": call}
