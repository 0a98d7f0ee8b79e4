"""The simulated carrier's model: pure decisions that the service, the simulator and the scripted
demo schedule on their own clocks."""

from __future__ import annotations

import random

from dialback.domain.effects import PlaceCall
from dialback.domain.events import DialCompleted, DialRang
from dialback.domain.model import AgentId, DialId, DialResult, InteractionId, Outcome
from dialback.telephony.simulated import (
    DEFAULT_MIX,
    Analysis,
    CarrierModel,
    Mix,
    Progress,
    Script,
    service_model,
)


def call(number: str = "+14155550101", agent: str | None = None, n: int = 1) -> PlaceCall:
    return PlaceCall(
        DialId(f"cb#{n}"),
        InteractionId("cb"),
        number,
        "+14155550100",
        None,
        AgentId(agent) if agent else None,
        n,
    )


def test_a_mix_draws_once_per_dial_in_the_order_of_the_seeded_rng() -> None:
    model = service_model(Mix(DEFAULT_MIX, random.Random(7)))
    drawn = [model.dial(call(n=n)).result.outcome for n in range(50)]
    rng = random.Random(7)
    outcomes, weights = zip(*DEFAULT_MIX.items(), strict=True)
    assert drawn == [rng.choices(outcomes, weights)[0] for _ in range(50)]


def test_the_service_model_rings_then_resolves_with_the_sip_code() -> None:
    always = {Outcome.NO_ANSWER: 1.0}
    progress = service_model(Mix(always, random.Random(1))).dial(call())
    assert progress == Progress(3.0, 20.0, DialResult(Outcome.NO_ANSWER, 487))
    assert progress.reports(DialId("cb#1")) == [
        (3.0, DialRang(DialId("cb#1"))),
        (20.0, DialCompleted(DialId("cb#1"), DialResult(Outcome.NO_ANSWER, 487))),
    ]
    live = service_model(Mix({Outcome.LIVE_VOICE: 1.0}, random.Random(1))).dial(call())
    assert live == Progress(3.0, 6.0, DialResult(Outcome.LIVE_VOICE, 200))


def test_a_script_answers_each_number_in_turn_then_repeats_its_last_outcome() -> None:
    script = Script({"+1": [Outcome.BUSY, Outcome.LIVE_VOICE], "+2": [Outcome.FAX]})
    assert [script(call("+1")), script(call("+2")), script(call("+1")), script(call("+1"))] == [
        Outcome.BUSY,
        Outcome.FAX,
        Outcome.LIVE_VOICE,
        Outcome.LIVE_VOICE,
    ]


def test_silent_outcomes_never_ring_and_a_dial_resolving_first_does_not_ring() -> None:
    model = CarrierModel(
        Script({"+1": [Outcome.BUSY, Outcome.NO_ANSWER]}),
        ring_seconds=2.0,
        resolve_seconds={Outcome.NO_ANSWER: 2.0},
        resolve_default=3.0,
        sip_codes={Outcome.BUSY: 486},
        sip_default=500,
        silent=frozenset({Outcome.BUSY}),
    )
    assert model.dial(call("+1")) == Progress(None, 3.0, DialResult(Outcome.BUSY, 486))
    assert model.dial(call("+1")) == Progress(None, 2.0, DialResult(Outcome.NO_ANSWER, 500))


def test_the_dialers_analysis_gives_greeting_times_but_not_to_an_agents_dial() -> None:
    model = CarrierModel(
        Script({"+1": [Outcome.ANSWERING_MACHINE]}),
        ring_seconds=2.0,
        resolve_seconds={},
        resolve_default=8.0,
        sip_codes={Outcome.ANSWERING_MACHINE: 200},
        analysis=Analysis(0.2, {Outcome.ANSWERING_MACHINE: 5.5}, 2.0),
    )
    by_dialer = model.dial(call("+1")).result
    assert by_dialer == DialResult(Outcome.ANSWERING_MACHINE, 200, 0.2, 5.5, 2.0)
    assert model.dial(call("+1", agent="ann")).result == DialResult(Outcome.ANSWERING_MACHINE, 200)
