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

from dialback.domain import customer_first, dial_guard, routing
from dialback.domain.core import Core, dial_communication
from dialback.domain.effects import CancelCall, Effect, HangUpCustomer
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
    QueueConfigured,
    TimerFired,
    TimerKind,
    VoiceCallQueued,
    WrapUpCompleted,
)
from dialback.domain.facts import DialResolved
from dialback.domain.model import (
    AgentId,
    EndReason,
    InteractionId,
    MediaType,
    Presence,
    State,
)
from dialback.domain.pacing import PacingTable
from dialback.domain.state import AgentState, Interaction, QueueState
from dialback.domain.timeline import HowEnded, Purpose, SegmentClosed, SegmentType
from dialback.domain.windows import ZoneLookup


class Engine(Core):
    """The callback engine. ``rng`` is the only source of randomness (the pacing draws)."""

    def __init__(
        self,
        *,
        rng: random.Random,
        pacing_table: PacingTable | None = None,
        pacing_tick_seconds: float = 5.0,
        zones: ZoneLookup | None = None,
    ) -> None:
        super().__init__(
            rng=rng,
            pacing_table=pacing_table or PacingTable.default(),
            pacing_tick_seconds=pacing_tick_seconds,
        )
        if zones is not None:
            self.zones = zones  # issue 14: the shell's tz database (R-X-2)
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            QueueConfigured: self._queue_configured,
            AgentRegistered: self._agent_registered,
            AgentJoinedQueue: self._agent_joined,
            AgentLeftQueue: self._agent_left,
            AgentPresenceChanged: self._presence_changed,
            AgentWentIdle: self._agent_went_idle,
            CallbackRequested: self._callback_requested,
            CallbackRequestedOnCall: self._callback_requested_on_call,
            VoiceCallQueued: self._voice_call_queued,
            CallAnsweredElsewhere: self._answered_elsewhere,
            CustomerHungUp: self._customer_hung_up,
            AlertAccepted: self._alert_accepted,
            AgentDialed: self._agent_dialed,
            DialRang: self._dial_rang,
            DialCompleted: self._dial_completed,
            CallHeld: self._call_held,
            CallResumed: self._call_resumed,
            AgentHungUp: self._agent_hung_up,
            AgentEndedCallback: self._agent_ended_callback,
            WrapUpCompleted: self._wrap_up_completed,
            CallbackRescheduled: self._rescheduled,
            CallbackDisconnected: self._disconnected,
            TimerFired: self._timer_fired,
            DncUpdated: self._dnc_updated,
        }

    def handle(self, event: Event, now: float) -> list[Effect]:
        """Apply ``event`` at time ``now`` (seconds) and return the effects to execute.
        Raises a ``DialbackError`` (and changes nothing) if the event does not fit the state."""
        self.now = now
        self.out = []
        self._evaluated.clear()
        self._handlers[type(event)](event)
        self._settle()
        effects, self.out = self.out, []
        return effects

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

    # --- queues and agents ----------------------------------------------------------------------
    def _queue_configured(self, e: QueueConfigured) -> None:
        window = e.settings.compliance.calling_window
        if window.enabled:  # R-X-2: the fallback zone must exist
            dial_guard.check_zone(
                self, window.fallback_time_zone, "compliance.callingWindow.fallbackTimeZone"
            )
        queue = self.queues.get(e.queue_id)
        if queue is None:
            self.queues[e.queue_id] = QueueState(e.queue_id, e.settings)
            return
        was_customer_first = queue.settings.customer_first
        queue.settings = e.settings
        if was_customer_first != e.settings.customer_first:
            routing.repartition(self, queue)
        self.dirty_queues[queue.id] = None

    def _agent_registered(self, e: AgentRegistered) -> None:
        if e.agent_id in self.agents:
            raise DuplicateId(f"agent {e.agent_id} exists", field="agent_id")
        if e.capacity < 1:
            raise InvalidInput("capacity must be at least 1", field="capacity")
        self.agents[e.agent_id] = AgentState(
            e.agent_id, e.capacity, available_since=self.now, address=e.address
        )

    def _agent_joined(self, e: AgentJoinedQueue) -> None:
        agent, queue = self.agent(e.agent_id), self.queue(e.queue_id)
        if queue.id in agent.queues:
            return
        agent.queues[queue.id] = None
        queue.members[agent.id] = None
        self.count_member(queue, agent, +1)
        self.refresh_pool(agent)

    def _agent_left(self, e: AgentLeftQueue) -> None:
        agent, queue = self.agent(e.agent_id), self.queue(e.queue_id)
        if queue.id not in agent.queues:
            return
        self.count_member(queue, agent, -1)
        del agent.queues[queue.id]
        del queue.members[agent.id]
        queue.pool.remove(agent.id)
        self.dirty_queues[queue.id] = None

    def _presence_changed(self, e: AgentPresenceChanged) -> None:
        agent = self.agent(e.agent_id)
        if e.presence is Presence.OFF_QUEUE:
            for interaction_id, state in list(agent.work.items()):
                if state is State.ALERTING:
                    routing.withdraw_offer(self, self.interactions[interaction_id])
            if agent.reserved_for is not None:
                customer_first.release_reservation(self, self.interactions[agent.reserved_for])
        with self.changing(agent):
            agent.presence = e.presence
            agent.not_responding = False

    def _agent_went_idle(self, e: AgentWentIdle) -> None:
        agent = self.agent(e.agent_id)
        with self.changing(agent):
            agent.not_responding = False

    # --- interactions entering ------------------------------------------------------------------
    def _callback_requested(self, e: CallbackRequested) -> None:
        self._check_new(e.callback_id, e.request.queue_id, e.request.owner)
        dial_guard.check_new(self, e.request)  # issue 14: R-X-4, R-X-7, R-X-11
        dial_guard.claim(self, e.callback_id, e.request)  # R-X-9
        self._add_callback(e.callback_id, e.conversation_id, e.request, None, False)

    def _callback_requested_on_call(self, e: CallbackRequestedOnCall) -> None:
        call = self.interaction(e.call_id)
        if call.media is not MediaType.VOICE or call.converted or call.state is not State.WAITING:
            raise InteractionEnded("only a call waiting in a queue can become a callback")
        self._check_new(e.callback_id, call.queue_id, e.request.owner)
        moved = replace(e.request, queue_id=call.queue_id)
        dial_guard.check_new(self, moved)  # issue 14
        dial_guard.claim(self, e.callback_id, moved)  # R-X-9
        self.remove_from_queues(call)
        self.end(call, EndReason.FLOW_OUT)  # R-C-6: the voice leg flows out to the callback
        request = replace(e.request, queue_id=call.queue_id, priority=call.priority)
        self._add_callback(e.callback_id, call.conversation_id, request, call.entry_time, True)

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

    def _voice_call_queued(self, e: VoiceCallQueued) -> None:
        if e.call_id in self.interactions:
            raise DuplicateId(f"interaction {e.call_id} exists", field="call_id")
        self.queue(e.queue_id)
        call = Interaction(
            e.call_id,
            e.conversation_id,
            e.queue_id,
            MediaType.VOICE,
            State.WAITING,
            e.priority,
            e.entry_time,
            caller_number=e.caller_number,
        )
        self.interactions[e.call_id] = call
        self.open_segment(call, Purpose.CUSTOMER, MediaType.VOICE, SegmentType.INTERACT)
        self.enqueue(call)

    # --- the customer's side --------------------------------------------------------------------
    def _answered_elsewhere(self, e: CallAnsweredElsewhere) -> None:
        call = self.interaction(e.call_id)
        if call.request is not None or call.state not in (State.WAITING, State.ALERTING):
            raise InteractionEnded("only a PBX call still in the queue can be answered elsewhere")
        self._leave_queue(call, EndReason.ANSWERED_ELSEWHERE)

    def _customer_hung_up(self, e: CustomerHungUp) -> None:
        interaction = self.interaction(e.interaction_id)
        if interaction.state in (State.WAITING, State.ALERTING) and (
            interaction.media is MediaType.VOICE
        ):
            self._leave_queue(interaction, EndReason.ABANDONED)  # R-CF-8 when converted
        elif interaction.state is State.CONNECTED and (
            interaction.on_call or interaction.media is MediaType.VOICE
        ):
            self._voice_leg_ended(interaction, hang_up_customer=False)
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

    def _alert_accepted(self, e: AlertAccepted) -> None:
        agent = self.agent(e.agent_id)
        interaction = self.interaction(e.interaction_id)
        if agent.work.get(interaction.id) is not State.ALERTING:
            raise NotOfferedToAgent(f"{interaction.id} is not alerting agent {agent.id}")
        routing.accept(self, agent, interaction)

    def _agent_dialed(self, e: AgentDialed) -> None:
        agent, interaction = self._held(e.agent_id, e.interaction_id)
        if interaction.media is not MediaType.CALLBACK or interaction.request is None:
            raise AgentNotHandling("only a callback can be dialed")
        if interaction.state is State.DIALING or interaction.on_call:
            raise DialInProgress(f"{interaction.id} is already on a call")  # R-CF-9
        count = len(interaction.request.numbers)
        if e.number_index is not None and not 0 <= e.number_index < count:
            raise InvalidInput(f"number_index must be in 0..{count - 1}", field="number_index")
        index = dial_guard.check_agent_dial(self, interaction, agent.id, e.number_index, e.override)
        self.dial(interaction, agent.id, index)  # issue 14: R-X-6, R-X-8

    def _dial_completed(self, e: DialCompleted) -> None:
        interaction_id = self.dials.pop(e.dial_id, None)
        if interaction_id is None:
            if e.dial_id in self.cancelled_dials:
                self.cancelled_dials.discard(e.dial_id)  # a dial we cancelled came back
                return
            raise UnknownDial(f"no dial {e.dial_id} is in progress")
        interaction = self.interactions[interaction_id]
        interaction.dial_id = None
        interaction.last_outcome = e.result.outcome
        agent_id = interaction.agent_id if interaction.dial_by_agent else None
        self.emit(DialResolved(e.dial_id, interaction.id, agent_id, e.result))
        self.dial_segments_end(interaction, agent_id, e.dial_id, e.result)
        if not interaction.dial_by_agent:
            dial_guard.dial_resolved(self, interaction, e.dial_id, e.result)  # R-X-12
        if interaction.dial_by_agent:
            routing.agent_dial_completed(self, interaction, e.result)
        else:
            customer_first.dial_completed(self, interaction, e.result)

    def _dial_rang(self, e: DialRang) -> None:
        interaction_id = self.dials.get(e.dial_id)
        if interaction_id is None:
            if e.dial_id in self.cancelled_dials:
                return
            raise UnknownDial(f"no dial {e.dial_id} is in progress")
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

    def _call_held(self, e: CallHeld) -> None:
        interaction = self._on_call(e.agent_id, e.interaction_id)
        if not interaction.held:
            interaction.held = True
            media = MediaType.CALLBACK if interaction.on_call else MediaType.VOICE
            self.open_segment(
                interaction, Purpose.AGENT, media, SegmentType.HOLD, agent_id=e.agent_id
            )

    def _call_resumed(self, e: CallResumed) -> None:
        interaction = self._on_call(e.agent_id, e.interaction_id)
        if interaction.held:
            interaction.held = False
            media = MediaType.CALLBACK if interaction.on_call else MediaType.VOICE
            self.open_segment(
                interaction, Purpose.AGENT, media, SegmentType.INTERACT, agent_id=e.agent_id
            )

    def _agent_hung_up(self, e: AgentHungUp) -> None:
        interaction = self._on_call(e.agent_id, e.interaction_id)
        self._voice_leg_ended(interaction, hang_up_customer=True)

    def _voice_leg_ended(self, interaction: Interaction, *, hang_up_customer: bool) -> None:
        """The talk ends, whoever hung up: for a voice interaction the agent goes to after-call
        work; an agent-first callback stays with the agent (R-AF-3)."""
        if hang_up_customer:
            self.emit(HangUpCustomer(interaction.id))
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

    def _agent_ended_callback(self, e: AgentEndedCallback) -> None:
        _, interaction = self._held(e.agent_id, e.interaction_id)
        if interaction.media is not MediaType.CALLBACK:
            raise AgentNotHandling("only a callback is ended this way; hang up a voice call")
        if interaction.state is State.DIALING:
            raise DialInProgress(f"{interaction.id} is being dialed")
        if interaction.on_call:
            self._voice_leg_ended(interaction, hang_up_customer=True)
        self.to_acw(interaction)

    def _wrap_up_completed(self, e: WrapUpCompleted) -> None:
        agent = self.agent(e.agent_id)
        if e.interaction_id not in agent.acw:
            raise AgentNotHandling(f"agent {agent.id} is not wrapping up {e.interaction_id}")
        interaction = self.interactions.get(e.interaction_id)
        wrapup = agent.acw[e.interaction_id]
        with self.changing(agent):
            del agent.acw[e.interaction_id]
        closed = wrapup.closed(self.now, HowEnded.WRAPPED_UP, wrapup_code=e.code)
        self.emit(SegmentClosed(closed))
        if interaction is not None and interaction.state is State.ACW:
            if interaction.talked:
                reason = EndReason.HANDLED
            elif interaction.last_outcome is not None:
                reason = EndReason.DIAL_OUTCOME
            else:
                reason = EndReason.CANCELLED
            self.end(interaction, reason, wrapup_code=e.code, agent_id=agent.id)

    # --- changes through the callback API (R-C-5) -----------------------------------------------
    def _callback(self, callback_id: InteractionId) -> Interaction:
        interaction = self.interaction(callback_id)
        if interaction.request is None:
            raise UnknownInteraction(f"{callback_id} is not a callback")
        if interaction.customer_connected:
            raise CallbackAlreadyConnected(f"callback {callback_id} is connected to a customer")
        return interaction

    def _rescheduled(self, e: CallbackRescheduled) -> None:
        interaction = self._callback(e.callback_id)
        assert interaction.request is not None
        if interaction.state is State.DIALING:
            raise DialInProgress(f"callback {interaction.id} is being dialed")
        queue = self.queue(e.queue_id) if e.queue_id is not None else None
        if e.owner is not None:
            self.agent(e.owner)
        if e.by_agent is not None:
            self._held(e.by_agent, interaction.id)
        target = queue or self.queues[interaction.queue_id]
        moved = replace(interaction.request, queue_id=target.id)
        dial_guard.check_scheduled(self, target, moved, e.scheduled_time)  # R-X-4
        if target.id != interaction.queue_id:  # R-X-9 in the new queue
            dial_guard.claim(self, interaction.id, moved)
        self.detach(interaction, HowEnded.RESCHEDULED)
        request = interaction.request
        if queue is not None and queue.id != interaction.queue_id:
            interaction.queue_id = queue.id
            interaction.key = None  # a new queue is a new place
            request = replace(request, queue_id=queue.id)
        if e.owner is not None:
            request = replace(request, owner=e.owner)
        interaction.ownership_deadline = None  # a new schedule opens a new ownership window
        when = request.scheduled_time
        if e.scheduled_time is not None:
            when = max(e.scheduled_time, self.now)
            request = replace(request, scheduled_time=when)
            if not interaction.from_call:  # R-O-2: a new time is a new entry time
                interaction.entry_time = when
                interaction.key = None
        interaction.request = request  # caller ID and name are kept (R-C-5)
        interaction.owned_pending = False
        if when is None or when <= self.now:
            self.set_state(interaction, State.SCHEDULED)  # rescheduled to now: a new visit
        self.schedule(interaction, when)

    def _disconnected(self, e: CallbackDisconnected) -> None:
        interaction = self._callback(e.callback_id)
        if interaction.state is State.DIALING:
            assert interaction.dial_id is not None
            self.emit(CancelCall(interaction.dial_id))
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

    def _dnc_updated(self, e: DncUpdated) -> None:
        self.guard.update_dnc(e.list_id, e.added, e.removed)  # R-X-7

    # --- timers ---------------------------------------------------------------------------------
    def _timer_fired(self, e: TimerFired) -> None:
        if self.timers.get(e.key) != e.at:
            return  # cancelled or restarted since: a late firing changes nothing
        del self.timers[e.key]
        kind, subject = e.key.kind, e.key.subject
        if kind is TimerKind.PACING_TICK:
            queue = self.queues[subject]  # type: ignore[index]
            queue.tick_at = None
            self.dirty_queues[queue.id] = None
            return
        interaction = self.interactions[subject]  # type: ignore[index]
        if kind is TimerKind.ABANDON_CHECK:
            dial_guard.abandon_check(self, interaction)  # R-X-12, R-X-14
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
