"""The ``dialback`` command."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dialback.domain.effects import CancelTimer, Effect, StartTimer
from dialback.domain.errors import DialbackError
from dialback.domain.metrics import GroupBy, Observation, Stats, aggregate, observations, stitch
from dialback.domain.pacing import PacingTable
from dialback.domain.timeline import Timeline

if TYPE_CHECKING:
    from dialback.domain.model import AgentId
    from dialback.service.runtime import Runtime
    from dialback.telephony.cpa.audio import Samples
    from dialback.telephony.port import Dialer, Report

app = typer.Typer(help="dialback: callbacks that keep the customer's place.", no_args_is_help=True)


token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")

DbOption = Annotated[str, typer.Option("--db", help="SQLite file, or postgresql://user@host/db")]


@app.callback()
def main() -> None:
    """dialback: callbacks that keep the customer's place."""


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


@app.command()
def serve(
    db: DbOption = "./dialback.db",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    demo: Annotated[
        bool, typer.Option(help="Run a synthetic contact center against the service.")
    ] = False,
    speed: Annotated[float, typer.Option(help="Demo and carrier clock speed-up.")] = 1.0,
    carrier_log: Annotated[
        Path | None, typer.Option(help="Append every simulated dial to this file (JSON lines).")
    ] = None,
    access_log: Annotated[bool, typer.Option(help="Log every HTTP request.")] = False,
    sip: Annotated[
        str | None,
        typer.Option(help="Dial through this SIP trunk (sip:host:port) instead of the simulator."),
    ] = None,
    sip_ip: Annotated[str, typer.Option(help="Our address for SIP and RTP.")] = "127.0.0.1",
    ring_timeout: Annotated[
        float, typer.Option(help="SIP: seconds of ringing before CANCEL (US rules: 15 or more).")
    ] = 30.0,
    hold_audio: Annotated[
        Path | None,
        typer.Option(help="SIP: what a customer waiting for an agent hears (wav or raw u-law)."),
    ] = None,
    flow: Annotated[
        list[str] | None,
        typer.Option(help="SIP: FLOW_ID=sip:uri, where TransferToFlow sends a call (repeatable)."),
    ] = None,
    sip_user: Annotated[
        str | None, typer.Option(help="SIP: user name for a trunk that challenges (401/407).")
    ] = None,
    sip_password: Annotated[
        str | None, typer.Option(envvar="DIALBACK_SIP_PASSWORD", help="SIP: its password.")
    ] = None,
) -> None:
    """Run the service: REST API, timers and the simulated carrier (SQLite by default), or a SIP
    trunk with ``--sip``."""
    import gc
    import logging
    import random

    import uvicorn

    from dialback.api.app import create_app
    from dialback.service.demo_center import DemoCenter
    from dialback.service.runtime import Runtime
    from dialback.store.db import connect, migrate
    from dialback.store.repository import Store
    from dialback.telephony.simulated import SimulatedCarrier

    def simulated(report: Report) -> Dialer:
        return SimulatedCarrier(report, random.Random(), speed=speed, log_path=carrier_log)

    dialer_factory: Callable[[Report], Dialer] = simulated
    if sip is not None:
        dialer_factory = _sip_dialer(
            lambda: runtime,
            sip,
            sip_ip,
            ring_timeout,
            hold_audio,
            flow or [],
            sip_user,
            sip_password,
        )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    engine = connect(db)
    migrate(engine)
    store = Store(engine)
    runtime = Runtime(store, dialer_factory)

    async def started() -> None:
        # The engine keeps every live callback in memory: move what startup built out of the
        # collector's sight and collect young objects less often (fewer long GC pauses).
        gc.freeze()
        gc.set_threshold(50_000, 20, 50)
        if demo:
            token = store.create_token("admin")
            await DemoCenter(runtime, speed=speed).start()
            Console().print(
                f"[bold green]dialback demo[/] on http://{host}:{port}  "
                f"(API docs: /docs)\nadmin token: [bold]{token}[/]\n"
                f"try: curl -H 'Authorization: Bearer {token}' "
                f"http://{host}:{port}/api/v2/routing/queues"
            )

    uvicorn.run(
        create_app(runtime, on_started=started),
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
    )


