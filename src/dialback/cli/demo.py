"""``dialback demo``: a scripted day through the engine, printed with its metrics."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dialback.cli.app import app
from dialback.cli.app import console as cli_console
from dialback.domain.effects import CancelTimer, Effect, StartTimer
from dialback.domain.metrics import GroupBy, Observation, Stats, aggregate, observations, stitch
from dialback.domain.timeline import Timeline


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
    from dialback.demo.script import clock_time, describe, final_outcomes, run_day, timeline_of

    console = cli_console(width)
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
    for table in metrics_tables(timeline_of(day)):
        console.print(table)


def _seconds(stats: Stats | None) -> str:
    return f"{stats.mean:.1f}" if stats and stats.count else "-"


def _count(stats: Stats | None) -> str:
    return str(stats.count) if stats else "0"


def metrics_tables(timeline: Timeline) -> list[Table]:
    """The day's metrics: per queue, medium and mode; per agent; one stitched row per
    conversation (R-M-1..5)."""
    found = [o for c in timeline.conversations.values() for o in observations(c)]
    queues = Table(title="Queue metrics (means in seconds)")
    columns = ["queue", "media", "mode", "nOffered", "answered", "abandoned", "flowed out"]
    columns += ["tWait", "service level", "dials", "nCfcOffered", "tCfcAcd"]
    for column in columns:
        queues.add_column(
            column, justify="left" if column in {"queue", "media", "mode"} else "right"
        )
    group = [GroupBy.QUEUE, GroupBy.MEDIA, GroupBy.MODE]
    for row, m in _rows(found, group):
        sl = m.get("oServiceLevel")
        queues.add_row(
            row.get(GroupBy.QUEUE, "-"),
            row.get(GroupBy.MEDIA, "-"),
            row.get(GroupBy.MODE, "voice call"),
            _count(m.get("nOffered")),
            _count(m.get("tAnswered")),
            _count(m.get("tAbandon")),
            _count(m.get("tFlowOut")),
            _seconds(m.get("tWait")),
            f"{sl.mean:.0%}" if sl and sl.count else "-",
            _count(m.get("nCallbackAttempts")),
            _count(m.get("nCfcOffered")),
            _seconds(m.get("tCfcAcd")),
        )
    agents = Table(title="Agent metrics (means in seconds)")
    names = ["tAlert", "tAnswered", "tFirstDial", "tFirstConnect", "tTalk", "tAcw", "tHandle"]
    for column in ["agent", "media", *names]:
        agents.add_column(column, justify="left" if column in {"agent", "media"} else "right")
    for row, m in _rows([o for o in found if o.agent_id], [GroupBy.AGENT, GroupBy.MEDIA]):
        cells = [_seconds(m.get(name)) for name in names]
        agents.add_row(row.get(GroupBy.AGENT, "-"), row.get(GroupBy.MEDIA, "-"), *cells)
    records = Table(title="One row per conversation (R-M-5)")
    for column in [
        "conversation",
        "mode",
        "gross wait",
        "net wait",
        "dials",
        "greeting end → agent",
    ]:
        records.add_column(column)
    for conversation in timeline.conversations.values():
        r = stitch(conversation)
        dials = ", ".join(d.outcome.value for d in r.dials if d.outcome) or "-"
        records.add_row(
            r.conversation_id,
            r.mode.value if r.mode else "voice call",
            "-" if r.gross_wait is None else f"{r.gross_wait:g}s",
            "-" if r.net_wait is None else f"{r.net_wait:g}s",
            dials,
            "-" if r.greeting_end_to_agent is None else f"{r.greeting_end_to_agent:.1f}s",
        )
    return [queues, agents, records]


def _rows(
    found: list[Observation], group: list[GroupBy]
) -> list[tuple[dict[GroupBy, str], dict[str, Stats]]]:
    """Totals over the whole day per group."""
    merged: dict[tuple[tuple[GroupBy, str], ...], dict[str, Stats]] = {}
    for row in aggregate(found, interval_seconds=86_400, group_by=group):
        into = merged.setdefault(row.group, {})
        for name, stats in row.metrics.items():
            total = into.setdefault(name, Stats())
            total.count += stats.count
            total.sum += stats.sum
            total.min = min(total.min, stats.min)
            total.max = max(total.max, stats.max)
    return [(dict(key), value) for key, value in sorted(merged.items())]
