"""Users (agents), their routing status, and their actions on their own interactions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from dialback.api.auth import Auth, Role
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
from dialback.api.errors import RouteNotFound
from dialback.domain.addresses import check_sip_uri
from dialback.domain.callbacks import check_reschedule
from dialback.domain.errors import (
    InvalidChoice,
    InvalidType,
    MissingField,
    UnknownAgent,
    ValueOutOfRange,
)
from dialback.domain.events import (
    AgentDialed,
    AgentEndedCallback,
    AgentHungUp,
    AgentPresenceChanged,
    AgentRegistered,
    AgentWentIdle,
    AlertAccepted,
    CallbackRescheduled,
    CallHeld,
    CallResumed,
    Event,
    WrapUpCompleted,
)
from dialback.domain.model import AgentId, InteractionId, Presence, RoutingStatus
from dialback.domain.settings import check_shard
from dialback.service.queries import LiveAgent

router = APIRouter(prefix="/api/v2/users", tags=["users"])


def _agent(request: Request, user_id: str) -> LiveAgent:
    agent = queries(request).agent(AgentId(user_id))
    if agent is None:
        raise UnknownAgent(f"no user {user_id}")
    return agent


def user_json(request: Request, user_id: str) -> dict[str, Any]:
    agent = _agent(request, user_id)
    row = queries(request).user(user_id)
    return {
        "id": user_id,
        "name": row.name if row else user_id,
        "capacity": agent.capacity,
        "queues": [{"id": q} for q in agent.queues],
        "routingStatus": {"status": agent.status.value.upper()},
        "sipUri": agent.address,
        "selfUri": f"/api/v2/users/{user_id}",
    }


@router.post("")
async def create_user(request: Request, who: Auth, body: JsonBody) -> dict[str, Any]:
    """Create an agent. Genesys' other user fields (email, …) are accepted and ignored; ``capacity``
    (ext) is how many interactions the agent holds at once (default 1); ``sipUri`` (ext) is the
    agent's phone, where ``dialback serve --sip`` puts the customer through; ``shard`` (ext,
    issue 17) is the shard of the queues the agent will join (default ``all``, fixed)."""
    who.require()
    fields = object_body(body)
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip():
        raise MissingField("a user needs a name", field="name")
    capacity = fields.get("capacity", 1)
    if isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= 25:
        raise ValueOutOfRange("capacity is 1..25", field="capacity")
    address = fields.get("sipUri")
    if address is not None:
        check_sip_uri(address, "sipUri")
    shard = fields.get("shard")  # ext, issue 17: the agent's shard, fixed from now on
    if shard is not None:
        check_shard(shard)
    user_id = new_id()
    await runtime(request).submit(
        AgentRegistered(AgentId(user_id), capacity, name.strip(), address), shard=shard
    )
    return user_json(request, user_id)


@router.get("/{user_id}")
async def get_user(request: Request, user_id: str, who: Auth) -> dict[str, Any]:
    who.require_self(user_id)
    return user_json(request, user_id)


@router.get("/{user_id}/routingstatus")
async def get_status(request: Request, user_id: str, who: Auth) -> dict[str, Any]:
    who.require_self(user_id)
    return {"status": _agent(request, user_id).status.value.upper()}


@router.put("/{user_id}/routingstatus")
async def set_status(request: Request, user_id: str, who: Auth, body: JsonBody) -> dict[str, Any]:
    """``{"status": "IDLE"}`` goes on queue (and clears not responding); ``OFF_QUEUE`` goes off."""
    who.require_self(user_id)
    agent = _agent(request, user_id)
    status = object_body(body).get("status")
    event: Event
    if status == "OFF_QUEUE":
        event = AgentPresenceChanged(AgentId(user_id), Presence.OFF_QUEUE)
    elif status == "IDLE" and agent.status is RoutingStatus.NOT_RESPONDING:
        event = AgentWentIdle(AgentId(user_id))
    elif status == "IDLE":
        event = AgentPresenceChanged(AgentId(user_id), Presence.ON_QUEUE)
    else:
        raise InvalidChoice("status is IDLE or OFF_QUEUE", field="status")
    await runtime(request).submit(event)
    return {"status": _agent(request, user_id).status.value.upper()}


@router.get("/{user_id}/interactions")
async def interactions(request: Request, user_id: str, who: Auth) -> dict[str, Any]:
    """(ext) What the agent holds: alerts, connected interactions and after-call work."""
    who.require_self(user_id)
    agent = _agent(request, user_id)
    entities = []
    held = [(i, state.value) for i, state in agent.work]
    for interaction_id, state in [*held, *((i, "acw") for i in agent.acw)]:
        live = queries(request).interaction(interaction_id)
        entities.append(
            {
                "id": interaction_id,
                "conversationId": live.conversation_id if live else None,
                "state": state,
                "mediaType": live.media.value if live else None,
                "callbackNumbers": list(live.numbers) if live else [],
            }
        )
    if agent.reserved_for:
        entities.append({"id": agent.reserved_for, "state": "reserved"})
    return {"entities": entities}


ACTIONS = {"accept", "dial", "hangup", "hold", "resume", "end", "wrapup", "reschedule"}


@router.post("/{user_id}/interactions/{interaction_id}/{action}")
async def act(
    request: Request,
    user_id: str,
    interaction_id: str,
    action: str,
    who: Auth,
    body: OptionalBody,
) -> dict[str, Any]:
    """(ext) An agent's action on its own interaction: ``accept`` an alert, ``dial`` (body
    ``{"numberIndex": n}`` optional; default the next number; ``"overrideCallingWindow": true``
    dials outside the window where the queue allows it, R-X-6), ``hangup``, ``hold``, ``resume``,
    ``end`` a callback, ``wrapup`` (``{"code": …}``), ``reschedule``
    (``{"callbackScheduledTime": …, "owned": true}``)."""
    who.require_self(user_id)
    agent, interaction = AgentId(user_id), InteractionId(interaction_id)
    fields = object_body(body) if body is not None else {}
    event: Event
    if action == "accept":
        event = AlertAccepted(agent, interaction)
    elif action == "dial":
        index = fields.get("numberIndex")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise InvalidType("expected an integer", field="numberIndex")
        override = fields.get("overrideCallingWindow", False)  # R-X-6, recorded
        if not isinstance(override, bool):
            raise InvalidType("expected true or false", field="overrideCallingWindow")
        event = AgentDialed(agent, interaction, index, override)
    elif action == "hangup":
        event = AgentHungUp(agent, interaction)
    elif action == "hold":
        event = CallHeld(agent, interaction)
    elif action == "resume":
        event = CallResumed(agent, interaction)
    elif action == "end":
        event = AgentEndedCallback(agent, interaction)
    elif action == "wrapup":
        code = fields.get("code")
        if not isinstance(code, str) or not code:
            raise MissingField("a wrap-up needs a code", field="code")
        event = WrapUpCompleted(agent, interaction, code)
    elif action == "reschedule":
        event = _reschedule(request, agent, interaction, fields)
    else:
        raise RouteNotFound(f"no action {action}; one of {sorted(ACTIONS)}")
    await runtime(request).submit(event)
    return {"id": interaction_id, "action": action, "status": "done"}


def _reschedule(
    request: Request, agent: AgentId, interaction: InteractionId, fields: dict[str, Any]
) -> CallbackRescheduled:
    when = optional_time(fields, "callbackScheduledTime")
    owned = fields.get("owned", False)
    if not isinstance(owned, bool):
        raise InvalidType("expected true or false", field="owned")
    live = queries(request).interaction(interaction)
    settings = queries(request).queue_settings(live.queue_id) if live and owned else None
    check_reschedule(when, now(), settings, agent if owned else None)
    return CallbackRescheduled(interaction, when, owner=agent if owned else None, by_agent=agent)


__all__ = ["Role", "router"]
