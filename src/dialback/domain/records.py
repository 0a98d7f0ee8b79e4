"""Facts of dialing within the law (issue 14, docs/compliance.md), for the shells to keep:
numbers claimed by an active callback (R-X-9), compliance events (R-X-6 overrides, R-X-8 DNC
blocks) and the accounting of every answered customer-first dial (R-X-12)."""

from __future__ import annotations

from dataclasses import dataclass

from dialback.domain.enums import Closed
from dialback.domain.model import AgentId, DialId, InteractionId, QueueId


@dataclass(frozen=True, slots=True)
class NumbersClaimed:
    """R-X-9: an active callback holds its numbers in its queue (a queue whose duplicate
    policy is not ``Allow``); the store keeps them under a partial unique index."""

    callback_id: InteractionId
    queue_id: QueueId
    numbers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NumbersReleased:
    """R-X-9: the callback ended or left the queue: its numbers are free again."""

    callback_id: InteractionId


class RecordKind(Closed):
    """What a ``ComplianceRecorded`` says happened."""

    WINDOW_OVERRIDE = "window_override"  # R-X-6: an agent dialed outside the window
    DNC_BLOCKED = "dnc_blocked"  # R-X-8: a dial not placed, the number is on a DNC list
    INFORMATION_MESSAGE = "information_message"  # R-X-14: played to an abandoned customer


@dataclass(frozen=True, slots=True)
class ComplianceRecorded:
    """One compliance event, kept for the records the rules ask for (47 CFR
    64.1200(a)(7)(iii))."""

    at: float
    kind: RecordKind
    queue_id: QueueId
    interaction_id: InteractionId
    number: str | None = None
    agent_id: AgentId | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CallAccounted:
    """R-X-12: one answered customer-first dial, once its fate is known. Times are epoch
    seconds: the answer, the greeting end (from call progress analysis; the answer when the
    audio gave none) and the agent connect (None if never). ``abandoned`` is a live voice not
    connected within the threshold of the greeting end (hang-ups in that time included);
    ``machine`` marks an answering-machine verdict (for Ofcom's false-positive estimate)."""

    queue_id: QueueId
    interaction_id: InteractionId
    dial_id: DialId
    number: str
    answered_at: float
    greeting_end: float
    connected_at: float | None
    abandoned: bool
    machine: bool
    agent_connected: bool = False  # a machine verdict later heard by an agent (Ofcom)


@dataclass(frozen=True, slots=True)
class NumberLockedOut:
    """R-X-14: a number whose call was abandoned may not be dialed before ``until`` (epoch
    seconds). The service shares it with the other shards (``LockoutsShared``), so the lockout
    holds for the whole center, not only for the engine that abandoned the call."""

    number: str
    until: float
    queue_id: QueueId


ComplianceFact = (
    NumbersClaimed | NumbersReleased | ComplianceRecorded | CallAccounted | NumberLockedOut
)
