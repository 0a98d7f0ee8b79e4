"""Do-not-call lists (R-X-7, docs/compliance.md) in the shape of Genesys' outbound DNC lists:
list them, add or remove numbers, import and export CSV. Changes go through the engine (an
event in the log), so the check before each dial (R-X-8) sees them at once."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from dialback.api.auth import Auth, Role
from dialback.api.common import JsonBody, queries, runtime
from dialback.api.numbers import normalize_number
from dialback.domain.dnc import check_list_id, parse_change, parse_rows
from dialback.domain.errors import InvalidInput

router = APIRouter(prefix="/api/v2/outbound/dnclists", tags=["dnc"])


class CsvResponse(PlainTextResponse):
    """A CSV body, documented as ``text/csv`` in the OpenAPI schema."""

    media_type = "text/csv"


def to_csv(numbers: list[str]) -> str:
    """The export: a ``phoneNumber`` header and one E.164 number a line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["phoneNumber"])
    for number in numbers:
        writer.writerow([number])
    return out.getvalue()


def read_csv(text: str) -> list[list[str]]:
    """Rows of a CSV text."""
    return list(csv.reader(io.StringIO(text)))


@router.get("")
async def lists(request: Request, who: Auth) -> dict[str, Any]:
    who.require(Role.SUPERVISOR)
    found = queries(request).compliance.dnc_lists()
    entities = [{"id": row.list_id, "name": row.list_id, "size": row.count} for row in found]
    return {"entities": entities, "total": len(entities)}


@router.patch("/{list_id}/phonenumbers")
async def change(request: Request, list_id: str, who: Auth, body: JsonBody) -> dict[str, Any]:
    """``{"action": "Add" | "Remove", "phoneNumbers": [...], "countryCode": "US"}``."""
    who.require(Role.SUPERVISOR)
    event = parse_change(list_id, body, normalize_number)
    await runtime(request).submit(event)
    return {"id": list_id, "added": len(event.added), "removed": len(event.removed)}


@router.post("/{list_id}/import")
async def import_csv(request: Request, list_id: str, who: Auth) -> dict[str, Any]:
    """(ext) A CSV body (``text/csv``); ``?countryCode=US`` for national forms."""
    who.require(Role.SUPERVISOR)
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV is not UTF-8", field="body") from None
    event = parse_rows(
        list_id, read_csv(text), normalize_number, request.query_params.get("countryCode")
    )
    await runtime(request).submit(event)
    return {"id": list_id, "added": len(event.added)}


@router.get("/{list_id}/export", response_class=CsvResponse)
async def export_csv(request: Request, list_id: str, who: Auth) -> CsvResponse:
    """(ext) The list as CSV, one E.164 number a line."""
    who.require(Role.SUPERVISOR)
    check_list_id(list_id)
    rows = queries(request).compliance.dnc_entries(list_id)
    return CsvResponse(to_csv([row.number for row in rows]))
