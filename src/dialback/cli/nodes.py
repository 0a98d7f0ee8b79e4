"""``dialback nodes``: nodes, shards and leases on one PostgreSQL (issue 17)."""

from __future__ import annotations

import typer

from dialback.cli.app import DbOption, app


@app.command()
def nodes(db: DbOption = "./dialback.db") -> None:
    """List the nodes, the shards and who holds each shard's lease (the database's clock)."""
    from rich.console import Console
    from rich.table import Table

    from dialback.store.db import connect, migrate
    from dialback.store.leases import list_leases, list_nodes

    engine = connect(db)
    try:
        if engine.dialect.name != "postgresql":
            typer.echo("SQLite: one node owns everything (several nodes need PostgreSQL)")
            return
        migrate(engine)
        found_nodes, leases = list_nodes(engine), list_leases(engine)
    finally:
        engine.dispose()
    holding: dict[str, list[str]] = {}
    for r in leases:
        if r.seconds_left > 0 and r.node_id:
            holding.setdefault(r.node_id, []).append(r.shard)
    table = Table("node", "url", "last seen", "leads")
    for n in found_nodes:
        led = ", ".join(holding.get(n.node_id, [])) or "-"
        table.add_row(n.node_id, n.url, f"{n.seconds_since_seen:.1f} s ago", led)
    shards = Table("shard", "leaseholder", "epoch", "expires in", "acquired at")
    for r in leases:
        live = r.seconds_left > 0
        shards.add_row(
            r.shard,
            (r.node_id or "-") if live else "(none: expired)",
            str(r.epoch),
            f"{r.seconds_left:.1f} s" if live else "-",
            r.acquired_at.isoformat() if r.acquired_at else "-",
        )
    console = Console()
    console.print(table)
    console.print(shards)
