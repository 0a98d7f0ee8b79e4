"""What the dial checks remember (issue 14, docs/compliance.md): do-not-call numbers (R-X-7),
numbers held by active callbacks (R-X-9) and lockouts after an abandon (R-X-14). Owned by
``Core`` as ``core.guard``; the rules that use it are in ``dial_guard``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from dialback.domain.abandonment import Ledger, Tally
from dialback.domain.model import DialId, InteractionId, QueueId
from dialback.domain.records import CallAccounted


@dataclass(slots=True)
class GuardState:
    """What the checks remember: the do-not-call numbers (E.164 -> the lists naming it), the
    numbers held by active callbacks of queues that refuse duplicates, and abandoned numbers'
    lockouts (E.164 -> epoch seconds when it ends)."""

    dnc: dict[str, dict[str, None]] = field(default_factory=dict)
    active: dict[tuple[QueueId, str], InteractionId] = field(default_factory=dict)
    claims: dict[InteractionId, tuple[QueueId, tuple[str, ...]]] = field(default_factory=dict)
    lockout_until: dict[str, float] = field(default_factory=dict)
    locked_now: list[tuple[str, float, QueueId]] = field(default_factory=list)  # to report
    accounting: Accounting = field(default_factory=lambda: Accounting())

    def on_dnc(self, number: str) -> bool:
        """R-X-7: whether any do-not-call list names ``number`` (E.164, compared exactly)."""
        return number in self.dnc

    def update_dnc(self, list_id: str, added: tuple[str, ...], removed: tuple[str, ...]) -> None:
        """Add and remove numbers of one list."""
        for number in added:
            self.dnc.setdefault(number, {})[list_id] = None
        for number in removed:
            lists = self.dnc.get(number)
            if lists is not None:
                lists.pop(list_id, None)
                if not lists:
                    del self.dnc[number]

    def share_lockouts(self, lockouts: tuple[tuple[str, float], ...], now: float) -> None:
        """R-X-14: lockouts another shard set; each number keeps the latest end it has."""
        for number, until in lockouts:
            if until > now and until > self.lockout_until.get(number, 0.0):
                self.lockout_until[number] = until

    def active_lockouts(self, now: float) -> dict[str, float]:
        """R-X-14: the lockouts not yet ended at ``now`` (number -> end)."""
        return {n: until for n, until in self.lockout_until.items() if until > now}

    def release(self, callback_id: InteractionId) -> bool:
        """R-X-9: free the numbers ``callback_id`` holds; whether it held any."""
        held = self.claims.pop(callback_id, None)
        if held is None:
            return False
        queue_id, numbers = held
        for number in numbers:
            if self.active.get((queue_id, number)) == callback_id:
                del self.active[(queue_id, number)]
        return True


@dataclass(slots=True)
class Pending:
    """R-X-12: a live voice answered by a dialer's dial, waiting for its verdict."""

    queue_id: QueueId
    dial_id: DialId
    number: str
    answered_at: float
    greeting_end: float
    threshold: float
    lockout_seconds: float
    abandoned: bool = False


@dataclass(slots=True)
class Accounting:
    """R-X-12, R-X-13: each queue's ledger over its rule's window, and the live answers whose
    verdict is not known yet."""

    ledgers: dict[QueueId, Ledger] = field(default_factory=dict)
    pending: dict[InteractionId, Pending] = field(default_factory=dict)
    machines: dict[InteractionId, CallAccounted] = field(default_factory=dict)  # to the queue

    def connected(
        self, guard: GuardState, interaction_id: InteractionId, at: float
    ) -> CallAccounted | None:
        """An agent took the call: an answering machine an agent hears counts for Ofcom's
        estimate; a live voice gets its record."""
        machine = self.machines.pop(interaction_id, None)
        if machine is not None:
            self.ledger(machine.queue_id).add(at, Tally.AGENT_MACHINE)
            return replace(machine, connected_at=at, agent_connected=True)
        return self.settle(guard, interaction_id, at, connected=True)

    def ledger(self, queue_id: QueueId) -> Ledger:
        found = self.ledgers.get(queue_id)
        if found is None:
            found = self.ledgers[queue_id] = Ledger()
        return found

    def abandon(
        self, guard: GuardState, interaction_id: InteractionId, at: float
    ) -> Pending | None:
        """The threshold passed, or the call ended, without an agent: count the abandon once
        and lock the number out (R-X-14). Returns the pending call if this counted it."""
        p = self.pending.get(interaction_id)
        if p is None or p.abandoned:
            return None
        p.abandoned = True
        self.ledger(p.queue_id).add(at, Tally.ABANDON)
        if p.lockout_seconds > 0:
            until = at + p.lockout_seconds  # this queue's rule, as every version replays it
            guard.lockout_until[p.number] = until
            guard.locked_now.append((p.number, until, p.queue_id))
        return p

    def settle(
        self, guard: GuardState, interaction_id: InteractionId, at: float, connected: bool
    ) -> CallAccounted | None:
        """The call reached an agent (or a flow), or ended: its record (R-X-12)."""
        machine = self.machines.pop(interaction_id, None)
        if machine is not None:
            return machine
        p = self.pending.get(interaction_id)
        if p is None:
            return None
        if not connected or at - p.greeting_end > p.threshold:
            self.abandon(guard, interaction_id, at)
        elif not p.abandoned:
            self.ledger(p.queue_id).add(at, Tally.AGENT_HUMAN)
        del self.pending[interaction_id]
        return CallAccounted(
            p.queue_id,
            interaction_id,
            p.dial_id,
            p.number,
            p.answered_at,
            p.greeting_end,
            at if connected else None,
            p.abandoned,
            machine=False,
        )
