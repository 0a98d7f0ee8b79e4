"""The Dialer port over SIP: ``dialback serve --sip sip:trunk-host:port``.

- **place**: INVITE ``sip:<number>@<trunk>`` with the queue's caller ID. A customer-first dial is
  analysed (call progress analysis decides the outcome); an agent-first dial is the agent's own:
  the answer is the outcome, and the customer is put through to the agent's phone at once.
- A customer who answers with a live voice or an answering machine stays on the line, hearing
  the hold audio, until the engine decides: **connect** calls the agent's SIP address and relays
  RTP between the two legs; **transfer_to_flow** does the same with the flow's SIP address;
  **hang_up** sends BYE to every leg of the interaction.
- What the far ends do comes back as events: ringing (``DialRang``), the outcome
  (``DialCompleted`` with the SIP code and the greeting times), the customer hanging up
  (``CustomerHungUp``), and the agent hanging up their phone (``AgentHungUp``).

dialback stays in the media path of a bridged call (a back-to-back user agent relaying RTP)
rather than joining the legs with re-INVITEs: see docs/decisions.md.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from dialback.domain.effects import PlaceCall
from dialback.domain.events import AgentHungUp, CustomerHungUp, DialCompleted, DialRang
from dialback.domain.model import AgentId, DialId, DialResult, InteractionId, Outcome
from dialback.telephony.cpa.audio import Samples, load
from dialback.telephony.errors import UnreadableAudio
from dialback.telephony.port import Report
from dialback.telephony.sip.message import host_port
from dialback.telephony.sip.uac import Call, DialReport, DialSettings, bridge

log = logging.getLogger("dialback.sip")

# Issue 15: how long after the machine verdict a dial for TransferToFlow waits for the beep
# (a greeting still talking then goes to the flow without one), and the quiet that ends a
# greeting without a beep (docs/decisions.md)
BEEP_WAIT_MS = 10_000
GREETING_END_MS = 1_500


def default_hold() -> Samples:
    """Hold audio when none is given: a soft two-note chime every four seconds."""
    rate = 8000
    t = np.arange(int(0.4 * rate)) / rate
    fade = np.minimum(1.0, (0.4 - t) * 10)
    notes = [np.sin(2 * np.pi * f * t) * fade * 3000 for f in (523.25, 659.25)]
    chime = np.concatenate([*notes, np.zeros(int(3.2 * rate))])
    return chime.astype(np.int16)


def trunk_target(trunk: str, number: str) -> str:
    """``sip:<number>@host:port`` for a number dialled through ``trunk`` (``sip:host[:port]``,
    whose URI parameters such as ``;transport=tcp`` are kept)."""
    host, port = host_port(trunk)
    host = f"[{host}]" if ":" in host else host
    params = trunk[trunk.index(";") :] if ";" in trunk else ""
    return f"sip:{number}@{host}:{port}{params}"


@dataclass
class SipDialer:
    report: Report
    trunk: str
    flows: Mapping[str, str] = field(default_factory=dict)
    hold: Samples | None = None
    settings: DialSettings = field(default_factory=DialSettings)
    agent_ring_seconds: float = 30.0
    dials: dict[DialId, Call] = field(default_factory=dict)
    customers: dict[InteractionId, Call] = field(default_factory=dict)
    far_legs: dict[InteractionId, Call] = field(default_factory=dict)  # an agent's or a flow's
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def __post_init__(self) -> None:
        host_port(self.trunk)  # a clear error now for a trunk that is not a sip: URI

    def _spawn(self, work: Awaitable[object]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- the port -------------------------------------------------------------------------------
    def place(self, call: PlaceCall) -> None:
        leg = Call(
            trunk_target(self.trunk, call.number),
            caller_id=call.caller_id or "anonymous",
            caller_name=call.caller_id_name,
            callback_id=call.interaction_id,
            settings=self._dial_settings(call),
            keep=True,
            analyze=call.agent_id is None,
            on_ringing=lambda: self._spawn(self.report(DialRang(call.dial_id))),
        )
        self.dials[call.dial_id] = leg
        self._spawn(self._dial(call, leg))

    def _dial_settings(self, call: PlaceCall) -> DialSettings:
        """The trunk's settings; an unanswered call rings at least the queue's minimum ring
        time (R-X-15) whatever the trunk's ``ring_timeout``; a dial whose machine goes to a
        flow waits for the greeting's beep: up to ``BEEP_WAIT_MS`` after the machine verdict,
        or until ``GREETING_END_MS`` of quiet say the greeting ended without one (unless the
        trunk's settings say otherwise)."""
        settings = self.settings
        if call.minimum_ring_seconds > settings.ring_timeout:
            settings = replace(settings, ring_timeout=call.minimum_ring_seconds)
        cpa = settings.cpa
        if not call.wait_for_beep or cpa.amd.beep_wait > 0:
            return settings
        cpa = replace(
            cpa,
            amd=replace(cpa.amd, beep_wait=BEEP_WAIT_MS),
            greeting_end_ms=cpa.greeting_end_ms or GREETING_END_MS,
        )
        return replace(settings, cpa=cpa)

    async def _dial(self, call: PlaceCall, leg: Call) -> None:
        try:
            report = await leg.run()
        except Exception:  # a bug of ours must not lose the dial: the engine hears ERROR
            log.exception("dial %s failed", call.dial_id)
            report = DialReport(Outcome.ERROR, None, "INTERNAL")
        self.dials.pop(call.dial_id, None)
        log.info("dial %s to %s: %s (%s)", call.dial_id, call.number, report.outcome, report.cause)
        if leg.up and leg.cancelled:  # given up just as the analysis decided
            await leg.hang_up()
        if leg.up:
            self._hold(call.interaction_id, leg)
        result = DialResult(
            report.outcome,
            report.sip_code,
            report.greeting_start,
            report.greeting_end,
            report.reported_after or 0.0,  # the answer was this long before now
            report.beep_start,
            report.beep_end,
        )
        await self.report(DialCompleted(call.dial_id, result))
        if leg.up and call.agent_id is not None:  # agent-first: the agent's own call
            self.connect(call.interaction_id, call.agent_id, call.agent_address)

    def _hold(self, interaction_id: InteractionId, leg: Call) -> None:
        """The customer is ours: hold audio until an agent or a flow takes the call."""
        self.customers[interaction_id] = leg
        leg.rtp.hold = self.hold
        leg.on_ended = lambda cause: self._customer_left(interaction_id, leg, cause)

    def _customer_left(self, interaction_id: InteractionId, leg: Call, cause: str) -> None:
        if self.customers.get(interaction_id) is leg:
            del self.customers[interaction_id]
        far = self.far_legs.pop(interaction_id, None)
        if far is not None:
            self._spawn(far.hang_up())
        log.info("customer of %s hung up (%s)", interaction_id, cause)
        self._spawn(self.report(CustomerHungUp(interaction_id)))

    def cancel(self, dial_id: DialId) -> None:
        leg = self.dials.get(dial_id)
        if leg is not None:
            leg.cancel()

    def connect(
        self, interaction_id: InteractionId, agent_id: AgentId, address: str | None
    ) -> None:
        if address is None:
            log.warning("agent %s has no SIP address: %s stays on hold", agent_id, interaction_id)
            return
        self._spawn(self._join(interaction_id, address, agent_id))

    def transfer_to_flow(self, interaction_id: InteractionId, flow_id: str) -> None:
        address = self.flows.get(flow_id)
        if address is None:
            log.error("no SIP address for flow %s: hanging up %s", flow_id, interaction_id)
            self.hang_up(interaction_id)
            return
        self._spawn(self._join(interaction_id, address, None))

    async def _join(
        self, interaction_id: InteractionId, address: str, agent: AgentId | None
    ) -> None:
        """Call ``address`` (an agent's phone, or a flow) and relay RTP with the customer."""
        customer = self.customers.get(interaction_id)
        if customer is None or not customer.up:
            log.warning("%s has no customer on the line to connect", interaction_id)
            return
        settings = DialSettings(
            ring_timeout=self.agent_ring_seconds,
            transaction_timeout=self.settings.transaction_timeout,
            kept_media_timeout=self.settings.kept_media_timeout,
            local_ip=self.settings.local_ip,
            credentials=self.settings.credentials,
        )
        far = Call(
            address,
            caller_id=customer.caller_id,
            callback_id=interaction_id,
            settings=settings,
            keep=True,
            analyze=False,
        )
        report = await far.run()
        if not far.up:
            log.error("%s did not answer for %s: %s", address, interaction_id, report.cause)
            return  # the customer stays on hold; the agent's desktop can still hang up
        if not customer.up:  # the customer left while the phone rang
            await far.hang_up()
            return
        self.far_legs[interaction_id] = far
        bridge(customer, far)
        far.on_ended = lambda cause: self._far_left(interaction_id, far, agent, cause)
        log.info("%s connected to %s", interaction_id, address)

    def _far_left(
        self, interaction_id: InteractionId, far: Call, agent: AgentId | None, cause: str
    ) -> None:
        if self.far_legs.get(interaction_id) is far:
            del self.far_legs[interaction_id]
        if agent is not None:
            self._spawn(self.report(AgentHungUp(agent, interaction_id)))
        self.hang_up(interaction_id)

    def play_message(self, interaction_id: InteractionId, audio: str | None) -> None:
        """R-X-14: play the information message (a WAV or raw G.711 file) to a customer on
        hold, once; an unreadable file is logged and nothing is played."""
        leg = self.customers.get(interaction_id)
        if leg is None or audio is None:
            return
        try:
            samples = load(Path(audio))
        except (UnreadableAudio, OSError):
            log.exception("information message %s cannot be played", audio)
            return
        leg.rtp.play_once(samples)

    def hang_up(self, interaction_id: InteractionId) -> None:
        for legs in (self.customers, self.far_legs):
            leg = legs.pop(interaction_id, None)
            if leg is not None:
                self._spawn(leg.hang_up())

    def knows_dial(self, dial_id: DialId) -> bool:
        return dial_id in self.dials

    def has_customer(self, interaction_id: InteractionId) -> bool:
        leg = self.customers.get(interaction_id)
        return leg is not None and leg.up

    async def close(self) -> None:
        """Hang up every leg (the service is stopping)."""
        for interaction_id in list(self.customers) + list(self.far_legs):
            self.hang_up(interaction_id)
        for leg in list(self.dials.values()):
            leg.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=5)
