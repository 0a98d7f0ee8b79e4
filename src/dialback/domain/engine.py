"""The routing engine: events in, effects out (DESIGN.md, "The engine contract").

``Engine.handle(event, now)`` validates the event against the state (raising a
``DialbackError`` and changing nothing when it does not fit), applies it, then settles: pacing
evaluations for customer-first queues (R-CF-2), then agent routing (R-AF-1, R-OW-1..3). It
returns the effects in the order they must be executed. Same events, same times and the same
seed give the same effects.

Agent routing and the customer-first handlers live in ``routing.py`` and ``customer_first.py``;
this module holds the event handlers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from mypy_extensions import mypyc_attr

from dialback.domain import customer_first, dial_guard, routing
from dialback.domain.core import Core, dial_communication
from dialback.domain.effects import Effect
from dialback.domain.errors import (
    AgentNotHandling,
    CallbackAlreadyConnected,
    DialInProgress,
    DuplicateId,
    InteractionEnded,
    InvalidInput,
    NotOfferedToAgent,
    UnknownDial,
    UnknownInteraction,
)
from dialback.domain.events import (
    AgentDialed,
    AgentEndedCallback,
    AgentHungUp,
    AgentJoinedQueue,
    AgentLeftQueue,
    AgentPresenceChanged,
    AgentRegistered,
    AgentWentIdle,
    AlertAccepted,
    CallAnsweredElsewhere,
    CallbackDisconnected,
    CallbackRequested,
    CallbackRequestedOnCall,
    CallbackRescheduled,
    CallHeld,
    CallResumed,
    CustomerHungUp,
    DialCompleted,
    DialRang,
    DncUpdated,
    Event,
    LockoutsShared,
    QueueConfigured,
    TimerFired,
    TimerKind,
    VoiceCallQueued,
    WrapUpCompleted,
)
from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    ConversationId,
    DialId,
    DialResult,
    EndReason,
    InteractionId,
    MediaType,
    Presence,
    QueueId,
    State,
)
from dialback.domain.pacing import PacingTable
from dialback.domain.records import NumberLockedOut
from dialback.domain.settings import QueueSettings
from dialback.domain.sink import Sink
from dialback.domain.state import AgentState, Interaction, QueueState
from dialback.domain.timeline import HowEnded, Purpose, SegmentType
from dialback.domain.windows import ZoneLookup


@mypyc_attr(serializable=True, allow_interpreted_subclasses=True)  # docs/decisions.md
class Engine(Core):
    """The callback engine. ``rng`` is the only source of randomness (the pacing draws).
    ``sink`` receives the effects (``domain/sink.py``); by default a ``ListSink``, whose effects
    ``handle`` returns. Each event kind has a public method taking its fields (``handle``
    dispatches to them through a table); a shell that is its own sink calls those directly."""

    def __init__(
        self,
        *,
        rng: random.Random,
        pacing_table: PacingTable | None = None,
        pacing_tick_seconds: float = 5.0,
        sink: Sink | None = None,
        zones: ZoneLookup | None = None,
    ) -> None:
        super().__init__(
            rng=rng,
            pacing_table=pacing_table or PacingTable.default(),
            pacing_tick_seconds=pacing_tick_seconds,
            sink=sink,
        )
        if zones is not None:
            self.zones = zones  # issue 14: the shell's tz database (R-X-2)

    def handle(self, event: Event, now: float) -> list[Effect]:
        """Apply ``event`` at time ``now`` (seconds) and return the effects to execute (those a
        ``ListSink`` collects; an engine given a sink of its own returns none, its sink has
        them). Raises a ``DialbackError`` (and changes nothing) if the event does not fit the
        state."""
        self.sink.take()  # what a refused event left behind
        _HANDLERS[type(event)](self, event, now)
        return self.sink.take()

    def feed(self, event: Event, now: float) -> None:
        """Apply ``event`` at ``now`` like ``handle``, leaving its effects with the sink."""
        _HANDLERS[type(event)](self, event, now)

    def _begin(self, now: float) -> None:
        self.now = now
        if self.guard.locked_now:
            self.guard.locked_now.clear()  # what a refused event left behind
        if self._evaluated:
            self._evaluated.clear()

    # --- one public method per event kind (the simulator calls these directly) ------------------
    def queue_configured(self, now: float, queue_id: QueueId, settings: QueueSettings) -> None:
        """``QueueConfigured`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._queue_configured(queue_id, settings)
        self._settle()

    def agent_registered(
        self,
        now: float,
        agent_id: AgentId,
        capacity: int = 1,
        name: str = "",
        address: str | None = None,
    ) -> None:
        """``AgentRegistered`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._agent_registered(agent_id, capacity, name, address)
        self._settle()

    def agent_joined_queue(self, now: float, agent_id: AgentId, queue_id: QueueId) -> None:
        """``AgentJoinedQueue`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._agent_joined(agent_id, queue_id)
        self._settle()

    def agent_left_queue(self, now: float, agent_id: AgentId, queue_id: QueueId) -> None:
        """``AgentLeftQueue`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._agent_left(agent_id, queue_id)
        self._settle()

    def agent_presence_changed(self, now: float, agent_id: AgentId, presence: Presence) -> None:
        """``AgentPresenceChanged`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._presence_changed(agent_id, presence)
        self._settle()

    def agent_went_idle(self, now: float, agent_id: AgentId) -> None:
        """``AgentWentIdle`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._agent_went_idle(agent_id)
        self._settle()

    def callback_requested(
        self,
        now: float,
        callback_id: InteractionId,
        conversation_id: ConversationId,
        request: CallbackRequest,
    ) -> None:
        """``CallbackRequested`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._callback_requested(callback_id, conversation_id, request)
        self._settle()

    def callback_requested_on_call(
        self,
        now: float,
        call_id: InteractionId,
        callback_id: InteractionId,
        request: CallbackRequest,
    ) -> None:
        """``CallbackRequestedOnCall`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._callback_requested_on_call(call_id, callback_id, request)
        self._settle()

    def voice_call_queued(
        self,
        now: float,
        call_id: InteractionId,
        conversation_id: ConversationId,
        queue_id: QueueId,
        caller_number: str,
        entry_time: float,
        priority: int = 0,
    ) -> None:
        """``VoiceCallQueued`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._voice_call_queued(
            call_id, conversation_id, queue_id, caller_number, entry_time, priority
        )
        self._settle()

    def call_answered_elsewhere(self, now: float, call_id: InteractionId) -> None:
        """``CallAnsweredElsewhere`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._answered_elsewhere(call_id)
        self._settle()

    def customer_hung_up(self, now: float, interaction_id: InteractionId) -> None:
        """``CustomerHungUp`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._customer_hung_up(interaction_id)
        self._settle()

    def alert_accepted(self, now: float, agent_id: AgentId, interaction_id: InteractionId) -> None:
        """``AlertAccepted`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._alert_accepted(agent_id, interaction_id)
        self._settle()

    def agent_dialed(
        self,
        now: float,
        agent_id: AgentId,
        interaction_id: InteractionId,
        number_index: int | None = None,
        override: bool = False,
    ) -> None:
        """``AgentDialed`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._agent_dialed(agent_id, interaction_id, number_index, override)
        self._settle()

    def dial_rang(self, now: float, dial_id: DialId) -> None:
        """``DialRang`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._dial_rang(dial_id)
        self._settle()

    def dial_completed(self, now: float, dial_id: DialId, result: DialResult) -> None:
        """``DialCompleted`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._dial_completed(dial_id, result)
        self._settle()

    def call_held(self, now: float, agent_id: AgentId, interaction_id: InteractionId) -> None:
        """``CallHeld`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._call_held(agent_id, interaction_id)
        self._settle()

    def call_resumed(self, now: float, agent_id: AgentId, interaction_id: InteractionId) -> None:
        """``CallResumed`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._call_resumed(agent_id, interaction_id)
        self._settle()

    def agent_hung_up(self, now: float, agent_id: AgentId, interaction_id: InteractionId) -> None:
        """``AgentHungUp`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._agent_hung_up(agent_id, interaction_id)
        self._settle()

    def agent_ended_callback(
        self, now: float, agent_id: AgentId, interaction_id: InteractionId
    ) -> None:
        """``AgentEndedCallback`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._agent_ended_callback(agent_id, interaction_id)
        self._settle()

    def wrap_up_completed(
        self, now: float, agent_id: AgentId, interaction_id: InteractionId, code: str
    ) -> None:
        """``WrapUpCompleted`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._wrap_up_completed(agent_id, interaction_id, code)
        self._settle()

    def callback_rescheduled(
        self,
        now: float,
        callback_id: InteractionId,
        scheduled_time: float | None = None,
        queue_id: QueueId | None = None,
        owner: AgentId | None = None,
        by_agent: AgentId | None = None,
    ) -> None:
        """``CallbackRescheduled`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._rescheduled(callback_id, scheduled_time, queue_id, owner, by_agent)
        self._settle()

    def callback_disconnected(self, now: float, callback_id: InteractionId) -> None:
        """``CallbackDisconnected`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._disconnected(callback_id)
        self._settle()

    def dnc_updated(
        self, now: float, list_id: str, added: tuple[str, ...] = (), removed: tuple[str, ...] = ()
    ) -> None:
        """``DncUpdated`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._dnc_updated(list_id, added, removed)
        self._settle()

    def lockouts_shared(self, now: float, lockouts: tuple[tuple[str, float], ...]) -> None:
        """``LockoutsShared`` at ``now`` (as ``handle``): R-X-14 across shards. A lockout only
        delays dials, so no queue is evaluated again."""
        self._begin(now)
        self.guard.share_lockouts(lockouts, now)

    def timer_fired(self, now: float, kind: TimerKind, subject: str, at: float) -> None:
        """``TimerFired`` at ``now`` (as ``handle``)."""
        self._begin(now)
        self._timer_fired(kind, subject, at)
        self._settle()

    def _settle(self) -> None:
        while self.dirty_queues or self.dirty_agents:
            queues = [self.queues[q] for q in self.dirty_queues]
            self.dirty_queues.clear()
            for queue in queues:
                customer_first.evaluate(self, queue)
            agents = [self.agents[a] for a in self.dirty_agents]
            self.dirty_agents.clear()
            for agent in agents:
                routing.route_agent(self, agent)
            for queue in queues:
                routing.route_queue(self, queue)
        if self.guard.locked_now:  # R-X-14: reported, for the other shards (issue 17)
            for number, until, queue_id in self.guard.locked_now:
                self.sink.emit(NumberLockedOut(number, until, queue_id))
            self.guard.locked_now.clear()

    # --- queues and agents ----------------------------------------------------------------------
    def _queue_configured(self, queue_id: QueueId, settings: QueueSettings) -> None:
        window = settings.compliance.calling_window
        if window.enabled:  # R-X-2: the fallback zone must exist
            dial_guard.check_zone(
                self, window.fallback_time_zone, "compliance.callingWindow.fallbackTimeZone"
            )
        # issue 18: the callback offer's opening hours are in this zone
        dial_guard.check_zone(self, settings.callback_offer.time_zone, "callbackOffer.timeZone")
        queue = self.queues.get(queue_id)
        if queue is None:
            self.queues[queue_id] = QueueState(queue_id, settings)
            return
        was_customer_first = queue.settings.customer_first
        queue.settings = settings
        if was_customer_first != settings.customer_first:
            routing.repartition(self, queue)
        self.dirty_queues[queue.id] = None

    def _agent_registered(
        self, agent_id: AgentId, capacity: int = 1, name: str = "", address: str | None = None
    ) -> None:
        if agent_id in self.agents:
            raise DuplicateId(f"agent {agent_id} exists", field="agent_id")
        if capacity < 1:
            raise InvalidInput("capacity must be at least 1", field="capacity")
        self.agents[agent_id] = AgentState(
            agent_id, capacity, available_since=self.now, address=address
        )

    def _agent_joined(self, agent_id: AgentId, queue_id: QueueId) -> None:
        agent, queue = self.agent(agent_id), self.queue(queue_id)
        if queue.id in agent.queues:
            return
        agent.queues[queue.id] = None
        queue.members[agent.id] = None
        self.count_member(queue, agent, +1)
        self.refresh_pool(agent)

    def _agent_left(self, agent_id: AgentId, queue_id: QueueId) -> None:
        agent, queue = self.agent(agent_id), self.queue(queue_id)
        if queue.id not in agent.queues:
            return
        self.count_member(queue, agent, -1)
        del agent.queues[queue.id]
        del queue.members[agent.id]
        queue.pool.remove(agent.id)
        self.dirty_queues[queue.id] = None

    def _presence_changed(self, agent_id: AgentId, presence: Presence) -> None:
        agent = self.agent(agent_id)
        if presence is Presence.OFF_QUEUE:
            for interaction_id, state in list(agent.work.items()):
                if state is State.ALERTING:
                    routing.withdraw_offer(self, self.interactions[interaction_id])
            if agent.reserved_for is not None:
                customer_first.release_reservation(self, self.interactions[agent.reserved_for])
        before = agent.status
        agent.presence = presence
        agent.not_responding = False
        self.changed(agent, before)

    def _agent_went_idle(self, agent_id: AgentId) -> None:
        agent = self.agent(agent_id)
        before = agent.status
        agent.not_responding = False
        self.changed(agent, before)

    # --- interactions entering ------------------------------------------------------------------
    def _callback_requested(
        self, callback_id: InteractionId, conversation_id: ConversationId, request: CallbackRequest
    ) -> None:
        self._check_new(callback_id, request.queue_id, request.owner)
        dial_guard.check_new(self, request)  # issue 14: R-X-4, R-X-7, R-X-11
        dial_guard.claim(self, callback_id, request)  # R-X-9
        self._add_callback(callback_id, conversation_id, request, None, False)

    def _callback_requested_on_call(
        self, call_id: InteractionId, callback_id: InteractionId, request: CallbackRequest
    ) -> None:
        call = self.interaction(call_id)
        if call.media is not MediaType.VOICE or call.converted or call.state is not State.WAITING:
            raise InteractionEnded("only a call waiting in a queue can become a callback")
        self._check_new(callback_id, call.queue_id, request.owner)
        moved = replace(request, queue_id=call.queue_id)
        dial_guard.check_new(self, moved)  # issue 14
        dial_guard.claim(self, callback_id, moved)  # R-X-9
        self.remove_from_queues(call)
        self.end(call, EndReason.FLOW_OUT)  # R-C-6: the voice leg flows out to the callback
        request = replace(request, queue_id=call.queue_id, priority=call.priority)
        self._add_callback(callback_id, call.conversation_id, request, call.entry_time, True)

    def _check_new(self, interaction_id: InteractionId, queue_id: Any, owner: Any) -> None:
        if interaction_id in self.interactions:
            raise DuplicateId(f"interaction {interaction_id} exists", field="callback_id")
        self.queue(queue_id)
        if owner is not None:
            self.agent(owner)

    def _add_callback(
        self,
        callback_id: InteractionId,
        conversation_id: Any,
        request: Any,
        entry_time: float | None,
        from_call: bool,
    ) -> None:
        interaction = Interaction(
            callback_id,
            conversation_id,
            request.queue_id,
            MediaType.CALLBACK,
            State.SCHEDULED,
            request.priority,
            entry_time,
            request=request,
            from_call=from_call,
        )
        self.interactions[callback_id] = interaction
        self.schedule(interaction, request.scheduled_time)

    def _voice_call_queued(
        self,
        call_id: InteractionId,
        conversation_id: ConversationId,
        queue_id: QueueId,
        caller_number: str,
        entry_time: float,
        priority: int = 0,
    ) -> None:
        if call_id in self.interactions:
            raise DuplicateId(f"interaction {call_id} exists", field="call_id")
        self.queue(queue_id)
        call = Interaction(
            call_id,
            conversation_id,
            queue_id,
            MediaType.VOICE,
            State.WAITING,
            priority,
            entry_time,
            caller_number=caller_number,
        )
        self.interactions[call_id] = call
        self.open_segment(call, Purpose.CUSTOMER, MediaType.VOICE, SegmentType.INTERACT)
        self.enqueue(call)

    # --- the customer's side --------------------------------------------------------------------
    def _answered_elsewhere(self, call_id: InteractionId) -> None:
        call = self.interaction(call_id)
        if call.request is not None or call.state not in (State.WAITING, State.ALERTING):
            raise InteractionEnded("only a PBX call still in the queue can be answered elsewhere")
        self._leave_queue(call, EndReason.ANSWERED_ELSEWHERE)

    def _customer_hung_up(self, interaction_id: InteractionId) -> None:
        interaction = self.interaction(interaction_id)
        if interaction.state in (State.WAITING, State.ALERTING) and (
            interaction.media is MediaType.VOICE
        ):
            self._leave_queue(interaction, EndReason.ABANDONED)  # R-CF-8 when converted
        elif interaction.state is State.CONNECTED and (
            interaction.on_call or interaction.media is MediaType.VOICE
        ):
            self._voice_leg_ended(interaction, hang_up_customer=False)
        elif customer_first.waiting_for_flow(self, interaction):  # issue 15: before the flow
            self.end(interaction, EndReason.HUNG_UP)
        else:
            raise InteractionEnded("no customer is on the line for this interaction")

    def _leave_queue(self, interaction: Interaction, reason: EndReason) -> None:
        if interaction.state is State.ALERTING:
            routing.withdraw_offer(self, interaction, requeue=False)
        self.remove_from_queues(interaction)
        self.end(interaction, reason)

    # --- the agent's side -----------------------------------------------------------------------
    def _held(
        self, agent_id: AgentId, interaction_id: InteractionId
    ) -> tuple[AgentState, Interaction]:
        agent = self.agent(agent_id)
        interaction = self.interaction(interaction_id)
        if agent.work.get(interaction_id) is not State.CONNECTED and not (
            interaction.state is State.DIALING and interaction.agent_id == agent_id
        ):
            raise AgentNotHandling(f"agent {agent_id} does not hold {interaction_id}")
        return agent, interaction

    def _alert_accepted(self, agent_id: AgentId, interaction_id: InteractionId) -> None:
        agent = self.agent(agent_id)
        interaction = self.interaction(interaction_id)
        if agent.work.get(interaction.id) is not State.ALERTING:
            raise NotOfferedToAgent(f"{interaction.id} is not alerting agent {agent.id}")
        routing.accept(self, agent, interaction)

    def _agent_dialed(
        self,
        agent_id: AgentId,
        interaction_id: InteractionId,
        number_index: int | None = None,
        override: bool = False,
    ) -> None:
        agent, interaction = self._held(agent_id, interaction_id)
        if interaction.media is not MediaType.CALLBACK or interaction.request is None:
            raise AgentNotHandling("only a callback can be dialed")
        if interaction.state is State.DIALING or interaction.on_call:
            raise DialInProgress(f"{interaction.id} is already on a call")  # R-CF-9
        count = len(interaction.request.numbers)
        if number_index is not None and not 0 <= number_index < count:
            raise InvalidInput(f"number_index must be in 0..{count - 1}", field="number_index")
        index = dial_guard.check_agent_dial(self, interaction, agent.id, number_index, override)
        self.dial(interaction, agent.id, index)  # issue 14: R-X-6, R-X-8

    def _dial_completed(self, dial_id: DialId, result: DialResult) -> None:
        interaction_id = self.dials.pop(dial_id, None)
        if interaction_id is None:
            if dial_id in self.cancelled_dials:
                self.cancelled_dials.discard(dial_id)  # a dial we cancelled came back
                return
            raise UnknownDial(f"no dial {dial_id} is in progress")
        interaction = self.interactions[interaction_id]
        interaction.dial_id = None
        interaction.last_outcome = result.outcome
        agent_id = interaction.agent_id if interaction.dial_by_agent else None
        self.sink.dial_resolved(dial_id, interaction.id, agent_id, result)
        answered_at = self.answer_time(interaction, agent_id, result)
        self.dial_segments_end(interaction, agent_id, dial_id, result, answered_at)
        if interaction.dial_by_agent:
            routing.agent_dial_completed(self, interaction, result)
        else:
            dial_guard.dial_resolved(self, interaction, dial_id, result, answered_at)  # R-X-12
            customer_first.dial_completed(self, interaction, result, answered_at)

    def _dial_rang(self, dial_id: DialId) -> None:
        interaction_id = self.dials.get(dial_id)
        if interaction_id is None:
            if dial_id in self.cancelled_dials:
                return
            raise UnknownDial(f"no dial {dial_id} is in progress")
        interaction = self.interactions[interaction_id]
        agent_id = interaction.agent_id if interaction.dial_by_agent else None
        purpose, media = dial_communication(agent_id)
        if self.open_kind(interaction, purpose, media, agent_id) is SegmentType.DIALING:
            self.open_segment(
                interaction, purpose, media, SegmentType.CONTACTING, agent_id=agent_id
            )

    def _on_call(self, agent_id: AgentId, interaction_id: InteractionId) -> Interaction:
        _, interaction = self._held(agent_id, interaction_id)
        if not (interaction.on_call or interaction.media is MediaType.VOICE):
            raise AgentNotHandling("the agent is not on a call with the customer")
        return interaction

    def _call_held(self, agent_id: AgentId, interaction_id: InteractionId) -> None:
        interaction = self._on_call(agent_id, interaction_id)
        if not interaction.held:
            interaction.held = True
            media = MediaType.CALLBACK if interaction.on_call else MediaType.VOICE
            self.open_segment(
                interaction, Purpose.AGENT, media, SegmentType.HOLD, agent_id=agent_id
            )

    def _call_resumed(self, agent_id: AgentId, interaction_id: InteractionId) -> None:
        interaction = self._on_call(agent_id, interaction_id)
        if interaction.held:
            interaction.held = False
            media = MediaType.CALLBACK if interaction.on_call else MediaType.VOICE
            self.open_segment(
                interaction, Purpose.AGENT, media, SegmentType.INTERACT, agent_id=agent_id
            )

    def _agent_hung_up(self, agent_id: AgentId, interaction_id: InteractionId) -> None:
        interaction = self._on_call(agent_id, interaction_id)
        self._voice_leg_ended(interaction, hang_up_customer=True)

    def _voice_leg_ended(self, interaction: Interaction, *, hang_up_customer: bool) -> None:
        """The talk ends, whoever hung up: for a voice interaction the agent goes to after-call
        work; an agent-first callback stays with the agent (R-AF-3)."""
        if hang_up_customer:
            self.sink.hang_up_customer(interaction.id)
        how = HowEnded.AGENT_HUNG_UP if hang_up_customer else HowEnded.CUSTOMER_HUNG_UP
        media = interaction.media
        self.close_segment(
            interaction, Purpose.AGENT, media, agent_id=interaction.agent_id, how=how
        )
        self.close_segment(interaction, Purpose.CUSTOMER, MediaType.VOICE, how=how)
        interaction.held = False
        if media is MediaType.VOICE:
            self.to_acw(interaction)
            return
        interaction.on_call = False
        self.set_state(interaction, State.CONNECTED, agent_id=interaction.agent_id)
        self.open_segment(
            interaction, Purpose.AGENT, media, SegmentType.CALLBACK, agent_id=interaction.agent_id
        )
        routing.start_auto_end(self, interaction)

    def _agent_ended_callback(self, agent_id: AgentId, interaction_id: InteractionId) -> None:
        _, interaction = self._held(agent_id, interaction_id)
        if interaction.media is not MediaType.CALLBACK:
            raise AgentNotHandling("only a callback is ended this way; hang up a voice call")
        if interaction.state is State.DIALING:
            raise DialInProgress(f"{interaction.id} is being dialed")
        if interaction.on_call:
            self._voice_leg_ended(interaction, hang_up_customer=True)
        self.to_acw(interaction)

    def _wrap_up_completed(
        self, agent_id: AgentId, interaction_id: InteractionId, code: str
    ) -> None:
        agent = self.agent(agent_id)
        if interaction_id not in agent.acw:
            raise AgentNotHandling(f"agent {agent.id} is not wrapping up {interaction_id}")
        interaction = self.interactions.get(interaction_id)
        wrapup = agent.acw[interaction_id]
        before = agent.status
        del agent.acw[interaction_id]
        self.changed(agent, before)
        self.sink.segment_closed(wrapup, self.now, HowEnded.WRAPPED_UP, {"wrapup_code": code})
        if interaction is not None and interaction.state is State.ACW:
            if interaction.talked:
                reason = EndReason.HANDLED
            elif interaction.last_outcome is not None:
                reason = EndReason.DIAL_OUTCOME
            else:
                reason = EndReason.CANCELLED
            self.end(interaction, reason, wrapup_code=code, agent_id=agent.id)

    # --- changes through the callback API (R-C-5) -----------------------------------------------
    def _callback(self, callback_id: InteractionId) -> Interaction:
        interaction = self.interaction(callback_id)
        if interaction.request is None:
            raise UnknownInteraction(f"{callback_id} is not a callback")
        if interaction.customer_connected:
            raise CallbackAlreadyConnected(f"callback {callback_id} is connected to a customer")
        return interaction

    def _rescheduled(
        self,
        callback_id: InteractionId,
        scheduled_time: float | None = None,
        queue_id: QueueId | None = None,
        owner: AgentId | None = None,
        by_agent: AgentId | None = None,
    ) -> None:
        interaction = self._callback(callback_id)
        assert interaction.request is not None
        if interaction.state is State.DIALING:
            raise DialInProgress(f"callback {interaction.id} is being dialed")
        queue = self.queue(queue_id) if queue_id is not None else None
        if owner is not None:
            self.agent(owner)
        if by_agent is not None:
            self._held(by_agent, interaction.id)
        target = queue or self.queues[interaction.queue_id]
        moved = replace(interaction.request, queue_id=target.id)
        dial_guard.check_scheduled(self, target, moved, scheduled_time)  # R-X-4
        if target.id != interaction.queue_id:  # R-X-9 in the new queue
            dial_guard.claim(self, interaction.id, moved)
        self.detach(interaction, HowEnded.RESCHEDULED)
        request = interaction.request
        if queue is not None and queue.id != interaction.queue_id:
            interaction.queue_id = queue.id
            interaction.key = None  # a new queue is a new place
            request = replace(request, queue_id=queue.id)
        if owner is not None:
            request = replace(request, owner=owner)
        interaction.ownership_deadline = None  # a new schedule opens a new ownership window
        when = request.scheduled_time
        if scheduled_time is not None:
            when = max(scheduled_time, self.now)
            request = replace(request, scheduled_time=when)
            if not interaction.from_call:  # R-O-2: a new time is a new entry time
                interaction.entry_time = when
                interaction.key = None
        interaction.request = request  # caller ID and name are kept (R-C-5)
        interaction.owned_pending = False
        if when is None or when <= self.now:
            self.set_state(interaction, State.SCHEDULED)  # rescheduled to now: a new visit
        self.schedule(interaction, when)

    def _disconnected(self, callback_id: InteractionId) -> None:
        interaction = self._callback(callback_id)
        if interaction.state is State.DIALING:
            assert interaction.dial_id is not None
            self.sink.cancel_call(interaction.dial_id)
            self.cancelled_dials.add(interaction.dial_id)
            del self.dials[interaction.dial_id]
            agent_id = interaction.agent_id if interaction.dial_by_agent else None
            purpose, media = dial_communication(agent_id)
            self.close_segment(
                interaction, purpose, media, agent_id=agent_id, how=HowEnded.CANCELLED
            )
            if agent_id is None:
                customer_first.dial_ended(self, interaction)
            else:
                self.open_segment(
                    interaction, purpose, media, SegmentType.CALLBACK, agent_id=agent_id
                )
            interaction.dial_id = None
            self.set_state(interaction, State.CONNECTED, agent_id=interaction.agent_id)
        self.detach(interaction, HowEnded.CANCELLED)
        self.end(interaction, EndReason.CANCELLED)

    def _dnc_updated(self, list_id: str, added: tuple[str, ...], removed: tuple[str, ...]) -> None:
        self.guard.update_dnc(list_id, added, removed)  # R-X-7

    # --- timers ---------------------------------------------------------------------------------
    def _timer_fired(self, kind: TimerKind, subject: str, at: float) -> None:
        key = (kind, subject)
        if self._timers.get(key) != at:
            return  # cancelled or restarted since: a late firing changes nothing
        del self._timers[key]
        if kind is TimerKind.PACING_TICK:
            queue = self.queues[subject]  # type: ignore[index]
            queue.tick_at = None
            self.dirty_queues[queue.id] = None
            return
        interaction = self.interactions[subject]  # type: ignore[index]
        interaction.timers -= 1
        if kind is TimerKind.ABANDON_CHECK:
            dial_guard.abandon_check(self, interaction)  # R-X-12, R-X-14
        elif kind is TimerKind.FLOW_START:
            customer_first.flow_due(self, interaction)  # issue 15
        elif kind is TimerKind.CALLBACK_DUE:
            self.enqueue(interaction)
        elif kind is TimerKind.ALERT_TIMEOUT:
            routing.alert_timed_out(self, interaction)
        elif kind is TimerKind.AUTO_DIAL:
            assert interaction.agent_id is not None
            index = dial_guard.auto_dial_number(self, interaction)  # R-X-6, R-X-8
            if index is not None:
                self.dial(interaction, interaction.agent_id, index)
        elif kind is TimerKind.AUTO_END:
            self.to_acw(interaction)
        else:
            routing.ownership_expired(self, interaction)


