"""What the dial checks remember (issue 14, docs/compliance.md): do-not-call numbers (R-X-7),
numbers held by active callbacks (R-X-9) and lockouts after an abandon (R-X-14). Owned by
``Core`` as ``core.guard``; the rules that use it are in ``dial_guard``."""

from __future__ import annotations

from dataclasses import dataclass, field

from dialback.domain.model import InteractionId, QueueId


@dataclass(slots=True)
class GuardState:
    """What the checks remember: the do-not-call numbers (E.164 -> the lists naming it), the
    numbers held by active callbacks of queues that refuse duplicates, and abandoned numbers'
    lockouts (E.164 -> epoch seconds when it ends)."""

    dnc: dict[str, dict[str, None]] = field(default_factory=dict)
    active: dict[tuple[QueueId, str], InteractionId] = field(default_factory=dict)
    claims: dict[InteractionId, tuple[QueueId, tuple[str, ...]]] = field(default_factory=dict)
    lockout_until: dict[str, float] = field(default_factory=dict)

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
