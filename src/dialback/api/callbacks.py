"""Callbacks (SPEC §3) in Genesys' shape: ``/api/v2/conversations/callbacks`` and friends."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import APIRouter, Request

from dialback.api.auth import Auth, Principal, Role, principal
from dialback.api.body import json_body, reads_json_body
from dialback.api.common import (
    JsonBody,
    OptionalBody,
    new_id,
    now,
    object_body,
    optional_time,
    queries,
    runtime,
)
from dialback.api.direct import direct
from dialback.api.errors import Forbidden, IdempotencyKeyReused, SafeJSONResponse, status_of
from dialback.api.genesys import iso
from dialback.api.numbers import normalize_number, zones_for_number
from dialback.domain.callbacks import check_reschedule, parse_callback_request
from dialback.domain.compliance import DuplicatePolicy
from dialback.domain.errors import (
    DialbackError,
    DuplicateCallback,
    InvalidChoice,
    InvalidType,
    MissingField,
    UnknownInteraction,
)
from dialback.domain.events import (
    CallAnsweredElsewhere,
    CallbackDisconnected,
    CallbackRequested,
    CallbackRequestedOnCall,
    CallbackRescheduled,
    CustomerHungUp,
)
from dialback.domain.limits import IDEMPOTENCY_KEY, check_text
from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    ConversationId,
    InteractionId,
    QueueId,
)
from dialback.domain.settings import QueueSettings
from dialback.service.runtime import Idempotent

router = APIRouter(tags=["callbacks"])


def _response(conversation: str, callback: str) -> dict[str, Any]:
    return {
        "conversation": {
            "id": conversation,
            "selfUri": f"/api/v2/conversations/callbacks/{conversation}",
        },
        "callbackIdentifiers": [{"type": "ACD", "id": callback}],
    }


_IDEMPOTENCY_KEY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A retried request with the same key creates nothing new",
    "schema": {"type": "string", "maxLength": IDEMPOTENCY_KEY},
}


@router.post(
    "/api/v2/conversations/callbacks",
    response_class=SafeJSONResponse,
    openapi_extra={"parameters": [_IDEMPOTENCY_KEY_HEADER]},
)
@reads_json_body
@direct
async def create_callback(request: Request) -> SafeJSONResponse:
    """Create a callback. With ``Idempotency-Key`` a retried request creates nothing new and gets
    the first answer; the same key with another body is a 409."""
    # The busiest route (issue 17): it reads its token, body and header itself, in the order
    # FastAPI would solve them as dependencies, and answers a ready response; FastAPI's solving
    # and serialising cost more CPU than the callback's own checks.
    who = await principal(request)
    body = await json_body(request)
    idempotency_key = request.headers.get("idempotency-key")
    who.require(Role.SUPERVISOR, Role.AGENT)
    if idempotency_key is not None:
        check_text(idempotency_key, "Idempotency-Key", IDEMPOTENCY_KEY)
    fields = object_body(body)
    digest = (
        hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
        if idempotency_key
        else ""
    )
    callback_request = parse_callback_request(
        fields,
        now=now(),
        queue_settings=queries(request).settings_lookup,
        normalize=normalize_number,
        zones=zones_for_number,
    )
    if who.role is Role.AGENT:
        _check_agent_request(request, who, callback_request)
    conversation, callback = new_id(), new_id()
    response = _response(conversation, callback)
    idempotent = (
        Idempotent(idempotency_key, digest, 200, response, who.scope) if idempotency_key else None
    )
    try:
        accepted = await runtime(request).submit(
            CallbackRequested(
                InteractionId(callback), ConversationId(conversation), callback_request
            ),
            idempotent=idempotent,
        )
    except DuplicateCallback as duplicate:  # R-X-9: refuse (409), or answer with the existing one
        settings = queries(request).settings_lookup(callback_request.queue_id)
        if settings.compliance.duplicate_callbacks is not DuplicatePolicy.RETURN_EXISTING:
            raise
        return SafeJSONResponse(_response(duplicate.conversation, duplicate.existing))
    if accepted.replayed is not None:
        if accepted.replayed.request_hash != digest:
            raise IdempotencyKeyReused("this Idempotency-Key came with another body")
        return SafeJSONResponse(accepted.replayed.response)
    return SafeJSONResponse(response)


def _check_agent_request(request: Request, who: Principal, wanted: CallbackRequest) -> None:
    """An agent owns only its own callbacks, and gives them at most the queue's
    ``maxAgentCallbackPriority`` (supervisors and admins any priority)."""
    if wanted.owner not in (None, who.user_id):
        raise Forbidden("an agent may own only its own callbacks")
    cap = queries(request).queue_settings(wanted.queue_id).max_agent_callback_priority
    if wanted.priority > cap:
        raise Forbidden(
            f"an agent may give a callback at most priority {cap} on this queue",
            field="routingData.priority",
        )


def _callback_rows(request: Request, conversation_id: str) -> list[Any]:
    rows = [r for r in queries(request).interactions_of(conversation_id) if r.request is not None]
    if not rows:
        raise UnknownInteraction(f"no callback conversation {conversation_id}")
    return rows


def _live_callback(request: Request, conversation_id: str) -> InteractionId:
    for row in reversed(_callback_rows(request, conversation_id)):
        if row.state != "ended":
            return InteractionId(row.id)
    raise UnknownInteraction(f"callback conversation {conversation_id} has ended")


@router.get("/api/v2/conversations/callbacks/{conversation_id}")
async def get_callback(request: Request, conversation_id: str, who: Auth) -> dict[str, Any]:
    who.require(Role.SUPERVISOR)
    participants: list[dict[str, Any]] = []
    for row in _callback_rows(request, conversation_id):
        req = row.request
        scheduled = req.get("scheduled_time")
        participants.append(
            {
                "id": row.id,
                "purpose": "customer",
                "state": row.state,
                "callbackNumbers": req["numbers"],
                "callbackUserName": req.get("user_name"),
                "callbackScheduledTime": iso(scheduled if scheduled else row.created_at),
                "queue": {"id": row.queue_id},
                "callerId": req.get("caller_id"),
                "callerIdName": req.get("caller_id_name"),
                "mediaType": row.media,
                "outcome": row.outcome,
                "endReason": row.end_reason,
                "wrapupCode": row.wrapup_code,
                "attributes": dict(req.get("data") or []),
            }
        )
        if row.agent_id:
            participants.append(
                {"purpose": "agent", "user": {"id": row.agent_id}, "state": row.state}
            )
    return {
        "id": conversation_id,
        "participants": participants,
        "selfUri": f"/api/v2/conversations/callbacks/{conversation_id}",
    }


@router.patch("/api/v2/conversations/callbacks")
async def reschedule(request: Request, who: Auth, body: JsonBody) -> dict[str, Any]:
    """Reschedule (R-C-5): ``conversationId`` with a new ``callbackScheduledTime``, ``queueId``
    or ``agentId`` (the agent then owns it, R-C-3). Caller ID and name are kept."""
    who.require(Role.SUPERVISOR)
    fields = object_body(body)
    conversation = fields.get("conversationId")
    if not isinstance(conversation, str):
        raise MissingField("conversationId is needed", field="conversationId")
    callback = _live_callback(request, conversation)
    when = optional_time(fields, "callbackScheduledTime")
    queue_id, agent_id = fields.get("queueId"), fields.get("agentId")
    for name, value in (("queueId", queue_id), ("agentId", agent_id)):
        if value is not None and not isinstance(value, str):
            raise InvalidType("expected a string", field=name)
    owner = AgentId(agent_id) if agent_id else None
    settings = _target_settings(request, callback, queue_id) if owner else None
    check_reschedule(when, now(), settings, owner)
    await runtime(request).submit(
        CallbackRescheduled(callback, when, QueueId(queue_id) if queue_id else None, owner)
    )
    return _response(conversation, callback)  # Genesys' PatchCallbackResponse


def _target_settings(
    request: Request, callback: InteractionId, queue_id: str | None
) -> QueueSettings | None:
    """The settings of the queue a rescheduled callback will be in: the new one, else its own
    (None once the callback has left the engine, which then refuses the change itself)."""
    if queue_id is not None:
        return queries(request).queue_settings(QueueId(queue_id), field="queueId")
    live = queries(request).interaction(callback)
    return queries(request).queue_settings(live.queue_id) if live else None


async def _disconnect(request: Request, conversation_id: str) -> InteractionId:
    callback = _live_callback(request, conversation_id)
    await runtime(request).submit(CallbackDisconnected(callback))
    return callback


@router.patch("/api/v2/conversations/callbacks/{conversation_id}")
async def disconnect(
    request: Request, conversation_id: str, who: Auth, body: OptionalBody
) -> dict[str, Any]:
    """Disconnect (cancel) the callback: ``{"state": "disconnected"}`` (R-C-5)."""
    who.require(Role.SUPERVISOR)
    fields = object_body(body) if body is not None else {"state": "disconnected"}
    if fields.get("state", "disconnected") != "disconnected":
        raise InvalidChoice('only "disconnected" is supported', field="state")
    callback = await _disconnect(request, conversation_id)
    return {"conversationId": conversation_id, "callbackId": callback, "state": "disconnected"}


@router.post("/api/v2/conversations/callbacks/bulk/disconnect")
async def bulk_disconnect(request: Request, who: Auth, body: JsonBody) -> dict[str, Any]:
    """``{"callbackDisconnectIdentifiers": [{"conversationId": …}, …]}``. A malformed item
    refuses the whole request; a well-formed one that cannot be disconnected (unknown, ended,
    connected) is reported in its result, as Genesys' bulk responses do."""
    who.require(Role.SUPERVISOR)
    items = object_body(body).get("callbackDisconnectIdentifiers")
    if not isinstance(items, list):
        raise MissingField(
            "callbackDisconnectIdentifiers is needed", field="callbackDisconnectIdentifiers"
        )
    conversations = []
    for i, item in enumerate(items):  # every item is read before any is disconnected
        conversation = item.get("conversationId") if isinstance(item, dict) else None
        if not isinstance(conversation, str):
            raise MissingField(
                "each item needs a conversationId",
                field=f"callbackDisconnectIdentifiers[{i}].conversationId",
            )
        conversations.append(conversation)
    results = []
    for conversation in conversations:
        try:
            await _disconnect(request, conversation)
            results.append({"conversationId": conversation, "status": 200})
        except DialbackError as problem:  # reported per item, like Genesys' bulk responses
            code = getattr(problem, "code", "error")
            results.append(
                {"conversationId": conversation, "status": status_of(problem), "code": code}
            )
    return {"results": results}


