"""``dialback migrate`` and ``dialback token``: the database and its API tokens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from dialback.cli.app import DbOption, app, token_app

if TYPE_CHECKING:
    from dialback.service.tokens import Tokens


@app.command()
def migrate(db: DbOption = "./dialback.db") -> None:
    """Create or upgrade the database schema (also done by ``serve``)."""
    from dialback.store.db import connect, migrate

    migrate(connect(db))
    typer.echo(f"database {db} is at the newest schema")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="admin, supervisor or agent")] = "admin",
    user: Annotated[str | None, typer.Option(help="The agent's user id (agent tokens).")] = None,
    expires_in: Annotated[
        str | None,
        typer.Option(help="90s, 30m, 12h, 7d or never (default: 12h for agents, else never)."),
    ] = None,
    db: DbOption = "./dialback.db",
) -> None:
    """Create a bearer token and print it (it is stored hashed; keep the printout)."""
    from dialback.domain.errors import DialbackError
    from dialback.service.tokens import parse_duration

    with _tokens(db) as tokens:
        try:
            expires = "default" if expires_in is None else parse_duration(expires_in)
            token, _ = tokens.create(role, user, expires)
        except DialbackError as refused:
            raise typer.BadParameter(refused.message, param_hint=refused.field) from None
    typer.echo(token)


@token_app.command("list")
def token_list(db: DbOption = "./dialback.db") -> None:
    """Every token: its id (for revoke), role, user, creation and expiry (UTC)."""
    from dialback.api.genesys import iso

    with _tokens(db) as tokens:
        rows = tokens.list()
    for row in rows:
        expires = iso(row.expires_at) if row.expires_at is not None else "never"
        typer.echo(f"{row.id}\t{row.role}\t{row.user_id or '-'}\t{iso(row.created_at)}\t{expires}")


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The id that `token list` shows.")],
    db: DbOption = "./dialback.db",
) -> None:
    """Revoke a token: a running service refuses it from its next request."""
    from dialback.service.tokens import UnknownToken

    with _tokens(db) as tokens:
        try:
            tokens.revoke(token_id)
        except UnknownToken as missing:
            raise typer.BadParameter(missing.message, param_hint="TOKEN_ID") from None
    typer.echo(f"revoked {token_id}")


@contextmanager
def _tokens(db: str) -> Iterator[Tokens]:
    from dialback.service.tokens import Tokens
    from dialback.store.db import connect, migrate
    from dialback.store.repository import Store

    engine = connect(db)
    try:
        migrate(engine)
        yield Tokens(Store(engine))
    finally:
        engine.dispose()
