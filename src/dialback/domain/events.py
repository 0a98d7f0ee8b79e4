"""Events the engine receives, named in the past tense (DESIGN.md, "The engine contract")."""

from __future__ import annotations

from dataclasses import dataclass

from dialback.domain.enums import Closed
from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    ConversationId,
    DialId,
    DialResult,
    InteractionId,
    Presence,
    QueueId,
)
from dialback.domain.settings import QueueSettings


class TimerKind(Closed):
    """What a timer is for; the subject of its ``TimerKey`` says which interaction (or queue,
    for ``PACING_TICK``)."""

    CALLBACK_DUE = "callback_due"  # a scheduled callback or a retry comes due
    ALERT_TIMEOUT = "alert_timeout"  # R-AF-1
    AUTO_DIAL = "auto_dial"  # R-AF-2
    AUTO_END = "auto_end"  # R-AF-4
    OWNERSHIP_EXPIRY = "ownership_expiry"  # R-OW-1, R-OW-2
    PACING_TICK = "pacing_tick"  # R-CF-2
    ABANDON_CHECK = "abandon_check"  # R-X-12: the threshold after a live voice's greeting
    FLOW_START = "flow_start"  # issue 15: TransferToFlow waits for the machine's beep to end


@dataclass(frozen=True, slots=True, order=True)
class TimerKey:
    """One timer per (kind, subject); the subject is an interaction id or, for pacing ticks,
    a queue id."""

    kind: TimerKind
    subject: str


@dataclass(frozen=True, slots=True)
class QueueConfigured:
    """A queue was created or its settings changed (already validated)."""

    queue_id: QueueId
    settings: QueueSettings


@dataclass(frozen=True, slots=True)
class AgentRegistered:
    """A new agent, off queue and in no queue yet. Refused with ``DuplicateId`` for a known
    id, ``InvalidInput`` for a capacity below 1."""

    agent_id: AgentId
    capacity: int = 1  # interactions held at once, alerts and after-call work included
    name: str = ""  # for people; the engine does not use it
    address: str | None = None  # the agent's phone (a SIP URI), where calls are put through


@dataclass(frozen=True, slots=True)
class AgentJoinedQueue:
    """The agent became a member of the queue (nothing happens if it already was); it
    counts in the queue's on-queue and idle agents from now (R-CF-2)."""

    agent_id: AgentId
    queue_id: QueueId


@dataclass(frozen=True, slots=True)
class AgentLeftQueue:
    """The agent is no longer a member of the queue (nothing happens if it was not); what
    it holds stays with it."""

    agent_id: AgentId
    queue_id: QueueId


@dataclass(frozen=True, slots=True)
class AgentPresenceChanged:
    """The agent went on or off queue. Going off queue withdraws its alerts without
    blame (the interactions keep their places, R-O-3) and releases a reservation (R-CF-10);
    either way a not-responding agent is cleared."""

    agent_id: AgentId
    presence: Presence


@dataclass(frozen=True, slots=True)
class AgentWentIdle:
    """A not-responding agent made itself idle again (R-AF-1)."""

    agent_id: AgentId


@dataclass(frozen=True, slots=True)
class CallbackRequested:
    """A validated callback request (SPEC §3) was accepted: due now it enters its queue
    (R-O-2), later it waits for its time. Refused with ``DuplicateId`` for a known id,
    ``UnknownQueue`` or ``UnknownAgent`` for an owner that does not exist."""

    callback_id: InteractionId
    conversation_id: ConversationId
    request: CallbackRequest


@dataclass(frozen=True, slots=True)
class CallbackRequestedOnCall:
    """R-C-6: a caller waiting in a queue asked to be called back instead; the callback takes
    the call's conversation, queue, priority and entry time."""

    call_id: InteractionId
    callback_id: InteractionId
    request: CallbackRequest


@dataclass(frozen=True, slots=True)
class VoiceCallQueued:
    """A live call entered a queue (from a PBX, or inbound SIP later)."""

    call_id: InteractionId
    conversation_id: ConversationId
    queue_id: QueueId
    caller_number: str
    entry_time: float
    priority: int = 0


@dataclass(frozen=True, slots=True)
class CallAnsweredElsewhere:
    """A PBX call left the queue because it was answered outside dialback."""

    call_id: InteractionId


@dataclass(frozen=True, slots=True)
class CustomerHungUp:
    """The customer left a voice interaction: waiting (an abandon) or talking."""

    interaction_id: InteractionId


