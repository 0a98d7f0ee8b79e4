"""Where the engine reports its effects: one method per kind of order or fact (issue 16).

The engine calls its ``Sink`` as effects happen, in the order they happen. ``ListSink`` turns
each call into today's effect objects (``domain/effects.py``, ``domain/facts.py``), the way
``Engine.handle`` returns them to the service and the tests; the simulator is a sink of its own
and acts on each call directly, with no effect objects and no fan-out over a list.

Segments reach the sink as ``OpenSegment``s, the engine's light record of an open segment:
``ListSink`` builds the timeline's frozen ``Segment``s from them (the service always records
the timeline); a sink that needs no timeline builds nothing.
"""

from __future__ import annotations

from typing import Any

from mypy_extensions import mypyc_attr

from dialback.domain.effects import (
    CancelCall,
    CancelTimer,
    ConnectToAgent,
    Effect,
    HangUpCustomer,
    OfferToAgent,
    PlaceCall,
    PlayInformationMessage,
    RecordPacingDecision,
    RevokeOffer,
    StartTimer,
    TransferToFlow,
)
from dialback.domain.events import TimerKey, TimerKind
from dialback.domain.facts import AgentStatusChanged, DialResolved, InteractionChanged
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
from dialback.domain.records import (
    CallAccounted,
    ComplianceRecorded,
    NumbersClaimed,
    NumbersReleased,
)
from dialback.domain.timeline import (
    HowEnded,
    Purpose,
    Segment,
    SegmentClosed,
    SegmentOpened,
    SegmentType,
)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # docs/decisions.md
class OpenSegment:
    """The engine's record of an open timeline segment: what a ``Segment`` holds before it
    ends. ``segment`` is the recorder's own copy (``ListSink`` keeps the frozen ``Segment`` it
    reported as opened there), None for a sink that records no timeline."""

    __slots__ = (
        "agent_id",
        "conversation_id",
        "customer_first",
        "interaction_id",
        "media",
        "purpose",
        "queue_id",
        "segment",
        "start",
        "type",
    )

    def __init__(
        self,
        conversation_id: ConversationId,
        interaction_id: InteractionId,
        purpose: Purpose,
        media: MediaType,
        type: SegmentType,
        start: float,
        queue_id: QueueId,
        customer_first: bool,
        agent_id: AgentId | None,
    ) -> None:
        self.conversation_id = conversation_id
        self.interaction_id = interaction_id
        self.purpose = purpose
        self.media = media
        self.type = type
        self.start = start
        self.queue_id = queue_id
        self.customer_first = customer_first
        self.agent_id = agent_id
        self.segment: Segment | None = None

    def opened(self) -> Segment:
        """The timeline's ``Segment`` for this open segment (``end`` None)."""
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
        )


