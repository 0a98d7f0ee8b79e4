"""Facts the engine reports beside its orders, named in the past tense: what happened, for the
shells to publish (read models, the timeline, dashboards), never to act on as orders."""

from __future__ import annotations

from dataclasses import dataclass

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
from dialback.domain.records import ComplianceFact
from dialback.domain.timeline import SegmentClosed, SegmentOpened


@dataclass(frozen=True, slots=True)
class DialResolved:
    """A dial ended with an outcome (SPEC §5); ``agent_id`` as in ``PlaceCall``."""

    dial_id: DialId
    interaction_id: InteractionId
    agent_id: AgentId | None
    result: DialResult


@dataclass(frozen=True, slots=True)
class AgentStatusChanged:
    """An agent's routing status (SPEC §1) changed, for dashboards and the agent desktop;
    reported once per change, whatever caused it."""

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


Fact = (
    DialResolved
    | AgentStatusChanged
    | InteractionChanged
    | SegmentOpened
    | SegmentClosed
    | ComplianceFact  # issue 14: domain/records.py
)
"""What the engine reports as having happened."""
