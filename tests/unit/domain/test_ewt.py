"""The values behind the estimated wait time (issue 18): the queue's snapshot, the fitted
history (Kaplan-Meier patience, handle times; domain/history.py) and the simple formulas."""

from __future__ import annotations

import math
import random

import pytest

from dialback.domain.engine import Engine
from dialback.domain.events import (
    AgentJoinedQueue,
    AgentPresenceChanged,
    AgentRegistered,
    AlertAccepted,
    CallbackRequested,
    QueueConfigured,
    VoiceCallQueued,
)
from dialback.domain.ewt import Formula, abandon, simple, simple_estimates, snapshot
from dialback.domain.history import History, Patience
from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    ConversationId,
    InteractionId,
    Presence,
    QueueId,
)
from dialback.domain.settings import parse_queue

Q = QueueId("q")


def _engine() -> Engine:
    engine = Engine(rng=random.Random(1))
    settings = parse_queue({"name": "q", "callingPartyNumber": "+14155550199"})
    engine.handle(QueueConfigured(Q, settings), 0.0)
    for name in ("a", "b"):
        engine.handle(AgentRegistered(AgentId(name)), 0.0)
        engine.handle(AgentJoinedQueue(AgentId(name), Q), 0.0)
    return engine


def _call(engine: Engine, name: str, at: float, priority: int = 0) -> None:
    call = InteractionId(name)
    engine.handle(VoiceCallQueued(call, ConversationId(name), Q, "+14155552671", at, priority), at)


def test_snapshot_copies_order_busy_and_idle_agents_and_scheduled_callbacks() -> None:
    engine = _engine()
    engine.handle(AgentPresenceChanged(AgentId("a"), Presence.ON_QUEUE), 10.0)
    _call(engine, "first", 20.0)  # offered to a
    engine.handle(AlertAccepted(AgentId("a"), InteractionId("first")), 21.0)
    _call(engine, "late", 40.0)
    _call(engine, "vip", 50.0, priority=5)
    _call(engine, "early", 30.0)
    later = CallbackRequest(Q, ("+14155552671",), scheduled_time=500.0)
    engine.handle(CallbackRequested(InteractionId("cb"), ConversationId("cb"), later), 60.0)
    snap = snapshot(engine, Q, at=100.0)
    assert snap.at == 100.0
    assert [w.id for w in snap.waiting] == ["vip", "early", "late"]  # R-O-1
    assert [w.since for w in snap.waiting] == [50.0, 30.0, 40.0]
    assert [(b.id, b.since) for b in snap.busy] == [("a", 21.0)]
    assert snap.idle == () and snap.off_queue == 1 and snap.on_queue == 1
    assert [(s.id, s.due, s.entry_time) for s in snap.scheduled] == [("cb", 500.0, None)]
    assert snap.position(InteractionId("late")) == 3 and snap.position(InteractionId("x")) is None


def test_kaplan_meier_counts_answered_callers_as_still_patient() -> None:
    # abandons at 10 and 30; answered (censored) at 20 and 40
    curve = Patience.fit([(10.0, True), (20.0, False), (30.0, True), (40.0, False)])
    assert curve.times == (10.0, 30.0)
    assert curve.survival == pytest.approx((0.75, 0.375))
    assert curve.alive(5.0) == 1.0 and curve.alive(35.0) == pytest.approx(0.375)
    assert curve.abandon_share == pytest.approx(0.625)


def test_patience_left_is_drawn_given_the_wait_so_far_and_can_be_endless() -> None:
    curve = Patience.fit([(10.0, True), (20.0, False), (30.0, True), (40.0, False)])
    rng = random.Random(3)
    draws = [curve.sample(rng, 15.0) for _ in range(2000)]
    finite = [d for d in draws if math.isfinite(d)]
    assert all(0.0 <= d <= 15.0 for d in finite)  # the last abandon is at 30 s
    assert len(finite) / len(draws) == pytest.approx(0.5, abs=0.05)  # S(30)/S(15) = 0.5
    assert Patience().sample(rng, 0.0) == math.inf  # no history: nobody gives up


def test_handle_remainders_come_from_longer_handles_and_priors_stand_in_when_thin() -> None:
    history = History(handle=tuple(float(s) for s in range(100, 400, 10)))
    rng = random.Random(5)
    assert history.fitted and history.mean_handle == pytest.approx(245.0)
    assert all(0 < history.draw_handle(rng, 250.0) <= 140.0 for _ in range(200))
    thin = History(handle=(60.0,))
    assert not thin.fitted and thin.mean_handle == 300.0
    assert thin.dial_time(thin.outcomes[0][0]) == 8.0


@pytest.mark.parametrize(
    ("ahead", "agents", "rate", "expected_simple", "expected_abandon"),
    [
        pytest.param(0, 2, 0.0, 150.0, 150.0, id="first-in-line"),
        pytest.param(3, 2, 0.5, 600.0, 375.0, id="half-of-those-ahead-abandon"),
        pytest.param(3, 0, 0.0, None, None, id="no-agent-on-queue"),
    ],
)
def test_simple_and_abandon_formulas(
    ahead: int,
    agents: int,
    rate: float,
    expected_simple: float | None,
    expected_abandon: float | None,
) -> None:
    assert simple(ahead, 300.0, agents) == expected_simple
    assert abandon(ahead, 300.0, agents, rate) == expected_abandon


def test_simple_estimates_for_a_new_caller_and_a_waiting_one() -> None:
    engine = _engine()
    for name in ("a", "b"):
        engine.handle(AgentPresenceChanged(AgentId(name), Presence.ON_QUEUE), 1.0)
    for k in range(4):
        _call(engine, f"c{k}", 2.0 + k)  # two are offered, two wait
    snap = snapshot(engine, Q)
    history = History(handle=(300.0,) * 30, answered=3, abandoned=1)
    new = simple_estimates(snap, history)
    assert new == {Formula.SIMPLE: 450.0, Formula.ABANDON: 375.0}  # (2 x 0.75 + 1) x 300 / 2
    second = simple_estimates(snap, history, InteractionId("c3"))
    assert second[Formula.SIMPLE] == 300.0
    gone = simple_estimates(snap, history, InteractionId("c0"))
    assert gone == {Formula.SIMPLE: 0.0, Formula.ABANDON: 0.0}
