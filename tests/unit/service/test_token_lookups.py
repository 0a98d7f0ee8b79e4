"""The API's token lookups are shared between the requests waiting at the same time (issue 17),
and a revocation still takes effect at once (issue 12): a lookup sent before a request arrived
never answers it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from dialback.service.tokens import Tokens
from dialback.store.db import connect, migrate
from dialback.store.repository import Store, hash_token


class GatedStore(Store):
    """A real SQLite store whose batched token lookups read the database, then wait for the
    test to open a gate before answering; it records the hashes each lookup asked for."""

    def __init__(self, path: Path) -> None:
        engine = connect(str(path))
        migrate(engine)
        super().__init__(engine)
        self.asked: list[list[str]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.fail: Exception | None = None

    def token_holders(
        self, hashes: Sequence[str], now: float | None = None
    ) -> dict[str, tuple[str, str | None]]:
        self.asked.append(sorted(hashes))
        found = super().token_holders(hashes, now)  # read first: the answer may go stale
        self.entered.set()
        assert self.gate.wait(timeout=10), "the test never opened the gate"
        if self.fail is not None:
            raise self.fail
        return found


@pytest.fixture
def store(tmp_path: Path) -> GatedStore:
    return GatedStore(tmp_path / "tokens.db")


async def _until_entered(store: GatedStore) -> None:
    """Wait (bounded) until a lookup is in the database call."""
    assert await asyncio.to_thread(store.entered.wait, 10), "no lookup started"
    store.entered.clear()


def test_requests_waiting_together_share_one_query(store: GatedStore) -> None:
    """Issue 17: one query for the requests that arrive while a lookup is out, whatever their
    number; each gets its own token's holder."""
    admin = store.create_token("admin")
    supervisor = store.create_token("supervisor")
    tokens = Tokens(store)

    async def scenario() -> None:
        first = asyncio.create_task(tokens.check(admin))
        await _until_entered(store)  # lookup 1 is out with the first request alone
        waiting = [asyncio.create_task(tokens.check(t)) for t in (admin, supervisor, admin, "x")]
        await asyncio.sleep(0)  # let them register (no lookup can answer them yet)
        store.gate.set()
        found = [await first, *[await w for w in waiting]]
        roles = [h.role if h else None for h in found]
        assert roles == ["admin", "admin", "supervisor", "admin", None]
        assert store.asked == [
            [hash_token(admin)],
            sorted({hash_token(admin), hash_token(supervisor), hash_token("x")}),
        ]

    asyncio.run(scenario())


def test_a_token_revoked_while_a_lookup_is_out_is_refused_to_later_requests(
    store: GatedStore,
) -> None:
    """Issue 12 kept: the request that arrives after the revocation committed is not answered
    by the lookup already sent (which may have read the token before it was revoked)."""
    token = store.create_token("supervisor")
    tokens = Tokens(store)

    async def scenario() -> None:
        before = asyncio.create_task(tokens.check(token))
        await _until_entered(store)
        assert store.revoke_token(hash_token(token)) == 1  # committed while lookup 1 is out
        after = asyncio.create_task(tokens.check(token))
        await asyncio.sleep(0)
        store.gate.set()
        stale = await before  # read before the revocation: right for a request made before it
        assert stale is not None and stale.role == "supervisor"
        assert await after is None
        assert len(store.asked) == 2  # the later request waited for a lookup of its own

    asyncio.run(scenario())


def test_a_failed_lookup_fails_its_requests_and_the_next_one_asks_again(
    store: GatedStore,
) -> None:
    """A database error reaches every request of that lookup (as one query each did); the next
    request gets a new lookup."""
    token = store.create_token("admin")
    tokens = Tokens(store)

    async def scenario() -> None:
        store.fail = RuntimeError("database down")
        store.gate.set()
        results = await asyncio.gather(
            tokens.check(token), tokens.check(token), return_exceptions=True
        )
        assert [str(r) for r in results] == ["database down", "database down"]
        store.fail = None
        again = await tokens.check(token)
        assert again is not None and again.role == "admin"

    asyncio.run(scenario())


def test_check_answers_as_holder_does(store: GatedStore) -> None:
    """The shared lookup gives the same holder (role, user, scope) as the one-query lookup,
    and refuses an expired token."""
    store.gate.set()
    admin = store.create_token("admin")
    expired = store.create_token("supervisor", expires_at=1.0)
    tokens = Tokens(store)

    async def scenario() -> None:
        assert await tokens.check(admin) == tokens.holder(admin)
        assert await tokens.check(expired) is None and tokens.holder(expired) is None

    asyncio.run(scenario())
