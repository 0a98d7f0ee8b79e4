"""``dialback dnc``: do-not-call lists (R-X-7, docs/compliance.md).

With ``--url`` (and ``--token``) the commands go through a running server's API, which is the
way while a server runs: the change is an event its engine sees at once. Without ``--url`` they
write the database's event log directly, for a server that is not running (it reads the change
when it starts); an export reads the database either way.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer

from dialback.cli.app import MARKUP, DbOption, app

dnc_app = typer.Typer(
    help="Do-not-call lists (import, export, add, remove).",
    no_args_is_help=True,
    rich_markup_mode=MARKUP,
)
app.add_typer(dnc_app, name="dnc")

ListOption = Annotated[str, typer.Option("--list", help="The DNC list's id.")]
UrlOption = Annotated[str | None, typer.Option(help="A running server, e.g. http://127.0.0.1:8080")]
TokenOption = Annotated[str | None, typer.Option(help="A supervisor or admin token (--url).")]
CountryOption = Annotated[str | None, typer.Option(help="ISO country for national numbers.")]


def _api(url: str, token: str | None, method: str, path: str, data: bytes, kind: str) -> Any:
    request = urllib.request.Request(
        url.rstrip("/") + path,
        data=data or None,
        method=method,
        headers={"Authorization": f"Bearer {token or ''}", "Content-Type": kind},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        body = answer.read().decode()
    return json.loads(body) if kind == "application/json" or body.startswith("{") else body


def _commit(db: str, event: Any) -> None:
    from dialback.store.db import connect, migrate
    from dialback.store.repository import Step, Store

    engine = connect(db)
    migrate(engine)
    Store(engine).commit([Step(event, time.time(), [])])


def _change(
    action: str, list_id: str, numbers: list[str], country: str | None, **where: Any
) -> None:
    from dialback.api.numbers import normalize_number
    from dialback.domain.dnc import parse_change

    body = {"action": action, "phoneNumbers": numbers, "countryCode": country}
    if where["url"]:
        path = f"/api/v2/outbound/dnclists/{list_id}/phonenumbers"
        answer = _api(
            where["url"],
            where["token"],
            "PATCH",
            path,
            json.dumps(body).encode(),
            "application/json",
        )
        typer.echo(json.dumps(answer))
        return
    event = parse_change(list_id, body, normalize_number)
    _commit(where["db"], event)
    typer.echo(f"{list_id}: {len(event.added)} added, {len(event.removed)} removed")


@dnc_app.command("add")
def add(
    numbers: list[str],
    list_id: ListOption = "internal",
    country: CountryOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = "./dialback.db",
) -> None:
    """Add numbers to a list (normalised to E.164)."""
    _change("Add", list_id, numbers, country, url=url, token=token, db=db)


@dnc_app.command("remove")
def remove(
    numbers: list[str],
    list_id: ListOption = "internal",
    country: CountryOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = "./dialback.db",
) -> None:
    """Remove numbers from a list."""
    _change("Remove", list_id, numbers, country, url=url, token=token, db=db)


@dnc_app.command("import")
def import_csv(
    file: Path,
    list_id: ListOption = "internal",
    country: CountryOption = None,
    url: UrlOption = None,
    token: TokenOption = None,
    db: DbOption = "./dialback.db",
) -> None:
    """Add the numbers of a CSV file (a phoneNumber column, else the first column)."""
    from dialback.api.dnc import read_csv
    from dialback.api.numbers import normalize_number
    from dialback.domain.dnc import parse_rows

    text = file.read_text(encoding="utf-8-sig")
    if url:
        path = f"/api/v2/outbound/dnclists/{list_id}/import"
        if country:
            path += f"?countryCode={country}"
        typer.echo(json.dumps(_api(url, token, "POST", path, text.encode(), "text/csv")))
        return
    event = parse_rows(list_id, read_csv(text), normalize_number, country)
    _commit(db, event)
    typer.echo(f"{list_id}: {len(event.added)} numbers imported")


@dnc_app.command("export")
def export_csv(
    list_id: ListOption = "internal",
    out: Annotated[Path | None, typer.Option(help="File to write (default: stdout).")] = None,
    db: DbOption = "./dialback.db",
) -> None:
    """Write a list as CSV (phoneNumber, one E.164 number a line)."""
    from dialback.api.dnc import to_csv
    from dialback.store.compliance import ComplianceReader
    from dialback.store.db import connect, migrate

    engine = connect(db)
    migrate(engine)
    text = to_csv([row.number for row in ComplianceReader(engine).dnc_entries(list_id)])
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@dnc_app.command("lists")
def lists(db: DbOption = "./dialback.db") -> None:
    """The lists and their sizes."""
    from dialback.store.compliance import ComplianceReader
    from dialback.store.db import connect, migrate

    engine = connect(db)
    migrate(engine)
    for row in ComplianceReader(engine).dnc_lists():
        typer.echo(f"{row.list_id}\t{row.count}")
