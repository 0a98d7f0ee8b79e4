"""The ``dialback`` Typer application and options shared by its command groups."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import MarkupMode, TyperGroup

if TYPE_CHECKING:
    from rich.console import Console

MARKUP: MarkupMode = "rich" if sys.stdout.isatty() else None
"""Help in Rich's boxes on a terminal; piped to a file or a pager, click's plain help, wrapped
and never cut to "…" (Rich fits its boxes to 80 columns there)."""


class Commands(TyperGroup):
    """The root command group: a database that cannot be opened or reached, or a file that
    cannot be read, ends the command with one line naming it (exit 1), not a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OSError as problem:
            _fail(str(problem))
        except Exception as problem:
            if not _is_database_error(problem):
                raise
            cause = getattr(problem, "orig", None) or problem
            lines = str(cause).strip().splitlines() or [repr(cause)]
            _fail(f"the database cannot be used: {lines[0]}")


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(1)


def _is_database_error(problem: Exception) -> bool:
    """SQLAlchemy's refusals of a ``--db``: unreachable, unopenable or of an unknown kind
    (looked up lazily: importing SQLAlchemy would slow every command)."""
    found = sys.modules.get("sqlalchemy.exc")
    return found is not None and isinstance(
        problem, found.OperationalError | found.ArgumentError | found.InterfaceError
    )


app = typer.Typer(
    help="dialback: callbacks that keep the customer's place.",
    no_args_is_help=True,
    cls=Commands,
    rich_markup_mode=MARKUP,
)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True, rich_markup_mode=MARKUP)
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
