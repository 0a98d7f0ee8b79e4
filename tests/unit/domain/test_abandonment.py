"""Abandoned-call accounting (R-X-12..15) and pacing to an abandonment budget (R-X-16..18),
docs/compliance.md."""

from __future__ import annotations

from typing import Any

import pytest

from dialback.domain.abandonment import (
    AIM,
    SAFETY,
    BudgetInputs,
    Ledger,
    Tally,
    budget,
    budget_decide,
    ofcom_rate,
    us_rate,
)
from dialback.domain.compliance import AbandonmentWindow, BudgetSettings, PacingMode
from dialback.domain.effects import Effect, OfferToAgent, PlayInformationMessage
from dialback.domain.errors import ValueOutOfRange
from dialback.domain.events import (
    AgentHungUp,
    AlertAccepted,
    CustomerHungUp,
    DialCompleted,
    LockoutsShared,
    VoiceCallQueued,
    WrapUpCompleted,
)
from dialback.domain.model import ConversationId, DialResult, InteractionId, Outcome
from dialback.domain.pacing import Reason
from dialback.domain.records import CallAccounted, ComplianceRecorded, NumberLockedOut, RecordKind
from dialback.domain.settings import parse_queue
from dialback.telephony.simulated import CarrierModel, Mix

from .harness import Q, World

CALLER = "+14155550199"
NUMBER = "+14155550100"


def cf(abandonment: dict[str, Any] | None = None, **callback: Any) -> dict[str, Any]:
    return {
        "callingPartyNumber": CALLER,
        "mediaSettings": {"callback": {"mode": "CustomerFirst", **callback}},
        "compliance": {"abandonment": abandonment or {}},
    }


# --- the formulas ---------------------------------------------------------------------------------
def test_r_x_13_the_us_rate_is_abandoned_over_live_answers() -> None:
    assert us_rate(100, 3) == 0.03
    assert us_rate(0, 0) == 0.0


def test_r_x_13_ofcom_formula_matches_its_worked_example() -> None:
    # 29 drops, 9 agent-answered humans, 7 agent-answered machines -> 64.44 % (VICIdial docs)
    assert ofcom_rate(29, 9, 7) == pytest.approx(0.6444, abs=1e-4)
    assert ofcom_rate(1, 99, 0) == pytest.approx(0.01)


def test_r_x_17_the_budget_is_what_the_target_still_allows() -> None:
    ledger = Ledger()
    for t in range(100):
        ledger.add(float(t), Tally.LIVE)
        if t == 50:
            ledger.add(50.0, Tally.ABANDON)
    aim = 0.03 * AIM  # the loop aims under the target
    assert budget(BudgetSettings(target_rate=0.03), ledger) == pytest.approx(aim * 100 - 1)
    ledger.since(60.0)  # the window moves on: 40 live answers, no abandon
    assert budget(BudgetSettings(target_rate=0.03), ledger) == pytest.approx(aim * 40)
    uk = BudgetSettings(target_rate=0.03, window=AbandonmentWindow.CALENDAR_DAY)
    day = Ledger()
    for t in range(97):
        day.add(float(t), Tally.AGENT_HUMAN)
    # 3 drops in 100 live calls would be 3 %; the loop allows 80 % of that
    assert budget(uk, day) == pytest.approx(aim * 97 / (1 - aim))


# --- accounting in the engine ---------------------------------------------------------------------
def busy_agent(w: World) -> None:
    """One agent, talking to a live call, so an answered callback has to wait."""
    (agent,) = w.agents(1)
    call = InteractionId("v1")
    w.send(VoiceCallQueued(call, ConversationId("cv1"), Q, "+14155550111", w.now))
    w.send(AlertAccepted(agent, call))


def finish_call(w: World) -> None:
    w.send(AgentHungUp(next(iter(w.engine.agents)), InteractionId("v1")))
    w.send(WrapUpCompleted(next(iter(w.engine.agents)), InteractionId("v1"), "done"))
    answer(w)


