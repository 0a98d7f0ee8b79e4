"""Routing interactions to agents (R-AF-1..4, R-O-3, R-O-4, R-OW-1..3).

An interaction waiting for an agent goes to the longest-idle routable agent of its queue,
preferred agents first (R-OW-3); an owned callback goes only to its owner (R-OW-1). When an
agent becomes routable it takes the best head among its queues and its owned callbacks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from dialback.domain.events import TimerKind
from dialback.domain.model import DialResult, EndReason, MediaType, Outcome, State
from dialback.domain.ordering import QueueKey
from dialback.domain.state import AgentKey, AgentState, Interaction, QueueState
from dialback.domain.timeline import HowEnded, Purpose, SegmentType

if TYPE_CHECKING:
    from dialback.domain.core import Core

ALERT_AND_OWNERSHIP: Final = (TimerKind.ALERT_TIMEOUT, TimerKind.OWNERSHIP_EXPIRY)


def agent_for(core: Core, queue: QueueState, interaction: Interaction) -> AgentState | None:
    """R-OW-3: the longest-idle routable preferred agent, else the longest-idle routable
    member. An agent still wrapping up this very interaction is passed over (it would hold the
    same interaction twice)."""
    best: tuple[AgentKey, AgentState] | None = None
    for agent_id in interaction.preferred:
        key = queue.pool.priority_of(agent_id)
        wrapping = interaction.id in core.agents[agent_id].acw
        if key is not None and not wrapping and (best is None or key < best[0]):
            best = (key, core.agents[agent_id])
    if best is not None:
        return best[1]
    return _longest_idle(core, queue, interaction)


def _longest_idle(core: Core, queue: QueueState, interaction: Interaction) -> AgentState | None:
    first = queue.pool.first()
    if first is None:
        return None
    agent = core.agents[first]
    if interaction.id not in agent.acw:
        return agent
    # Rare: the longest-idle agent is wrapping up this interaction. Look past it, then put it
    # back where it was.
    key = queue.pool.priority_of(agent.id)
    assert key is not None
    queue.pool.remove(agent.id)
    try:
        return _longest_idle(core, queue, interaction)
    finally:
        queue.pool.push(agent.id, key)


def route_queue(core: Core, queue: QueueState) -> None:
    """Offer the queue's waiting interactions, in order, while routable agents remain."""
    while (head := queue.waiting.first()) is not None:
        interaction = core.interactions[head]
        agent = agent_for(core, queue, interaction)
        if agent is None:
            return
        offer(core, interaction, agent)


def route_agent(core: Core, agent: AgentState) -> None:
    """Give a routable agent the best of its owned callbacks and its queues' heads (R-O-1
    across queues: priority, then entry time), leaving aside what it is still wrapping up. A
    head whose preferred agent is routable goes to that agent instead (R-OW-3), and the loop
    looks again."""
    while agent.routable:
        best: tuple[QueueKey, Interaction, QueueState | None] | None = None
        owned = agent.owned.peek()
        if owned is not None and owned[0] not in agent.acw:
            best = (owned[1], core.interactions[owned[0]], None)
        for queue_id in agent.queues:
            queue = core.queues[queue_id]
            head = queue.waiting.peek()
            if (
                head is not None
                and head[0] not in agent.acw
                and (best is None or head[1] < best[0])
            ):
                best = (head[1], core.interactions[head[0]], queue)
        if best is None:
            return
        _, interaction, from_queue = best
        chosen = agent if from_queue is None else agent_for(core, from_queue, interaction)
        offer(core, interaction, chosen or agent)


def offer(core: Core, interaction: Interaction, agent: AgentState) -> None:
    """Alert ``agent`` (R-AF-1); with auto-answer the alert is accepted at once."""
    queue = core.queues[interaction.queue_id]
    core.remove_from_queues(interaction)
    before = agent.status
    agent.work[interaction.id] = State.ALERTING
    core.changed(agent, before)
    interaction.agent_id = agent.id
    core.set_state(interaction, State.ALERTING, agent_id=agent.id)
    core.open_segment(
        interaction, Purpose.AGENT, interaction.media, SegmentType.ALERT, agent_id=agent.id
    )
    settings = queue.settings.callback
    timeout_at = core.now + settings.alerting_timeout_seconds
    own_script = interaction.request.script_id if interaction.request else None
    # R-Q-3: an answered customer-first callback reaches the agent as an inbound call.
    script = own_script or (
        queue.settings.call_script_id
        if interaction.media is MediaType.VOICE
        else queue.settings.callback_script_id
    )
    core.sink.offer_to_agent(agent.id, interaction.id, interaction.media, timeout_at, script)
    if settings.enable_auto_answer:
        accept(core, agent, interaction)
    else:
        core.start_timer(TimerKind.ALERT_TIMEOUT, interaction.id, timeout_at, interaction)


