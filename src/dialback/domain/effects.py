"""Effects the engine returns, named as orders. The engine performs none of them: the service
executes them against the database, the carrier and the clock, the simulator against its heap.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialback.domain.events import TimerKey
from dialback.domain.model import (
    AgentId,
    ConversationId,
    DialId,
    DialResult,
    EndReason,
    InteractionId,
    MediaType,
    Outcome,
    QueueId,
    RoutingStatus,
    State,
)
from dialback.domain.pacing import PacingDecision
from dialback.domain.timeline import SegmentClosed, SegmentOpened


@dataclass(frozen=True, slots=True)
class StartTimer:
    key: TimerKey
    at: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    key: TimerKey


@dataclass(frozen=True, slots=True)
class OfferToAgent:
    """Alert the agent; ``timeout_at`` is when an unanswered alert makes it not responding."""

    agent_id: AgentId
    interaction_id: InteractionId
    media: MediaType
    timeout_at: float
    script_id: str | None


@dataclass(frozen=True, slots=True)
class RevokeOffer:
    """Stop alerting; ``not_responding`` when the alert timed out (R-AF-1)."""

    agent_id: AgentId
    interaction_id: InteractionId
    not_responding: bool = False


@dataclass(frozen=True, slots=True)
class PlaceCall:
    """Dial a callback number. ``agent_id`` is the agent whose leg it is (agent-first); None
    means the dialer places it (customer-first)."""

    dial_id: DialId
    interaction_id: InteractionId
    number: str
    caller_id: str | None
    caller_id_name: str | None
    agent_id: AgentId | None
    attempt: int


@dataclass(frozen=True, slots=True)
class DialResolved:
    """A dial ended with an outcome (SPEC §5); ``agent_id`` as in ``PlaceCall``."""

    dial_id: DialId
    interaction_id: InteractionId
    agent_id: AgentId | None
    result: DialResult


@dataclass(frozen=True, slots=True)
class CancelCall:
    dial_id: DialId


@dataclass(frozen=True, slots=True)
class ConnectToAgent:
    """Bridge the customer's voice leg to the agent."""

    interaction_id: InteractionId
    agent_id: AgentId


@dataclass(frozen=True, slots=True)
class TransferToFlow:
    interaction_id: InteractionId
    flow_id: str


@dataclass(frozen=True, slots=True)
class HangUpCustomer:
    interaction_id: InteractionId


@dataclass(frozen=True, slots=True)
class AgentStatusChanged:
    agent_id: AgentId
    status: RoutingStatus


@dataclass(frozen=True, slots=True)
class InteractionChanged:
    """Every state change of an interaction, with what the timeline needs."""

    interaction_id: InteractionId
    conversation_id: ConversationId
    queue_id: QueueId
    media: MediaType
    state: State
    agent_id: AgentId | None = None
    outcome: Outcome | None = None
    end_reason: EndReason | None = None
    wrapup_code: str | None = None


@dataclass(frozen=True, slots=True)
class RecordPacingDecision:
    decision: PacingDecision


Effect = (
    StartTimer
    | CancelTimer
    | OfferToAgent
    | RevokeOffer
    | PlaceCall
    | DialResolved
    | CancelCall
    | ConnectToAgent
    | TransferToFlow
    | HangUpCustomer
    | AgentStatusChanged
    | InteractionChanged
    | RecordPacingDecision
    | SegmentOpened
    | SegmentClosed
)