def answer(w: World) -> None:
    """The agent answers the alert of the converted callback: it is connected now."""
    offer = w.of(OfferToAgent)[-1]
    w.send(AlertAccepted(offer.agent_id, offer.interaction_id))


def test_r_x_12_a_live_voice_connected_at_once_is_not_abandoned() -> None:
    w = World()
    w.queue(cf())
    w.agents(1)
    w.callback("cb", numbers=(NUMBER,))
    (dial,) = w.dials()
    w.now += 10
    w.complete(dial, Outcome.LIVE_VOICE, 200)
    answer(w)
    (record,) = w.of(CallAccounted)
    assert (record.abandoned, record.connected_at, record.greeting_end) == (False, w.now, w.now)
    assert (record.number, record.dial_id) == (NUMBER, dial.dial_id)


def test_r_x_12_a_live_voice_waiting_past_the_threshold_is_abandoned_and_hears_the_message() -> (
    None
):
    w = World()
    w.queue(
        cf({"informationMessage": True, "informationAudio": "optout.wav"}, pacingTrigger="Pace")
    )
    busy_agent(w)
    w.callback("cb", numbers=(NUMBER,))
    (dial,) = w.dials()
    w.complete(dial, Outcome.LIVE_VOICE, 200)
    answered = w.now
    w.advance(1.9)
    assert w.of(ComplianceRecorded) == []
    w.advance(0.2)  # 2 s after the greeting end
    (message,) = w.of(ComplianceRecorded)
    assert (message.kind, message.detail, message.number) == (
        RecordKind.INFORMATION_MESSAGE,
        "optout.wav",
        NUMBER,
    )
    assert w.of(PlayInformationMessage) == [
        PlayInformationMessage(message.interaction_id, "optout.wav")
    ]
    assert w.of(CallAccounted) == []  # its record comes when its fate is known
    w.advance(30)
    finish_call(w)  # the agent is free: the customer is put through, late
    (record,) = w.of(CallAccounted)
    assert record.abandoned and record.connected_at == w.now and record.answered_at == answered


def test_r_x_12_a_customer_who_hangs_up_within_the_threshold_is_abandoned() -> None:
    w = World()
    w.queue(cf(pacingTrigger="Pace"))
    busy_agent(w)
    cb = w.callback("cb", numbers=(NUMBER,))
    w.complete(w.dials()[0], Outcome.LIVE_VOICE, 200)
    w.advance(1)
    w.send(CustomerHungUp(cb))
    (record,) = w.of(CallAccounted)
    assert record.abandoned and record.connected_at is None


def test_r_x_12_the_threshold_runs_from_the_greeting_end_that_cpa_reports() -> None:
    w = World()
    w.queue(cf({"thresholdSeconds": 2}, pacingTrigger="Pace"))
    busy_agent(w)
    w.callback("cb", numbers=(NUMBER,))
    dial = w.dials()[0]
    w.advance(5)  # it rings
    # answered 3 s ago, greeting ended 1.5 s after the answer: the threshold ends 0.5 s from now
    w.send(DialCompleted(dial.dial_id, DialResult(Outcome.LIVE_VOICE, 200, 0.2, 1.5, 3.0)))
    w.advance(0.4)
    finish_call(w)
    (record,) = w.of(CallAccounted)
    assert not record.abandoned
    assert record.greeting_end == pytest.approx(w.now - 0.4 - 1.5)


def test_r_x_12_the_hang_up_reaction_abandons_a_live_voice_and_a_flow_does_not() -> None:
    w = World()
    w.queue(cf(liveVoiceReactionType="HangUp"))
    w.agents(1)
    w.callback("cb", numbers=(NUMBER,))
    w.complete(w.dials()[0], Outcome.LIVE_VOICE, 200)
    assert [r.abandoned for r in w.of(CallAccounted)] == [True]
    flow = World()
    flow.queue(cf(liveVoiceReactionType="TransferToFlow", liveVoiceFlow={"id": "f1"}))
    flow.agents(1)
    flow.callback("cb", numbers=(NUMBER,))
    flow.complete(flow.dials()[0], Outcome.LIVE_VOICE, 200)
    assert [r.abandoned for r in flow.of(CallAccounted)] == [False]


