"""The Dialer port: what the service asks of telephony, and what telephony reports back.

Kept small so a SIP adapter can stand in for the simulated carrier: place a call, cancel it,
bridge it to an agent, hand it to a flow, hang it up; and, after a restart, say whether a dial or
a customer's call is still known (so nothing is re-dialed blindly).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from dialback.domain.effects import PlaceCall
from dialback.domain.events import AgentHungUp, CustomerHungUp, DialCompleted, DialRang
from dialback.domain.model import AgentId, DialId, InteractionId

Report = Callable[[DialRang | DialCompleted | CustomerHungUp | AgentHungUp], Awaitable[object]]
"""How telephony reports ringing, the outcome of a dial, a customer or an agent's phone hanging
up."""


class Dialer(Protocol):
    def place(self, call: PlaceCall) -> None: ...

    def cancel(self, dial_id: DialId) -> None: ...

    def connect(
        self, interaction_id: InteractionId, agent_id: AgentId, address: str | None
    ) -> None:
        """Bridge the customer to the agent, whose phone is ``address`` (None: no phone)."""
        ...

    def transfer_to_flow(self, interaction_id: InteractionId, flow_id: str) -> None: ...

    def hang_up(self, interaction_id: InteractionId) -> None: ...

    def play_message(self, interaction_id: InteractionId, audio: str | None) -> None:
        """R-X-14: play the information message to this interaction's customer, once."""
        ...

    def knows_dial(self, dial_id: DialId) -> bool:
        """Whether this dial is still in progress at the carrier (after a restart)."""
        ...

    def has_customer(self, interaction_id: InteractionId) -> bool:
        """Whether the customer of this interaction is still on a call with us."""
        ...

    async def close(self) -> None:
        """The service is stopping: end what is in progress."""
        ...
