"""A scripted day through the engine: two queues (agent-first and customer-first), five agents
and a dozen customers whose phones give every call progress outcome of SPEC §5 at least once.

Virtual agents accept, dial, talk and wrap up; a virtual carrier answers each number with the
outcomes scripted for it. Everything runs on a virtual clock, so the day replays exactly.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime

from dialback.domain.effects import Effect, PlaceCall, RecordPacingDecision, StartTimer
from dialback.domain.events import (
    AgentJoinedQueue,
    AgentPresenceChanged,
    AgentRegistered,
    CallbackRequested,
    CustomerHungUp,
    DialCompleted,
    Event,
    QueueConfigured,
    TimerFired,
    VoiceCallQueued,
)
from dialback.domain.facts import AgentStatusChanged, DialResolved, InteractionChanged
from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    ConversationId,
    EndReason,
    InteractionId,
    MediaType,
    Outcome,
    Presence,
    QueueId,
    State,
)
from dialback.domain.settings import parse_queue
from dialback.domain.timeline import SegmentClosed, SegmentOpened, Timeline
from dialback.sim.agents import VirtualAgents
from dialback.sim.clock import VirtualClock
from dialback.telephony.simulated import Analysis, CarrierModel, Script

START = datetime(2026, 11, 25, 8, 0, tzinfo=UTC).timestamp()
BILLING, SUPPORT = QueueId("billing"), QueueId("support")

# The carrier's script: each number answers its dials with these outcomes, in turn.
PHONES: dict[str, list[Outcome]] = {
    "+14155550101": [Outcome.LIVE_VOICE],
    "+14155550102": [Outcome.NO_ANSWER],
    "+14155550103": [Outcome.LIVE_VOICE],
    "+14155550104": [Outcome.BUSY],
    "+14155550105": [Outcome.LIVE_VOICE],
    "+14155550106": [Outcome.ANSWERING_MACHINE],
    "+14155550107": [Outcome.FAX],
    "+14155550108": [Outcome.SIT_INVALID_NUMBER],
    "+14155550109": [Outcome.NO_ANSWER, Outcome.LIVE_VOICE],
    "+14155550110": [Outcome.SIT_NO_CIRCUIT, Outcome.REJECTED],
    "+14155550111": [Outcome.SIT_OTHER],
    "+14155550112": [Outcome.CUSTOMER_HANGUP],
    "+14155550113": [Outcome.ERROR, Outcome.LIVE_VOICE],
    "+14155550114": [Outcome.LIVE_VOICE],
}
SIP_CODES = {
    Outcome.LIVE_VOICE: 200,
    Outcome.ANSWERING_MACHINE: 200,
    Outcome.FAX: 200,
    Outcome.CUSTOMER_HANGUP: 200,
    Outcome.BUSY: 486,
    Outcome.NO_ANSWER: 487,
    Outcome.SIT_INVALID_NUMBER: 404,
    Outcome.SIT_NO_CIRCUIT: 503,
    Outcome.SIT_OTHER: 500,
    Outcome.REJECTED: 603,
    Outcome.ERROR: 500,
}
RING_SECONDS = {Outcome.NO_ANSWER: 25.0, Outcome.BUSY: 3.0}  # until the result; 8 s otherwise
NEVER_RING = frozenset(
    {Outcome.BUSY, Outcome.SIT_INVALID_NUMBER, Outcome.SIT_NO_CIRCUIT, Outcome.ERROR}
)
GREETING_END = {Outcome.LIVE_VOICE: 1.1, Outcome.ANSWERING_MACHINE: 5.5}
ANALYSIS_SECONDS = 2.0


def scripted_carrier() -> CarrierModel:
    """The demo's carrier: each number answers as ``PHONES`` says; the phone rings after 2 s
    (unless the outcome never rings); the dialer's analysis gives the greeting's times."""
    return CarrierModel(
        Script(PHONES),
        ring_seconds=2.0,
        resolve_seconds=RING_SECONDS,
        resolve_default=8.0,
        sip_codes=SIP_CODES,
        silent=NEVER_RING,
        analysis=Analysis(0.2, GREETING_END, ANALYSIS_SECONDS),
    )


# (minutes after 08:00, callback id, queue, numbers, extra request fields)
CALLBACKS: list[tuple[float, str, QueueId, tuple[str, ...], dict[str, object]]] = [
    (1, "cb-ada", BILLING, ("+14155550102", "+14155550101"), {"user_name": "Ada"}),
    (2, "cb-ben", BILLING, ("+14155550103",), {"caller_id": "+14155550177"}),
    (3, "cb-cyd", BILLING, ("+14155550104",), {}),
    (4, "cb-dee", SUPPORT, ("+14155550105",), {"user_name": "Dee"}),
    (4.5, "cb-eli", SUPPORT, ("+14155550106",), {}),
    (5, "cb-fay", SUPPORT, ("+14155550107",), {}),
    (5.5, "cb-gus", SUPPORT, ("+14155550108",), {}),
    (6, "cb-hal", SUPPORT, ("+14155550109",), {"priority": 1}),
    (6.5, "cb-ivy", SUPPORT, ("+14155550110", "+14155550110"), {}),
    (7, "cb-jon", SUPPORT, ("+14155550111",), {}),
    (7.5, "cb-kim", SUPPORT, ("+14155550112",), {}),
    (8, "cb-lou", SUPPORT, ("+14155550113",), {}),
    (30, "cb-max", BILLING, ("+14155550114",), {"owner": "ann", "scheduled_in": 40}),
]
IMPATIENT = {"cb-hal"}
TALK_SECONDS, ACW_SECONDS, ACCEPT_SECONDS, REDIAL_SECONDS = 240.0, 30.0, 3.0, 5.0


def _queues() -> list[Event]:
    billing = parse_queue(
        {
            "name": "Billing",
            "callingPartyNumber": "+14155550100",
            "agentOwnedRouting": {"enableAgentOwnedCallbacks": True},
        }
    )
    support = parse_queue(
        {
            "name": "Support",
            "callingPartyNumber": "+14155550199",
            "callingPartyName": "Acme Support",
            "mediaSettings": {
                "callback": {
                    "mode": "CustomerFirst",
                    "pacingModifier": 10,
                    "maxRetryCount": 1,
                    "retryDelaySeconds": 120,
                }
            },
        }
    )
    return [QueueConfigured(BILLING, billing), QueueConfigured(SUPPORT, support)]


def _agents() -> Iterator[Event]:
    for name, queue in [("ann", BILLING), ("bob", BILLING), ("cat", SUPPORT), ("dan", SUPPORT)]:
        agent = AgentId(name)
        yield AgentRegistered(agent)
        yield AgentJoinedQueue(agent, queue)
        yield AgentPresenceChanged(agent, Presence.ON_QUEUE)


@dataclass
class Demo:
    """The scripted contact center: virtual agents, a scripted carrier, impatient customers."""

    clock: VirtualClock
    numbers: dict[InteractionId, int] = field(default_factory=dict)
    carrier: CarrierModel = field(default_factory=lambda: scripted_carrier())
    steps: list[tuple[float, Event, list[Effect]]] = field(default_factory=list)
    endings: dict[str, InteractionChanged] = field(default_factory=dict)
    agents: VirtualAgents = field(init=False)

    def __post_init__(self) -> None:
        self.agents = VirtualAgents(
            self.at,
            lambda callback: self.numbers[callback],
            talk_seconds=lambda _interaction: TALK_SECONDS,
            accept_seconds=ACCEPT_SECONDS,
            acw_seconds=ACW_SECONDS,
            redial_seconds=REDIAL_SECONDS,
        )

    def at(self, seconds: float, event: Event) -> None:
        self.clock.post(event, self.clock.now + seconds)

    def react(self, now: float, event: Event, effects: list[Effect]) -> None:
        self.steps.append((now, event, effects))
        self.agents.react(now, event, effects)
        for effect in effects:
            if isinstance(effect, PlaceCall):
                self._carrier(effect)
            elif isinstance(effect, InteractionChanged):
                self._customers(effect)

    def _carrier(self, dial: PlaceCall) -> None:
        for after, report in self.carrier.dial(dial).reports(dial.dial_id):
            self.at(after, report)

    def _customers(self, change: InteractionChanged) -> None:
        if change.state is State.ENDED:
            self.endings[change.interaction_id] = change
        elif (
            change.state is State.WAITING
            and change.media is MediaType.VOICE
            and change.interaction_id in IMPATIENT
        ):  # answered, then gives up waiting for an agent (R-CF-8)
            self.at(1, CustomerHungUp(change.interaction_id))


def timeline_of(demo: Demo) -> Timeline:
    timeline = Timeline()
    for _, _, effects in demo.steps:
        timeline.apply(effects)
    return timeline


def run_day(seed: int = 1) -> Demo:
    """Run the scripted day and return everything that happened."""
    clock = VirtualClock.seeded(seed, START)
    demo = Demo(clock)
    clock.listeners.append(demo.react)
    for event in [*_queues(), *_agents()]:
        clock.post(event)
    for minutes, name, queue, numbers, extra in CALLBACKS:
        fields_ = dict(extra)
        scheduled_in = fields_.pop("scheduled_in", None)
        request = CallbackRequest(
            queue,
            numbers,
            scheduled_time=START + (minutes + scheduled_in) * 60  # type: ignore[operator]
            if scheduled_in
            else None,
            **fields_,  # type: ignore[arg-type]
        )
        callback = InteractionId(name)
        demo.numbers[callback] = len(numbers)
        clock.post(
            CallbackRequested(callback, ConversationId(f"conv-{name}"), request),
            START + minutes * 60,
        )
    # Two live calls reach the support queue from the PBX and compete with the callbacks.
    for minutes, name in [(6.2, "call-nia"), (9, "call-oz")]:
        at = START + minutes * 60
        clock.post(
            VoiceCallQueued(
                InteractionId(name), ConversationId(f"conv-{name}"), SUPPORT, "+14155550150", at
            ),
            at,
        )
    clock.run_until(START + 4 * 3600)
    return demo


# --- describing events and effects for people ---------------------------------------------------
def _value(value: object) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe(item: object, skip: frozenset[str] = frozenset()) -> str:
    """``ClassName field=value …`` with empty fields left out."""
    if isinstance(item, RecordPacingDecision):
        d = item.decision
        return (
            f"PacingDecision {d.callback_id}: {d.reason.value} (on queue {d.on_queue}, idle "
            f"{d.idle}, outstanding {d.outstanding}, cap {d.cap_expected:g}→{d.cap})"
        )
    if isinstance(item, TimerFired):
        return f"TimerFired {item.key.kind.value} {item.key.subject}"
    if isinstance(item, StartTimer):
        return f"StartTimer {item.key.kind.value} {item.key.subject} +{item.at - START:g}s"
    if isinstance(item, DialResolved | DialCompleted):
        name = type(item).__name__
        return f"{name} {item.dial_id}: {item.result.outcome.value} (SIP {item.result.sip_code})"
    if isinstance(item, InteractionChanged):
        text = f"{item.interaction_id} ({item.media.value}) → {item.state.value}"
        extra = [
            f"{label} {_value(value)}"
            for label, value in (
                ("agent", item.agent_id),
                ("outcome", item.outcome),
                ("end", item.end_reason),
                ("wrap-up", item.wrapup_code),
            )
            if value is not None
        ]
        return f"{text} ({', '.join(extra)})" if extra else text
    if isinstance(item, SegmentOpened | SegmentClosed):
        return _segment(item)
    if isinstance(item, AgentStatusChanged):
        return f"agent {item.agent_id} → {item.status.value}"
    if isinstance(item, PlaceCall):
        who = f"agent {item.agent_id}" if item.agent_id else "dialer"
        return (
            f"PlaceCall {item.dial_id} to {item.number} from {item.caller_id} by {who} "
            f"(attempt {item.attempt})"
        )
    parts = [type(item).__name__]
    for f in fields(item):  # type: ignore[arg-type]
        value = getattr(item, f.name)
        if value is None or f.name in skip:
            continue
        parts.append(f"{f.name}={_value(value)}")
    return " ".join(parts)


def _segment(item: SegmentOpened | SegmentClosed) -> str:
    """``segment acd/callback interact cb-ada opened (queue billing)``: who, what and where,
    with how it ended when it closes."""
    g = item.segment
    who = f"agent {g.agent_id}" if g.agent_id else g.purpose.value
    text = f"segment {who} {g.media.value} {g.type.value} {g.interaction_id}"
    if isinstance(item, SegmentOpened):
        return f"{text} opened (queue {g.queue_id})"
    details = [
        str(value)
        for value in (
            g.how_ended.value if g.how_ended else None,
            g.outcome.value if g.outcome else None,
            f"wrap-up {g.wrapup_code}" if g.wrapup_code else None,
            f"flow {g.flow_id}" if g.flow_id else None,
        )
        if value
    ]
    duration = f"{(g.end or g.start) - g.start:g}s"
    return f"{text} closed after {duration}" + (f" ({', '.join(details)})" if details else "")


def clock_time(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")


def final_outcomes(demo: Demo) -> list[tuple[str, str, str, str]]:
    """(interaction, media, end reason, outcome) of every interaction that ended."""
    rows = []
    for name, change in sorted(demo.endings.items()):
        reason = change.end_reason or EndReason.HANDLED
        outcome = change.outcome.value if change.outcome else "-"
        rows.append((name, change.media.value, reason.value, outcome))
    return rows
