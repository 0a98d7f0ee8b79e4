"""The ``dialback`` Typer application and options shared by its command groups."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(help="dialback: callbacks that keep the customer's place.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")

DbOption = Annotated[str, typer.Option("--db", help="SQLite file, or postgresql://user@host/db")]


@app.callback()
def main() -> None:
    """dialback: callbacks that keep the customer's place."""


PIPE_WIDTH = 4096  # columns when stdout is not a terminal: nothing wrapped or cut


def console(width: int | None = None) -> Console:
    """Where commands print: the terminal's width on a terminal; piped to a file or a pager,
    wide enough that no value is cut to "…" (``--width`` wins over both)."""
    from rich.console import Console

    if width is None and not sys.stdout.isatty():
        width = PIPE_WIDTH
    return Console(width=width)
