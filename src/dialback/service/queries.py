"""The read-only query interface: what ``api/`` (and later ``web/``) may know of the service.

Routes never touch the engine or the database: they ask here. Live state (queues' settings,
interactions in flight, agents) comes from the runtime's engine as small frozen views, copied at
the moment of the call so a caller can never change the engine; stored history (queues, users,
conversations, pacing decisions, tokens) comes from the database's read models.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import inf
from typing import Any

from dialback.domain.engine import Engine
from dialback.domain.errors import UnknownQueue
from dialback.domain.events import TimerKind
from dialback.domain.ewt import QueueSnapshot as EwtSnapshot
from dialback.domain.ewt import snapshot
from dialback.domain.history import History, fit_history
from dialback.domain.metrics import observations
from dialback.domain.model import (
    AgentId,
    ConversationId,
    InteractionId,
    MediaType,
    Outcome,
    QueueId,
    RoutingStatus,
    State,
)
from dialback.domain.pacing import PacingRow
from dialback.domain.settings import QueueSettings
from dialback.domain.state import Interaction
from dialback.domain.timeline import Conversation, SegmentType
from dialback.service.runtime import Runtime
from dialback.service.shards import Shards
from dialback.store.compliance import ComplianceReader
from dialback.store.repository import Reader


@dataclass(frozen=True, slots=True)
class LiveInteraction:
    """An interaction the engine holds now (waiting, alerting, dialing or connected)."""

    id: InteractionId
    conversation_id: ConversationId
    queue_id: QueueId
    media: MediaType
    state: State
    numbers: tuple[str, ...]  # a callback's numbers, in the order they are tried; () for calls


@dataclass(frozen=True, slots=True)
class LiveAgent:
    """An agent as the engine sees it now; ``work`` holds alerts and connected interactions with
    their state, ``acw`` those in after-call work."""

    id: AgentId
    capacity: int
    queues: tuple[QueueId, ...]
    status: RoutingStatus
    address: str | None
    work: tuple[tuple[InteractionId, State], ...]
    acw: tuple[InteractionId, ...]
    reserved_for: InteractionId | None


@dataclass(frozen=True, slots=True)
class QueueView:
    """A queue's real-time view (Genesys' queue observations): per media type the interactions
    ``waiting`` (with the time the longest has waited since, ``oldest``), ``alerting`` and
    ``interacting``; and the members per routing status."""

    queue_id: QueueId
    waiting: dict[MediaType, list[tuple[InteractionId, float]]]
    alerting: dict[MediaType, int]
    interacting: dict[MediaType, int]
    members: dict[RoutingStatus, list[AgentId]]


@dataclass(frozen=True, slots=True)
class Gauges:
    """Counts for monitoring: interactions waiting per queue (undialed callbacks included),
    dials in progress, and agents per routing status."""

    waiting: dict[QueueId, int]
    dials_in_progress: int
    agents_by_status: dict[RoutingStatus, int]


@dataclass(frozen=True, slots=True)
class QueuedInteraction:
    """One interaction of a queue as a supervisor sees it. ``position`` counts those still
    waiting for an agent or a dial (1 is next); None once an agent has it or while it is
    scheduled. ``customer_first`` says the dialer (not an agent) calls the customer;
    ``converted`` that a customer-first callback was answered and is now a voice interaction."""

    id: InteractionId
    conversation_id: ConversationId
    position: int | None
    entry_time: float | None
    priority: int
    media: MediaType
    customer_first: bool
    converted: bool
    state: State
    agent_id: AgentId | None
    numbers: tuple[str, ...]
    user_name: str | None
    scheduled_time: float | None
    attempts: int
    last_outcome: Outcome | None
    owner: AgentId | None


@dataclass(frozen=True, slots=True)
class PacingNow:
    """Customer-first pacing of a queue at this moment (R-CF-2): ``cap_expected`` is
    multiplier x on-queue agents, ``last_cap`` the cap drawn at the last evaluation."""

    modifier: float
    multiplier: float
    on_queue: int
    idle: int
    cap_expected: float
    last_cap: int
    outstanding: int
    reserved: int


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    id: QueueId
    settings: QueueSettings
    interactions: tuple[QueuedInteraction, ...]
    agents: tuple[LiveAgent, ...]
    pacing: PacingNow


@dataclass(frozen=True, slots=True)
class DeskItem:
    """An interaction on an agent's desk: alerting (``alert_until`` is the alert's deadline),
    connected, being dialed, or in after-call work. ``script_id`` follows R-Q-3."""

    id: InteractionId
    conversation_id: ConversationId
    queue_id: QueueId
    media: MediaType
    state: State
    customer_first: bool
    numbers: tuple[str, ...]
    number_index: int
    user_name: str | None
    owner: AgentId | None
    on_call: bool
    held: bool
    ringing: bool
    attempts: int
    last_outcome: Outcome | None
    alert_until: float | None
    script_id: str | None
    caller_number: str | None


def _order(i: Interaction) -> tuple[bool, tuple[int, float, int]]:
    """Queue order: placed interactions by their key (R-O-1); those not placed yet (scheduled)
    after them, by their due time."""
    if i.key is not None:
        return False, i.key
    due = i.request.scheduled_time if i.request and i.request.scheduled_time else 0.0
    return True, (-i.priority, due, 0)


class Queries:
    """Read-only questions about the running service, answered from the engines (one per shard,
    issue 17: each question looks across all of them) or the database."""

    def __init__(self, runtime: Runtime | Shards) -> None:
        self._runtime = runtime
        self._reader = Reader(runtime.store.engine)
        self.compliance = ComplianceReader(runtime.store.engine)  # issue 14: DNC, records

    def _engines(self) -> list[Engine]:
        if isinstance(self._runtime, Shards):
            return self._runtime.engines()
        return [self._runtime.engine]

    def _engine_of_queue(self, queue_id: QueueId) -> Engine | None:
        return next((e for e in self._engines() if queue_id in e.queues), None)

    def _engine_of_agent(self, agent_id: AgentId) -> Engine | None:
        return next((e for e in self._engines() if agent_id in e.agents), None)

    def _engine_of(self, interaction_id: InteractionId) -> Engine | None:
        return next((e for e in self._engines() if interaction_id in e.interactions), None)

    # --- live state -------------------------------------------------------------------------------
    def queue_settings(self, queue_id: QueueId, *, field: str | None = None) -> QueueSettings:
        """The queue's settings now. Raises ``UnknownQueue`` (naming ``field`` if given)."""
        engine = self._engine_of_queue(queue_id)
        if engine is None:
            raise UnknownQueue(f"no queue {queue_id}", field=field)
        return engine.queues[queue_id].settings

    def settings_lookup(self, queue_id: QueueId) -> QueueSettings:
        """``queue_settings`` for a request naming the queue in ``queueId`` (the domain's
        request parsers take it as a function)."""
        return self.queue_settings(queue_id, field="queueId")

    def interaction(self, interaction_id: InteractionId) -> LiveInteraction | None:
        """The live interaction, or None once it has ended (or never existed)."""
        engine = self._engine_of(interaction_id)
        if engine is None:
            return None
        found = engine.interactions[interaction_id]
        return LiveInteraction(
            found.id,
            found.conversation_id,
            found.queue_id,
            found.media,
            found.state,
            found.request.numbers if found.request else (),
        )

    def agent(self, agent_id: AgentId) -> LiveAgent | None:
        """The agent now, or None for an unknown user."""
        engine = self._engine_of_agent(agent_id)
        if engine is None:
            return None
        found = engine.agents[agent_id]
        return LiveAgent(
            found.id,
            found.capacity,
            tuple(found.queues),
            found.status,
            found.address,
            tuple(found.work.items()),
            tuple(found.acw),
            found.reserved_for,
        )

    def agent_ids(self) -> list[AgentId]:
        """Every agent the engine knows, in the order they were registered."""
        return [a for e in self._engines() for a in e.agents]

    def queue_ids(self) -> list[QueueId]:
        """Every queue the engine knows, in the order they were configured."""
        return [q for e in self._engines() for q in e.queues]

    def queue_snapshot(self, queue_id: QueueId) -> QueueSnapshot:
        """The queue now: its live interactions in queue order (R-O-1; scheduled ones last, by
        due time), its member agents, and customer-first pacing. Raises ``UnknownQueue``."""
        engine = self._engine_of_queue(queue_id)
        if engine is None:
            raise UnknownQueue(f"no queue {queue_id}")
        queue = engine.queues[queue_id]
        mine = [i for i in engine.interactions.values() if i.queue_id == queue_id]
        mine.sort(key=_order)
        rows, position = [], 0
        for i in mine:
            counted = i.state in (State.WAITING, State.DIALING, State.ALERTING)
            position += counted
            rows.append(
                QueuedInteraction(
                    i.id,
                    i.conversation_id,
                    position if counted else None,
                    i.entry_time,
                    i.priority,
                    i.media,
                    engine.customer_first(i),
                    i.converted,
                    i.state,
                    i.agent_id,
                    i.request.numbers if i.request else (),
                    i.request.user_name if i.request else None,
                    i.request.scheduled_time if i.request else None,
                    i.attempts,
                    i.last_outcome,
                    i.owner,
                )
            )
        agents = tuple(a for m in queue.members if (a := self.agent(m)) is not None)
        modifier = queue.settings.callback.pacing_modifier
        multiplier = engine.pacing_table.multiplier(modifier)
        pacing = PacingNow(
            modifier,
            multiplier,
            queue.on_queue,
            queue.idle,
            multiplier * queue.on_queue,
            queue.last_cap,
            queue.outstanding,
            queue.reserved_dials,
        )
        return QueueSnapshot(queue_id, queue.settings, tuple(rows), agents, pacing)

    def pacing_table(self) -> tuple[PacingRow, ...]:
        """The pacing table in force (R-CF-1), by modifier."""
        return self._engines()[0].pacing_table.rows

    def desk(self, agent_id: AgentId) -> tuple[DeskItem, ...]:
        """What the agent holds now, alerts first; () for an unknown agent."""
        engine = self._engine_of_agent(agent_id)
        if engine is None:
            return ()
        agent = engine.agents[agent_id]
        held = [*agent.work, *agent.acw]
        items = [
            self._desk_item(engine, found)
            for interaction_id in held
            if (found := engine.interactions.get(interaction_id)) is not None
        ]
        return tuple(sorted(items, key=lambda item: item.state is not State.ALERTING))

    @staticmethod
    def _desk_item(engine: Engine, i: Interaction) -> DeskItem:
        settings = engine.queues[i.queue_id].settings
        alert = engine.timer_at(TimerKind.ALERT_TIMEOUT, i.id)
        ringing = any(s.type is SegmentType.CONTACTING for s in i.open.values())
        return DeskItem(
            i.id,
            i.conversation_id,
            i.queue_id,
            i.media,
            i.state,
            engine.customer_first(i),
            i.request.numbers if i.request else (),
            i.number_index,
            i.request.user_name if i.request else None,
            i.owner,
            i.on_call,
            i.held,
            ringing,
            i.attempts,
            i.last_outcome,
            alert if i.state is State.ALERTING else None,
            settings.script_for(i.request.script_id if i.request else None),
            i.caller_number,
        )

    def gauges(self) -> Gauges:
        """The monitoring counts now (``/metrics``)."""
        engines = self._engines()
        statuses: dict[RoutingStatus, int] = {}
        for engine in engines:
            for agent in engine.agents.values():
                statuses[agent.status] = statuses.get(agent.status, 0) + 1
        return Gauges(
            {q.id: len(q.waiting) + len(q.undialed) for e in engines for q in e.queues.values()},
            sum(len(e.dials) for e in engines),
            statuses,
        )

    def health(self) -> tuple[bool, int]:
        """Whether the runtime takes events (not while it rebuilds its engine after a failed
        write), and how many events its last (re)build replayed."""
        return not self._runtime.recovering, self._runtime.replayed_events

    # --- stored history -------------------------------------------------------------------------
    def queues(self, limit: int, offset: int) -> tuple[list[Any], int]:
        """A page of stored queues (rows with ``id`` and ``settings`` JSON) and the total."""
        return self._reader.queues(limit, offset)

    def user(self, user_id: str) -> Any:
        """The stored user row (``name``), or None."""
        return self._reader.user(user_id)

    def members(self, queue_id: str) -> list[Any]:
        """The queue's members with their name and routing status."""
        return self._reader.members(queue_id)

    def interactions_of(self, conversation_id: str) -> list[Any]:
        """Every stored interaction of a conversation, oldest first."""
        return self._reader.interactions_of(conversation_id)

    def conversation(self, conversation_id: str) -> Conversation | None:
        """A conversation's timeline (segments per participant), or None."""
        return self._reader.conversation(conversation_id)

    def conversations_between(self, start: float, end: float, limit: int) -> list[Conversation]:
        """At most ``limit`` conversations with a segment starting in ``[start, end)`` (epoch
        seconds), oldest first."""
        return self._reader.conversations_between(start, end, limit)

    def pacing_decisions(self, queue_id: str, limit: int, offset: int) -> list[Any]:
        """A page of the queue's pacing decisions (R-CF-4), newest first."""
        return self._reader.pacing_decisions(queue_id, limit, offset)

    # --- estimated wait time and the real-time view (issue 18) ----------------------------------
    def ewt_snapshot(self, queue_id: QueueId) -> EwtSnapshot:
        """The queue's state now as a value the EWT forward simulation starts from. Raises
        ``UnknownQueue``."""
        engine = self._engine_of_queue(queue_id)
        if engine is None:
            raise UnknownQueue(f"no queue {queue_id}")
        return snapshot(engine, queue_id, self._runtime.clock())

    def queue_history(self, queue_id: QueueId, now: float, window: float = 4 * 3600) -> History:
        """What the last ``window`` seconds of the queue's stored timeline say about handle
        times, patience and dial outcomes (priors where they are thin)."""
        conversations = self._reader.conversations_between(now - window, now, 5000)
        found = [o for c in conversations for o in observations(c, {})]
        return fit_history(found, conversations, queue_id, now=now)

    def queue_view(self, queue_id: QueueId) -> QueueView:
        """The queue's real-time view now. Raises ``UnknownQueue``."""
        engine = self._engine_of_queue(queue_id) or self._engines()[0]
        queue = engine.queue(queue_id)  # raises UnknownQueue
        waiting: dict[MediaType, list[tuple[InteractionId, float]]] = {m: [] for m in MediaType}
        alerting = dict.fromkeys(MediaType, 0)
        interacting = dict.fromkeys(MediaType, 0)
        for item in snapshot(engine, queue_id).waiting:
            media = MediaType.CALLBACK if item.callback else MediaType.VOICE
            waiting[media].append((item.id, item.since if not item.callback else item.entry_time))
        for interaction in engine.interactions.values():
            if interaction.queue_id != queue_id:
                continue
            if interaction.state is State.ALERTING:
                alerting[interaction.media] += 1
            elif interaction.state in (State.CONNECTED, State.ACW) or (
                interaction.state is State.DIALING and interaction.dial_by_agent
            ):
                interacting[interaction.media] += 1
        members: dict[RoutingStatus, list[AgentId]] = {r: [] for r in RoutingStatus}
        for agent_id in queue.members:
            members[engine.agents[agent_id].status].append(agent_id)
        return QueueView(queue_id, waiting, alerting, interacting, members)

    def active_callbacks(self, agent_id: AgentId | None = None) -> list[LiveInteraction]:
        """Callbacks the engines hold now (not ended), oldest place in line first over every
        shard (the time each entered its queue; one scheduled for later, not yet in its queue,
        by its scheduled time); only those an agent holds or owns when ``agent_id`` is given."""
        held = []
        for interaction in (i for e in self._engines() for i in e.interactions.values()):
            request = interaction.request
            if request is None:
                continue
            if agent_id is not None and agent_id not in (interaction.agent_id, interaction.owner):
                continue
            entered = interaction.entry_time
            if entered is None:
                entered = request.scheduled_time if request.scheduled_time is not None else inf
            held.append((entered, interaction.id))
        held.sort(key=lambda pair: pair[0])  # stable: a shard's own order for equal times
        found = [self.interaction(interaction_id) for _, interaction_id in held]
        return [f for f in found if f is not None]
