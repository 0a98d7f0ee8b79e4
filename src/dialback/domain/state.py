"""The engine's in-memory state: interactions, agents and queues.

Mutable, owned by ``Engine``; read it, never write it from outside. Ended interactions leave
the state (their last ``InteractionChanged`` effect carries the outcome).
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr

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
from dialback.domain.sink import OpenSegment
from dialback.domain.timeline import CommunicationKey

AgentKey = tuple[int, float, int]
"""(interactions held, available since, sequence): the longest-idle agent sorts first."""


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # docs/decisions.md
class Interaction:
    """One routable item the engine holds (SPEC §1): a live voice call or a callback, from
    the moment it is created until it ends (then it leaves ``Core.interactions``). Mutable: the
    engine changes it in place. Its ``key`` (its place, R-O-1) is fixed when it first enters a
    queue and kept through dials, retries and re-offers (R-O-3). A plain class with an explicit
    ``__init__``: one is made per customer, and mypyc compiles this one natively (issue 16)."""

    __slots__ = (
        "agent_id",
        "attempts",
        "caller_number",
        "conversation_id",
        "converted",
        "dial_by_agent",
        "dial_id",
        "entry_time",
        "from_call",
        "held",
        "id",
        "key",
        "last_outcome",
        "media",
        "number_index",
        "on_call",
        "open",
        "owned_pending",
        "ownership_deadline",
        "priority",
        "queue_id",
        "request",
        "reserved_agent",
        "state",
        "talked",
        "timers",
    )

    def __init__(
        self,
        id: InteractionId,
        conversation_id: ConversationId,
        queue_id: QueueId,
        media: MediaType,
        state: State,
        priority: int,
        entry_time: float | None,
        request: CallbackRequest | None = None,
        caller_number: str | None = None,
        from_call: bool = False,
    ) -> None:
        self.id = id
        self.conversation_id = conversation_id
        self.queue_id = queue_id
        self.media = media
        self.state = state
        self.priority = priority
        # R-O-2: the caller's entry time, else set when it becomes due.
        self.entry_time = entry_time
        self.request = request  # callbacks only
        self.caller_number = caller_number  # voice calls only
        self.key: QueueKey | None = None  # R-O-3: fixed once it enters a queue
        self.agent_id: AgentId | None = None  # the agent it is offered to or held by
        self.reserved_agent: AgentId | None = None  # R-CF-10
        self.dial_id: DialId | None = None
        self.dial_by_agent = False
        self.attempts = 0
        self.number_index = -1  # index of the number dialed last
        self.last_outcome: Outcome | None = None
        self.on_call = False  # agent-first: the agent's voice leg is up
        self.talked = False  # an agent talked to the customer
        self.converted = False  # customer-first: the callback became a voice interaction
        self.owned_pending = False  # waiting for its owner (R-OW-1)
        self.ownership_deadline: float | None = None
        self.from_call = from_call  # R-C-6: made from a waiting call, keeps its entry time
        self.held = False  # the agent has the customer on hold
        self.timers = 0  # timers running with this interaction as subject (Core.start_timer)
        self.open: dict[CommunicationKey, OpenSegment] = {}  # open segments

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


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # docs/decisions.md
class AgentState:
    """An agent as routing sees it: presence, queues, what it holds (``work``: alerting or
    connected; ``acw``: wrap-ups) and the callbacks it owns. ``load`` counts against
    ``capacity``; the wrap-up segments outlive the interactions they belong to."""

    __slots__ = (
        "acw",
        "address",
        "available_since",
        "capacity",
        "id",
        "not_responding",
        "owned",
        "presence",
        "queues",
        "reserved_for",
        "work",
    )

    def __init__(
        self,
        id: AgentId,
        capacity: int,
        presence: Presence = Presence.OFF_QUEUE,
        available_since: float = 0.0,
        address: str | None = None,
    ) -> None:
        self.id = id
        self.capacity = capacity
        self.presence = presence
        self.not_responding = False
        self.queues: dict[QueueId, None] = {}  # an ordered set
        self.work: dict[InteractionId, State] = {}  # alerting or connected
        self.acw: dict[InteractionId, OpenSegment] = {}  # open wrap-up segments
        self.reserved_for: InteractionId | None = None
        self.available_since = available_since
        self.owned: IndexedHeap[InteractionId, QueueKey] = IndexedHeap()
        self.address = address  # the agent's phone (SIP URI); telephony's, not routing's

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


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # docs/decisions.md
class QueueState:
    """A queue's live state: its settings, the two orders of waiting interactions (agents'
    and the dialer's), the pool of routable members, and the counts pacing reads (R-CF-2:
    ``on_queue``, ``idle``, ``outstanding`` dials). Mutable: the engine keeps it current.

    ``waiting`` holds the interactions waiting for an agent (voice calls, agent-first
    callbacks, converted ones), ``undialed`` the customer-first callbacks waiting to be dialed,
    ``pool`` the routable members, longest idle first."""

    __slots__ = (
        "id",
        "idle",
        "last_cap",
        "members",
        "on_queue",
        "outstanding",
        "pool",
        "reserved_dials",
        "settings",
        "tick_at",
        "undialed",
        "waiting",
    )

    def __init__(self, id: QueueId, settings: QueueSettings) -> None:
        self.id = id
        self.settings = settings
        self.waiting: IndexedHeap[InteractionId, QueueKey] = IndexedHeap()
        self.undialed: IndexedHeap[InteractionId, QueueKey] = IndexedHeap()
        self.pool: IndexedHeap[AgentId, AgentKey] = IndexedHeap()
        self.members: dict[AgentId, None] = {}
        self.on_queue = 0
        self.idle = 0
        self.outstanding = 0  # customer-first dials in progress
        self.reserved_dials = 0  # of which hold a reserved agent
        self.last_cap = 0  # the cap drawn at the last dispatch
        self.tick_at: float | None = None

    def head(self) -> tuple[InteractionId, QueueKey, bool] | None:
        """The first interaction not being dialed, and whether it is an undialed customer-first
        callback (R-CF-2)."""
        voice, cf = self.waiting.peek(), self.undialed.peek()
        if cf is not None and (voice is None or cf[1] < voice[1]):
            return cf[0], cf[1], True
        if voice is not None:
            return voice[0], voice[1], False
        return None
