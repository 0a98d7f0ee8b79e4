"""The ``dialback`` Typer application and options shared by its command groups."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="dialback: callbacks that keep the customer's place.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")

DbOption = Annotated[str, typer.Option("--db", help="SQLite file, or postgresql://user@host/db")]


@app.callback()
def main() -> None:
    """dialback: callbacks that keep the customer's place."""
