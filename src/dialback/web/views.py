"""What the templates show: labels, formats and the day's chart, from the query interface's
views. Nothing here reads the service or changes anything."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from dialback.domain.model import MediaType, RoutingStatus, State
from dialback.service.estimates import HORIZON_SECONDS, Estimate
from dialback.service.queries import DeskItem, QueuedInteraction
from dialback.web.figures import QueueFigures, Slot

STATUS_LABELS = {
    RoutingStatus.IDLE: "Idle",
    RoutingStatus.INTERACTING: "Interacting",
    RoutingStatus.NOT_RESPONDING: "Not responding",
    RoutingStatus.OFF_QUEUE: "Off queue",
}

REASONS = {
    "dialed": "Dialed",
    "cap_reached": "Cap reached",
    "no_idle_agent": "No idle agent",
    "no_caller_id": "No caller ID",
    "no_agent_on_queue": "No agent on queue",
    "outside_calling_window": "Outside calling window",
}

WRAPUP_CODES = (
    ("resolved", "Resolved"),
    ("follow-up", "Follow-up needed"),
    ("no-answer", "No answer"),
    ("wrong-number", "Wrong number"),
    ("left-message", "Left a message"),
    ("not-interested", "Customer not interested"),
)


def row_state(i: QueuedInteraction) -> str:
    """The state a supervisor reads: waiting, scheduled, dialing, converted (a customer-first
    callback answered and waiting for, or offered to, an agent), alerting, with agent, wrap-up."""
    if i.state in (State.CONNECTED, State.ACW) and (i.media is MediaType.VOICE or i.agent_id):
        return "wrap-up" if i.state is State.ACW else "with agent"
    if i.converted:
        return "converted"
    return {
        State.SCHEDULED: "scheduled",
        State.WAITING: "waiting",
        State.ALERTING: "alerting",
        State.DIALING: "dialing",
        State.CONNECTED: "with agent",
        State.ACW: "wrap-up",
    }.get(i.state, i.state.value)


def row_kind(i: QueuedInteraction) -> str:
    if i.media is MediaType.VOICE and not i.converted:
        return "Call"
    if i.owner:
        return "Callback · owned"
    return "Callback · customer first" if i.customer_first else "Callback · agent first"


def cancellable(i: QueuedInteraction) -> bool:
    """R-C-5: a callback not being dialed and not connected to a customer."""
    return (
        i.media is MediaType.CALLBACK
        and i.state in (State.SCHEDULED, State.WAITING, State.ALERTING)
        and not i.converted
    )


def desk_title(item: DeskItem) -> str:
    if item.media is MediaType.VOICE and item.customer_first:
        return "Customer-first callback"
    if item.media is MediaType.VOICE:
        return "Inbound call"
    return "Owned callback" if item.owner else "Callback"


def seconds(value: float | None) -> str:
    """``1:05`` or ``1:02:05``; an em dash for nothing."""
    if value is None or math.isnan(value):
        return "—"
    total = round(value)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def duration(value: float | None) -> str:
    """A short wait as people say it: ``0.4 s``, ``12 s``, then ``1:05``."""
    if value is None:
        return "—"
    if value < 10:
        return f"{value:.1f} s"
    return f"{value:.0f} s" if value < 60 else seconds(value)


def clock(at: float | None) -> str:
    return "—" if at is None else datetime.fromtimestamp(at).strftime("%H:%M:%S")


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def number(value: float) -> str:
    return f"{value:g}"


def pacing_meaning(multiplier: float, minimum: int, on_queue: int) -> str:
    """What a pacing modifier does with the agents on queue now (R-CF-1, R-CF-2); app.js says
    the same as the modifier is edited."""
    who = f"{on_queue} agent{'' if on_queue == 1 else 's'} on queue now"
    cap = multiplier * on_queue
    if on_queue == 0:
        return f"{who}: nothing is dialed until an agent is on queue."
    if cap >= 1:
        return (
            f"{who}: up to {cap:.1f} callbacks dialed at once "
            f"({multiplier:.2f} \u00d7 {on_queue}); "
            f"at least {math.floor(cap)} guaranteed at each evaluation "
            f"({minimum} agents needed for one)."
        )
    return (
        f"{who}: fewer than the {minimum} agents needed for a guaranteed dispatch, so a "
        f"callback is dialed with probability {cap * 100:.0f}% at each evaluation."
    )


def chart(figures: QueueFigures, day_start: float, now: float) -> Markup:
    """A small bar chart of the day in half hours: offered (light) with answered (dark) and
    abandoned (red) stacked inside, as inline SVG with a text alternative."""
    width, height, pad = 960, 120, 16
    slots = 48
    step = (width - 2) / slots
    peak = max((s.offered for s in figures.slots.values()), default=0)
    top = max(peak, 4)
    bars: list[str] = []
    for n in range(slots):
        start = day_start + n * 1800
        slot = figures.slots.get(start, Slot(start, 0, 0, 0))
        x = 1 + n * step

        def bar(count: int, base: int, css: str, x: float = x) -> str:
            h = (height - pad) * count / top
            y = height - pad - (height - pad) * base / top - h
            return (
                f'<rect class="{css}" x="{x + 1:.1f}" y="{y:.1f}" '
                f'width="{step - 2:.1f}" height="{h:.1f}"/>'
            )

        if slot.offered:
            bars.append(bar(slot.offered, 0, "offered"))
        if slot.answered:
            bars.append(bar(slot.answered, 0, "answered"))
        if slot.abandoned:
            bars.append(bar(slot.abandoned, slot.answered, "abandoned"))
    ticks = "".join(
        f'<text x="{1 + h * 2 * step:.1f}" y="{height - 3}">{h:02d}</text>' for h in range(0, 24, 3)
    )
    now_x = 1 + (now - day_start) / 1800 * step
    summary = (
        f"Today: {figures.offered} offered, {figures.answered} answered, "
        f"{figures.abandoned} abandoned; busiest half hour {peak} offered."
    )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(summary)}"><title>{escape(summary)}</title>'
        f'<line class="axis" x1="0" y1="{height - pad}" x2="{width}" y2="{height - pad}"/>'
        f'<line class="now" x1="{now_x:.1f}" y1="0" x2="{now_x:.1f}" y2="{height - pad}"/>'
        f"{''.join(bars)}{ticks}</svg>"
    )


@dataclass(frozen=True, slots=True)
class WaitShown:
    """A queue's estimated wait as the dashboard shows it (issue 18 item 5): ``BEST``'s median
    and its 80% interval in seconds, or why there is none (``pending``: the first forecast is
    still running; ``beyond``: not within the forecast's horizon, e.g. nobody is on queue; else
    no run saw a new caller answered before giving up)."""

    median: float | None
    low: float | None
    high: float | None
    at: float | None
    pending: bool = False
    beyond: bool = False

    @property
    def text(self) -> str:
        return f"over {seconds(HORIZON_SECONDS)}" if self.beyond else seconds(self.median)

    @property
    def interval(self) -> str:
        return f"{seconds(self.low)}\u2013{seconds(self.high)}"


def wait_shown(estimate: Estimate | None) -> WaitShown:
    """What the dashboard's estimated-wait tile shows for a cached estimate (None: pending)."""
    if estimate is None:
        return WaitShown(None, None, None, None, pending=True)
    best = estimate.best
    if best is None or not best.samples or not math.isfinite(best.high):
        return WaitShown(None, None, None, estimate.at)
    if best.median >= HORIZON_SECONDS:
        return WaitShown(None, None, None, estimate.at, beyond=True)
    return WaitShown(best.median, best.low, best.high, estimate.at)