def accept(core: Core, agent: AgentState, interaction: Interaction) -> None:
    """R-AF-1, R-AF-2: ``agent`` answered the alert. The queue visit ends answered; a voice
    call is put through at once, a callback becomes the agent's to dial (with auto-dial after
    ``autoDialDelaySeconds`` when enabled). An owned callback stops waiting for its owner."""

    core.cancel_timers(interaction, ALERT_AND_OWNERSHIP)
    interaction.owned_pending = False
    before = agent.status
    agent.work[interaction.id] = State.CONNECTED
    core.changed(agent, before)
    media = interaction.media
    core.close_segment(interaction, Purpose.AGENT, media, agent_id=agent.id, how=HowEnded.ANSWERED)
    core.close_segment(interaction, Purpose.ACD, media, how=HowEnded.ANSWERED)
    if media is MediaType.VOICE:
        core.connect(interaction, agent)
        return
    core.set_state(interaction, State.CONNECTED, agent_id=agent.id)  # R-AF-2
    core.open_segment(
        interaction, Purpose.AGENT, MediaType.CALLBACK, SegmentType.CALLBACK, agent_id=agent.id
    )
    settings = core.queues[interaction.queue_id].settings.callback
    if settings.enable_auto_dial_and_end:
        at = core.now + settings.auto_dial_delay_seconds
        core.start_timer(TimerKind.AUTO_DIAL, interaction.id, at, interaction)


def withdraw_offer(core: Core, interaction: Interaction, *, requeue: bool = True) -> None:
    """The alert ends without an answer and without blame (the agent went off queue, the
    customer left): the interaction goes back with its place (R-O-3)."""
    core.take_back_offer(interaction, not_responding=False)
    if requeue:
        return_to_queue(core, interaction)


def alert_timed_out(core: Core, interaction: Interaction) -> None:
    """R-AF-1: the agent becomes not responding; the interaction keeps its place."""
    core.take_back_offer(interaction, not_responding=True)
    return_to_queue(core, interaction)


def return_to_queue(core: Core, interaction: Interaction) -> None:
    """Put an interaction taken back from an agent in its queue with its place (R-O-3), or
    expire it if its ownership window closed while it alerted its owner (R-OW-2)."""

    deadline = interaction.ownership_deadline
    if interaction.owned_pending and deadline is not None and core.now >= deadline:
        _expire_ownership(core, interaction)  # it expired while alerting its owner
    else:
        core.enqueue(interaction)


def ownership_expired(core: Core, interaction: Interaction) -> None:
    """R-OW-2 (timer): only a callback still waiting for its owner expires now; one alerting
    the owner expires if the alert goes unanswered, and one the owner holds is the owner's."""
    if interaction.state is State.WAITING and interaction.owned_pending:
        core.remove_from_queues(interaction)
        _expire_ownership(core, interaction)


def _expire_ownership(core: Core, interaction: Interaction) -> None:
    """R-OW-2: to any agent keeping its place, or disconnected with OWNERSHIP_EXPIRED."""
    interaction.owned_pending = False
    queue = core.queues[interaction.queue_id]
    if queue.settings.agent_owned_routing.assign_to_queue_on_ownership_expiry:
        core.enqueue(interaction)
    else:
        core.end(interaction, EndReason.OWNERSHIP_EXPIRED)


def repartition(core: Core, queue: QueueState) -> None:
    """The queue's mode changed: waiting callbacks move between the agents' order and the
    dialer's, keeping their places."""
    moving = [
        core.interactions[i]
        for heap in (queue.waiting, queue.undialed)
        for i in heap
        if core.interactions[i].media is MediaType.CALLBACK
    ]
    for interaction in moving:
        queue.waiting.remove(interaction.id)
        queue.undialed.remove(interaction.id)
        core.place_in_queue(queue, interaction)


def agent_dial_completed(core: Core, interaction: Interaction, result: DialResult) -> None:
    """R-AF-2, R-AF-3: live voice puts the agent in talk; any other outcome ends that dial
    only, and the agent may dial again, reschedule or end the callback."""
    connected = result.outcome is Outcome.LIVE_VOICE
    interaction.on_call = connected
    interaction.talked = interaction.talked or connected
    core.set_state(
        interaction, State.CONNECTED, agent_id=interaction.agent_id, outcome=result.outcome
    )
    kind = SegmentType.INTERACT if connected else SegmentType.CALLBACK
    core.open_segment(
        interaction, Purpose.AGENT, MediaType.CALLBACK, kind, agent_id=interaction.agent_id
    )
    if not connected:
        core.close_segment(interaction, Purpose.CUSTOMER, MediaType.VOICE, how=HowEnded.DIAL_ENDED)
        start_auto_end(core, interaction)


def start_auto_end(core: Core, interaction: Interaction) -> None:
    """R-AF-4: auto-end closes the callback ``autoEndDelaySeconds`` after the voice leg ends."""
    settings = core.queues[interaction.queue_id].settings.callback
    if settings.enable_auto_dial_and_end:
        at = core.now + settings.auto_end_delay_seconds
        core.start_timer(TimerKind.AUTO_END, interaction.id, at, interaction)