class Sink:
    """Receives the engine's effects as they happen. Every method does nothing here: a sink
    overrides the ones it acts on. ``take`` hands over what was collected since the last call
    (``Engine.handle`` returns it); a sink that acts at once collects nothing."""

    def take(self) -> list[Effect]:
        """The effects collected since the last ``take`` (none here)."""
        return []

    def emit(self, effect: Effect) -> None:
        """Any effect as an object (``Core.emit``): for rules whose effects have no method of
        their own here yet; a sink that does not know it ignores it."""

    # --- orders (domain/effects.py) -------------------------------------------------------------
    def start_timer(self, kind: TimerKind, subject: str, at: float) -> None:
        """``StartTimer``: fire the timer ``(kind, subject)`` at ``at``, replacing a running one."""

    def cancel_timer(self, kind: TimerKind, subject: str) -> None:
        """``CancelTimer``: the timer ``(kind, subject)``, started before, stops."""

    def offer_to_agent(
        self,
        agent_id: AgentId,
        interaction_id: InteractionId,
        media: MediaType,
        timeout_at: float,
        script_id: str | None,
    ) -> None:
        """``OfferToAgent``: alert the agent."""

    def revoke_offer(
        self, agent_id: AgentId, interaction_id: InteractionId, not_responding: bool
    ) -> None:
        """``RevokeOffer``: stop alerting."""

    def place_call(self, call: PlaceCall) -> None:
        """``PlaceCall``: dial a callback number."""

    def cancel_call(self, dial_id: DialId) -> None:
        """``CancelCall``: hang up a dial in progress."""

    def connect_to_agent(
        self, interaction_id: InteractionId, agent_id: AgentId, address: str | None
    ) -> None:
        """``ConnectToAgent``: bridge the customer to the agent."""

    def transfer_to_flow(self, interaction_id: InteractionId, flow_id: str) -> None:
        """``TransferToFlow``: hand the answered customer to a flow."""

    def hang_up_customer(self, interaction_id: InteractionId) -> None:
        """``HangUpCustomer``: disconnect the customer's voice leg."""

    def record_pacing_decision(self, decision: PacingDecision) -> None:
        """``RecordPacingDecision``: store one pacing evaluation (R-CF-4)."""

    def play_information_message(self, interaction_id: InteractionId, audio: str | None) -> None:
        """``PlayInformationMessage``: play the queue's information message to an abandoned
        customer (R-X-14)."""

    # --- facts (domain/facts.py) ----------------------------------------------------------------
    def dial_resolved(
        self,
        dial_id: DialId,
        interaction_id: InteractionId,
        agent_id: AgentId | None,
        result: DialResult,
    ) -> None:
        """``DialResolved``: a dial ended with an outcome."""

    def agent_status_changed(self, agent_id: AgentId, status: RoutingStatus) -> None:
        """``AgentStatusChanged``: an agent's routing status changed."""

    def interaction_changed(
        self,
        interaction_id: InteractionId,
        conversation_id: ConversationId,
        queue_id: QueueId,
        media: MediaType,
        state: State,
        agent_id: AgentId | None,
        outcome: Outcome | None,
        end_reason: EndReason | None,
        wrapup_code: str | None,
    ) -> None:
        """``InteractionChanged``: an interaction moved to ``state``."""

    def segment_opened(self, segment: OpenSegment) -> None:
        """``SegmentOpened``: a timeline segment started at ``segment.start``."""

    def segment_closed(
        self,
        segment: OpenSegment,
        end: float,
        how: HowEnded | None,
        details: dict[str, Any] | None,
    ) -> None:
        """``SegmentClosed``: the open ``segment`` ended at ``end``, ``how``, with ``details``
        (outcome, SIP code, dial id, wrap-up code, greeting end or flow, by ``Segment``'s
        field names)."""

    # --- compliance facts (domain/records.py, issue 14) -----------------------------------------
    def numbers_claimed(
        self, callback_id: InteractionId, queue_id: QueueId, numbers: tuple[str, ...]
    ) -> None:
        """``NumbersClaimed``: an active callback holds its numbers in its queue (R-X-9)."""

    def numbers_released(self, callback_id: InteractionId) -> None:
        """``NumbersReleased``: the callback's numbers are free again (R-X-9)."""

    def compliance_recorded(self, record: ComplianceRecorded) -> None:
        """``ComplianceRecorded``: one compliance event (R-X-6, R-X-8, R-X-14)."""

    def call_accounted(self, record: CallAccounted) -> None:
        """``CallAccounted``: one answered customer-first dial, once its fate is known
        (R-X-12)."""


