"""Orders the engine gives, named as orders. The engine performs none of them: the service
executes them against the database, the carrier and the clock, the simulator against its heap.

Beside its orders the engine reports facts (``domain/facts.py``: a dial resolved, an agent's
status or an interaction's state changed, a timeline segment opened or closed); together they are
the engine's ``Effect``s, in the order they happened.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialback.domain.events import TimerKey
from dialback.domain.facts import Fact
from dialback.domain.model import (
    AgentId,
    DialId,
    InteractionId,
    MediaType,
)
from dialback.domain.pacing import PacingDecision


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Fire ``TimerFired(key, at)`` at ``at`` (seconds since the epoch). Starting a key that is
    already running replaces it: one timer per key."""

    key: TimerKey
    at: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """Stop the timer ``key``. A shell may miss the cancel: a late ``TimerFired`` for it is
    ignored by the engine."""

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
    agent_address: str | None = None  # agent-first: the agent's phone, put through on answer
    minimum_ring_seconds: float = 0.0  # R-X-15: a dialer's unanswered call rings at least this long
    # issue 15: a machine's answer goes to a flow (TransferToFlow), so call progress analysis
    # waits for the greeting's beep and reports its time (``DialResult.beep_end``)
    wait_for_beep: bool = False


@dataclass(frozen=True, slots=True)
class CancelCall:
    """Hang up the dial ``dial_id`` still in progress (its callback was disconnected, R-C-5).
    The ``DialCompleted`` that still comes back for it is ignored."""

    dial_id: DialId


@dataclass(frozen=True, slots=True)
class ConnectToAgent:
    """Bridge the customer's voice leg to the agent; ``address`` is the agent's phone (a SIP
    URI) when the agent has one, so the dialer needs to ask nobody."""

    interaction_id: InteractionId
    agent_id: AgentId
    address: str | None = None


@dataclass(frozen=True, slots=True)
class TransferToFlow:
    """R-CF-5, R-CF-6: hand the answered customer to the flow ``flow_id``; dialback's part
    of the conversation ends with it."""

    interaction_id: InteractionId
    flow_id: str


@dataclass(frozen=True, slots=True)
class HangUpCustomer:
    """Disconnect the customer's voice leg: the agent hung up, or the reaction to live voice
    or an answering machine is ``HangUp`` (R-CF-5, R-CF-6)."""

    interaction_id: InteractionId


@dataclass(frozen=True, slots=True)
class RecordPacingDecision:
    """R-CF-4: store one customer-first dispatch evaluation, dialed or not, with its
    inputs and reason."""

    decision: PacingDecision


@dataclass(frozen=True, slots=True)
class PlayInformationMessage:
    """R-X-14: play the queue's information message to the customer whose call was just
    abandoned (``audio``: the configured file; None: the dialer's own), then keep holding."""

    interaction_id: InteractionId
    audio: str | None


Order = (
    StartTimer
    | CancelTimer
    | OfferToAgent
    | RevokeOffer
    | PlaceCall
    | CancelCall
    | ConnectToAgent
    | TransferToFlow
    | HangUpCustomer
    | RecordPacingDecision
    | PlayInformationMessage  # issue 14
)
"""What the engine asks a shell to do."""

Effect = Order | Fact
"""Everything ``Engine.handle`` returns: orders to carry out and facts to publish."""
