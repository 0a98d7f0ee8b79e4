"""``dialback log``: the event log, its snapshots and pruning (issue 17)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dialback.cli.app import MARKUP, DbOption, app

log_app = typer.Typer(
    help="The event log and its snapshots.", no_args_is_help=True, rich_markup_mode=MARKUP
)
app.add_typer(log_app, name="log")


@log_app.command("snapshot")
def snapshot(db: DbOption = "./dialback.db") -> None:
    """Write a snapshot of each shard's engine now (rebuilt from its log; run it while no node
    writes, or let ``serve`` take them as it goes)."""
    from dialback.service.snapshots import dump, rebuild, snapshot_format
    from dialback.store.db import connect, migrate
    from dialback.store.repository import Store
    from dialback.store.snapshots import SnapshotStore, shard_names

    engine = connect(db)
    migrate(engine)
    for shard in shard_names(engine):
        snapshots = SnapshotStore(engine, shard)
        rebuilt = rebuild(Store(engine, shard), snapshots)
        seq = snapshots.write(
            dump(rebuilt.engine, rebuilt.last_now), rebuilt.last_now, snapshot_format()
        )
        typer.echo(f"shard {shard}: snapshot at event {seq} ({rebuilt.replayed} events replayed)")


@log_app.command("prune")
def prune(
    db: DbOption = "./dialback.db",
    before: Annotated[
        int | None, typer.Option(help="Prune only events with a seq below this one.")
    ] = None,
    archive: Annotated[
        Path | None, typer.Option(help="First append the pruned events here (gzip JSON lines).")
    ] = None,
) -> None:
    """Delete the events each shard's newest snapshot covers: a start no longer needs them."""
    from dialback.service.snapshots import snapshot_format
    from dialback.store.db import connect, migrate
    from dialback.store.snapshots import SnapshotStore, shard_names

    engine = connect(db)
    migrate(engine)
    pruned = []
    try:
        for shard in shard_names(engine):
            snapshots = SnapshotStore(engine, shard)
            latest = snapshots.latest(snapshot_format())
            if latest is None:
                pruned.append(f"shard {shard}: no snapshot of this version, nothing pruned")
                continue
            deleted = snapshots.prune(snapshot_format(), before=before, archive=archive)
            pruned.append(
                f"shard {shard}: pruned {deleted} events (the newest snapshot covers up to "
                f"event {latest.seq})"
            )
    finally:
        engine.dispose()
    if all("nothing pruned" in line for line in pruned):
        typer.echo("no snapshot of this version: nothing pruned (run `dialback log snapshot`)")
        raise typer.Exit(1)
    for line in pruned:
        typer.echo(line)
