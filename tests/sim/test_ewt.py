"""The forward simulation behind EWT ``BEST`` (issue 18): pure, exact when nothing is random,
and bounded by its budget."""

from __future__ import annotations

import random

import pytest

from dialback.domain.engine import Engine
from dialback.domain.events import (
    AgentJoinedQueue,
    AgentPresenceChanged,
    AgentRegistered,
    AlertAccepted,
    QueueConfigured,
    VoiceCallQueued,
)
from dialback.domain.ewt import QueueSnapshot, snapshot
from dialback.domain.history import History
from dialback.domain.model import (
    AgentId,
    ConversationId,
    InteractionId,
    Outcome,
    Presence,
    QueueId,
)
from dialback.domain.settings import parse_queue
from dialback.sim.ewt import NEW_CALLBACK, NEW_CALLER, forecast

Q = QueueId("q")
FIXED = History(handle=(300.0,) * 30)  # every handle lasts exactly 300 s


def _busy_queue(mode: str = "AgentFirst", waiting: int = 3) -> QueueSnapshot:
    """Two agents: one took a call at t=0, the other at t=100; ``waiting`` callers behind."""
    engine = Engine(rng=random.Random(1))
    body = {
        "name": "q",
        "callingPartyNumber": "+14155550199",
        "mediaSettings": {"callback": {"mode": mode}},
    }
    engine.handle(QueueConfigured(Q, parse_queue(body)), 0.0)
    for k, name in enumerate(("a", "b")):
        agent = AgentId(name)
        engine.handle(AgentRegistered(agent), 0.0)
        engine.handle(AgentJoinedQueue(agent, Q), 0.0)
        engine.handle(AgentPresenceChanged(agent, Presence.ON_QUEUE), k * 100.0)
        call = InteractionId(f"busy-{name}")
        engine.handle(
            VoiceCallQueued(call, ConversationId(call), Q, "+14155552671", k * 100.0), k * 100.0
        )
        engine.handle(AlertAccepted(agent, call), k * 100.0)
    for k in range(waiting):
        call = InteractionId(f"w{k}")
        engine.handle(
            VoiceCallQueued(call, ConversationId(call), Q, "+1415555267", 110.0 + k), 110.0 + k
        )
    return snapshot(engine, Q, at=150.0)


def test_with_fixed_handle_times_the_forecast_is_the_exact_wait() -> None:
    found = forecast(_busy_queue(), FIXED, runs=8)
    # agent a frees at 300, b at 400; then every 300 s each: w0 300, w1 400, w2 600, new 700
    waits = {k: found.waits[InteractionId(f"w{k}")].median for k in range(3)}
    assert waits == {0: 150.0, 1: 250.0, 2: 450.0}
    new = found.waits[NEW_CALLER]
    assert (new.low, new.median, new.high, new.share) == (550.0, 550.0, 550.0, 1.0)


def test_same_state_and_seed_give_the_same_answer() -> None:
    history = History(handle=tuple(float(60 + 7 * k) for k in range(80)))
    snap = _busy_queue(waiting=6)
    first = forecast(snap, history, runs=24, seed=4)
    assert forecast(snap, history, runs=24, seed=4) == first
    other = forecast(snap, history, runs=24, seed=5)
    assert other.waits[NEW_CALLER] != first.waits[NEW_CALLER]
    assert first.waits[NEW_CALLER].low <= first.waits[NEW_CALLER].median
    assert first.waits[NEW_CALLER].median <= first.waits[NEW_CALLER].high


def test_the_budget_stops_early_but_never_below_eight_runs() -> None:
    found = forecast(_busy_queue(waiting=10), FIXED, runs=500, budget_ms=0.0)
    assert found.runs == 8


def test_a_new_callback_is_dialed_then_reaches_an_agent() -> None:
    live = History(handle=(300.0,) * 30, outcomes=((Outcome.LIVE_VOICE, 1.0),))
    found = forecast(_busy_queue("CustomerFirst", waiting=0), live, phantom=NEW_CALLBACK, runs=8)
    assert found.dial is not None and found.agent is not None
    # customer-first: dialed when agent a frees at 300 (Idle trigger), answered 8 s later
    assert found.dial.median == pytest.approx(150.0)
    assert found.agent.median == pytest.approx(158.0)
    agent_first = forecast(_busy_queue(waiting=0), live, phantom=NEW_CALLBACK, runs=8)
    assert agent_first.agent is not None and agent_first.dial is not None
    assert agent_first.agent.median == pytest.approx(150.0)  # a takes it at 300 and dials
    assert agent_first.dial.median == pytest.approx(155.0)
