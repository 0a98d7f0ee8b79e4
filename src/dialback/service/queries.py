"""The read-only query interface: what ``api/`` (and later ``web/``) may know of the service.

Routes never touch the engine or the database: they ask here. Live state (queues' settings,
interactions in flight, agents) comes from the runtime's engine as small frozen views, copied at
the moment of the call so a caller can never change the engine; stored history (queues, users,
conversations, pacing decisions, tokens) comes from the database's read models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dialback.domain.errors import UnknownQueue
from dialback.domain.ewt import QueueSnapshot, snapshot
from dialback.domain.history import History, fit_history
from dialback.domain.metrics import observations
from dialback.domain.model import (
    AgentId,
    ConversationId,
    InteractionId,
    MediaType,
    QueueId,
    RoutingStatus,
    State,
)
from dialback.domain.settings import QueueSettings
from dialback.domain.timeline import Conversation
from dialback.service.runtime import Runtime
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


class Queries:
    """Read-only questions about the running service, answered from the engine or the database."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._reader = Reader(runtime.store.engine)

    # --- live state -------------------------------------------------------------------------------
    def queue_settings(self, queue_id: QueueId, *, field: str | None = None) -> QueueSettings:
        """The queue's settings now. Raises ``UnknownQueue`` (naming ``field`` if given)."""
        queue = self._runtime.engine.queues.get(queue_id)
        if queue is None:
            raise UnknownQueue(f"no queue {queue_id}", field=field)
        return queue.settings

    def settings_lookup(self, queue_id: QueueId) -> QueueSettings:
        """``queue_settings`` for a request naming the queue in ``queueId`` (the domain's
        request parsers take it as a function)."""
        return self.queue_settings(queue_id, field="queueId")

    def interaction(self, interaction_id: InteractionId) -> LiveInteraction | None:
        """The live interaction, or None once it has ended (or never existed)."""
        found = self._runtime.engine.interactions.get(interaction_id)
        if found is None:
            return None
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
        found = self._runtime.engine.agents.get(agent_id)
        if found is None:
            return None
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

    def gauges(self) -> Gauges:
        """The monitoring counts now (``/metrics``)."""
        engine = self._runtime.engine
        statuses: dict[RoutingStatus, int] = {}
        for agent in engine.agents.values():
            statuses[agent.status] = statuses.get(agent.status, 0) + 1
        return Gauges(
            {q.id: len(q.waiting) + len(q.undialed) for q in engine.queues.values()},
            len(engine.dials),
            statuses,
        )

    def health(self) -> tuple[bool, int]:
        """Whether the runtime takes events, and how many events its start replayed."""
        return self._runtime.failed is None, self._runtime.replayed_events

    # --- stored history -------------------------------------------------------------------------
    def token(self, token: str) -> tuple[str, str | None] | None:
        """The role and user of a bearer token, or None for an unknown one."""
        return self._runtime.store.token(token)

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
    def queue_snapshot(self, queue_id: QueueId) -> QueueSnapshot:
        """The queue's state now as a value the EWT forward simulation starts from. Raises
        ``UnknownQueue``."""
        return snapshot(self._runtime.engine, queue_id, self._runtime.clock())

    def queue_history(self, queue_id: QueueId, now: float, window: float = 4 * 3600) -> History:
        """What the last ``window`` seconds of the queue's stored timeline say about handle
        times, patience and dial outcomes (priors where they are thin)."""
        conversations = self._reader.conversations_between(now - window, now, 5000)
        found = [o for c in conversations for o in observations(c, {})]
        return fit_history(found, conversations, queue_id, now=now)

    def queue_view(self, queue_id: QueueId) -> QueueView:
        """The queue's real-time view now. Raises ``UnknownQueue``."""
        engine = self._runtime.engine
        queue = engine.queue(queue_id)
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
        """Callbacks the engine holds now (not ended), oldest first; only those an agent holds
        or owns when ``agent_id`` is given."""
        found = []
        for interaction in self._runtime.engine.interactions.values():
            if interaction.request is None:
                continue
            if agent_id is not None and agent_id not in (interaction.agent_id, interaction.owner):
                continue
            found.append(self.interaction(interaction.id))
        return [f for f in found if f is not None]