def test_r_x_13_answering_machines_are_recorded_for_ofcom_s_estimate() -> None:
    w = World()
    w.queue(cf())
    w.agents(1)
    w.callback("cb", numbers=(NUMBER,))
    w.complete(w.dials()[0], Outcome.ANSWERING_MACHINE, 200)
    (record,) = w.of(CallAccounted)
    assert (record.machine, record.agent_connected, record.abandoned) == (True, False, False)
    assert w.engine.guard.accounting.ledger(Q)[Tally.MACHINE] == 1


def abandoned_with_lockout(w: World) -> list[Effect]:
    """A 72-hour lockout queue whose one agent is busy: a callback to ``NUMBER`` is answered
    and its customer hangs up 3 s later, abandoned. The effects from the answer on."""
    w.queue(cf({"lockoutHours": 72}, pacingTrigger="Pace"))
    busy_agent(w)
    first = w.callback("first", numbers=(NUMBER,))
    w.complete(w.dials()[0], Outcome.LIVE_VOICE, 200)
    return w.advance(3) + w.send(CustomerHungUp(first))


def test_r_x_14_a_number_that_was_abandoned_is_locked_out_before_redialing() -> None:
    w = World()
    abandoned_with_lockout(w)
    w.callback("again", numbers=(NUMBER,))
    assert len(w.dials()) == 1
    assert w.decisions()[-1].reason is Reason.LOCKED_OUT
    w.advance(72 * 3600 - 10)
    assert len(w.dials()) == 1
    w.advance(20)
    assert len(w.dials()) == 2


def test_r_x_14_a_lockout_is_reported_and_holds_in_an_engine_it_is_shared_with() -> None:
    """Issue 17: each shard has its own engine; the engine that abandoned a call reports the
    lockout (``NumberLockedOut``) and another engine told of it (``LockoutsShared``) holds its
    dials to that number until the lockout ends, keeping the callback's place."""
    w = World()
    (locked,) = w.of(NumberLockedOut, abandoned_with_lockout(w))  # the abandon reports it
    assert locked.number == NUMBER and locked.until == pytest.approx(w.now - 3 + 72 * 3600, abs=5)

    other = World()  # another shard's engine, at the same moment
    other.now = w.now
    other.queue(cf({"lockoutHours": 72}, pacingTrigger="Pace"))
    busy_agent(other)
    assert not other.of(NumberLockedOut, other.send(LockoutsShared(((NUMBER, locked.until),))))
    other.send(LockoutsShared(((NUMBER, locked.until - 3600),)))  # an earlier end changes nothing
    other.send(LockoutsShared((("+14155550177", other.now - 1),)))  # an ended one neither
    assert other.engine.guard.active_lockouts(other.now) == {NUMBER: locked.until}
    other.callback("again", numbers=(NUMBER,))
    assert other.dials() == []
    assert other.decisions()[-1].reason is Reason.LOCKED_OUT
    other.advance(locked.until - other.now - 10)
    assert other.dials() == []
    other.advance(20)
    assert len(other.dials()) == 1


def test_r_x_15_an_unanswered_call_rings_at_least_the_minimum() -> None:
    w = World()
    w.queue(cf({"minimumRingSeconds": 15}))
    w.agents(1)
    w.callback("cb", numbers=(NUMBER,))
    (dial,) = w.dials()
    assert dial.minimum_ring_seconds == 15
    import random

    model = CarrierModel(
        Mix({Outcome.NO_ANSWER: 1.0}, random.Random(1)), 2.0, {Outcome.NO_ANSWER: 6.0}, 2.0, {}
    )
    assert model.dial(dial).resolves_after == 15