__all__ = ["Engine"]


# One entry per event kind: ``Engine.handle`` calls the public method of its kind (a table of
# module functions, not of closures on the engine, so a snapshot pickles the engine, issue 17).
_HANDLERS: dict[type[Any], Callable[[Engine, Any, float], None]] = {
    QueueConfigured: lambda engine, e, now: engine.queue_configured(now, e.queue_id, e.settings),
    AgentRegistered: lambda engine, e, now: engine.agent_registered(
        now, e.agent_id, e.capacity, e.name, e.address
    ),
    AgentJoinedQueue: lambda engine, e, now: engine.agent_joined_queue(now, e.agent_id, e.queue_id),
    AgentLeftQueue: lambda engine, e, now: engine.agent_left_queue(now, e.agent_id, e.queue_id),
    AgentPresenceChanged: lambda engine, e, now: engine.agent_presence_changed(
        now, e.agent_id, e.presence
    ),
    AgentWentIdle: lambda engine, e, now: engine.agent_went_idle(now, e.agent_id),
    CallbackRequested: lambda engine, e, now: engine.callback_requested(
        now, e.callback_id, e.conversation_id, e.request
    ),
    CallbackRequestedOnCall: lambda engine, e, now: engine.callback_requested_on_call(
        now, e.call_id, e.callback_id, e.request
    ),
    VoiceCallQueued: lambda engine, e, now: engine.voice_call_queued(
        now,
        e.call_id,
        e.conversation_id,
        e.queue_id,
        e.caller_number,
        e.entry_time,
        e.priority,
    ),
    CallAnsweredElsewhere: lambda engine, e, now: engine.call_answered_elsewhere(now, e.call_id),
    CustomerHungUp: lambda engine, e, now: engine.customer_hung_up(now, e.interaction_id),
    AlertAccepted: lambda engine, e, now: engine.alert_accepted(now, e.agent_id, e.interaction_id),
    AgentDialed: lambda engine, e, now: engine.agent_dialed(
        now, e.agent_id, e.interaction_id, e.number_index, e.override
    ),
    DialRang: lambda engine, e, now: engine.dial_rang(now, e.dial_id),
    DialCompleted: lambda engine, e, now: engine.dial_completed(now, e.dial_id, e.result),
    CallHeld: lambda engine, e, now: engine.call_held(now, e.agent_id, e.interaction_id),
    CallResumed: lambda engine, e, now: engine.call_resumed(now, e.agent_id, e.interaction_id),
    AgentHungUp: lambda engine, e, now: engine.agent_hung_up(now, e.agent_id, e.interaction_id),
    AgentEndedCallback: lambda engine, e, now: engine.agent_ended_callback(
        now, e.agent_id, e.interaction_id
    ),
    WrapUpCompleted: lambda engine, e, now: engine.wrap_up_completed(
        now, e.agent_id, e.interaction_id, e.code
    ),
    CallbackRescheduled: lambda engine, e, now: engine.callback_rescheduled(
        now, e.callback_id, e.scheduled_time, e.queue_id, e.owner, e.by_agent
    ),
    CallbackDisconnected: lambda engine, e, now: engine.callback_disconnected(now, e.callback_id),
    TimerFired: lambda engine, e, now: engine.timer_fired(now, e.key.kind, e.key.subject, e.at),
    DncUpdated: lambda engine, e, now: engine.dnc_updated(now, e.list_id, e.added, e.removed),
    LockoutsShared: lambda engine, e, now: engine.lockouts_shared(now, e.lockouts),
}
