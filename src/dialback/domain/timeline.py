"""The conversation timeline (SPEC §9): participants, communications and timed segments.

The engine opens and closes segments as interactions move (``SegmentOpened`` and
``SegmentClosed`` effects, stamped with the engine's ``now``); ``Timeline`` folds those effects
into conversations. Nothing here reads a clock.

Who owns which segments:

- ``customer``: a ``voice`` communication, ``interact`` while the customer is on the line.
- ``acd`` (the queue): per medium, ``scheduled`` while a callback waits for its time and
  ``interact`` while it waits in the queue. A *queue visit* runs from the first ``interact``
  to the segment that ends it (answered, abandoned, flowed out, …); a retry's ``scheduled``
  inside a visit does not end it.
- ``dialer`` (customer-first): a ``voice`` communication with ``dialing``, ``contacting`` and,
  once answered, ``converting`` (call progress analysis) for each dial.
- ``agent``: agent-first, a ``callback`` communication with ``alert``, ``callback`` (holding the
  callback between dials), ``dialing``, ``contacting``, ``interact`` (talk), ``hold`` and
  ``wrapup``; voice interactions (live calls, answered customer-first callbacks) a ``voice``
  communication with ``alert``, ``interact``, ``hold`` and ``wrapup``.
- ``flow``: an ``ivr`` segment when a call is handed to a flow (left open: the flow owns it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from dialback.domain.enums import Closed
from dialback.domain.model import (
    AgentId,
    ConversationId,
    DialId,
    InteractionId,
    MediaType,
    Outcome,
    QueueId,
)


class Purpose(Closed):
    """The participant a communication belongs to, as Genesys names it (see the module's
    list of who owns which segments)."""

    CUSTOMER = "customer"
    ACD = "acd"
    DIALER = "dialer"
    AGENT = "agent"
    FLOW = "flow"


class SegmentType(Closed):
    """Genesys analytics segment types."""

    SCHEDULED = "scheduled"
    INTERACT = "interact"
    ALERT = "alert"
    CALLBACK = "callback"
    DIALING = "dialing"
    CONTACTING = "contacting"
    CONVERTING = "converting"
    HOLD = "hold"
    WRAPUP = "wrapup"
    IVR = "ivr"
    SYSTEM = "system"


class HowEnded(Closed):
    """How a segment ended, in our words; ``disconnect_type`` gives Genesys' word."""

    ANSWERED = "answered"  # an agent took the interaction (queue) or the alert (agent)
    ABANDONED = "abandoned"  # the customer left before an agent
    CANCELLED = "cancelled"  # the callback was disconnected through the API
    EXPIRED = "expired"  # ownership expired (R-OW-2)
    DISPOSITIONED = "dispositioned"  # a customer-first callback ended with its dial's outcome
    HUNG_UP = "hung_up"  # the system hung up (reaction HangUp)
    CONVERTED = "converted"  # the callback became a voice interaction (R-CF-5)
    FLOW_OUT = "flow_out"  # handed to a flow, or a waiting call became a callback (R-C-6)
    ANSWERED_ELSEWHERE = "answered_elsewhere"
    RESCHEDULED = "rescheduled"  # left the queue for a new time
    NOT_RESPONDING = "not_responding"  # the agent missed the alert
    WITHDRAWN = "withdrawn"  # the alert was taken back without blame
    DIAL_ENDED = "dial_ended"  # a dial ended with its outcome
    AGENT_HUNG_UP = "agent_hung_up"
    CUSTOMER_HUNG_UP = "customer_hung_up"
    WRAPPED_UP = "wrapped_up"


# How a queue visit ended, for offered = answered + abandoned + flowed out + waiting (R-M-3).
VISIT_ANSWERED: Final = frozenset({HowEnded.ANSWERED})
VISIT_ABANDONED: Final = frozenset(
    {
        HowEnded.ABANDONED,
        HowEnded.CANCELLED,
        HowEnded.EXPIRED,
        HowEnded.DISPOSITIONED,
        HowEnded.HUNG_UP,
    }
)
VISIT_FLOWED_OUT: Final = frozenset(
    {
        HowEnded.CONVERTED,
        HowEnded.FLOW_OUT,
        HowEnded.ANSWERED_ELSEWHERE,
        HowEnded.RESCHEDULED,
    }
)
VISIT_ENDS: Final = VISIT_ANSWERED | VISIT_ABANDONED | VISIT_FLOWED_OUT

DISCONNECT_TYPES: dict[HowEnded, str] = {
    HowEnded.ANSWERED: "transfer",
    HowEnded.ABANDONED: "peer",
    HowEnded.CANCELLED: "client",
    HowEnded.EXPIRED: "system",
    HowEnded.DISPOSITIONED: "system",
    HowEnded.HUNG_UP: "system",
    HowEnded.CONVERTED: "transfer",
    HowEnded.FLOW_OUT: "transfer",
    HowEnded.ANSWERED_ELSEWHERE: "transfer",
    HowEnded.RESCHEDULED: "transfer",
    HowEnded.NOT_RESPONDING: "noAnswerTransfer",
    HowEnded.WITHDRAWN: "system",
    HowEnded.DIAL_ENDED: "endpoint",
    HowEnded.AGENT_HUNG_UP: "client",
    HowEnded.CUSTOMER_HUNG_UP: "peer",
    HowEnded.WRAPPED_UP: "client",
}


