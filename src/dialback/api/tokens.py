"""(ext) API tokens for admins: list, create and revoke (issue 12); ``dialback token`` does the
same from the command line. A token is shown once, when created; it is named by its ``id``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from dialback.api.auth import Auth
from dialback.api.common import JsonBody, object_body
from dialback.api.genesys import iso
from dialback.domain.errors import InvalidType
from dialback.service.tokens import TokenRow, Tokens, parse_duration

router = APIRouter(prefix="/api/v2/tokens", tags=["tokens"])


def _tokens(request: Request) -> Tokens:
    found: Tokens = request.app.state.tokens
    return found


def token_json(row: TokenRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "role": row.role,
        "userId": row.user_id,
        "dateCreated": iso(row.created_at),
        "dateExpires": iso(row.expires_at) if row.expires_at is not None else None,
    }


@router.get("")
async def list_tokens(request: Request, who: Auth) -> dict[str, Any]:
    who.require()
    return {"entities": [token_json(r) for r in _tokens(request).list()]}


@router.post("")
async def create_token(request: Request, who: Auth, body: JsonBody) -> dict[str, Any]:
    """``{"role": "agent", "userId": …, "expiresIn": "12h"}``; ``expiresIn`` is ``90s``,
    ``30m``, ``12h``, ``7d`` or ``never`` (default: 12h for agent tokens, never for others).
    The answer holds the token, shown this once."""
    who.require()
    fields = object_body(body)
    role, user, expires = fields.get("role"), fields.get("userId"), fields.get("expiresIn")
    for name, value in (("role", role), ("userId", user), ("expiresIn", expires)):
        if value is not None and not isinstance(value, str):
            raise InvalidType("expected a string", field=name)
    token, row = _tokens(request).create(
        role or "", user, "default" if expires is None else parse_duration(expires)
    )
    return {"token": token, **token_json(row)}


@router.delete("/{token_id}")
async def revoke_token(request: Request, token_id: str, who: Auth) -> dict[str, Any]:
    """Revoke a token: refused from the next request on."""
    who.require()
    _tokens(request).revoke(token_id)
    return {"id": token_id, "state": "revoked"}
