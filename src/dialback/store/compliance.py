"""Read models of dialing within the law (issue 14, docs/compliance.md): do-not-call entries
(R-X-7), numbers held by active callbacks under a partial unique index (R-X-10), compliance
records (R-X-6, R-X-8, R-X-14) and the accounting of answered dials (R-X-12). Written in the
same transaction as the events and facts that change them, like the other read models."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from dialback.domain.events import DncUpdated, Event
from dialback.domain.records import (
    CallAccounted,
    ComplianceRecorded,
    NumbersClaimed,
    NumbersReleased,
)
from dialback.store import tables as t


def event_statements(event: Event, at: float) -> list[Any]:
    """What an event changes here: a DNC list's entries."""
    if not isinstance(event, DncUpdated):
        return []
    d = t.dnc_entries
    out: list[Any] = []
    for numbers in (event.removed, event.added):  # an added number replaces its old entry
        out.extend(
            d.delete().where(d.c.list_id == event.list_id, d.c.number.in_(part))
            for part in _chunks(numbers)
        )
    for part in _chunks(event.added):
        rows = [{"list_id": event.list_id, "number": n, "added_at": at} for n in part]
        out.append(d.insert().values(rows))
    return out


def _chunks(numbers: tuple[str, ...], size: int = 250) -> list[tuple[str, ...]]:
    """Bounded statements: SQLite caps the parameters of one statement."""
    return [numbers[i : i + size] for i in range(0, len(numbers), size)]


def effect_statements(effect: object, at: float) -> list[Any]:
    """What a compliance fact changes here (nothing for other effects)."""
    if isinstance(effect, NumbersClaimed):
        rows = [
            {
                "callback_id": effect.callback_id,
                "queue_id": effect.queue_id,
                "number": number,
                "active": True,
                "claimed_at": at,
            }
            for number in effect.numbers
        ]
        return [t.callback_numbers.insert().values(rows)]
    if isinstance(effect, NumbersReleased):
        n = t.callback_numbers
        return [
            n.update()
            .where(n.c.callback_id == effect.callback_id, n.c.active.is_(True))
            .values(active=False)
        ]
    if isinstance(effect, ComplianceRecorded):
        return [
            t.compliance_records.insert().values(
                at=effect.at,
                kind=effect.kind.value,
                queue_id=effect.queue_id,
                interaction_id=effect.interaction_id,
                number=effect.number,
                agent_id=effect.agent_id,
                detail=effect.detail,
            )
        ]
    if isinstance(effect, CallAccounted):
        return [
            t.call_accounting.insert().values(
                dial_id=effect.dial_id,
                queue_id=effect.queue_id,
                interaction_id=effect.interaction_id,
                number=effect.number,
                answered_at=effect.answered_at,
                greeting_end=effect.greeting_end,
                connected_at=effect.connected_at,
                abandoned=effect.abandoned,
                machine=effect.machine,
                agent_connected=effect.agent_connected,
            )
        ]
    return []


class ComplianceReader:
    """Queries of these read models for the API."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self.engine = engine

    def _rows(self, statement: Any) -> list[Any]:
        with self.engine.connect() as c:
            return list(c.execute(statement).all())

    def dnc_lists(self) -> list[Any]:
        d = t.dnc_entries
        return self._rows(
            sa.select(d.c.list_id, sa.func.count().label("count"))
            .group_by(d.c.list_id)
            .order_by(d.c.list_id)
        )

    def dnc_entries(self, list_id: str) -> list[Any]:
        d = t.dnc_entries
        return self._rows(sa.select(d).where(d.c.list_id == list_id).order_by(d.c.number))

    def dnc_numbers(self) -> dict[str, set[str]]:
        """Every stored do-not-call list: list id to its numbers."""
        d = t.dnc_entries
        lists: dict[str, set[str]] = {}
        for list_id, number in self._rows(sa.select(d.c.list_id, d.c.number)):
            lists.setdefault(list_id, set()).add(number)
        return lists

    def records(self, queue_id: str, limit: int) -> list[Any]:
        r = t.compliance_records
        return self._rows(
            sa.select(r).where(r.c.queue_id == queue_id).order_by(r.c.id.desc()).limit(limit)
        )

    def accounting(self, queue_id: str, start: float, end: float) -> list[Any]:
        a = t.call_accounting
        return self._rows(
            sa.select(a)
            .where(a.c.queue_id == queue_id, a.c.answered_at >= start, a.c.answered_at < end)
            .order_by(a.c.answered_at)
        )
