"""Helpers shared by the routers: the service's two doors (``runtime`` to submit events,
``queries`` to read), ids, the clock, and readers of small request parts."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from fastapi import Body, Request

from dialback.domain.callbacks import parse_time
from dialback.domain.errors import InvalidType, ValueOutOfRange
from dialback.service.queries import Queries
from dialback.service.runtime import Runtime

JsonBody = Annotated[Any, Body()]
"""A JSON body, validated by the domain's readers (which name the field at fault)."""
OptionalBody = Annotated[Any, Body()]


def new_id() -> str:
    return str(uuid.uuid4())


def runtime(request: Request) -> Runtime:
    """Where routes submit events."""
    found: Runtime = request.app.state.runtime
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
    """Genesys paging: ``pageSize`` (1..500, default 25) and ``pageNumber`` (from 1)."""
    try:
        size = int(request.query_params.get("pageSize", 25))
        number = int(request.query_params.get("pageNumber", 1))
    except ValueError:
        raise InvalidType("pageSize and pageNumber are integers", field="pageSize") from None
    if not 1 <= size <= 500 or number < 1:
        raise ValueOutOfRange("pageSize 1..500, pageNumber from 1", field="pageSize")
    return size, (number - 1) * size
