"""The supervisor dashboard's sections: one per queue (its interactions in queue order, its
agents, customer-first pacing now and the last decisions) and one per queue for today's
figures and chart."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import Request

from dialback.api.auth import Role
from dialback.api.common import queries
from dialback.api.realtime import estimates
from dialback.domain.model import QueueId, RoutingStatus, State
from dialback.service.queries import QueueSnapshot
from dialback.web import views
from dialback.web.figures import OUTCOME_GROUPS, Day, FiguresCache, QueueFigures
from dialback.web.session import Session

Fragment = Callable[..., str]
DECISIONS_SHOWN = 6
EWT_FRESH_SECONDS = 15.0
"""How old a queue's cached estimated wait may be before the dashboard asks for a new one (in
the background: the page never waits for the forward simulation's runs)."""


def _figures_cache(request: Request) -> FiguresCache:
    found: FiguresCache = request.app.state.web_figures
    return found


def _longest_waiting(snapshot: QueueSnapshot) -> float | None:
    """Entry time of the longest-waiting interaction not yet with an agent (oLongestWaiting)."""
    times = [
        i.entry_time
        for i in snapshot.interactions
        if i.entry_time is not None and i.state in (State.WAITING, State.DIALING, State.ALERTING)
    ]
    return min(times) if times else None


def queue_context(request: Request, queue_id: QueueId, session: Session) -> dict[str, Any]:
    q = queries(request)
    snapshot = q.queue_snapshot(queue_id)
    names = {row.id: row.name for row in q.members(queue_id)}
    agents = sorted(
        snapshot.agents,
        key=lambda a: (a.status is RoutingStatus.OFF_QUEUE, names.get(a.id, a.id)),
    )
    decisions = q.pacing_decisions(queue_id, DECISIONS_SHOWN, 0)
    return {
        "queue_id": queue_id,
        "snapshot": snapshot,
        "settings": snapshot.settings,
        "names": names,
        "agents": agents,
        "decisions": decisions,
        "longest_since": _longest_waiting(snapshot),
        "is_admin": session.principal.role is Role.ADMIN,
        "views": views,
        "RoutingStatus": RoutingStatus,
    }


def figures_context(
    queue_id: QueueId, snapshot: QueueSnapshot, day: Day, figures: dict[str, QueueFigures]
) -> dict[str, Any]:
    found = figures.get(queue_id, QueueFigures())
    now = time.time()
    return {
        "queue_id": queue_id,
        "f": found,
        "level": snapshot.settings.callback.service_level,
        "day": day,
        "chart": views.chart(found, day.start, now - now % 60),
        "views": views,
        "views_outcomes": list(OUTCOME_GROUPS),
    }


async def dashboard_sections(
    request: Request, session: Session, version: int, fragment: Fragment
) -> dict[str, str]:
    """Every section by SSE event name; ``layout`` (the list of queues) comes first, so a page
    that gets a new layout then gets every section again."""
    q = queries(request)
    day, figures = await _figures_cache(request).get(request, session.principal, version)
    queue_ids = q.queue_ids()
    found = {"layout": fragment("_layout.html", **layout_context(request, session, None))}
    ewt = estimates(request)
    for queue_id in queue_ids:
        context = queue_context(request, queue_id, session)
        context["ewt"] = views.wait_shown(ewt.cached_new_caller(queue_id, EWT_FRESH_SECONDS))
        found[f"queue-{queue_id}"] = fragment("_queue.html", **context)
        found[f"figures-{queue_id}"] = fragment(
            "_figures.html", **figures_context(queue_id, context["snapshot"], day, figures)
        )
    return found


async def dashboard_context(
    request: Request, session: Session, version: int, fragment: Fragment
) -> dict[str, Any]:
    """The first render: the layout with every section inside."""
    sections = await dashboard_sections(request, session, version, fragment)
    return {"layout": fragment("_layout.html", **layout_context(request, session, sections))}


def layout_context(
    request: Request, session: Session, sections: dict[str, str] | None
) -> dict[str, Any]:
    q = queries(request)
    return {
        "queues": [{"id": i, "settings": q.queue_settings(i)} for i in q.queue_ids()],
        "is_admin": session.principal.role is Role.ADMIN,
        "sections": sections,
    }