class ListSink(Sink):
    """Collects every effect as today's objects, in order: what ``Engine.handle`` returns."""

    def __init__(self) -> None:
        self.effects: list[Effect] = []

    def take(self) -> list[Effect]:
        effects, self.effects = self.effects, []
        return effects

    def emit(self, effect: Effect) -> None:
        self.effects.append(effect)

    def start_timer(self, kind: TimerKind, subject: str, at: float) -> None:
        self.effects.append(StartTimer(TimerKey(kind, subject), at))

    def cancel_timer(self, kind: TimerKind, subject: str) -> None:
        self.effects.append(CancelTimer(TimerKey(kind, subject)))

    def offer_to_agent(
        self,
        agent_id: AgentId,
        interaction_id: InteractionId,
        media: MediaType,
        timeout_at: float,
        script_id: str | None,
    ) -> None:
        self.effects.append(OfferToAgent(agent_id, interaction_id, media, timeout_at, script_id))

    def revoke_offer(
        self, agent_id: AgentId, interaction_id: InteractionId, not_responding: bool
    ) -> None:
        self.effects.append(RevokeOffer(agent_id, interaction_id, not_responding=not_responding))

    def place_call(self, call: PlaceCall) -> None:
        self.effects.append(call)

    def cancel_call(self, dial_id: DialId) -> None:
        self.effects.append(CancelCall(dial_id))

    def connect_to_agent(
        self, interaction_id: InteractionId, agent_id: AgentId, address: str | None
    ) -> None:
        self.effects.append(ConnectToAgent(interaction_id, agent_id, address))

    def transfer_to_flow(self, interaction_id: InteractionId, flow_id: str) -> None:
        self.effects.append(TransferToFlow(interaction_id, flow_id))

    def hang_up_customer(self, interaction_id: InteractionId) -> None:
        self.effects.append(HangUpCustomer(interaction_id))

    def record_pacing_decision(self, decision: PacingDecision) -> None:
        self.effects.append(RecordPacingDecision(decision))

    def play_information_message(self, interaction_id: InteractionId, audio: str | None) -> None:
        self.effects.append(PlayInformationMessage(interaction_id, audio))

    def dial_resolved(
        self,
        dial_id: DialId,
        interaction_id: InteractionId,
        agent_id: AgentId | None,
        result: DialResult,
    ) -> None:
        self.effects.append(DialResolved(dial_id, interaction_id, agent_id, result))

    def agent_status_changed(self, agent_id: AgentId, status: RoutingStatus) -> None:
        self.effects.append(AgentStatusChanged(agent_id, status))

    def interaction_changed(
        self,
        interaction_id: InteractionId,
        conversation_id: ConversationId,
        queue_id: QueueId,
        media: MediaType,
        state: State,
        agent_id: AgentId | None,
        outcome: Outcome | None,
        end_reason: EndReason | None,
        wrapup_code: str | None,
    ) -> None:
        self.effects.append(
            InteractionChanged(
                interaction_id,
                conversation_id,
                queue_id,
                media,
                state,
                agent_id=agent_id,
                outcome=outcome,
                end_reason=end_reason,
                wrapup_code=wrapup_code,
            )
        )

    def segment_opened(self, segment: OpenSegment) -> None:
        segment.segment = opened = segment.opened()
        self.effects.append(SegmentOpened(opened))

    def segment_closed(
        self,
        segment: OpenSegment,
        end: float,
        how: HowEnded | None,
        details: dict[str, Any] | None,
    ) -> None:
        opened = segment.segment or segment.opened()
        self.effects.append(SegmentClosed(opened.closed(end, how, **(details or {}))))

    def numbers_claimed(
        self, callback_id: InteractionId, queue_id: QueueId, numbers: tuple[str, ...]
    ) -> None:
        self.effects.append(NumbersClaimed(callback_id, queue_id, numbers))

    def numbers_released(self, callback_id: InteractionId) -> None:
        self.effects.append(NumbersReleased(callback_id))

    def compliance_recorded(self, record: ComplianceRecorded) -> None:
        self.effects.append(record)

    def call_accounted(self, record: CallAccounted) -> None:
        self.effects.append(record)