@dataclass(frozen=True, slots=True)
class Segment:
    """One timed segment of a communication. ``end`` is None while it is open."""

    conversation_id: ConversationId
    interaction_id: InteractionId
    purpose: Purpose
    media: MediaType
    type: SegmentType
    start: float
    queue_id: QueueId
    customer_first: bool
    agent_id: AgentId | None = None
    end: float | None = None
    how_ended: HowEnded | None = None
    outcome: Outcome | None = None
    sip_code: int | None = None
    dial_id: DialId | None = None
    wrapup_code: str | None = None
    greeting_end: float | None = None  # absolute time the customer's greeting ended
    flow_id: str | None = None
    beep_end: float | None = None  # issue 15: absolute time a machine's beep ended

    def closed(self, end: float, how: HowEnded | None, **details: Any) -> Segment:
        """This segment ended at ``end``; ``details`` set the outcome, SIP code, dial id, wrap-up
        code, greeting end or flow (what ``dataclasses.replace`` does, at a third of its cost in
        a simulation's hot path)."""
        return Segment(
            self.conversation_id,
            self.interaction_id,
            self.purpose,
            self.media,
            self.type,
            self.start,
            self.queue_id,
            self.customer_first,
            self.agent_id,
            end,
            how,
            details.get("outcome", self.outcome),
            details.get("sip_code", self.sip_code),
            details.get("dial_id", self.dial_id),
            details.get("wrapup_code", self.wrapup_code),
            details.get("greeting_end", self.greeting_end),
            details.get("flow_id", self.flow_id),
            details.get("beep_end", self.beep_end),
        )

    @property
    def disconnect_type(self) -> str | None:
        """Genesys' ``disconnectType`` for how the segment ended (``DISCONNECT_TYPES``); None
        while open or when it ended without one."""
        return DISCONNECT_TYPES[self.how_ended] if self.how_ended else None

    @property
    def duration(self) -> float:
        """Seconds from start to end. Only for a closed segment (asserts ``end`` is set)."""
        assert self.end is not None, "an open segment has no duration yet"
        return self.end - self.start

    @property
    def communication_key(self) -> CommunicationKey:
        """(purpose, agent, media): the communication the segment belongs to within its
        conversation; at most one segment per key is open at a time."""
        return (self.purpose, self.agent_id, self.media)


CommunicationKey = tuple[Purpose, AgentId | None, MediaType]


@dataclass
class Communication:
    """One participant's communication in one medium, its segments in the order opened."""

    purpose: Purpose
    agent_id: AgentId | None
    media: MediaType
    segments: list[Segment] = field(default_factory=list)


@dataclass
class Conversation:
    """One customer contact (SPEC §1) as the timeline knows it: its communications by
    (purpose, agent, media)."""

    id: ConversationId
    communications: dict[CommunicationKey, Communication] = field(default_factory=dict)

    def segments(self) -> Iterator[Segment]:
        """Every segment of every communication, communication by communication."""
        for communication in self.communications.values():
            yield from communication.segments

    def of(self, purpose: Purpose, media: MediaType, agent: AgentId | None = None) -> list[Segment]:
        """A copy of the segments of one communication; empty if it has none."""
        found = self.communications.get((purpose, agent, media))
        return list(found.segments) if found else []


@dataclass(frozen=True, slots=True)
class SegmentOpened:
    """Fact: a segment started (``end`` None). Folded by ``Timeline``."""

    segment: Segment


@dataclass(frozen=True, slots=True)
class SegmentClosed:
    """Fact: a segment ended; ``segment`` is the closed copy of the one opened, with the same
    start, type and communication."""

    segment: Segment


class Timeline:
    """Folds ``SegmentOpened`` and ``SegmentClosed`` effects into conversations. Closing replaces
    the open segment with the same start, type and communication."""

    def __init__(self) -> None:
        self.conversations: dict[ConversationId, Conversation] = {}

    def apply(self, effects: Iterable[object]) -> None:
        """Fold the segment facts among ``effects`` (anything else is skipped), in order. A
        close whose open was never seen (before this timeline started) is kept as it is."""
        for effect in effects:
            if isinstance(effect, SegmentOpened):
                self._communication(effect.segment).segments.append(effect.segment)
            elif isinstance(effect, SegmentClosed):
                self._close(effect.segment)

    def _communication(self, segment: Segment) -> Communication:
        conversation = self.conversations.setdefault(
            segment.conversation_id, Conversation(segment.conversation_id)
        )
        key = segment.communication_key
        if key not in conversation.communications:
            conversation.communications[key] = Communication(
                segment.purpose, segment.agent_id, segment.media
            )
        return conversation.communications[key]

    def _close(self, closed: Segment) -> None:
        segments = self._communication(closed).segments
        for i in range(len(segments) - 1, -1, -1):
            s = segments[i]
            if s.end is None and s.start == closed.start and s.type is closed.type:
                segments[i] = closed
                return
        segments.append(closed)  # opened before this timeline started
