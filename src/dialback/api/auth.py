"""Bearer tokens with roles: admin, supervisor, agent (an agent acts only as itself)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from dialback.api.errors import Forbidden, Unauthorized
from dialback.service.tokens import Tokens


class Role(enum.Enum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    user_id: str | None
    scope: str = ""  # what is kept per principal (idempotency keys) is kept under this

    def require(self, *roles: Role) -> None:
        if self.role is not Role.ADMIN and self.role not in roles:
            raise Forbidden(f"the {self.role.value} role may not do this")

    def require_self(self, user_id: str) -> None:
        """Supervisors and admins act for anyone; an agent only for its own user."""
        if self.role is Role.AGENT and self.user_id != user_id:
            raise Forbidden("an agent may act only on its own user")


async def principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send Authorization: Bearer <token>")
    tokens: Tokens = request.app.state.tokens
    # Looked up on every request (a primary-key read, shared with the requests waiting at the
    # same time, service/tokens.py): a revoked or expired token is refused at once, whichever
    # process revoked it.
    holder = await tokens.check(token)
    if holder is None:
        raise Unauthorized("unknown, revoked or expired token")
    return Principal(Role(holder.role), holder.user_id, holder.scope)


Auth = Annotated[Principal, Depends(principal)]
