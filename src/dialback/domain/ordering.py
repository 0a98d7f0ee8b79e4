"""Order in the queue (SPEC §4), shared by voice calls and callbacks.

R-O-1: higher priority first, then earlier queue entry time; ``PriorityOnly`` breaks ties by
arrival sequence instead. R-O-3: the key is computed once, when the interaction first enters
the queue, and kept through dials, retries, conversion and re-offers.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterator
from typing import Final, Generic, TypeVar

from dialback.domain.settings import ScoringMethod

QueueKey = tuple[int, float, int]
"""(-priority, ordering time, sequence): smaller is served first."""

# Bound once: mypyc reads a Final module name from a C static, not the module dict.
_heappush: Final = heapq.heappush
_heappop: Final = heapq.heappop
_heapify: Final = heapq.heapify


def queue_key(
    priority: int, entry_time: float, arrival_time: float, seq: int, scoring: ScoringMethod
) -> QueueKey:
    """The place of an interaction in a queue.

    ``entry_time`` is R-O-2's queue entry time (the caller's, for a callback made from a waiting
    call); ``arrival_time`` is when the interaction reached this queue; ``seq`` is a tie-break
    unique in the engine. For example, with ``TimestampAndPriority`` a callback of priority 0
    whose caller entered at t=100 sorts before a live call of priority 0 that entered at t=150,
    and after any call of priority 1.
    """
    if scoring is ScoringMethod.PRIORITY_ONLY:
        return (-priority, arrival_time, seq)
    return (-priority, entry_time, seq)


K = TypeVar("K", bound=Hashable)
P = TypeVar("P", bound=tuple[object, ...])


class IndexedHeap(Generic[K, P]):
    """A priority queue of unique items with O(log n) push, remove and pop.

    Removal is lazy: the heap keeps stale entries until they surface, and compacts itself when
    stale entries outnumber live ones, so memory stays within a constant factor of ``len``.
    Priorities must be unique per heap (end them with a sequence number).
    """

    __slots__ = ("_heap", "_live")

    def __init__(self) -> None:
        self._heap: list[tuple[P, K]] = []
        self._live: dict[K, P] = {}

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, item: object) -> bool:
        return item in self._live

    def __iter__(self) -> Iterator[K]:
        """Items in no particular order."""
        return iter(self._live)

    def push(self, item: K, priority: P) -> None:
        """Add ``item``, or move it to ``priority`` if it is already here."""
        self._live[item] = priority
        _heappush(self._heap, (priority, item))
        if len(self._heap) > 2 * len(self._live) + 64:
            self._compact()

    def remove(self, item: K) -> bool:
        """Drop ``item``; False if it was not here."""
        return self._live.pop(item, None) is not None

    def peek(self) -> tuple[K, P] | None:
        """The first item and its priority, without removing it."""
        heap, live = self._heap, self._live
        while heap:
            priority, item = heap[0]
            held = live.get(item)
            # ``is`` first: a live entry holds the very tuple ``push`` stored.
            if held is priority or held == priority:
                return item, priority
            _heappop(heap)
        return None

    def first(self) -> K | None:
        """The first item (``peek`` without its priority, and without building a pair)."""
        heap, live = self._heap, self._live
        while heap:
            priority, item = heap[0]
            held = live.get(item)
            if held is priority or held == priority:
                return item
            _heappop(heap)
        return None

    def pop(self) -> K | None:
        """Remove and return the first item; None when empty."""
        head = self.peek()
        if head is None:
            return None
        del self._live[head[0]]
        _heappop(self._heap)
        return head[0]

    def priority_of(self, item: K) -> P | None:
        """The priority ``item`` is held at, or None if it is not here."""
        return self._live.get(item)

    def _compact(self) -> None:
        self._heap = [(p, k) for k, p in self._live.items()]
        _heapify(self._heap)
