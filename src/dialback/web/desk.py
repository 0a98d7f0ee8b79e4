"""The agent desktop's sections: the agent's status and what the agent holds. Only the signed-in
agent's own interactions are ever read: the agent id comes from the session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request

from dialback.api.common import queries
from dialback.domain.model import AgentId, MediaType, RoutingStatus, State
from dialback.service.queries import DeskItem
from dialback.web import views
from dialback.web.session import Session

Fragment = Callable[..., str]


def _owned_window(request: Request, item: DeskItem) -> float | None:
    """Seconds ahead an owned callback may be scheduled in this item's queue (R-C-3), or None
    when the queue has no owned callbacks."""
    owned = queries(request).queue_settings(item.queue_id).agent_owned_routing
    if not owned.enable_agent_owned_callbacks:
        return None
    return owned.max_owned_callback_delay_hours * 3600.0


def desk_context(request: Request, session: Session) -> dict[str, Any]:
    q = queries(request)
    agent_id = AgentId(session.principal.user_id) if session.principal.user_id else None
    agent = q.agent(agent_id) if agent_id else None
    items = q.desk(agent_id) if agent_id else ()
    queue_names = {
        queue_id: q.queue_settings(queue_id).name or queue_id for queue_id in q.queue_ids()
    }
    return {
        "agent": agent,
        "items": [{"item": item, "owned_window": _owned_window(request, item)} for item in items],
        "queue_names": queue_names,
        "views": views,
        "State": State,
        "MediaType": MediaType,
        "RoutingStatus": RoutingStatus,
        "wrapup_codes": views.WRAPUP_CODES,
    }


def desk_sections(request: Request, session: Session, fragment: Fragment) -> dict[str, str]:
    context = desk_context(request, session)
    return {
        "status": fragment("_agent_status.html", **context),
        "desk": fragment("_desk.html", **context),
    }
