"""The ``dialback`` command."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dialback.domain.effects import CancelTimer, Effect, StartTimer
from dialback.domain.errors import DialbackError
from dialback.domain.pacing import PacingTable

app = typer.Typer(help="dialback: callbacks that keep the customer's place.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """dialback: callbacks that keep the customer's place."""


def _shown(effect: Effect, verbose: bool) -> bool:
    return verbose or not isinstance(effect, StartTimer | CancelTimer)


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="Seed of the pacing draws.")] = 1,
    verbose: Annotated[bool, typer.Option(help="Also show timers started and cancelled.")] = False,
    width: Annotated[
        int | None, typer.Option(help="Columns to print in (default: terminal).")
    ] = None,
) -> None:
    """Run a scripted day through the engine and print its timeline of events and effects."""
    from dialback.demo import clock_time, describe, final_outcomes, run_day

    console = Console(width=width)
    day = run_day(seed)
    timeline = Table(title="A scripted day: events in, effects out", show_lines=False)
    timeline.add_column("time", style="cyan", no_wrap=True)
    timeline.add_column("event", style="bold")
    timeline.add_column("effects")
    skip = frozenset({"conversation_id", "queue_id", "request", "timeout_at", "settings"})
    for now, event, effects in day.steps:
        lines = [describe(e, skip) for e in effects if _shown(e, verbose)]
        if lines or verbose:
            timeline.add_row(clock_time(now), describe(event, skip), "\n".join(lines))
    console.print(timeline)
    outcomes = Table(title="How each interaction ended")
    for column in ("interaction", "media", "end", "outcome"):
        outcomes.add_column(column)
    for row in final_outcomes(day):
        outcomes.add_row(*row)
    console.print(outcomes)
    for now, event, refusal in day.clock.refused:
        console.print(f"[yellow]{clock_time(now)} refused {describe(event)}: {refusal}[/]")


def _load_table(path: Path) -> PacingTable:
    text = path.read_text(encoding="utf-8")
    data: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise typer.BadParameter("expected a list of rows, or an object with 'rows'")
    return PacingTable.from_rows(rows)


@app.command("pacing-table")
def pacing_table(
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="A replacement table (TOML with [[rows]], or JSON) of modifier and multiplier.",
        ),
    ] = None,
) -> None:
    """Print the pacing table of R-CF-1: modifier, multiplier, minimum agents."""
    try:
        table = _load_table(file) if file else PacingTable.default()
    except DialbackError as problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2) from None
    out = Table(title="Customer-first pacing (R-CF-1)")
    out.add_column("pacing modifier", justify="right")
    out.add_column("multiplier (probability of dispatch)", justify="right")
    out.add_column("minimum agents for guaranteed dispatch", justify="right")
    for row in table.rows:
        out.add_row(f"{row.modifier:g}", f"{row.multiplier:g}", str(row.minimum_agents))
    Console().print(out)