def _sip_dialer(
    runtime: Callable[[], Runtime],
    trunk: str,
    local_ip: str,
    ring_timeout: float,
    hold_audio: Path | None,
    flows: list[str],
    user: str | None,
    password: str | None,
) -> Callable[[Report], Dialer]:
    """The SIP adapter's factory, every option checked before the service starts."""
    from dialback.telephony.cpa.audio import UnreadableAudio, load
    from dialback.telephony.sip.dialer import SipDialer
    from dialback.telephony.sip.digest import Credentials
    from dialback.telephony.sip.message import MalformedMessage, host_port
    from dialback.telephony.sip.uac import DialSettings

    try:
        host_port(trunk)
    except MalformedMessage as problem:
        raise typer.BadParameter(str(problem), param_hint="--sip") from None
    mapping: dict[str, str] = {}
    for item in flows:
        flow_id, _, uri = item.partition("=")
        try:
            host_port(uri)
        except MalformedMessage:
            raise typer.BadParameter(
                f"expected FLOW_ID=sip:uri, got {item!r}", param_hint="--flow"
            ) from None
        mapping[flow_id] = uri
    try:
        hold = load(hold_audio) if hold_audio is not None else default_hold()
    except (OSError, UnreadableAudio) as problem:
        raise typer.BadParameter(str(problem), param_hint="--hold-audio") from None
    if (user is None) != (password is None):
        raise typer.BadParameter("give both --sip-user and --sip-password, or neither")
    if not ring_timeout > 0:
        raise typer.BadParameter("must be more than 0 seconds", param_hint="--ring-timeout")
    settings = DialSettings(
        ring_timeout=ring_timeout,
        local_ip=local_ip,
        credentials=Credentials(user, password) if user and password is not None else None,
    )

    def address(agent_id: AgentId) -> str | None:
        agent = runtime().engine.agents.get(agent_id)
        return agent.address if agent else None

    return lambda report: SipDialer(report, trunk, address, mapping, hold, settings)


def default_hold() -> Samples:
    """Hold audio when none is given: a soft two-note chime every four seconds."""
    import numpy as np

    rate = 8000
    t = np.arange(int(0.4 * rate)) / rate
    fade = np.minimum(1.0, (0.4 - t) * 10)
    notes = [np.sin(2 * np.pi * f * t) * fade * 3000 for f in (523.25, 659.25)]
    chime = np.concatenate([*notes, np.zeros(int(3.2 * rate))])
    return chime.astype(np.int16)


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
    from dialback.demo import clock_time, describe, final_outcomes, run_day, timeline_of

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
    console = Console()
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
) -> None:
    """Every pacing modifier x mode, with replications in parallel: means and 95% intervals."""
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
    console = Console()
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
        )
    for queue, rows in summary["queues"].items():
        table = Table(title=f"{queue}: means with 95% intervals over {replications} runs")
        for column in ("mode", "pacing", *FIGURES):
            table.add_column(column.replace("_", " "), justify="right")
        for row in rows:
            cells = [
                f"{row[n]['mean']:.3g} [{row[n]['low']:.3g}, {row[n]['high']:.3g}]" for n in FIGURES
            ]
            table.add_row(row["mode"], f"{row['pacing_modifier']:g}", *cells)
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
    Console().print(out)


