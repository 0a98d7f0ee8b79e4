"""``dialback simulate``, ``sweep`` and ``pacing-table``: what-if planning on a virtual clock."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dialback.cli.app import app
from dialback.cli.app import console as cli_console
from dialback.domain.errors import DialbackError
from dialback.domain.pacing import PacingTable


@app.command()
def simulate(
    workload: Annotated[
        Path, typer.Argument(help="The workload file (TOML), see docs/simulator.md.")
    ],
    seed: Annotated[int | None, typer.Option(help="Override the workload's seed.")] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the figures per queue as JSON here.")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(help="Write report.html with the waiting queue over the day here."),
    ] = None,
    ewt_runs: Annotated[
        int,
        typer.Option(help="Also score the EWT estimators on this day, N forward runs each."),
    ] = 0,
) -> None:
    """Run the engine on a virtual clock against a synthetic contact center (what-if)."""
    from rich.progress import Progress

    from dialback.sim.model import simulate as run_simulation
    from dialback.sim.workload import load_workload

    try:
        plan = load_workload(workload)
    except DialbackError as problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2) from None
    console = cli_console()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("simulating", total=1.0)
        sim, figures = run_simulation(
            plan, seed, lambda done: progress.update(task, completed=done)
        )
    table = Table(
        title=f"{plan.hours:g} simulated hours after {plan.warmup_minutes:g} min warm-up, "
        f"seed {figures['seed']}"
    )
    names = [
        "offered",
        "answered",
        "abandoned",
        "mean_wait_seconds",
        "p_wait",
        "service_level",
        "agent_occupancy",
        "callbacks_requested",
        "dials",
        "cfc_offered",
        "cfc_abandoned",
    ]
    table.add_column("queue")
    for name in names:
        table.add_column(name.replace("_", " "), justify="right")
    for queue, row in figures["queues"].items():
        table.add_row(
            queue, *(f"{row[n]:.3g}" if isinstance(row[n], float) else str(row[n]) for n in names)
        )
    console.print(table)
    if json_out is not None:
        json_out.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if report is not None:
        from dialback.sim.report import write_simulation_report

        page = write_simulation_report(figures, sim.waiting_over_day(), report)
        console.print(f"report: {page}")
    if ewt_runs > 0:
        _ewt_accuracy(plan, seed, ewt_runs, console)


def _ewt_accuracy(plan: Any, seed: int | None, runs: int, console: Console) -> None:
    """Issue 18: predicted against actual waits of every arrival that had to wait."""
    from dialback.sim.ewt_check import check

    with console.status("scoring the EWT estimators"):
        _, summary = check(plan, seed=seed, runs=runs)
    table = Table(title=f"EWT accuracy ({runs} forward runs per estimate)")
    for column in ("arrivals", "scored", "MAE BEST s", "MAE SIMPLE s", "MAE ABANDON s"):
        table.add_column(column, justify="right")
    table.add_column("80% interval holds", justify="right")
    for kind in ("call", "callback", "all"):
        found = summary[kind]
        if found.get("n"):
            table.add_row(
                kind,
                str(found["n"]),
                *(f"{found[k]:.1f}" for k in ("mae_best", "mae_simple", "mae_abandon")),
                f"{found['coverage']:.0%}",
            )
    console.print(table)
    console.print(f"{summary['ms_per_estimate']:.0f} ms per estimate")


@app.command()
def sweep(
    workload: Annotated[Path, typer.Argument(help="The workload file (TOML).")],
    pacing: Annotated[str, typer.Option(help="Pacing modifiers: 1-10, or 1,2.5,5.")] = "1-10",
    modes: Annotated[str, typer.Option(help="Callback modes, comma-separated.")] = (
        "AgentFirst,CustomerFirst"
    ),
    replications: Annotated[int, typer.Option(help="Independent runs per combination.")] = 20,
    workers: Annotated[int | None, typer.Option(help="Local processes (default: CPUs).")] = None,
    dask: Annotated[
        str | None, typer.Option(help="A Dask scheduler address to run on instead.")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the summary here.")] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write report.html and PNG plots into this folder.")
    ] = None,
    budget: Annotated[
        bool,
        typer.Option(help="Also run customer-first pacing to an abandonment budget (R-X-16)."),
    ] = False,
) -> None:
    """Every pacing modifier x mode, with replications in parallel: means and 95% intervals;
    with ``--budget`` the abandonment-budget mode too, on the same seeds."""
    import tomllib

    from rich.progress import Progress

    from dialback.sim.sweep import FIGURES, pacing_range
    from dialback.sim.sweep import sweep as run_sweep
    from dialback.sim.workload import parse_workload

    try:
        data = tomllib.loads(workload.read_text(encoding="utf-8"))
        parse_workload(data)
        modifiers = pacing_range(pacing)
    except (DialbackError, ValueError) as problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2) from None
    console = cli_console()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("sweeping", total=1.0)
        summary = run_sweep(
            data,
            modifiers,
            [m.strip() for m in modes.split(",")],
            replications,
            workers=workers,
            dask=dask,
            progress=lambda done, total: progress.update(task, completed=done / total),
            budget=budget,
        )
    for queue, rows in summary["queues"].items():
        table = Table(title=f"{queue}: means with 95% intervals over {replications} runs")
        for column in ("mode", "pacing", *FIGURES):
            table.add_column(column.replace("_", " "), justify="right")
        for row in rows:
            cells = [
                f"{row[n]['mean']:.3g} [{row[n]['low']:.3g}, {row[n]['high']:.3g}]" for n in FIGURES
            ]
            pacing_cell = row["pacing_modifier"]
            if not isinstance(pacing_cell, str):
                pacing_cell = f"{pacing_cell:g}"
            table.add_row(row["mode"], pacing_cell, *cells)
        console.print(table)
    if json_out is not None:
        json_out.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if report is not None:
        from dialback.sim.report import write_report

        console.print(f"report: {write_report(summary, report)}")


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
    cli_console().print(out)
