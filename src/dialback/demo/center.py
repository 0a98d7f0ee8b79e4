"""``dialback serve --demo``: a synthetic contact center working against the real service.

Two queues (agent-first "Billing" with auto-dial and auto-end, customer-first "Support"), six
virtual agents who accept, dial, talk and wrap up, and virtual customers asking for callbacks
(and a few live calls) at random. ``speed`` runs its clock faster than real time.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from dialback.domain.events import (
    AgentEndedCallback,
    AgentHungUp,
    AgentJoinedQueue,
    AgentPresenceChanged,
    AgentRegistered,
    AgentWentIdle,
    AlertAccepted,
    CallbackRequested,
    Event,
    QueueConfigured,
    VoiceCallQueued,
    WrapUpCompleted,
)
from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    ConversationId,
    InteractionId,
    MediaType,
    Presence,
    QueueId,
    RoutingStatus,
    State,
)
from dialback.domain.settings import parse_queue
from dialback.service.queries import Queries
from dialback.service.runtime import Runtime
from dialback.service.shards import Shards
from dialback.sim.agents import VirtualAgents

QUEUES = {
    QueueId("billing"): {
        "name": "Billing",
        "callingPartyNumber": "+14155550100",
        "mediaSettings": {
            "callback": {
                "enableAutoDialAndEnd": True,
                "autoDialDelaySeconds": 5,
                "autoEndDelaySeconds": 10,
            }
        },
    },
    QueueId("support"): {
        "name": "Support",
        "callingPartyNumber": "+14155550199",
        "callingPartyName": "Acme Support",
        "mediaSettings": {
            "callback": {
                "mode": "CustomerFirst",
                "pacingModifier": 8,
                "maxRetryCount": 2,
                "retryDelaySeconds": 60,
            }
        },
    },
}
AGENTS = {"billing": ["Ann", "Bob"], "support": ["Cat", "Dan", "Eve", "Fay"]}


def setup_events() -> list[Event]:
    """The demo's queues, then its agents: registered, members of their queue, on queue."""
    events: list[Event] = [
        QueueConfigured(queue_id, parse_queue(body)) for queue_id, body in QUEUES.items()
    ]
    for queue_name, names in AGENTS.items():
        for name in names:
            agent = AgentId(name.lower())
            events += [
                AgentRegistered(agent, 1, name),
                AgentJoinedQueue(agent, QueueId(queue_name)),
                AgentPresenceChanged(agent, Presence.ON_QUEUE),
            ]
    return events


def demo_agents(
    schedule: Callable[[float, Event], None],
    numbers_of: Callable[[InteractionId], int],
    rng: random.Random,
    speed: float = 1.0,
) -> VirtualAgents:
    """The demo's agents: accept after 3 s, talk 90 s on average, wrap up in 15 s."""
    return VirtualAgents(
        schedule,
        numbers_of,
        talk_seconds=lambda _interaction: rng.expovariate(1 / 90),
        accept_seconds=3.0,
        acw_seconds=15.0,
        speed=speed,
    )


@dataclass
class DemoCenter:
    """Drives a running service. Its agents hear the engine through ``Runtime.listeners`` (the
    effects and facts of each step) and read the service only through ``Queries``."""

    runtime: Runtime | Shards
    speed: float = 1.0
    rng: random.Random = field(default_factory=random.Random)
    callbacks_per_minute: float = 4.0
    agents: VirtualAgents = field(init=False)
    queries: Queries = field(init=False)
    created: int = 0

    def __post_init__(self) -> None:
        self.queries = Queries(self.runtime)
        self.agents = demo_agents(self.later, self._numbers, self.rng, self.speed)

    def _numbers(self, callback: InteractionId) -> int:
        live = self.queries.interaction(callback)
        return len(live.numbers) if live and live.numbers else 1

    def later(self, seconds: float, event: Event) -> None:
        """Send ``event`` after ``seconds`` of the demo's clock (``seconds / speed`` real)."""

        async def wait_then_send() -> None:
            await asyncio.sleep(seconds / self.speed)
            await self.runtime.submit_quietly(event)

        self.runtime.spawn(wait_then_send())

    async def start(self) -> None:
        """Create the queues and agents if the service has none, then start working."""
        self.runtime.listeners.append(self.agents.react)
        if not self.queries.queue_ids():
            for event in setup_events():
                await self.runtime.submit(event)
        self._resume()
        self.runtime.spawn(self._customers())

    def _resume(self) -> None:
        """After a restart or a take-over by another node (issue 17), the virtual agents pick up
        what the engine says they hold: their next steps were timers of the process that ended."""
        for agent_id in self.queries.agent_ids():
            agent = self.queries.agent(agent_id)
            if agent is None:
                continue
            if agent.status is RoutingStatus.NOT_RESPONDING:
                self.later(self.agents.accept_seconds, AgentWentIdle(agent.id))
            for interaction_id, state in agent.work:
                live = self.queries.interaction(interaction_id)
                if state is State.ALERTING:
                    self.later(self.agents.accept_seconds, AlertAccepted(agent.id, interaction_id))
                elif live is not None and live.media is MediaType.CALLBACK:
                    self.later(
                        self.agents.redial_seconds, AgentEndedCallback(agent.id, interaction_id)
                    )
                else:
                    self.later(self.agents.accept_seconds, AgentHungUp(agent.id, interaction_id))
            for interaction_id in agent.acw:
                wrap_up = WrapUpCompleted(agent.id, interaction_id, self.agents.wrapup_code)
                self.later(self.agents.acw_seconds, wrap_up)

    async def _customers(self) -> None:
        while True:
            await asyncio.sleep(self.rng.expovariate(self.callbacks_per_minute / 60) / self.speed)
            self.created += 1
            n = f"{self.created}-{self.rng.randrange(16**8):08x}"  # unique across restarts
            queue = self.rng.choice(list(QUEUES))
            conversation = ConversationId(f"demo-{n}")
            if self.rng.random() < 0.2:
                call = InteractionId(f"demo-call-{n}")
                now = self.runtime.clock()
                await self.runtime.submit_quietly(
                    VoiceCallQueued(call, conversation, queue, "+14155550150", now)
                )
                continue
            numbers = tuple(
                f"+1415555{self.rng.randrange(2000, 9999):04d}"
                for _ in range(self.rng.choice((1, 1, 2)))
            )
            request = CallbackRequest(queue, numbers, user_name=f"Customer {n}")
            await self.runtime.submit_quietly(
                CallbackRequested(InteractionId(f"demo-cb-{n}"), conversation, request)
            )
