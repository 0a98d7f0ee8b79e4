"""Customer-first callbacks (R-CF-2..10): pacing evaluations, dials by the dialer, and the
reactions to what call progress analysis says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dialback.domain import dial_guard
from dialback.domain.abandonment import budget_decide
from dialback.domain.events import TimerKind
from dialback.domain.model import (
    RETRYABLE_OUTCOMES,
    AgentId,
    DialResult,
    EndReason,
    MediaType,
    Outcome,
    State,
)
from dialback.domain.pacing import Cap, PacingDecision, Reason, decide, draw_cap
from dialback.domain.settings import DeliveryMode, Reaction
from dialback.domain.state import Interaction, QueueState
from dialback.domain.timeline import HowEnded, Purpose, SegmentType

if TYPE_CHECKING:
    from dialback.domain.core import Core


def evaluate(core: Core, queue: QueueState) -> None:
    """R-CF-2: one evaluation, one random draw; while the head of the queue is an undialed
    customer-first callback and the rule allows, dial it. Each head considered is recorded
    (R-CF-4). Within one event a queue is evaluated again only if a different callback has
    reached the head meanwhile (an agent took the live call in front of it)."""
    if not queue.settings.customer_first:
        return
    head = queue.head()
    if head is not None and head[2] and core._evaluated.get(queue.id) != head[0]:
        core.evaluations += 1
        multiplier = core.pacing_table.multiplier(queue.settings.callback.pacing_modifier)
        cap = draw_cap(multiplier, queue.on_queue, core.rng)
        while head is not None and head[2]:
            core._evaluated[queue.id] = head[0]
            if not _consider(core, queue, core.interactions[head[0]], multiplier, cap):
                break
            head = queue.head()
    _keep_ticking(core, queue)


def _consider(
    core: Core, queue: QueueState, interaction: Interaction, multiplier: float, cap: Cap
) -> bool:
    settings = queue.settings.callback
    request = interaction.request
    assert request is not None
    reserve = delivery_mode(queue, interaction) is DeliveryMode.USE_AGENT_RESERVATION
    guarded, number_index = dial_guard.blocked(core, queue, interaction)  # issue 14
    inputs = dial_guard.budget_inputs(core, queue)  # R-X-17: None in Fixed mode
    has_caller_id = bool(request.caller_id or queue.settings.calling_party_number)  # R-C-4
    if guarded is not None:
        reason = guarded
    elif inputs is not None:
        reason, reserve_for_budget = budget_decide(
            on_queue=queue.on_queue,
            idle=queue.idle,
            outstanding=queue.outstanding,
            reserved_dials=queue.reserved_dials,
            has_caller_id=has_caller_id,
            inputs=inputs,
        )
        reserve = reserve or reserve_for_budget
        if reason is Reason.DIALED and reserve and queue.idle == 0:
            reason = Reason.NO_IDLE_AGENT
    else:
        reason = decide(
            on_queue=queue.on_queue,
            idle=queue.idle,
            outstanding=queue.outstanding,
            reserved_dials=queue.reserved_dials,
            cap=cap.value,
            trigger=settings.pacing_trigger,
            has_caller_id=has_caller_id,
            needs_reservation=reserve,
        )
    reserved: AgentId | None = None
    if reason is Reason.DIALED and reserve:
        pooled = queue.pool.peek()
        assert pooled is not None and pooled[1][0] == 0  # an idle agent exists (decide)
        reserved = pooled[0]
    core.sink.record_pacing_decision(
        PacingDecision(
            evaluation=core.evaluations,
            at=core.now,
            queue_id=queue.id,
            callback_id=interaction.id,
            on_queue=queue.on_queue,
            idle=queue.idle,
            outstanding=queue.outstanding,
            multiplier=multiplier,
            cap_expected=cap.expected,
            draw=cap.draw,
            cap=cap.value,
            trigger=settings.pacing_trigger,
            reason=reason,
            reserved_agent=reserved,
            budget=inputs.budget if inputs else None,
            live_rate=inputs.live_rate if inputs else None,
            risk=inputs.risk if inputs else None,
        )
    )
    if guarded is not None:  # R-X-4, R-X-8, R-X-14: it steps aside, keeping its place
        dial_guard.act_on_block(core, queue, interaction, guarded, number_index)
        return True
    if reason is not Reason.DIALED:
        return False
    queue.undialed.remove(interaction.id)
    queue.outstanding += 1
    queue.last_cap = cap.value
    if reserved is not None:
        agent = core.agents[reserved]
        before = agent.status
        agent.reserved_for = interaction.id
        core.changed(agent, before)
        interaction.reserved_agent = reserved
        queue.reserved_dials += 1
    core.dial(interaction, None, number_index)
    return True


def delivery_mode(queue: QueueState, interaction: Interaction) -> DeliveryMode:
    """R-CF-10: the callback's own mode, else the queue's."""
    own = interaction.request.delivery_mode if interaction.request else None
    return own or queue.settings.callback.customer_first_delivery_mode


def _keep_ticking(core: Core, queue: QueueState) -> None:
    """R-CF-2: a pacing tick every few seconds while callbacks wait to be dialed."""
    if len(queue.undialed) and queue.tick_at is None:
        queue.tick_at = core.now + core.pacing_tick_seconds
        core.start_timer(TimerKind.PACING_TICK, queue.id, queue.tick_at)


def release_reservation(core: Core, interaction: Interaction) -> None:
    """The reserved agent is free again (the dial resolved, or the agent left)."""
    agent_id = interaction.reserved_agent
    if agent_id is None:
        return
    interaction.reserved_agent = None
    core.queues[interaction.queue_id].reserved_dials -= 1
    agent = core.agents[agent_id]
    before = agent.status
    agent.reserved_for = None
    core.changed(agent, before)


def dial_ended(core: Core, interaction: Interaction) -> None:
    """Any end of a dialer's dial: one fewer outstanding, and the reservation released."""
    queue = core.queues[interaction.queue_id]
    queue.outstanding -= 1
    core.dirty_queues[queue.id] = None
    release_reservation(core, interaction)


