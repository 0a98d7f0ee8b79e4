"""Routing each event to its shard, and the grouping rule (issue 17, ``service/shards.py``)."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from dialback.domain.engine import Engine
from dialback.domain.errors import AgentInOtherShard, QueueInOtherShard, ShardFixed
from dialback.domain.events import (
    AgentJoinedQueue,
    AgentLeftQueue,
    AgentPresenceChanged,
    AgentRegistered,
    AlertAccepted,
    CallbackRequested,
    CallbackRescheduled,
    CustomerHungUp,
    DialCompleted,
    QueueConfigured,
    TimerFired,
    TimerKey,
    TimerKind,
)
from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    ConversationId,
    DialId,
    DialResult,
    InteractionId,
    Outcome,
    Presence,
    QueueId,
)
from dialback.domain.settings import QueueSettings
from dialback.service.runtime import Runtime
from dialback.service.shards import Shards
from dialback.store.db import connect, migrate
from dialback.store.repository import Store
from dialback.telephony.simulated import SimulatedCarrier

A, E = AgentId("ann"), AgentId("eve")
QA, QE = QueueId("qa"), QueueId("qe")
CB = InteractionId("cb-east")


def _engine(shard: str, queue: QueueId, agent: AgentId) -> Engine:
    engine = Engine(rng=random.Random(1))
    engine.handle(QueueConfigured(queue, QueueSettings(name=queue, shard=shard)), 0.0)
    engine.handle(AgentRegistered(agent), 0.0)
    engine.handle(AgentJoinedQueue(agent, queue), 0.0)
    return engine


@pytest.fixture
def shards(tmp_path: object) -> Shards:
    """Two shards (``all`` with queue qa and ann, ``east`` with qe, eve and a callback) whose
    runtimes are not started: routing reads only their engines."""
    engine = connect(f"{tmp_path}/db.sqlite")
    migrate(engine)

    def runtime(shard: str) -> Runtime:
        return Runtime(
            Store(engine, shard), lambda report: SimulatedCarrier(report, random.Random())
        )

    first = runtime("all")
    first.engine = _engine("all", QA, A)
    made = Shards(first, make=runtime)
    east = runtime("east")
    east.engine = _engine("east", QE, E)
    east.engine.handle(CallbackRequested(CB, ConversationId("c"), CallbackRequest(QE, ("+1",))), 1)
    made._add(east)
    return made


def route(shards: Shards, event: object, shard: str | None = None) -> str:
    return asyncio.run(shards.route(event, shard))  # type: ignore[arg-type]


def test_events_go_to_the_shard_of_the_queue_agent_interaction_or_dial_they_name(
    shards: Shards,
) -> None:
    assert route(shards, AgentPresenceChanged(E, Presence.ON_QUEUE)) == "east"
    assert route(shards, AgentPresenceChanged(A, Presence.ON_QUEUE)) == "all"
    assert route(shards, AgentLeftQueue(E, QE)) == "east"
    assert route(shards, AlertAccepted(E, CB)) == "east"
    assert route(shards, CustomerHungUp(CB)) == "east"
    assert route(shards, DialCompleted(DialId(f"{CB}#1"), DialResult(Outcome.BUSY))) == "east"
    request = CallbackRequest(QE, ("+14155552671",))
    assert route(shards, CallbackRequested(InteractionId("n"), ConversationId("n"), request)) == (
        "east"
    )
    assert route(shards, CallbackRescheduled(CB, owner=E)) == "east"
    key = TimerKey(TimerKind.ALERT_TIMEOUT, "x")
    shards.runtimes["east"].engine._timers[(key.kind, key.subject)] = 5.0
    assert route(shards, TimerFired(key, 5.0)) == "east"


def test_what_no_shard_knows_goes_to_the_default_shard_whose_engine_refuses_it(
    shards: Shards,
) -> None:
    assert route(shards, AgentPresenceChanged(AgentId("nobody"), Presence.ON_QUEUE)) == "all"
    assert route(shards, CustomerHungUp(InteractionId("nothing"))) == "all"


def test_a_new_queue_goes_to_the_shard_it_names_and_its_shard_never_changes(
    shards: Shards,
) -> None:
    new = QueueConfigured(QueueId("qn"), QueueSettings(name="n", shard="north"))
    assert route(shards, new) == "north"
    assert route(shards, QueueConfigured(QE, QueueSettings(name="renamed", shard="east"))) == (
        "east"
    )
    with pytest.raises(ShardFixed):
        route(shards, QueueConfigured(QE, QueueSettings(name="moved", shard="all")))


def test_an_agent_joins_only_queues_of_its_own_shard(shards: Shards) -> None:
    assert route(shards, AgentRegistered(AgentId("new")), "east") == "east"
    assert route(shards, AgentRegistered(AgentId("new"))) == "all"
    with pytest.raises(AgentInOtherShard):
        route(shards, AgentJoinedQueue(A, QE))
    with pytest.raises(AgentInOtherShard):  # an owner of another shard
        route(shards, CallbackRescheduled(CB, owner=A))
    with pytest.raises(QueueInOtherShard):  # a callback does not move across shards
        route(shards, CallbackRescheduled(CB, queue_id=QA))


def test_a_node_takes_shards_up_to_its_fair_share_and_hands_back_what_is_over(
    tmp_path: object,
) -> None:
    """ClusterShards' share (issue 17): take a free shard while leading fewer than
    ceil(shards / live nodes), or one nobody led for a whole lease; hand back the one over."""
    from dialback.service.node import ClusterShards, NodeRuntime
    from dialback.store.leases import Leases

    engine = connect(f"{tmp_path}/db.sqlite")
    migrate(engine)
    leases = Leases(engine, "n1", 4.0)

    def node(shard: str) -> NodeRuntime:
        return NodeRuntime(
            Store(engine, shard),
            lambda report: SimulatedCarrier(report, random.Random()),
            leases=leases,
            ttl=4.0,
            poll=0.5,
        )

    first = node("all")
    shares = ClusterShards(first, node)
    east, west = node("east"), node("west")
    for runtime in (east, west):
        shares._add(runtime)
    assert east.shares is shares
    shares.fair = 1  # three shards, three live nodes
    assert shares.may_take(east)
    first.leading = True
    assert not shares.may_take(east)
    shares.fair = 2  # a node died: two live nodes left
    assert shares.may_take(east)
    shares.taking.add("west")  # west is being taken just now: it counts
    assert not shares.may_take(east)
    shares.taking.clear()
    shares.fair = 1
    east.free_since = time.monotonic() - 5  # no leader for more than a lease: take it anyway
    assert shares.may_take(east)
    east.leading = True  # now over the share: east (not the default shard) goes back
    assert not shares.hand_back(east)  # not for one poll only
    shares._over_since = time.monotonic() - 2 * east.poll
    assert shares.hand_back(east) and not shares.hand_back(first)
    east.leading = False
    assert not shares.hand_back(first)