class TeeSink(Sink):
    """Passes every call to ``first`` then ``second``; ``take`` is ``first``'s (a ``ListSink``
    beside a shell's own sink gives the effect objects of a run that acts on the calls)."""

    def __init__(self, first: Sink, second: Sink) -> None:
        self.first = first
        self.second = second

    def take(self) -> list[Effect]:
        return self.first.take()

    def emit(self, effect: Effect) -> None:
        self.first.emit(effect)
        self.second.emit(effect)

    def start_timer(self, kind: TimerKind, subject: str, at: float) -> None:
        self.first.start_timer(kind, subject, at)
        self.second.start_timer(kind, subject, at)

    def cancel_timer(self, kind: TimerKind, subject: str) -> None:
        self.first.cancel_timer(kind, subject)
        self.second.cancel_timer(kind, subject)

    def offer_to_agent(
        self,
        agent_id: AgentId,
        interaction_id: InteractionId,
        media: MediaType,
        timeout_at: float,
        script_id: str | None,
    ) -> None:
        self.first.offer_to_agent(agent_id, interaction_id, media, timeout_at, script_id)
        self.second.offer_to_agent(agent_id, interaction_id, media, timeout_at, script_id)

    def revoke_offer(
        self, agent_id: AgentId, interaction_id: InteractionId, not_responding: bool
    ) -> None:
        self.first.revoke_offer(agent_id, interaction_id, not_responding)
        self.second.revoke_offer(agent_id, interaction_id, not_responding)

    def place_call(self, call: PlaceCall) -> None:
        self.first.place_call(call)
        self.second.place_call(call)

    def cancel_call(self, dial_id: DialId) -> None:
        self.first.cancel_call(dial_id)
        self.second.cancel_call(dial_id)

    def connect_to_agent(
        self, interaction_id: InteractionId, agent_id: AgentId, address: str | None
    ) -> None:
        self.first.connect_to_agent(interaction_id, agent_id, address)
        self.second.connect_to_agent(interaction_id, agent_id, address)

    def transfer_to_flow(self, interaction_id: InteractionId, flow_id: str) -> None:
        self.first.transfer_to_flow(interaction_id, flow_id)
        self.second.transfer_to_flow(interaction_id, flow_id)

    def hang_up_customer(self, interaction_id: InteractionId) -> None:
        self.first.hang_up_customer(interaction_id)
        self.second.hang_up_customer(interaction_id)

    def record_pacing_decision(self, decision: PacingDecision) -> None:
        self.first.record_pacing_decision(decision)
        self.second.record_pacing_decision(decision)

    def play_information_message(self, interaction_id: InteractionId, audio: str | None) -> None:
        self.first.play_information_message(interaction_id, audio)
        self.second.play_information_message(interaction_id, audio)

    def dial_resolved(
        self,
        dial_id: DialId,
        interaction_id: InteractionId,
        agent_id: AgentId | None,
        result: DialResult,
    ) -> None:
        self.first.dial_resolved(dial_id, interaction_id, agent_id, result)
        self.second.dial_resolved(dial_id, interaction_id, agent_id, result)

    def agent_status_changed(self, agent_id: AgentId, status: RoutingStatus) -> None:
        self.first.agent_status_changed(agent_id, status)
        self.second.agent_status_changed(agent_id, status)

    def interaction_changed(
        self,
        interaction_id: InteractionId,
        conversation_id: ConversationId,
        queue_id: QueueId,
        media: MediaType,
        state: State,
        agent_id: AgentId | None,
        outcome: Outcome | None,
        end_reason: EndReason | None,
        wrapup_code: str | None,
    ) -> None:
        for sink in (self.first, self.second):
            sink.interaction_changed(
                interaction_id,
                conversation_id,
                queue_id,
                media,
                state,
                agent_id,
                outcome,
                end_reason,
                wrapup_code,
            )

    def segment_opened(self, segment: OpenSegment) -> None:
        self.first.segment_opened(segment)
        self.second.segment_opened(segment)

    def segment_closed(
        self,
        segment: OpenSegment,
        end: float,
        how: HowEnded | None,
        details: dict[str, Any] | None,
    ) -> None:
        self.first.segment_closed(segment, end, how, details)
        self.second.segment_closed(segment, end, how, details)

    def numbers_claimed(
        self, callback_id: InteractionId, queue_id: QueueId, numbers: tuple[str, ...]
    ) -> None:
        self.first.numbers_claimed(callback_id, queue_id, numbers)
        self.second.numbers_claimed(callback_id, queue_id, numbers)

    def numbers_released(self, callback_id: InteractionId) -> None:
        self.first.numbers_released(callback_id)
        self.second.numbers_released(callback_id)

    def compliance_recorded(self, record: ComplianceRecorded) -> None:
        self.first.compliance_recorded(record)
        self.second.compliance_recorded(record)

    def call_accounted(self, record: CallAccounted) -> None:
        self.first.call_accounted(record)
        self.second.call_accounted(record)
