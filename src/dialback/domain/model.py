"""The nouns of the engine: ids, agents' presence and routing status, interactions, outcomes.

Times are seconds since the Unix epoch as ``float``; the shells convert to and from datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NewType

from dialback.domain.enums import Closed
from dialback.domain.settings import DeliveryMode

QueueId = NewType("QueueId", str)
AgentId = NewType("AgentId", str)
InteractionId = NewType("InteractionId", str)
ConversationId = NewType("ConversationId", str)
DialId = NewType("DialId", str)


class Presence(Closed):
    """Whether an agent takes interactions (SPEC §1); Genesys' other presences (away,
    break, …) all arrive as ``OFF_QUEUE``."""

    ON_QUEUE = "on_queue"
    OFF_QUEUE = "off_queue"


class RoutingStatus(Closed):
    """Routing status of an agent (SPEC §1); ``OFF_QUEUE`` while the agent is not on queue."""

    IDLE = "idle"
    INTERACTING = "interacting"
    NOT_RESPONDING = "not_responding"
    OFF_QUEUE = "off_queue"


class MediaType(Closed):
    """The kind of an interaction or communication: a live ``VOICE`` call (an inbound call,
    or a customer-first callback after conversion, R-CF-5) or a ``CALLBACK`` request."""

    VOICE = "voice"
    CALLBACK = "callback"


class Outcome(Closed):
    """How call progress analysis ended a dial (SPEC §5)."""

    LIVE_VOICE = "LIVE_VOICE"
    ANSWERING_MACHINE = "ANSWERING_MACHINE"
    FAX = "FAX"
    BUSY = "BUSY"
    NO_ANSWER = "NO_ANSWER"
    SIT_INVALID_NUMBER = "SIT_INVALID_NUMBER"
    SIT_NO_CIRCUIT = "SIT_NO_CIRCUIT"
    SIT_OTHER = "SIT_OTHER"
    REJECTED = "REJECTED"
    CUSTOMER_HANGUP = "CUSTOMER_HANGUP"
    ERROR = "ERROR"


# R-CF-7: outcomes retried when maxRetryCount > 0. SIT_INVALID_NUMBER and FAX never are;
# SIT_OTHER and CUSTOMER_HANGUP are not either (docs/decisions.md).
RETRYABLE_OUTCOMES = frozenset(
    {Outcome.BUSY, Outcome.NO_ANSWER, Outcome.SIT_NO_CIRCUIT, Outcome.REJECTED, Outcome.ERROR}
)


ANSWERED_OUTCOMES = frozenset(
    {Outcome.LIVE_VOICE, Outcome.ANSWERING_MACHINE, Outcome.FAX, Outcome.CUSTOMER_HANGUP}
)


class EndReason(Closed):
    """Why an interaction ended, beyond the dial outcome it may carry."""

    HANDLED = "HANDLED"  # an agent talked to the customer and wrapped up
    DIAL_OUTCOME = "DIAL_OUTCOME"  # dispositioned with the last dial's outcome
    CANCELLED = "CANCELLED"  # R-C-5 disconnect through the API
    OWNERSHIP_EXPIRED = "OWNERSHIP_EXPIRED"  # R-OW-2
    ABANDONED = "ABANDONED"  # customer hung up while waiting (R-CF-8 after conversion)
    FLOW_OUT = "FLOW_OUT"  # left the queue for a flow (TransferToFlow, or a call to callback)
    HUNG_UP = "HUNG_UP"  # reaction HangUp after live voice or answering machine
    ANSWERED_ELSEWHERE = "ANSWERED_ELSEWHERE"  # a PBX call answered outside dialback
    DO_NOT_CALL = "DO_NOT_CALL"  # R-X-8: every number is on a do-not-call list; never dialed


class State(Closed):
    """Where an interaction is. Every callback is always in exactly one of these."""

    SCHEDULED = "scheduled"  # waiting for its time (or a retry's time)
    WAITING = "waiting"  # in the queue for an agent, or for a customer-first dial
    ALERTING = "alerting"  # offered to an agent
    DIALING = "dialing"  # a dial to the customer is in progress
    CONNECTED = "connected"  # an agent holds it (agent-first: between dials; voice: talking)
    ACW = "acw"  # the agent is in after-call work on it
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """A validated request to be called back (SPEC §3). Numbers are already E.164."""

    queue_id: QueueId
    numbers: tuple[str, ...]
    scheduled_time: float | None = None  # None: due now
    priority: int = 0
    user_name: str | None = None
    preferred_agents: tuple[AgentId, ...] = ()  # R-OW-3
    owner: AgentId | None = None  # R-C-3, R-OW-1
    script_id: str | None = None
    caller_id: str | None = None  # R-C-4
    caller_id_name: str | None = None
    delivery_mode: DeliveryMode | None = None  # R-CF-10: None is UseQueueSetting
    data: tuple[tuple[str, str], ...] = field(default=())
    # issue 14 (docs/compliance.md): each number's time zones (R-X-2, from the shell's number
    # data, parallel to ``numbers``) and an explicit zone for the callee that wins (R-X-3).
    number_zones: tuple[tuple[str, ...], ...] = ()
    time_zone: str | None = None


@dataclass(frozen=True, slots=True)
class DialResult:
    """What call progress analysis said about one dial (SPEC §5)."""

    outcome: Outcome
    sip_code: int | None = None
    greeting_start: float | None = None  # seconds after answer, when the audio gave them
    greeting_end: float | None = None
    analysis_seconds: float = 0.0  # from the answer to this result (call progress analysis)
    # issue 15: a machine's beep, seconds after the answer (None: none heard); a message left
    # (TransferToFlow) starts after ``beep_end``
    beep_start: float | None = None
    beep_end: float | None = None

    @property
    def answered(self) -> bool:
        """The far end picked up (a person, a machine or a fax)."""
        return self.outcome in ANSWERED_OUTCOMES
