"""``dialback migrate`` and ``dialback token``: the database and its API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from dialback.cli.app import DbOption, app, token_app


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
    db: DbOption = "./dialback.db",
) -> None:
    """Create a bearer token and print it (it is stored hashed; keep the printout)."""
    from dialback.store.db import connect, migrate
    from dialback.store.repository import Store

    if role not in ("admin", "supervisor", "agent"):
        raise typer.BadParameter("role is admin, supervisor or agent")
    if role == "agent" and not user:
        raise typer.BadParameter("an agent token needs --user")
    engine = connect(db)
    migrate(engine)
    typer.echo(Store(engine).create_token(role, user))
