"""``dialback serve --demo``: a synthetic contact center working against the real service.

Two queues (agent-first "Billing" with auto-dial and auto-end, customer-first "Support"), six
virtual agents who accept, dial, talk and wrap up, and virtual customers asking for callbacks
(and a few live calls) at random. ``speed`` runs its clock faster than real time.
"""

from __future__ import annotations

import asyncio
import random
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
    State,
)
from dialback.domain.settings import parse_queue
from dialback.service.runtime import Runtime
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


@dataclass
class DemoCenter:
    runtime: Runtime
    speed: float = 1.0
    rng: random.Random = field(default_factory=random.Random)
    callbacks_per_minute: float = 4.0
    agents: VirtualAgents = field(init=False)
    created: int = 0

    def __post_init__(self) -> None:
        self.agents = VirtualAgents(
            self.later,
            self._numbers,
            talk_seconds=lambda _interaction: self.rng.expovariate(1 / 90),
            accept_seconds=3.0,
            acw_seconds=15.0,
        )

    def _numbers(self, callback: InteractionId) -> int:
        live = self.runtime.engine.interactions.get(callback)
        return len(live.request.numbers) if live and live.request else 1

    def later(self, seconds: float, event: Event) -> None:
        async def wait_then_send() -> None:
            await asyncio.sleep(seconds / self.speed)
            await self.runtime.submit_quietly(event)

        self.runtime.spawn(wait_then_send())

    async def start(self) -> None:
        """Create the queues and agents if the database has none, then start working."""
        self.runtime.listeners.append(self.agents.react)
        if not self.runtime.engine.queues:
            await self._setup()
        self._resume()
        self.runtime.spawn(self._customers())

    def _resume(self) -> None:
        """After a restart or a take-over by another node (issue 17), the virtual agents pick up
        what the engine says they hold: their next steps were timers of the process that ended."""
        engine = self.runtime.engine
        for agent in engine.agents.values():
            if agent.not_responding:
                self.later(self.agents.accept_seconds, AgentWentIdle(agent.id))
            for interaction_id, state in agent.work.items():
                live = engine.interactions.get(interaction_id)
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

    async def _setup(self) -> None:
        submit = self.runtime.submit
        for queue_id, body in QUEUES.items():
            await submit(QueueConfigured(queue_id, parse_queue(body)))
        for queue_name, names in AGENTS.items():
            for name in names:
                agent = AgentId(name.lower())
                await submit(AgentRegistered(agent, 1, name))
                await submit(AgentJoinedQueue(agent, QueueId(queue_name)))
                await submit(AgentPresenceChanged(agent, Presence.ON_QUEUE))

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
