"""Estimated wait time (issue 18): a queue's state as a value, and the simple formulas.

The forward simulation that gives the ``BEST`` estimate lives in ``sim/ewt.py``: it rebuilds a
fresh engine from a ``QueueSnapshot`` and runs it on a virtual clock with draws from a
``History`` (``domain/history.py``). Everything here is pure: time is an argument.

Genesys' formula names are kept (``SIMPLE``, ``ABANDON``): ``SIMPLE`` is position x average
handle time / agents on queue; ``ABANDON`` scales it by the share of callers who do not abandon.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialback.domain.engine import Engine
from dialback.domain.enums import Closed
from dialback.domain.events import TimerKind
from dialback.domain.history import History
from dialback.domain.model import (
    AgentId,
    InteractionId,
    MediaType,
    QueueId,
    RoutingStatus,
    State,
)
from dialback.domain.settings import QueueSettings
from dialback.domain.timeline import Purpose


class Formula(Closed):
    """Genesys' ``PredictionResults.formula`` values dialback answers with."""

    BEST = "BEST"
    SIMPLE = "SIMPLE"
    ABANDON = "ABANDON"


# --- the queue's state as a value -----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Waiting:
    """One interaction ahead of (or being) the target, in queue order. ``since`` is when its
    customer started waiting on the line (patience runs from there); ``callback`` says it is a
    callback not yet connected to its customer (it does not abandon); ``dialing`` that a
    customer-first dial to it is in progress (then ``since`` is when it was placed)."""

    id: InteractionId
    priority: int
    entry_time: float
    since: float
    callback: bool
    dialing: bool = False
    numbers: int = 1
    converted: bool = False  # an answered customer-first callback waiting on the line


@dataclass(frozen=True, slots=True)
class Scheduled:
    """A callback waiting for its time (scheduled, or a customer-first retry keeping its place,
    R-O-3): it enters the queue at ``due`` with ``entry_time`` (None: the due time)."""

    id: InteractionId
    priority: int
    due: float
    entry_time: float | None
    numbers: int = 1


@dataclass(frozen=True, slots=True)
class BusyAgent:
    """An on-queue agent holding work since ``since`` (alerting, talking, dialing or wrapping
    up); it is free again after the rest of a handle time that has already lasted that long."""

    id: AgentId
    since: float


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """What the forward simulation starts from: the queue at ``at`` (epoch seconds)."""

    queue_id: QueueId
    settings: QueueSettings
    at: float
    waiting: tuple[Waiting, ...]  # in queue order (R-O-1), dials in progress first
    scheduled: tuple[Scheduled, ...]
    busy: tuple[BusyAgent, ...]
    idle: tuple[AgentId, ...]
    off_queue: int = 0

    @property
    def on_queue(self) -> int:
        return len(self.busy) + len(self.idle)

    def position(self, interaction_id: InteractionId) -> int | None:
        """1-based place of a waiting interaction, or None."""
        for k, item in enumerate(self.waiting):
            if item.id == interaction_id:
                return k + 1
        return None


def snapshot(engine: Engine, queue_id: QueueId, at: float | None = None) -> QueueSnapshot:
    """Copy ``queue_id``'s state out of ``engine`` as of ``at`` (default and at least
    ``engine.now``: the engine's time is that of its last event). Raises ``UnknownQueue``.
    Agents are the queue's members: on queue and holding work are busy, routable and empty are
    idle; not responding ones count as off queue (they need a person to come back)."""
    queue = engine.queue(queue_id)
    dialing = [
        i
        for i in engine.interactions.values()
        if i.queue_id == queue_id
        and i.state is State.DIALING
        and not i.dial_by_agent
        and i.key is not None
    ]
    ordered = sorted(
        [(False, i.key, i.id) for i in dialing if i.key is not None]
        + [
            (True, key, iid)
            for heap in (queue.waiting, queue.undialed)
            for iid in heap
            if (key := heap.priority_of(iid)) is not None
        ]
    )
    items = [_waiting(engine, iid, not undialed) for undialed, _, iid in ordered]
    scheduled = tuple(
        Scheduled(
            i.id,
            i.priority,
            _due(engine, i.id),
            i.entry_time if i.key is not None else None,
            len(i.request.numbers) if i.request else 1,
        )
        for i in engine.interactions.values()
        if i.queue_id == queue_id and i.state is State.SCHEDULED and i.owner is None
    )
    busy, idle, off = [], [], 0
    for agent_id in queue.members:
        agent = engine.agents[agent_id]
        status = agent.status
        if status is RoutingStatus.IDLE and agent.reserved_for is None:
            idle.append(agent_id)
        elif status in (RoutingStatus.INTERACTING, RoutingStatus.IDLE):
            busy.append(BusyAgent(agent_id, _busy_since(engine, agent_id)))
        else:
            off += 1
    return QueueSnapshot(
        queue_id,
        queue.settings,
        max(engine.now, at if at is not None else engine.now),
        tuple(items),
        tuple(sorted(scheduled, key=lambda s: (s.due, s.id))),
        tuple(busy),
        tuple(idle),
        off,
    )


