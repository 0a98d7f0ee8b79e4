"""The SIP adapter of the Dialer port against real phones (issue 6): baresip plays the customer
and the agent (each answers, speaks a tone, and records what it hears), sipp plays a line that
only rings. What the engine would ask (place, connect, transfer to a flow, hang up, cancel) is
asked directly here; what the far ends do comes back as the engine's events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from dialback.domain.effects import PlaceCall
from dialback.domain.events import AgentHungUp, CustomerHungUp, DialCompleted, DialRang
from dialback.domain.model import AgentId, DialId, InteractionId, Outcome
from dialback.telephony.sip.dialer import SipDialer, default_hold, trunk_target
from dialback.telephony.sip.uac import DialSettings

from . import corpus, sipp
from .baresip import Phone, agent_phone, recorded, tone_seconds, write_wav
from .conftest import require

CUSTOMER_TONE, AGENT_TONE = 1400.0, 700.0
NUMBER = "+14155552671"  # the customer's phone answers to it
HOLD_NOTE = 650.0  # the default hold chime's second note (659 Hz) falls in this 50 Hz bin
Event = DialRang | DialCompleted | CustomerHungUp | AgentHungUp


@pytest.fixture(scope="module", autouse=True)
def tools() -> None:
    require("the SIP dialer tests were", "sipp", "baresip")


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[tuple[Phone, Phone]]:
    """(customer, agent): the customer says "Hello?" then holds a tone; the agent a lower one."""
    customer_voice = corpus.cat(
        corpus.silence(0.3),
        corpus.speak("Hello?", "en-us", 150),
        corpus.silence(1.5),
        corpus.tone(CUSTOMER_TONE, 30.0, level=6000),
    )
    with ExitStack() as stack:
        customer = stack.enter_context(
            agent_phone(
                tmp_path / "customer",
                write_wav(tmp_path / "customer.wav", customer_voice),
                user=NUMBER,
            )
        )
        agent = stack.enter_context(
            agent_phone(
                tmp_path / "agent",
                write_wav(tmp_path / "agent.wav", corpus.tone(AGENT_TONE, 30.0, level=6000)),
            )
        )
        yield customer, agent


def place(
    number: str, agent: AgentId | None = None, n: int = 1, phone: str | None = None
) -> PlaceCall:
    return PlaceCall(
        DialId(f"cb-{n}#1"),
        InteractionId(f"cb-{n}"),
        number,
        "+14155550100",
        "Acme",
        agent,
        1,
        phone,
    )


def trunk_of(phone: Phone) -> str:
    """A baresip phone as the trunk: any number dialled there reaches it."""
    return "sip:" + phone.uri.split("@", 1)[1]


async def until(check: Callable[[], object], seconds: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def run(
    scenario: Callable[[SipDialer, list[Event]], Awaitable[None]],
    trunk: str,
    flows: dict[str, str] | None = None,
) -> list[Event]:
    events: list[Event] = []

    async def report(event: Event) -> None:
        events.append(event)

    async def main() -> None:
        dialer = SipDialer(
            report,
            trunk,
            flows or {},
            default_hold(),
            DialSettings(ring_timeout=10, transaction_timeout=5),
        )
        try:
            await scenario(dialer, events)
        finally:
            await dialer.close()

    asyncio.run(main())
    return events


def completed(events: list[Event]) -> DialCompleted | None:
    return next((e for e in events if isinstance(e, DialCompleted)), None)


def test_the_customer_hears_hold_audio_then_the_agent_and_the_agent_hears_the_customer(
    phones: tuple[Phone, Phone],
) -> None:
    customer, agent = phones

    async def scenario(dialer: SipDialer, events: list[Event]) -> None:
        dialer.place(place(NUMBER))
        await until(lambda: completed(events), 10, "the dial's outcome")
        found = completed(events)
        assert found is not None and found.result.outcome is Outcome.LIVE_VOICE
        assert found.result.sip_code == 200 and found.result.greeting_end is not None
        assert dialer.has_customer(InteractionId("cb-1"))
        await asyncio.sleep(2.0)  # waiting for an agent: hold audio
        dialer.connect(InteractionId("cb-1"), AgentId("ann"), agent.uri)
        await until(agent.heard, 10, "the agent's phone to answer")
        await until(
            lambda: tone_seconds(recorded(agent.heard()[0]), CUSTOMER_TONE) >= 2.0,
            15,
            "the customer's voice at the agent",
        )
        agent.command("hangup")  # the agent hangs up on their phone
        await until(lambda: AgentHungUp(AgentId("ann"), InteractionId("cb-1")) in events, 10,
                    "the agent's hang-up to be reported")  # fmt: skip
        await until(lambda: not dialer.has_customer(InteractionId("cb-1")), 5, "the customer BYE")

    events = run(scenario, trunk_of(customer))
    assert [type(e) for e in events if not isinstance(e, DialRang)] == [
        DialCompleted,
        AgentHungUp,
    ]
    heard = recorded(customer.heard()[0])
    assert tone_seconds(heard, HOLD_NOTE) >= 0.2  # the hold chime, while waiting
    assert tone_seconds(heard, AGENT_TONE) >= 1.0  # then the agent's voice


def test_r_cf_8_a_customer_who_hangs_up_on_hold_is_reported(phones: tuple[Phone, Phone]) -> None:
    customer, _ = phones

    async def scenario(dialer: SipDialer, events: list[Event]) -> None:
        dialer.place(place(NUMBER))
        await until(lambda: completed(events), 10, "the dial's outcome")
        customer.command("hangup")
        await until(lambda: CustomerHungUp(InteractionId("cb-1")) in events, 10, "the hang-up")
        assert not dialer.has_customer(InteractionId("cb-1"))

    run(scenario, trunk_of(customer))


def test_transfer_to_flow_relays_the_customer_to_the_flows_address(
    phones: tuple[Phone, Phone],
) -> None:
    customer, flow = phones

    async def scenario(dialer: SipDialer, events: list[Event]) -> None:
        dialer.place(place(NUMBER))
        await until(lambda: completed(events), 10, "the dial's outcome")
        dialer.transfer_to_flow(InteractionId("cb-1"), "survey")
        await until(flow.heard, 10, "the flow to answer")
        await until(
            lambda: tone_seconds(recorded(flow.heard()[0]), CUSTOMER_TONE) >= 1.0,
            15,
            "the customer at the flow",
        )
        dialer.hang_up(InteractionId("cb-1"))
        assert not dialer.has_customer(InteractionId("cb-1"))

    events = run(scenario, trunk_of(customer), flows={"survey": flow.uri})
    assert not any(isinstance(e, CustomerHungUp | AgentHungUp) for e in events)


def test_a_flow_without_an_address_hangs_up_the_customer(phones: tuple[Phone, Phone]) -> None:
    customer, _ = phones

    async def scenario(dialer: SipDialer, events: list[Event]) -> None:
        dialer.place(place(NUMBER))
        await until(lambda: completed(events), 10, "the dial's outcome")
        dialer.transfer_to_flow(InteractionId("cb-1"), "nowhere")
        assert not dialer.has_customer(InteractionId("cb-1"))
        await until(lambda: "session closed" in customer.log.read_text(), 5, "the customer's BYE")

    run(scenario, trunk_of(customer))


def test_an_agent_first_dial_is_not_analysed_and_goes_straight_to_the_agent(
    phones: tuple[Phone, Phone],
) -> None:
    customer, agent = phones

    async def scenario(dialer: SipDialer, events: list[Event]) -> None:
        dialer.place(place(NUMBER, agent=AgentId("ann"), phone=agent.uri))
        await until(lambda: completed(events), 10, "the dial's outcome")
        found = completed(events)
        assert found is not None
        assert (found.result.outcome, found.result.analysis_seconds) == (Outcome.LIVE_VOICE, 0)
        await until(agent.heard, 10, "the agent's phone to answer")
        await until(
            lambda: tone_seconds(recorded(agent.heard()[0]), CUSTOMER_TONE) >= 1.0,
            15,
            "the customer at the agent",
        )
        dialer.hang_up(InteractionId("cb-1"))

    run(scenario, trunk_of(customer))


def test_an_agent_without_a_phone_leaves_the_customer_on_hold(
    phones: tuple[Phone, Phone],
) -> None:
    customer, _ = phones

    async def scenario(dialer: SipDialer, events: list[Event]) -> None:
        dialer.place(place(NUMBER))
        await until(lambda: completed(events), 10, "the dial's outcome")
        dialer.connect(InteractionId("cb-1"), AgentId("desk-only"), None)
        await asyncio.sleep(0.5)
        assert dialer.has_customer(InteractionId("cb-1"))
        assert not dialer.far_legs

    run(scenario, trunk_of(customer))


def test_cancelling_a_ringing_dial_sends_cancel(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dialback.sip")
    exits: list[int] = []
    with sipp.sipp(sipp.ring_forever(), tmp_path, exits=exits) as port:

        async def scenario(dialer: SipDialer, events: list[Event]) -> None:
            dialer.place(place(NUMBER))
            await until(lambda: DialRang(DialId("cb-1#1")) in events, 5, "ringing")
            assert dialer.knows_dial(DialId("cb-1#1"))
            dialer.cancel(DialId("cb-1#1"))
            await until(lambda: completed(events), 6, "the cancelled dial to end")
            assert not dialer.knows_dial(DialId("cb-1#1"))

        events = run(scenario, f"sip:127.0.0.1:{port}")
    found = completed(events)
    assert found is not None
    assert (found.result.outcome, found.result.sip_code) == (Outcome.NO_ANSWER, 487)
    assert "(CANCELLED)" in caplog.text  # our CANCEL, not the ring timeout
    assert exits == [0]  # sipp saw the CANCEL and got the ACK of its 487


def test_a_dial_cancelled_while_the_analysis_listens_hangs_up(phones: tuple[Phone, Phone]) -> None:
    """The callback is disconnected after the customer answered, before the analysis decided:
    the customer is hung up, not left on hold."""
    customer, _ = phones

    async def scenario(dialer: SipDialer, events: list[Event]) -> None:
        dialer.place(place(NUMBER))
        await asyncio.sleep(0.6)  # answered at once; "Hello?" is still being said
        dialer.cancel(DialId("cb-1#1"))
        await until(lambda: completed(events), 5, "the cancelled dial to end")
        found = completed(events)
        assert found is not None
        assert (found.result.outcome, found.result.sip_code) == (Outcome.NO_ANSWER, 200)
        assert not dialer.has_customer(InteractionId("cb-1"))
        await until(lambda: "session closed" in customer.log.read_text(), 5, "the customer's BYE")

    run(scenario, trunk_of(customer))


def test_trunk_targets_put_the_number_in_the_user_part() -> None:
    assert trunk_target("sip:carrier.example:5080", "+14155552671") == (
        "sip:+14155552671@carrier.example:5080"
    )
    assert trunk_target("sip:[::1]", "123") == "sip:123@[::1]:5060"
    assert trunk_target("sip:10.0.0.1;transport=tcp", "1") == "sip:1@10.0.0.1:5060;transport=tcp"


def test_r_x_15_an_unanswered_dial_rings_at_least_the_queue_s_minimum() -> None:
    """docs/compliance.md R-X-15: the trunk's ring timeout never cuts a dial short of the
    queue's minimum ring time; a longer trunk timeout stays as it is."""

    async def report(_: object) -> None:
        return None

    def ring_timeout(trunk: float, minimum: float) -> float:
        dialer = SipDialer(report, "sip:127.0.0.1:5060", settings=DialSettings(ring_timeout=trunk))
        call = PlaceCall(
            DialId("d"), InteractionId("cb"), "+14155552671", None, None, None, 1,
            minimum_ring_seconds=minimum,
        )  # fmt: skip
        return dialer._dial_settings(call).ring_timeout

    assert ring_timeout(10.0, 15.0) == 15.0
    assert ring_timeout(30.0, 15.0) == 30.0
    assert ring_timeout(10.0, 0.0) == 10.0  # agent-first dials carry no minimum
