"""``dialback cpa`` and ``dialback dial``: audio analysis and one real SIP call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dialback.cli.app import app
from dialback.cli.app import console as cli_console


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
    columns = ("file", "outcome", "cause", "decided s", "greeting start s", "greeting end s")
    for column in (*columns, "beep start s", "beep end s"):
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
            "beepStartSeconds": None if result.beep_start is None else round(result.beep_start, 3),
            "beepEndSeconds": None if result.beep_end is None else round(result.beep_end, 3),
        }
        if json_out:
            typer.echo(json.dumps(row))
        else:
            table.add_row(*("" if v is None else str(v) for v in row.values()))
    if not json_out:
        cli_console().print(table)
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
    cli_console().print(table)
