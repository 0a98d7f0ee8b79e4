"""The engine's in-memory state: interactions, agents and queues.

Mutable, owned by ``Engine``; read it, never write it from outside. Ended interactions leave
the state (their last ``InteractionChanged`` effect carries the outcome).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    ConversationId,
    DialId,
    InteractionId,
    MediaType,
    Outcome,
    Presence,
    QueueId,
    RoutingStatus,
    State,
)
from dialback.domain.ordering import IndexedHeap, QueueKey
from dialback.domain.settings import QueueSettings
from dialback.domain.timeline import CommunicationKey, Segment

AgentKey = tuple[int, float, int]
"""(interactions held, available since, sequence): the longest-idle agent sorts first."""


@dataclass(slots=True, eq=False)
class Interaction:
    """One routable item the engine holds (SPEC §1): a live voice call or a callback, from
    the moment it is created until it ends (then it leaves ``Core.interactions``). Mutable: the
    engine changes it in place. Its ``key`` (its place, R-O-1) is fixed when it first enters a
    queue and kept through dials, retries and re-offers (R-O-3)."""

    id: InteractionId
    conversation_id: ConversationId
    queue_id: QueueId
    media: MediaType
    state: State
    priority: int
    entry_time: float | None  # R-O-2: the caller's entry time, else set when it becomes due
    request: CallbackRequest | None = None  # callbacks only
    caller_number: str | None = None  # voice calls only
    key: QueueKey | None = None  # R-O-3: fixed once it enters a queue
    agent_id: AgentId | None = None  # the agent it is offered to or held by
    reserved_agent: AgentId | None = None  # R-CF-10
    dial_id: DialId | None = None
    dial_by_agent: bool = False
    attempts: int = 0
    number_index: int = -1  # index of the number dialed last
    last_outcome: Outcome | None = None
    on_call: bool = False  # agent-first: the agent's voice leg is up
    talked: bool = False  # an agent talked to the customer
    converted: bool = False  # customer-first: the callback became a voice interaction
    owned_pending: bool = False  # waiting for its owner (R-OW-1)
    ownership_deadline: float | None = None
    from_call: bool = False  # R-C-6: made from a waiting call, keeps the call's entry time
    held: bool = False  # the agent has the customer on hold
    open: dict[CommunicationKey, Segment] = field(default_factory=dict)  # open segments

    @property
    def owner(self) -> AgentId | None:
        """R-OW-1: the agent that owns this callback, if any (from its request)."""
        return self.request.owner if self.request else None

    @property
    def preferred(self) -> tuple[AgentId, ...]:
        """R-OW-3: the agents tried first, in the request's order (none for a voice call)."""
        return self.request.preferred_agents if self.request else ()

    @property
    def customer_connected(self) -> bool:
        """R-C-5: a customer is on the line with us: an agent-first call, or a voice interaction
        (a live call, or a customer-first callback after conversion)."""
        return self.on_call or self.media is MediaType.VOICE


@dataclass(slots=True, eq=False)
class AgentState:
    """An agent as routing sees it: presence, queues, what it holds (``work``: alerting or
    connected; ``acw``: wrap-ups) and the callbacks it owns. ``load`` counts against
    ``capacity``; the wrap-up segments outlive the interactions they belong to."""

    id: AgentId
    capacity: int
    presence: Presence = Presence.OFF_QUEUE
    not_responding: bool = False
    queues: dict[QueueId, None] = field(default_factory=dict)  # an ordered set
    work: dict[InteractionId, State] = field(default_factory=dict)  # alerting or connected
    acw: dict[InteractionId, Segment] = field(default_factory=dict)  # open wrap-up segments
    reserved_for: InteractionId | None = None
    available_since: float = 0.0
    owned: IndexedHeap[InteractionId, QueueKey] = field(default_factory=IndexedHeap)
    address: str | None = None  # the agent's phone (SIP URI); telephony's, not routing's

    @property
    def load(self) -> int:
        """Interactions held now: alerts, connected ones, wrap-ups, plus one for a reservation
        (R-CF-10). An agent is routable only while this is below ``capacity``."""
        return len(self.work) + len(self.acw) + (self.reserved_for is not None)

    @property
    def status(self) -> RoutingStatus:
        """The routing status of SPEC §1: off queue, else not responding, else idle when it
        holds nothing (``load`` 0), else interacting."""
        if self.presence is Presence.OFF_QUEUE:
            return RoutingStatus.OFF_QUEUE
        if self.not_responding:
            return RoutingStatus.NOT_RESPONDING
        return RoutingStatus.IDLE if self.load == 0 else RoutingStatus.INTERACTING

    @property
    def routable(self) -> bool:
        """May be offered another interaction (R-AF-1, R-CF-10: a reserved agent gets none)."""
        return (
            self.presence is Presence.ON_QUEUE
            and not self.not_responding
            and self.reserved_for is None
            and self.load < self.capacity
        )


@dataclass(slots=True, eq=False)
class QueueState:
    """A queue's live state: its settings, the two orders of waiting interactions (agents'
    and the dialer's), the pool of routable members, and the counts pacing reads (R-CF-2:
    ``on_queue``, ``idle``, ``outstanding`` dials). Mutable: the engine keeps it current."""

    id: QueueId
    settings: QueueSettings
    waiting: IndexedHeap[InteractionId, QueueKey] = field(default_factory=IndexedHeap)
    """Interactions waiting for an agent: voice calls, agent-first callbacks, converted ones."""
    undialed: IndexedHeap[InteractionId, QueueKey] = field(default_factory=IndexedHeap)
    """Customer-first callbacks waiting to be dialed."""
    pool: IndexedHeap[AgentId, AgentKey] = field(default_factory=IndexedHeap)
    """Routable members, longest idle first."""
    members: dict[AgentId, None] = field(default_factory=dict)
    on_queue: int = 0
    idle: int = 0
    outstanding: int = 0  # customer-first dials in progress
    reserved_dials: int = 0  # of which hold a reserved agent
    last_cap: int = 0  # the cap drawn at the last dispatch
    tick_at: float | None = None

    def head(self) -> tuple[InteractionId, QueueKey, bool] | None:
        """The first interaction not being dialed, and whether it is an undialed customer-first
        callback (R-CF-2)."""
        voice, cf = self.waiting.peek(), self.undialed.peek()
        if cf is not None and (voice is None or cf[1] < voice[1]):
            return cf[0], cf[1], True
        if voice is not None:
            return voice[0], voice[1], False
        return None