@dataclass(frozen=True, slots=True)
class AlertAccepted:
    """The agent answered the alert (R-AF-1): a voice call is put through, a callback is
    the agent's to dial (R-AF-2). Refused with ``NotOfferedToAgent`` unless it alerts that agent."""

    agent_id: AgentId
    interaction_id: InteractionId


@dataclass(frozen=True, slots=True)
class AgentDialed:
    """Agent-first: the agent dials the callback. ``number_index`` None means the next number
    (the first on the first dial)."""

    agent_id: AgentId
    interaction_id: InteractionId
    number_index: int | None = None
    override: bool = False  # R-X-6: dial outside the calling window, where the queue allows it


@dataclass(frozen=True, slots=True)
class DialRang:
    """The called phone started ringing (SIP 180/183): dialing becomes contacting."""

    dial_id: DialId


@dataclass(frozen=True, slots=True)
class CallHeld:
    """The agent put the customer on hold (``tHeld``); holding twice changes nothing. Refused
    with ``AgentNotHandling`` unless the agent is on a call with the customer."""

    agent_id: AgentId
    interaction_id: InteractionId


@dataclass(frozen=True, slots=True)
class CallResumed:
    """The agent took the customer off hold; resuming a call not held changes nothing."""

    agent_id: AgentId
    interaction_id: InteractionId


@dataclass(frozen=True, slots=True)
class DialCompleted:
    """Call progress analysis ended the dial with ``result`` (SPEC §5). One for a dial
    the engine cancelled is ignored; one for an unknown dial is refused with ``UnknownDial``."""

    dial_id: DialId
    result: DialResult


@dataclass(frozen=True, slots=True)
class AgentHungUp:
    """The agent ended the voice leg with the customer."""

    agent_id: AgentId
    interaction_id: InteractionId


@dataclass(frozen=True, slots=True)
class AgentEndedCallback:
    """Agent-first: the agent closed the callback (after-call work follows)."""

    agent_id: AgentId
    interaction_id: InteractionId


@dataclass(frozen=True, slots=True)
class WrapUpCompleted:
    """The agent ended after-call work on the interaction with wrap-up ``code``
    (R-AF-4); the interaction ends if it was waiting for that. Refused with ``AgentNotHandling``
    unless the agent is wrapping it up."""

    agent_id: AgentId
    interaction_id: InteractionId
    code: str


@dataclass(frozen=True, slots=True)
class CallbackRescheduled:
    """R-C-5: a new time, queue or owner. ``by_agent`` is the agent that rescheduled a callback
    it was handling (that agent goes to after-call work)."""

    callback_id: InteractionId
    scheduled_time: float | None = None  # None: keep the current time
    queue_id: QueueId | None = None
    owner: AgentId | None = None
    by_agent: AgentId | None = None


@dataclass(frozen=True, slots=True)
class CallbackDisconnected:
    """R-C-5: the callback is cancelled."""

    callback_id: InteractionId


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer started by ``StartTimer`` came due; ``at`` must be the time it was started for
    (a late firing of a timer since restarted or cancelled is ignored)."""

    key: TimerKey
    at: float


@dataclass(frozen=True, slots=True)
class DncUpdated:
    """R-X-7: numbers (E.164) added to and removed from the do-not-call list ``list_id``."""

    list_id: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LockoutsShared:
    """R-X-14 across shards: lockouts another shard's engine set after abandoned calls, as
    (E.164 number, epoch seconds when it ends). A number is locked out until the latest end
    this engine has heard of; an end already passed, or earlier than one known, changes
    nothing, so the same lockouts shared twice are harmless."""

    lockouts: tuple[tuple[str, float], ...]


Event = (
    QueueConfigured
    | AgentRegistered
    | AgentJoinedQueue
    | AgentLeftQueue
    | AgentPresenceChanged
    | AgentWentIdle
    | CallbackRequested
    | CallbackRequestedOnCall
    | VoiceCallQueued
    | CallAnsweredElsewhere
    | CustomerHungUp
    | AlertAccepted
    | AgentDialed
    | DialRang
    | DialCompleted
    | CallHeld
    | CallResumed
    | AgentHungUp
    | AgentEndedCallback
    | WrapUpCompleted
    | CallbackRescheduled
    | CallbackDisconnected
    | TimerFired
    | DncUpdated
    | LockoutsShared  # issue 17
)