@app.command()
def cpa(
    files: Annotated[
        list[Path], typer.Argument(help="Recordings of answered calls: WAV, or raw u-law/A-law.")
    ],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
    setting: Annotated[
        list[str] | None,
        typer.Option(
            "--amd",
            help="An amd.conf setting, e.g. --amd maximum_number_of_words=3 (milliseconds), or "
            "dialback's noise_floor_window=0 to judge silence exactly as Asterisk does.",
        ),
    ] = None,
) -> None:
    """Classify recorded audio offline: live voice, answering machine, fax, SIT or silence."""
    from dataclasses import replace

    from dialback.telephony.cpa.amd import AmdSettings
    from dialback.telephony.cpa.analyzer import CpaSettings, classify
    from dialback.telephony.cpa.audio import UnreadableAudio, load

    amd = AmdSettings()
    for item in setting or []:
        name, _, value = item.partition("=")
        kind = type(getattr(amd, name, None))
        try:
            if name not in AmdSettings.names() or kind not in (int, float):
                raise ValueError(name)
            number = kind(value.strip())
        except ValueError:
            typer.echo(
                f"error: --amd {item!r}: expected NAME=NUMBER with NAME one of "
                f"{', '.join(AmdSettings.names())}",
                err=True,
            )
            raise typer.Exit(2) from None
        amd = replace(amd, **{name: number})
    settings = CpaSettings(amd=amd)
    table = Table(title="call progress analysis")
    for column in ("file", "outcome", "cause", "decided s", "greeting start s", "greeting end s"):
        table.add_column(column)
    failed = False
    for path in files:
        try:
            result = classify(load(path), settings)
        except (OSError, UnreadableAudio) as problem:
            typer.echo(f"error: {path}: {problem}", err=True)
            failed = True
            continue
        row = {
            "file": str(path),
            "outcome": result.outcome.value,
            "cause": result.cause,
            "decidedSeconds": round(result.decided, 3),
            "greetingStartSeconds": result.greeting_start,
            "greetingEndSeconds": result.greeting_end,
        }
        if json_out:
            typer.echo(json.dumps(row))
        else:
            table.add_row(*("" if v is None else str(v) for v in row.values()))
    if not json_out:
        Console().print(table)
    if failed:
        raise typer.Exit(1)


@app.command()
def dial(
    uri: Annotated[str, typer.Argument(help="Whom to call: sip:number@trunk-host[:port].")],
    caller_id: Annotated[str, typer.Option(help="The From user (caller ID).")] = "dialback",
    ring_timeout: Annotated[
        float, typer.Option(help="Seconds of ringing before CANCEL (US rules: 15 or more).")
    ] = 30.0,
    local_ip: Annotated[str, typer.Option(help="Our address for SIP and RTP.")] = "127.0.0.1",
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for any answer from the trunk (Timer B).")
    ] = 32.0,
    sip_user: Annotated[
        str | None, typer.Option(help="User name for a trunk that challenges (401/407).")
    ] = None,
    sip_password: Annotated[
        str | None, typer.Option(envvar="DIALBACK_SIP_PASSWORD", help="Its password.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Place one call through SIP and print its outcome: what an engineer uses to test a trunk."""
    import asyncio

    from dialback.telephony.sip.digest import Credentials
    from dialback.telephony.sip.message import MalformedMessage, host_port
    from dialback.telephony.sip.uac import DialSettings
    from dialback.telephony.sip.uac import dial as place

    try:
        host_port(uri)
    except MalformedMessage as problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2) from None
    if (sip_user is None) != (sip_password is None):
        typer.echo("error: give both --sip-user and --sip-password, or neither", err=True)
        raise typer.Exit(2)
    settings = DialSettings(
        ring_timeout=ring_timeout,
        transaction_timeout=timeout,
        local_ip=local_ip,
        credentials=Credentials(sip_user, sip_password) if sip_user and sip_password else None,
    )
    report = asyncio.run(place(uri, caller_id=caller_id, settings=settings))
    found = report.as_json()
    if json_out:
        typer.echo(json.dumps(found))
        return
    table = Table(title=f"dial {uri}")
    table.add_column("field")
    table.add_column("value")
    for key, value in found.items():
        table.add_row(key, "" if value is None else str(value))
    Console().print(table)


if __name__ == "__main__":
    app()
