"""Order in the queue (SPEC §4: R-O-1) and the heap behind it."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from dialback.domain.effects import OfferToAgent
from dialback.domain.events import AgentPresenceChanged, VoiceCallQueued
from dialback.domain.model import ConversationId, InteractionId, Presence
from dialback.domain.ordering import IndexedHeap, queue_key
from dialback.domain.settings import ScoringMethod

from .harness import Q, World

TS = ScoringMethod.TIMESTAMP_AND_PRIORITY


def test_r_o_1_priority_first_then_entry_time() -> None:
    keys = {
        "low-early": queue_key(0, 100.0, 500.0, 1, TS),
        "high-late": queue_key(5, 300.0, 300.0, 2, TS),
        "low-late": queue_key(0, 200.0, 200.0, 3, TS),
    }
    assert sorted(keys, key=keys.__getitem__) == ["high-late", "low-early", "low-late"]


def test_r_o_1_priority_only_breaks_ties_by_arrival() -> None:
    po = ScoringMethod.PRIORITY_ONLY
    inherited_early = queue_key(0, 10.0, 500.0, 1, po)  # entry time 10, arrived at 500
    arrived_first = queue_key(0, 400.0, 400.0, 2, po)
    assert arrived_first < inherited_early
    assert queue_key(1, 999.0, 999.0, 3, po) < arrived_first


def test_r_o_1_voice_calls_and_callbacks_share_one_order() -> None:
    w = World()
    w.queue()
    (a1,) = w.agents(1, capacity=3)
    w.send(AgentPresenceChanged(a1, Presence.OFF_QUEUE))
    w.callback("cb-mid", priority=0)
    w.send(
        VoiceCallQueued(InteractionId("v-old"), ConversationId("c"), Q, "+14155550111", w.now - 5)
    )
    w.send(
        VoiceCallQueued(
            InteractionId("v-vip"), ConversationId("d"), Q, "+14155550111", w.now + 5, 9
        )
    )
    w.send(AgentPresenceChanged(a1, Presence.ON_QUEUE))
    assert [o.interaction_id for o in w.of(OfferToAgent)] == ["v-vip", "v-old", "cb-mid"]


@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0, 100)), max_size=60), st.randoms())
def test_r_o_1_heap_pops_in_key_order_whatever_is_removed(
    items: list[tuple[int, float]], rnd: random.Random
) -> None:
    heap: IndexedHeap[int, tuple[int, float, int]] = IndexedHeap()
    keys = {i: queue_key(p, t, t, i, TS) for i, (p, t) in enumerate(items)}
    for i, key in keys.items():
        heap.push(i, key)
    removed = {i for i in keys if rnd.random() < 0.3}
    for i in removed:
        assert heap.remove(i)
        assert not heap.remove(i)
    assert len(heap) == len(keys) - len(removed)
    popped = []
    while (first := heap.first()) is not None:
        assert heap.peek() == (first, keys[first])
        assert heap.pop() == first
        popped.append(first)
    assert heap.peek() is None and heap.pop() is None
    expected = sorted((k for k in keys if k not in removed), key=keys.__getitem__)
    assert popped == expected


def test_heap_moves_an_item_pushed_again_and_compacts() -> None:
    heap: IndexedHeap[str, tuple[int]] = IndexedHeap()
    for n in range(500):
        heap.push("a", (n,))  # the same item re-keyed many times
    assert len(heap) == 1
    assert heap.peek() == ("a", (499,))
    assert len(heap._heap) < 200  # stale entries were compacted away
    heap.push("b", (3,))
    assert heap.pop() == "b"
    assert heap.priority_of("a") == (499,)
    assert "a" in heap and set(heap) == {"a"}
