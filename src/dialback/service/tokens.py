"""API tokens (issue 12): who may hold which role and for how long, listed and revoked.

The rules live here so ``dialback token …`` and the admin API apply the same ones:

- a role is ``admin``, ``supervisor`` or ``agent``; an agent token names an existing user, the
  other roles name none (an admin token bound to an agent would be an agent with every right);
- agent tokens expire after ``AGENT_TOKEN_SECONDS`` unless told otherwise, the others never
  unless told;
- a token is looked up on every request (no cache), so a revoked or expired token is refused at
  once, by every process sharing the database. The API's lookups (``check``) are shared: the
  requests that arrive while one lookup is out wait for the next one, which asks the database
  for all of their tokens in one query (issue 17: one query per request cost the service more
  CPU than the creation itself). A lookup that was sent before a request arrived never answers
  it, so a request that starts after a revocation committed is refused, as with one query each.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

import sqlalchemy as sa

from dialback.domain.errors import (
    InvalidChoice,
    InvalidInput,
    NotFound,
    UnknownAgent,
    ValueOutOfRange,
)
from dialback.store.repository import (
    TOKEN_ID,
    Reader,
    Store,
    TokenReader,
    TokenRow,
    hash_token,
)

ROLES = ("admin", "supervisor", "agent")
AGENT_TOKEN_SECONDS = 12 * 3600  # one working shift
LONGEST_TOKEN_SECONDS = 3650 * 86_400  # ten years: every expiry stays a date a client can read
DEMO_TOKEN = "demo_admin_token"  # meta key of the demo's admin token (``serve --demo``)

__all__ = ["AGENT_TOKEN_SECONDS", "ROLES", "Holder", "TokenRow", "Tokens", "parse_duration"]


class UnknownToken(NotFound):
    code = "token_not_found"


class RoleMismatch(InvalidInput):
    """An agent token without a user, or an admin or supervisor token bound to one."""

    code = "role_mismatch"


@dataclass(frozen=True, slots=True)
class Holder:
    """Who a token speaks for. ``scope`` keys what is kept per principal (idempotency keys):
    the user for a token bound to one, else the token itself."""

    role: str
    user_id: str | None
    scope: str


def _holder(digest: str, found: tuple[str, str | None]) -> Holder:
    role, user_id = found
    return Holder(role, user_id, f"user:{user_id}" if user_id else f"token:{digest[:TOKEN_ID]}")


def parse_duration(text: str) -> float | None:
    """``90s``, ``30m``, ``12h``, ``7d`` (or plain seconds) to seconds; ``never`` is None.
    Raises ``InvalidInput``."""
    if text == "never":
        return None
    match = re.fullmatch(r"([0-9]{1,7})([smhd]?)", text.strip())  # ASCII: \d takes any digit
    if match is None or int(match.group(1)) == 0:
        raise InvalidInput("a duration such as 90s, 30m, 12h, 7d or never", field="expiresIn")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400}[match.group(2)]
    seconds = int(match.group(1)) * unit
    if seconds > LONGEST_TOKEN_SECONDS:  # 9999999d would expire after the year 9999
        raise ValueOutOfRange(
            f"at most {LONGEST_TOKEN_SECONDS // 86_400}d; a token for longer is 'never'",
            field="expiresIn",
        )
    return float(seconds)


class Tokens:
    """The tokens of one database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._reader = Reader(store.engine)
        # ``check``: the hashes waiting for the next lookup, each with its waiters' futures
        self._waiting: dict[str, list[asyncio.Future[tuple[str, str | None] | None]]] = {}
        self._looking: asyncio.Task[None] | None = None
        self._postgres = store.engine.dialect.name == "postgresql"
        self._on_loop: TokenReader | None = None  # PostgreSQL: lookups without a thread

    def holder(self, token: str) -> Holder | None:
        """Who ``token`` speaks for now; None when unknown, revoked or expired."""
        found = self.store.token(token)
        return None if found is None else _holder(hash_token(token), found)

    async def check(self, token: str) -> Holder | None:
        """``holder`` for a request on the event loop, without blocking it: the lookup is made
        by a query sent after this call began (PostgreSQL: on the loop, ``TokenReader``; SQLite:
        in a thread), shared with the other requests
        waiting for it (see the module docstring). Raises what the database raises."""
        digest = hash_token(token)
        loop = asyncio.get_running_loop()
        if self._looking is not None and self._looking.get_loop() is not loop:
            self._waiting, self._looking = {}, None  # a new event loop (tests): start afresh
            if self._on_loop is not None:  # its connection belonged to the old loop
                self._on_loop.abandon()
                self._on_loop = None
        future: asyncio.Future[tuple[str, str | None] | None] = loop.create_future()
        self._waiting.setdefault(digest, []).append(future)
        if self._looking is None or self._looking.done():
            self._looking = loop.create_task(self._look_up())
        found = await future
        return None if found is None else _holder(digest, found)

    async def _look_up(self) -> None:
        """Answer the waiting hashes, one query per round, until none waits (bounded by the
        requests: a round takes every hash waiting when it starts)."""
        while self._waiting:
            taken, self._waiting = self._waiting, {}
            try:
                found = await self._holders(list(taken))
            except Exception as failure:
                for futures in taken.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(failure)
                continue
            for digest, futures in taken.items():
                for future in futures:
                    if not future.done():  # a waiter cancelled (its client went away)
                        future.set_result(found.get(digest))

    async def _holders(self, hashes: list[str]) -> dict[str, tuple[str, str | None]]:
        if not self._postgres:
            return await asyncio.to_thread(self.store.token_holders, hashes)
        if self._on_loop is None:
            self._on_loop = TokenReader(self.store.engine)
        return await self._on_loop.token_holders(hashes)

    async def close(self) -> None:
        """Close the lookups' connection (on the loop that used it)."""
        if self._on_loop is not None:
            await self._on_loop.close()
            self._on_loop = None

    def create(
        self, role: str, user_id: str | None = None, expires_in: float | str | None = "default"
    ) -> tuple[str, TokenRow]:
        """A new token and its row. ``expires_in`` seconds (None: never; ``"default"``: agent
        tokens ``AGENT_TOKEN_SECONDS``, others never). Raises ``InvalidChoice``,
        ``RoleMismatch`` or ``UnknownAgent``."""
        if role not in ROLES:
            raise InvalidChoice("role is admin, supervisor or agent", field="role")
        if role == "agent" and not user_id:
            raise RoleMismatch("an agent token needs the agent's user id", field="userId")
        if role != "agent" and user_id:
            raise RoleMismatch(f"a {role} token is bound to no user", field="userId")
        if user_id and self._reader.user(user_id) is None:
            raise UnknownAgent(f"no user {user_id}", field="userId")
        if expires_in == "default":
            expires_in = AGENT_TOKEN_SECONDS if role == "agent" else None
        assert not isinstance(expires_in, str)
        expires_at = None if expires_in is None else time.time() + expires_in
        token = self.store.create_token(role, user_id, expires_at)
        row = next(r for r in self.store.tokens() if hash_token(token).startswith(r.id))
        return token, row

    def list(self) -> list[TokenRow]:
        return self.store.tokens()

    def revoke(self, token_id: str) -> None:
        """Revoke the token named by ``token_id`` (as ``list`` shows it); effective at once.
        Raises ``UnknownToken``."""
        if not self.store.revoke_token(token_id):
            raise UnknownToken(f"no token {token_id}", field="tokenId")

    def demo_admin(self) -> str:
        """The demo's admin token: the one a previous ``serve --demo`` on this database made
        while it still works, else a new one (kept in the database, in clear: a demo only)."""
        kept = self.store.meta(DEMO_TOKEN)
        if kept is not None and self.holder(kept) is not None:
            return kept
        token = self.store.create_token("admin")
        try:
            self.store.set_meta(DEMO_TOKEN, token)
        except sa.exc.IntegrityError:  # nodes starting together (issue 17): another one chose
            self.store.revoke_token(hash_token(token))  # the one not kept
            chosen = self.store.meta(DEMO_TOKEN)
            if chosen is None:
                raise
            return chosen
        return token