def _due(engine: Engine, interaction_id: InteractionId) -> float:
    """When the scheduled callback falls due (now if its timer is not running). Read with
    ``timer_at``: ``Engine.timers`` builds a copy of every timer (issue 16)."""
    at = engine.timer_at(TimerKind.CALLBACK_DUE, interaction_id)
    return engine.now if at is None else at


def _waiting(engine: Engine, interaction_id: InteractionId, dialing: bool) -> Waiting:
    i = engine.interactions[interaction_id]
    callback = i.media is MediaType.CALLBACK
    since = engine.now
    if dialing:  # a customer-first dial in progress: since it was placed
        dial = i.open.get((Purpose.DIALER, None, MediaType.VOICE))
        since = dial.start if dial is not None else engine.now
    elif not callback and not i.converted:  # a caller waits from its queue entry (R-O-2)
        since = i.entry_time if i.entry_time is not None else engine.now
    elif not callback:  # an answered customer-first callback waits from its conversion
        acd = i.open.get((Purpose.ACD, None, i.media))
        since = acd.start if acd is not None else engine.now
    return Waiting(
        i.id,
        i.priority,
        i.entry_time if i.entry_time is not None else engine.now,
        since,
        callback,
        dialing,
        len(i.request.numbers) if i.request else 1,
        i.converted,
    )


def _busy_since(engine: Engine, agent_id: AgentId) -> float:
    agent = engine.agents[agent_id]
    starts = [s.start for s in agent.acw.values()]
    for interaction_id in agent.work:
        found = engine.interactions.get(interaction_id)
        if found is not None:
            starts += [s.start for k, s in found.open.items() if k[1] == agent_id]
    if agent.reserved_for is not None:
        starts.append(engine.now)
    return min(starts, default=engine.now)


# --- the simple formulas --------------------------------------------------------------------------
def simple(ahead: int, mean_handle: float, agents: int) -> float | None:
    """SIMPLE: (interactions ahead + 1) x average handle time / agents on queue; None with no
    agent on queue (the wait is unbounded)."""
    if agents <= 0:
        return None
    return (ahead + 1) * mean_handle / agents


def abandon(ahead: int, mean_handle: float, agents: int, abandon_rate: float) -> float | None:
    """ABANDON: SIMPLE where only the share of those ahead who stay need an agent."""
    if agents <= 0:
        return None
    return (ahead * (1 - abandon_rate) + 1) * mean_handle / agents


def simple_estimates(
    snap: QueueSnapshot, history: History, interaction_id: InteractionId | None = None
) -> dict[Formula, float | None]:
    """The simple formulas for a waiting interaction (``interaction_id``), or a new caller.
    An interaction no longer waiting gets 0."""
    if interaction_id is None:
        ahead = len(snap.waiting)
    else:
        place = snap.position(interaction_id)
        if place is None:
            return {Formula.SIMPLE: 0.0, Formula.ABANDON: 0.0}
        ahead = place - 1
    agents = snap.on_queue
    if not snap.waiting and snap.idle and interaction_id is None:
        return {Formula.SIMPLE: 0.0, Formula.ABANDON: 0.0}
    return {
        Formula.SIMPLE: simple(ahead, history.mean_handle, agents),
        Formula.ABANDON: abandon(ahead, history.mean_handle, agents, history.abandon_rate),
    }