# --- the budget loop ------------------------------------------------------------------------------
def test_r_x_16_pacing_mode_settings_are_read_written_and_checked() -> None:
    body = {
        "mediaSettings": {
            "callback": {
                "pacingMode": "AbandonmentBudget",
                "abandonmentTargetRate": 0.01,
                "abandonmentWindow": "CalendarDay",
            }
        }
    }
    s = parse_queue(body).callback.budget
    assert (s.mode, s.target_rate, s.window) == (
        PacingMode.ABANDONMENT_BUDGET,
        0.01,
        AbandonmentWindow.CALENDAR_DAY,
    )
    assert parse_queue({}).callback.budget == BudgetSettings()  # Fixed, 3 %, 30 days
    with pytest.raises(ValueOutOfRange) as refused:
        parse_queue({"mediaSettings": {"callback": {"abandonmentTargetRate": 0}}})
    assert refused.value.field == "mediaSettings.callback.abandonmentTargetRate"


@pytest.mark.parametrize(
    ("left", "risk", "idle", "outstanding", "expected"),
    [
        pytest.param(2.0, 0.0, 3, 0, (Reason.DIALED, False), id="budget-no-risk"),
        pytest.param(2.0, 0.8, 0, 2, (Reason.DIALED, False), id="budget-covers-risk"),
        pytest.param(2.0, 1.5, 1, 0, (Reason.DIALED, True), id="risk-over-half-reserves"),
        pytest.param(1.0, 1.5, 0, 2, (Reason.CAP_REACHED, False), id="risk-over-budget"),
        pytest.param(0.0, 0.0, 1, 0, (Reason.DIALED, True), id="spent-reserves"),
        pytest.param(-1.0, 0.0, 0, 0, (Reason.BUDGET_SPENT, False), id="spent-no-idle-agent"),
    ],
)
def test_r_x_17_the_budget_loop_dials_within_budget_else_only_for_a_reserved_agent(
    left: float, risk: float, idle: int, outstanding: int, expected: tuple[Reason, bool]
) -> None:
    found = budget_decide(
        on_queue=3,
        idle=idle,
        outstanding=outstanding,
        reserved_dials=0,
        has_caller_id=True,
        inputs=BudgetInputs(left, 0.5, risk),
    )
    assert found == expected


def budget_queue(w: World, **callback: Any) -> None:
    w.queue(cf(pacingMode="AbandonmentBudget", **callback))


def test_r_x_17_with_no_budget_yet_it_dials_only_for_a_reserved_agent() -> None:
    w = World()
    budget_queue(w)
    w.agents(2)
    for i in range(4):
        w.callback(f"cb{i}", numbers=(f"+1415555010{i}",))
    dials = w.dials()
    assert len(dials) == 2  # one per idle agent, each reserved
    reserved = [d for d in w.decisions() if d.reason is Reason.DIALED]
    assert all(d.reserved_agent is not None for d in reserved)
    assert w.decisions()[-1].reason is Reason.BUDGET_SPENT
    assert w.decisions()[-1].budget == 0.0


def test_r_x_18_with_budget_it_dials_past_the_idle_agents_and_records_why() -> None:
    w = World()
    budget_queue(w)
    ledger = w.engine.guard.accounting.ledger(Q)
    for _ in range(200):  # a history of 200 live answers of 300 dials, no abandon
        ledger.add(w.now, Tally.LIVE)
        ledger.add(w.now, Tally.RESOLVED)
    for _ in range(100):
        ledger.add(w.now, Tally.RESOLVED)
    w.agents(2)
    for i in range(15):
        w.callback(f"cb{i}", numbers=(f"+141555501{i:02d}",))
    assert len(w.dials()) > 2  # more than the idle agents: the budget pays for the risk
    first = w.decisions()[0]
    assert first.budget == pytest.approx(0.03 * AIM * 200)
    assert first.live_rate == pytest.approx(201 / 302)
    assert first.reserved_agent is None
    held = [d for d in w.decisions() if not d.dialed]
    assert held and held[-1].reason is Reason.CAP_REACHED
    assert held[-1].risk is not None and held[-1].budget is not None
    assert held[-1].risk > SAFETY * held[-1].budget
