"""Abandoned-call rates (R-X-13, docs/compliance.md) for the analytics API, ``/metrics`` and the
dashboard: the US rule's rolling 30 days and the UK rule's calendar day with Ofcom's estimate,
counted from the stored accounting of every answered customer-first dial (R-X-12)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request

from dialback.api.auth import Auth, Role
from dialback.api.common import now, optional_time, queries
from dialback.api.genesys import iso
from dialback.domain.abandonment import US_WINDOW_SECONDS, ofcom_rate, us_rate, window_start
from dialback.domain.compliance import AbandonmentWindow
from dialback.domain.model import QueueId
from dialback.service.queries import Queries

router = APIRouter(prefix="/api/v2/analytics/compliance", tags=["analytics"])


def abandonment_report(q: Queries, queue_id: QueueId, at: float) -> dict[str, Any]:
    """Both rules' figures for ``queue_id`` at ``at`` (epoch seconds)."""
    settings = q.queue_settings(queue_id, field="queueId")
    zone_name = settings.compliance.calling_window.fallback_time_zone
    day_start = window_start(AbandonmentWindow.CALENDAR_DAY, at, ZoneInfo(zone_name))
    month = q.compliance.accounting(queue_id, at - US_WINDOW_SECONDS, at)
    live = [r for r in month if not r.machine]
    abandoned = sum(1 for r in live if r.abandoned)
    today = [r for r in month if r.answered_at >= day_start]
    drops = sum(1 for r in today if not r.machine and r.abandoned)
    human = sum(1 for r in today if not r.machine and not r.abandoned and r.connected_at)
    machine_agent = sum(1 for r in today if r.machine and r.agent_connected)
    budget = settings.callback.budget
    return {
        "queueId": queue_id,
        "time": iso(at),
        "pacingMode": budget.mode.value,
        "targetRate": budget.target_rate,
        "us": {
            "window": AbandonmentWindow.ROLLING_30_DAYS.value,
            "from": iso(at - US_WINDOW_SECONDS),
            "liveAnswers": len(live),
            "abandoned": abandoned,
            "rate": us_rate(len(live), abandoned),
        },
        "uk": {
            "window": AbandonmentWindow.CALENDAR_DAY.value,
            "timeZone": zone_name,
            "from": iso(day_start),
            "drops": drops,
            "humanAgent": human,
            "machineAgent": machine_agent,
            "rate": ofcom_rate(drops, human, machine_agent),
        },
    }


@router.get("/queues/{queue_id}/abandonment")
async def abandonment(request: Request, queue_id: str, who: Auth) -> dict[str, Any]:
    """(ext) R-X-13: the queue's abandoned-call rates; ``?time=ISO`` for another moment."""
    who.require(Role.SUPERVISOR)
    at = optional_time(dict(request.query_params), "time") or now()
    return abandonment_report(queries(request), QueueId(queue_id), at)
