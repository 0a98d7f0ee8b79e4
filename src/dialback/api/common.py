"""Helpers shared by the routers: the service's two doors (``runtime`` to submit events,
``queries`` to read), ids, the clock, and readers of small request parts."""

from __future__ import annotations

import re
import time
import uuid
from typing import Annotated, Any

from fastapi import Depends, Request

from dialback.api.body import json_body, optional_json_body
from dialback.domain.callbacks import parse_time
from dialback.domain.errors import InvalidType, ValueOutOfRange
from dialback.domain.limits import PAGE_NUMBER, PAGE_SIZE
from dialback.service.queries import Queries
from dialback.service.shards import Shards

JsonBody = Annotated[Any, Depends(json_body)]
"""A JSON body within ``domain.limits``, validated further by the domain's readers (which name
the field at fault)."""
OptionalBody = Annotated[Any, Depends(optional_json_body)]


def new_id() -> str:
    return str(uuid.uuid4())


def runtime(request: Request) -> Shards:
    """Where routes submit events (each to its shard's runtime, issue 17)."""
    found: Shards = request.app.state.runtime
    return found


def queries(request: Request) -> Queries:
    """Where routes read: live state and stored history, never the engine or the database."""
    found: Queries = request.app.state.queries
    return found


def now() -> float:
    return time.time()


def object_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidType("expected a JSON object", field="body")
    return body


def optional_time(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    return None if value is None else parse_time(value, key)


def page(request: Request) -> tuple[int, int]:
    """Genesys paging: ``pageSize`` (1..500, default 25) and ``pageNumber`` (1..100 000)."""
    size = _integer(request, "pageSize", 25, 1, PAGE_SIZE)
    number = _integer(request, "pageNumber", 1, 1, PAGE_NUMBER)
    return size, (number - 1) * size


def _integer(request: Request, name: str, default: int, low: int, high: int) -> int:
    """A query parameter that must be an integer in ``low..high`` (ASCII digits only, so an
    overflowing or exotic value is refused here, never by the database)."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if re.fullmatch(r"\s*-?[0-9]+\s*", raw) is None:
        raise InvalidType(f"{name} is an integer", field=name)
    digits = raw.strip().lstrip("-").lstrip("0")
    if len(digits) > 9 or not low <= int(raw) <= high:
        raise ValueOutOfRange(f"{name} is {low}..{high}", field=name)
    return int(raw)
