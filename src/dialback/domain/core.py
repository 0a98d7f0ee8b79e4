"""The engine's state and the primitive moves every rule is built from.

Each move keeps the bookkeeping consistent (queue heaps, agent pools and counters, timers) and
emits the effects that describe it. Rules live in ``engine``, ``routing`` and
``customer_first``; none of them touches the bookkeeping except through these moves.

Imports point one way: the rule modules import this one (``routing`` and ``customer_first``
only for the ``Core`` type), and this one imports none of them, so a move that a rule also
needs (``take_back_offer``) lives here.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from mypy_extensions import mypyc_attr

from dialback.domain.effects import Effect, PlaceCall
from dialback.domain.errors import UnknownAgent, UnknownInteraction, UnknownQueue
from dialback.domain.events import TimerKey, TimerKind
from dialback.domain.guard_state import GuardState
from dialback.domain.model import (
    AgentId,
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
from dialback.domain.ordering import queue_key
from dialback.domain.pacing import PacingTable
from dialback.domain.settings import Reaction
from dialback.domain.sink import ListSink, OpenSegment, Sink
from dialback.domain.state import AgentState, Interaction, QueueState
from dialback.domain.timeline import HowEnded, Purpose, SegmentType
from dialback.domain.windows import ZoneLookup, utc_only

# Timers that belong to one interaction; all are cancelled when it leaves its current step.
INTERACTION_TIMERS: Final = (
    TimerKind.CALLBACK_DUE,
    TimerKind.ALERT_TIMEOUT,
    TimerKind.AUTO_DIAL,
    TimerKind.AUTO_END,
    TimerKind.ABANDON_CHECK,  # issue 14
    TimerKind.FLOW_START,  # issue 15
)
ALL_TIMERS: Final = (*INTERACTION_TIMERS, TimerKind.OWNERSHIP_EXPIRY)
ALERT: Final = (TimerKind.ALERT_TIMEOUT,)
AUTO: Final = (TimerKind.AUTO_DIAL, TimerKind.AUTO_END)


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # docs/decisions.md
class Core:
    """The engine's state (queues, agents, active interactions, dials, timers) and its moves.

    ``Engine`` subclasses it with the event handlers. ``now`` is the time of the event being
    handled (seconds since the epoch, set by ``Engine.handle``); ``rng`` is the only source of
    randomness (R-CF-2's draws); ``pacing_tick_seconds`` is how often a customer-first queue
    with undialed callbacks is evaluated again. Moves append effects to ``out`` in the order
    they happen and mark queues and agents ``dirty`` for the next settle; none reads a clock or
    performs I/O.

    Invariants the moves keep: each queue's ``on_queue``/``idle`` counts match its members'
    statuses; ``pool`` holds exactly the routable members; an interaction sits in at most one
    of its queue's ``waiting``/``undialed`` heaps or its owner's ``owned``; ``timers`` mirrors
    the ``StartTimer``/``CancelTimer`` effects; ``dials`` maps each dial in progress to its
    interaction, and an interaction has at most one (R-CF-9)."""

    def __init__(
        self,
        *,
        rng: random.Random,
        pacing_table: PacingTable,
        pacing_tick_seconds: float,
        sink: Sink | None = None,
    ) -> None:
        self.rng = rng
        self.pacing_table = pacing_table
        self.pacing_tick_seconds = pacing_tick_seconds
        self.queues: dict[QueueId, QueueState] = {}
        self.agents: dict[AgentId, AgentState] = {}
        self.interactions: dict[InteractionId, Interaction] = {}
        self.dials: dict[DialId, InteractionId] = {}
        self.cancelled_dials: set[DialId] = set()
        self._timers: dict[tuple[TimerKind, str], float] = {}
        self.dirty_queues: dict[QueueId, None] = {}  # ordered sets: replay order is fixed
        self.dirty_agents: dict[AgentId, None] = {}
        self.evaluations = 0
        self.now = 0.0
        self.sink: Sink = sink if sink is not None else ListSink()
        self._evaluated: dict[QueueId, InteractionId] = {}
        self._seq = 0
        self.guard = GuardState()  # issue 14: DNC, duplicates, lockouts
        self.zones: ZoneLookup = utc_only  # issue 14: zone name -> tzinfo, from the shell

    # --- lookups that raise ---------------------------------------------------------------------
    def queue(self, queue_id: QueueId) -> QueueState:
        """The queue ``queue_id``; raises ``UnknownQueue`` (field ``queueId``) if there is none."""
        try:
            return self.queues[queue_id]
        except KeyError:
            raise UnknownQueue(f"no queue {queue_id}", field="queueId") from None

    def agent(self, agent_id: AgentId) -> AgentState:
        """The agent ``agent_id``; raises ``UnknownAgent`` (field ``agentId``) if there is none."""
        try:
            return self.agents[agent_id]
        except KeyError:
            raise UnknownAgent(f"no agent {agent_id}", field="agentId") from None

    def interaction(self, interaction_id: InteractionId) -> Interaction:
        """The active interaction ``interaction_id``; raises ``UnknownInteraction`` if it never
        existed or has ended."""
        try:
            return self.interactions[interaction_id]
        except KeyError:
            raise UnknownInteraction(f"no active interaction {interaction_id}") from None

    # --- effects and timers ---------------------------------------------------------------------
    def emit(self, effect: Effect) -> None:
        """Report ``effect`` as an object (``Sink.emit``): for an effect with no sink method of
        its own; the engine's own effects go through the sink's methods."""
        self.sink.emit(effect)

    @property
    def timers(self) -> dict[TimerKey, float]:
        """The timers running now and when each fires (a copy, keyed as in ``StartTimer``)."""
        return {TimerKey(kind, subject): at for (kind, subject), at in self._timers.items()}

    def timer_at(self, kind: TimerKind, subject: str) -> float | None:
        """When the timer ``(kind, subject)`` fires, or None if it is not running."""
        return self._timers.get((kind, subject))

    def next_seq(self) -> int:
        """A number higher than any before: breaks ties between equal keys so that replays
        order the same way (queue arrival for ``PriorityOnly``, R-O-1; agents idle since the
        same instant)."""
        self._seq += 1
        return self._seq

    def start_timer(
        self, kind: TimerKind, subject: str, at: float, of: Interaction | None = None
    ) -> None:
        """Start (or restart) the timer ``(kind, subject)`` to fire at ``at`` (epoch seconds).
        ``of`` is the interaction whose id is the subject (every timer but the pacing tick): it
        counts its running timers, so ending it cancels only timers actually started."""
        key = (kind, subject)
        timers = self._timers
        if of is not None and key not in timers:
            of.timers += 1
        timers[key] = at
        self.sink.start_timer(kind, subject, at)

    def cancel_timer(self, kind: TimerKind, subject: str) -> None:
        """Stop the timer ``(kind, subject)`` of a queue; nothing happens (and nothing is
        emitted) if it is not running. An interaction's timers stop with ``cancel_timers``."""
        if self._timers.pop((kind, subject), None) is not None:
            self.sink.cancel_timer(kind, subject)

    def cancel_timers(self, interaction: Interaction, kinds: tuple[TimerKind, ...]) -> None:
        """Stop the timers of ``kinds`` that run for ``interaction``; none is looked up when it
        has none running (the common case: an interaction ends with no timer left)."""
        if not interaction.timers:
            return
        timers, subject = self._timers, interaction.id
        for kind in kinds:
            if timers.pop((kind, subject), None) is not None:
                interaction.timers -= 1
                self.sink.cancel_timer(kind, subject)

    def set_state(
        self,
        interaction: Interaction,
        state: State,
        *,
        agent_id: AgentId | None = None,
        outcome: Outcome | None = None,
        end_reason: EndReason | None = None,
        wrapup_code: str | None = None,
    ) -> None:
        """Move ``interaction`` to ``state`` and report it (``InteractionChanged``) with the
        agent, outcome, end reason and wrap-up code the timeline and the store need."""
        interaction.state = state
        self.sink.interaction_changed(
            interaction.id,
            interaction.conversation_id,
            interaction.queue_id,
            interaction.media,
            state,
            agent_id,
            outcome,
            end_reason,
            wrapup_code,
        )

    # --- the timeline ---------------------------------------------------------------------------
    def customer_first(self, interaction: Interaction) -> bool:
        """Whether the dialer, not an agent, calls this interaction's customer."""
        if interaction.converted:
            return True
        queue = self.queues[interaction.queue_id]
        return (
            interaction.request is not None
            and interaction.owner is None
            and queue.settings.customer_first
        )

    def open_segment(
        self,
        interaction: Interaction,
        purpose: Purpose,
        media: MediaType,
        kind: SegmentType,
        agent_id: AgentId | None = None,
        at: float | None = None,
    ) -> OpenSegment:
        """Start a segment, ending the communication's open one (if any) at the same time."""
        start = self.now if at is None else at
        open_ = interaction.open
        key = (purpose, agent_id, media)
        if key in open_:
            self.close_segment(interaction, purpose, media, agent_id, None, start)
        segment = OpenSegment(
            interaction.conversation_id,
            interaction.id,
            purpose,
            media,
            kind,
            start,
            interaction.queue_id,
            self.customer_first(interaction),
            agent_id,
        )
        open_[key] = segment
        self.sink.segment_opened(segment)
        return segment

    def close_segment(
        self,
        interaction: Interaction,
        purpose: Purpose,
        media: MediaType,
        agent_id: AgentId | None = None,
        how: HowEnded | None = None,
        at: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> OpenSegment | None:
        """End the open segment of the communication ``(purpose, agent_id, media)`` at ``at``
        (default ``now``) with ``how`` and ``details`` (outcome, SIP code, dial id, …, by
        ``Segment``'s field names), and report it. Returns the segment that was open, or None if
        none was."""
        segment = interaction.open.pop((purpose, agent_id, media), None)
        if segment is None:
            return None
        self.sink.segment_closed(segment, self.now if at is None else at, how, details)
        return segment

    def open_kind(
        self,
        interaction: Interaction,
        purpose: Purpose,
        media: MediaType,
        agent: AgentId | None = None,
    ) -> SegmentType | None:
        """The type of the communication's open segment, or None if none is open."""
        segment = interaction.open.get((purpose, agent, media))
        return segment.type if segment is not None else None

    # --- agents ---------------------------------------------------------------------------------
    @contextmanager
    def changing(self, agent: AgentState) -> Iterator[None]:
        """``with core.changing(agent): ...`` is ``before = agent.status; ...;
        core.changed(agent, before)``, for rules off the hot path."""
        before = agent.status
        yield
        self.changed(agent, before)

    def changed(self, agent: AgentState, before: RoutingStatus) -> None:
        """Call after any change to an agent, with its status from before the change: keeps
        queue counters and pools right and reports a new routing status. (A plain call, not a
        context manager: it runs for every alert, answer and wrap-up.)"""
        after = agent.status
        if after is not before:
            queues = self.queues
            for queue_id in agent.queues:
                queue = queues[queue_id]
                self.count_status(queue, before, -1)
                self.count_status(queue, after, +1)
                self.dirty_queues[queue_id] = None
            if after is RoutingStatus.IDLE:
                agent.available_since = self.now
            self.sink.agent_status_changed(agent.id, after)
        self.refresh_pool(agent)

    @staticmethod
    def count_status(queue: QueueState, status: RoutingStatus, sign: int) -> None:
        """Add ``sign`` (+1 or -1) to the queue's counts for an agent in ``status``: on queue
        unless off queue, idle only when idle (R-CF-2's ``A`` and idle agents)."""
        if status is not RoutingStatus.OFF_QUEUE:
            queue.on_queue += sign
        if status is RoutingStatus.IDLE:
            queue.idle += sign

    def count_member(self, queue: QueueState, agent: AgentState, sign: int) -> None:
        """Count ``agent`` into (+1) or out of (-1) ``queue`` as it joins or leaves; the queue
        is evaluated again."""
        self.count_status(queue, agent.status, sign)
        self.dirty_queues[queue.id] = None

    def refresh_pool(self, agent: AgentState) -> None:
        """Put ``agent`` in its queues' pools at its current key (load, idle since: the
        longest-idle first, R-AF-1) if it is routable, else take it out. A routable agent is
        marked for routing."""
        if agent.routable:
            key = (agent.load, agent.available_since, self.next_seq())
            for queue_id in agent.queues:
                self.queues[queue_id].pool.push(agent.id, key)
            self.dirty_agents[agent.id] = None
        else:
            for queue_id in agent.queues:
                self.queues[queue_id].pool.remove(agent.id)

    # --- interactions ---------------------------------------------------------------------------
    def schedule(self, interaction: Interaction, when: float | None) -> None:
        """Due now (or in the past: R-C-2) goes to the queue; later waits for a timer."""
        if when is None or when <= self.now:
            self.enqueue(interaction)
            return
        self.set_state(interaction, State.SCHEDULED)
        # A retry's wait stays inside the queue visit: the open interact ends without a verdict.
        self.open_segment(interaction, Purpose.ACD, MediaType.CALLBACK, SegmentType.SCHEDULED)
        self.start_timer(TimerKind.CALLBACK_DUE, interaction.id, when, interaction)

    def enqueue(self, interaction: Interaction) -> None:
        """Put an interaction in its queue. Its place (R-O-1, R-O-2) is fixed the first time and
        kept afterwards (R-O-3)."""
        queue = self.queues[interaction.queue_id]
        if interaction.key is None:
            if interaction.entry_time is None:
                interaction.entry_time = self.now
            interaction.key = queue_key(
                interaction.priority,
                interaction.entry_time,
                self.now,
                self.next_seq(),
                queue.settings.scoring_method,
            )
        interaction.agent_id = None
        self.set_state(interaction, State.WAITING)
        if self.open_kind(interaction, Purpose.ACD, interaction.media) is not SegmentType.INTERACT:
            self.open_segment(interaction, Purpose.ACD, interaction.media, SegmentType.INTERACT)
        owner = interaction.owner
        if owner is not None and interaction.ownership_deadline is None:
            hours = queue.settings.agent_owned_routing.max_owned_callback_hours
            interaction.ownership_deadline = self.now + hours * 3600
            interaction.owned_pending = True
            deadline = interaction.ownership_deadline
            self.start_timer(TimerKind.OWNERSHIP_EXPIRY, interaction.id, deadline, interaction)
        if interaction.owned_pending:
            assert owner is not None
            self.agents[owner].owned.push(interaction.id, interaction.key)
            self.dirty_agents[owner] = None
            return
        self.place_in_queue(queue, interaction)

    def place_in_queue(self, queue: QueueState, interaction: Interaction) -> None:
        """Push an interaction that has its key into the right order: a callback of a
        customer-first queue waits for the dialer (``undialed``), anything else for an agent
        (``waiting``)."""
        assert interaction.key is not None
        if interaction.media is MediaType.CALLBACK and queue.settings.customer_first:
            queue.undialed.push(interaction.id, interaction.key)
        else:
            queue.waiting.push(interaction.id, interaction.key)
        self.dirty_queues[queue.id] = None

    def remove_from_queues(self, interaction: Interaction) -> None:
        """Take ``interaction`` out of its queue's orders and its owner's owned callbacks;
        nothing happens where it was not."""
        queue = self.queues[interaction.queue_id]
        queue.waiting.remove(interaction.id)
        if queue.undialed.remove(interaction.id):
            self.dirty_queues[queue.id] = None
        if interaction.owned_pending and interaction.owner is not None:
            self.agents[interaction.owner].owned.remove(interaction.id)

    def detach(self, interaction: Interaction, how: HowEnded) -> None:
        """Take a callback out of whatever step it is in (for a reschedule or a cancel, ``how``
        says which): out of the queue, its timers stopped, an alert withdrawn, a holding agent
        sent to after-call work."""
        self.remove_from_queues(interaction)
        self.cancel_timers(interaction, ALL_TIMERS)
        if interaction.state is State.ALERTING:
            self.take_back_offer(interaction, not_responding=False)
        elif interaction.state is State.CONNECTED and interaction.agent_id is not None:
            self.to_acw(interaction)
        # Waiting in the queue, or for a retry inside a queue visit: either way the visit ends.
        self.close_segment(interaction, Purpose.ACD, interaction.media, how=how)

    def take_back_offer(self, interaction: Interaction, *, not_responding: bool) -> None:
        """End the alert of ``interaction`` without an answer: the alerted agent lets go of it
        (marked ``not_responding`` if it missed the alert, R-AF-1), the alert segment closes and
        the offer is revoked. Where the interaction goes next is the caller's choice (R-O-3).
        Lives here, not in ``routing``, so that ``detach`` needs no rule module (no import cycle).
        """
        assert interaction.agent_id is not None
        agent = self.agents[interaction.agent_id]
        self.cancel_timers(interaction, ALERT)
        before = agent.status
        del agent.work[interaction.id]
        agent.not_responding = agent.not_responding or not_responding
        self.changed(agent, before)
        how = HowEnded.NOT_RESPONDING if not_responding else HowEnded.WITHDRAWN
        self.close_segment(
            interaction, Purpose.AGENT, interaction.media, agent_id=agent.id, how=how
        )
        self.sink.revoke_offer(agent.id, interaction.id, not_responding)

    def end(
        self,
        interaction: Interaction,
        reason: EndReason,
        *,
        wrapup_code: str | None = None,
        agent_id: AgentId | None = None,
    ) -> None:
        """The interaction is over: its timers stop, its open segments close with ``reason``
        (an agent's wrap-up goes on), and it leaves the state."""
        self.cancel_timers(interaction, ALL_TIMERS)
        if self.guard.release(interaction.id):  # R-X-9
            self.sink.numbers_released(interaction.id)
        accounted = self.guard.accounting.settle(  # R-X-12: a flow-out reached the flow
            self.guard, interaction.id, self.now, connected=reason is EndReason.FLOW_OUT
        )
        if accounted is not None:
            self.sink.call_accounted(accounted)
        how = ENDINGS[reason]
        for purpose, agent, media in list(interaction.open):
            self.close_segment(interaction, purpose, media, agent_id=agent, how=how)
        outcome = interaction.last_outcome if reason is not EndReason.HANDLED else None
        self.set_state(
            interaction,
            State.ENDED,
            agent_id=agent_id,
            outcome=outcome,
            end_reason=reason,
            wrapup_code=wrapup_code,
        )
        del self.interactions[interaction.id]

    def to_acw(self, interaction: Interaction) -> None:
        """The holding agent moves to after-call work on ``interaction`` (R-AF-4)."""
        assert interaction.agent_id is not None
        agent = self.agents[interaction.agent_id]
        self.cancel_timers(interaction, AUTO)
        self.close_segment(interaction, Purpose.AGENT, interaction.media, agent_id=agent.id)
        wrapup = self.open_segment(
            interaction, Purpose.AGENT, interaction.media, SegmentType.WRAPUP, agent_id=agent.id
        )
        # The agent's: it outlives the interaction.
        del interaction.open[(Purpose.AGENT, agent.id, interaction.media)]
        before = agent.status
        agent.work.pop(interaction.id, None)
        agent.acw[interaction.id] = wrapup
        self.changed(agent, before)
        if interaction.state is State.CONNECTED:
            self.set_state(interaction, State.ACW, agent_id=agent.id)

    def connect(self, interaction: Interaction, agent: AgentState) -> None:
        """Put the customer of a voice interaction through to ``agent`` (already holding it)."""
        interaction.talked = True
        accounted = self.guard.accounting.connected(self.guard, interaction.id, self.now)
        if accounted is not None:  # R-X-12
            self.sink.call_accounted(accounted)
        self.set_state(interaction, State.CONNECTED, agent_id=agent.id)
        self.open_segment(
            interaction, Purpose.AGENT, MediaType.VOICE, SegmentType.INTERACT, agent_id=agent.id
        )
        self.sink.connect_to_agent(interaction.id, agent.id, agent.address)

    def answer_time(
        self, interaction: Interaction, agent_id: AgentId | None, result: DialResult
    ) -> float:
        """When a dial was answered: the result's time less the analysis the dialer measured on
        its own clock, never before the dial's open segment (a ring reported late on a busy
        machine opened its segment after the real answer). The one answer time the timeline,
        the abandoned-call accounting and a flow's start after the beep all use."""
        answered_at = self.now - result.analysis_seconds
        purpose, media = dial_communication(agent_id)
        ringing = interaction.open.get((purpose, agent_id, media))
        if ringing is not None and answered_at < ringing.start:
            answered_at = ringing.start
        return answered_at

    def dial_segments_end(
        self,
        interaction: Interaction,
        agent_id: AgentId | None,
        dial_id: DialId,
        result: DialResult,
        answered_at: float,
    ) -> None:
        """Close a dial's segments: ``dialing``/``contacting`` until the answer, ``converting``
        (call progress analysis) from the answer (``answer_time``) to the result; the outcome
        goes on the last. An answered dial puts the customer on the line from the answer."""
        purpose, media = dial_communication(agent_id)
        details: dict[str, Any] = {
            "outcome": result.outcome,
            "sip_code": result.sip_code,
            "dial_id": dial_id,
        }
        how = HowEnded.DIAL_ENDED
        if not result.answered:
            self.close_segment(interaction, purpose, media, agent_id, how, details=details)
            return
        if result.greeting_end is not None:
            details["greeting_end"] = answered_at + result.greeting_end
        if result.beep_end is not None:  # issue 15
            details["beep_end"] = answered_at + result.beep_end
        if result.analysis_seconds > 0:
            self.open_segment(
                interaction,
                purpose,
                media,
                SegmentType.CONVERTING,
                agent_id=agent_id,
                at=answered_at,
            )
        self.close_segment(interaction, purpose, media, agent_id, how, details=details)
        self.open_segment(
            interaction, Purpose.CUSTOMER, MediaType.VOICE, SegmentType.INTERACT, at=answered_at
        )

    def dial(
        self, interaction: Interaction, agent_id: AgentId | None, number_index: int | None
    ) -> None:
        """Place one dial (R-CF-9: the caller has checked none is in progress). Numbers are
        tried in order across dials; ``number_index`` picks one for an agent's dial."""
        request = interaction.request
        assert request is not None and interaction.dial_id is None
        queue = self.queues[interaction.queue_id]
        if number_index is None:
            number_index = (interaction.number_index + 1) % len(request.numbers)
        interaction.number_index = number_index
        interaction.attempts += 1
        dial_id = DialId(f"{interaction.id}#{interaction.attempts}")
        self.dials[dial_id] = interaction.id
        interaction.dial_id = dial_id
        interaction.dial_by_agent = agent_id is not None
        self.cancel_timers(interaction, AUTO)
        self.set_state(interaction, State.DIALING, agent_id=agent_id)
        purpose, media = dial_communication(agent_id)
        self.open_segment(interaction, purpose, media, SegmentType.DIALING, agent_id=agent_id)
        caller_id, caller_name = caller_identity(interaction, queue)
        self.sink.place_call(
            PlaceCall(
                dial_id,
                interaction.id,
                request.numbers[number_index],
                caller_id,
                caller_name,
                agent_id,
                interaction.attempts,
                self.agents[agent_id].address if agent_id is not None else None,
                # R-X-15: the dialer's calls (an agent hears its own call ring and decides)
                0.0 if agent_id else queue.settings.compliance.abandonment.minimum_ring_seconds,
                agent_id is None
                and queue.settings.callback.answering_machine_reaction is Reaction.TRANSFER_TO_FLOW,
            )
        )


def dial_communication(agent_id: AgentId | None) -> tuple[Purpose, MediaType]:
    """Agent-first dials belong to the agent's callback communication (R-M-1); customer-first
    dials to the dialer's voice communication (R-M-2)."""
    if agent_id is not None:
        return Purpose.AGENT, MediaType.CALLBACK
    return Purpose.DIALER, MediaType.VOICE


ENDINGS: Final[dict[EndReason, HowEnded]] = {
    EndReason.HANDLED: HowEnded.WRAPPED_UP,
    EndReason.DIAL_OUTCOME: HowEnded.DISPOSITIONED,
    EndReason.CANCELLED: HowEnded.CANCELLED,
    EndReason.OWNERSHIP_EXPIRED: HowEnded.EXPIRED,
    EndReason.ABANDONED: HowEnded.ABANDONED,
    EndReason.FLOW_OUT: HowEnded.FLOW_OUT,
    EndReason.HUNG_UP: HowEnded.HUNG_UP,
    EndReason.ANSWERED_ELSEWHERE: HowEnded.ANSWERED_ELSEWHERE,
    EndReason.DO_NOT_CALL: HowEnded.DISPOSITIONED,  # R-X-8
}


def caller_identity(interaction: Interaction, queue: QueueState) -> tuple[str | None, str | None]:
    """R-C-4: the callback's caller ID and name if it has a caller ID, else the queue's voice
    trunk caller ID and name."""
    request = interaction.request
    if request is not None and request.caller_id:
        return request.caller_id, request.caller_id_name
    return queue.settings.calling_party_number, queue.settings.calling_party_name
