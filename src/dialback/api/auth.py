"""Bearer tokens with roles: admin, supervisor, agent (an agent acts only as itself)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from dialback.api.common import queries
from dialback.api.errors import Forbidden, Unauthorized


class Role(enum.Enum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    user_id: str | None

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
    tokens: dict[str, Principal] = request.app.state.tokens
    found = tokens.get(token)
    if found is None:
        row = queries(request).token(token)
        if row is None:
            raise Unauthorized("unknown token")
        found = tokens[token] = Principal(Role(row[0]), row[1])
    return found


Auth = Annotated[Principal, Depends(principal)]