@router.post("/api/v2/conversations/{conversation_id}/participants/{participant_id}/callbacks")
async def keep_my_place(
    request: Request, conversation_id: str, participant_id: str, who: Auth, body: JsonBody
) -> dict[str, Any]:
    """R-C-6: a caller waiting in a queue becomes a callback keeping its place."""
    who.require(Role.SUPERVISOR)
    call = queries(request).interaction(InteractionId(participant_id))
    if call is None or call.conversation_id != conversation_id:
        raise UnknownInteraction(f"no waiting call {participant_id} in {conversation_id}")
    fields = object_body(body)
    if "routingData" not in fields:  # the callback inherits the call's queue
        fields = {"queueId": call.queue_id, **fields}
    callback_request = parse_callback_request(
        fields,
        now=now(),
        queue_settings=queries(request).settings_lookup,
        normalize=normalize_number,
        zones=zones_for_number,
    )
    callback = new_id()
    await runtime(request).submit(
        CallbackRequestedOnCall(
            InteractionId(participant_id), InteractionId(callback), callback_request
        )
    )
    return _response(conversation_id, callback)


@router.patch("/api/v2/conversations/calls/{conversation_id}")
async def call_left(
    request: Request, conversation_id: str, who: Auth, body: JsonBody
) -> dict[str, Any]:
    """(ext) A PBX call left the queue: ``{"state": "disconnected"}`` (the caller hung up) or
    ``{"state": "answeredElsewhere"}``."""
    who.require(Role.SUPERVISOR)
    state = object_body(body).get("state")
    calls = [
        r
        for r in queries(request).interactions_of(conversation_id)
        if r.request is None and r.state != "ended"
    ]
    if not calls:
        raise UnknownInteraction(f"no call waiting in {conversation_id}")
    call = InteractionId(calls[-1].id)
    if state == "disconnected":
        await runtime(request).submit(CustomerHungUp(call))
    elif state == "answeredElsewhere":
        await runtime(request).submit(CallAnsweredElsewhere(call))
    else:
        raise InvalidChoice('state is "disconnected" or "answeredElsewhere"', field="state")
    return {"conversationId": conversation_id, "participantId": call, "state": state}