def dial_completed(
    core: Core, interaction: Interaction, result: DialResult, answered_at: float
) -> None:
    """R-CF-5..7: react to the outcome of a dialer's dial answered at ``answered_at``
    (``Core.answer_time``)."""
    queue = core.queues[interaction.queue_id]
    settings = queue.settings.callback
    reserved = interaction.reserved_agent
    if result.outcome is Outcome.LIVE_VOICE:
        reaction, flow = settings.live_voice_reaction, settings.live_voice_flow_id
    elif result.outcome is Outcome.ANSWERING_MACHINE:
        reaction, flow = settings.answering_machine_reaction, settings.answering_machine_flow_id
    else:
        dial_ended(core, interaction)
        _disposition(core, queue, interaction, result.outcome)
        return
    if reaction is Reaction.TRANSFER_TO_QUEUE:
        _convert(core, queue, interaction, reserved)
        return
    dial_ended(core, interaction)
    core.set_state(interaction, State.CONNECTED, outcome=result.outcome)
    if reaction is Reaction.TRANSFER_TO_FLOW:
        assert flow is not None
        start = flow_start(core, result, answered_at)
        if start > core.now:  # issue 15: the message is left after the beep
            core.start_timer(TimerKind.FLOW_START, interaction.id, start, interaction)
            return
        _to_flow(core, interaction, flow)
    else:
        core.sink.hang_up_customer(interaction.id)
        core.end(interaction, EndReason.HUNG_UP)


def flow_start(core: Core, result: DialResult, answered_at: float) -> float:
    """Issue 15: when a ``TransferToFlow`` reaction starts: once the machine's beep has ended
    (``beep_end`` after the answer), so the flow's message is recorded; now when no beep was
    heard (the dialer waited for one as long as it would) or the answer was a live voice."""
    if result.outcome is not Outcome.ANSWERING_MACHINE or result.beep_end is None:
        return core.now
    return max(core.now, answered_at + result.beep_end)


def flow_due(core: Core, interaction: Interaction) -> None:
    """The beep has ended: the answering machine goes to the queue's flow (its flow now; with
    none configured any more, the call is hung up as ``HangUp`` would)."""
    callback = core.queues[interaction.queue_id].settings.callback
    flow = callback.answering_machine_flow_id
    if callback.answering_machine_reaction is not Reaction.TRANSFER_TO_FLOW or flow is None:
        core.sink.hang_up_customer(interaction.id)
        core.end(interaction, EndReason.HUNG_UP)
        return
    _to_flow(core, interaction, flow)


def waiting_for_flow(core: Core, interaction: Interaction) -> bool:
    """Whether the interaction's machine is waiting for its beep to end before the flow."""
    return core.timer_at(TimerKind.FLOW_START, interaction.id) is not None


def _to_flow(core: Core, interaction: Interaction, flow: str) -> None:
    """R-CF-5, R-CF-6: hand the answered call to the flow; dialback's part ends."""
    core.sink.transfer_to_flow(interaction.id, flow)
    # The flow owns the call from here: its segment marks the hand-over.
    core.open_segment(interaction, Purpose.FLOW, MediaType.VOICE, SegmentType.IVR)
    core.close_segment(
        interaction,
        Purpose.FLOW,
        MediaType.VOICE,
        how=HowEnded.FLOW_OUT,
        details={"flow_id": flow},
    )
    core.end(interaction, EndReason.FLOW_OUT)


def _convert(
    core: Core, queue: QueueState, interaction: Interaction, reserved: AgentId | None
) -> None:
    """R-CF-5: the callback becomes a voice interaction of the same conversation, back in the
    queue with its place (R-O-3) or, with a reservation, straight to the reserved agent."""
    core.close_segment(interaction, Purpose.ACD, MediaType.CALLBACK, how=HowEnded.CONVERTED)
    interaction.media = MediaType.VOICE
    interaction.converted = True
    queue.outstanding -= 1
    core.dirty_queues[queue.id] = None
    if reserved is None:
        core.enqueue(interaction)
        return
    # Straight to the reserved agent: a queue visit of no length, answered at once.
    core.open_segment(interaction, Purpose.ACD, MediaType.VOICE, SegmentType.INTERACT)
    core.close_segment(interaction, Purpose.ACD, MediaType.VOICE, how=HowEnded.ANSWERED)
    agent = core.agents[reserved]
    interaction.reserved_agent = None
    queue.reserved_dials -= 1
    before = agent.status
    agent.reserved_for = None
    agent.work[interaction.id] = State.CONNECTED
    core.changed(agent, before)
    interaction.agent_id = agent.id
    core.connect(interaction, agent)


def _disposition(core: Core, queue: QueueState, interaction: Interaction, outcome: Outcome) -> None:
    """R-CF-7: retry after ``retryDelaySeconds`` on the next number, keeping the place, while
    retries remain and the outcome is retryable; otherwise end with the outcome."""
    settings = queue.settings.callback
    if outcome in RETRYABLE_OUTCOMES and interaction.attempts <= settings.max_retry_count:
        core.schedule(interaction, core.now + settings.retry_delay_seconds)
    else:
        core.end(interaction, EndReason.DIAL_OUTCOME)
