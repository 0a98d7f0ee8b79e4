"""Helpers shared by the routers."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from fastapi import Body, Request

from dialback.api.errors import ApiError
from dialback.domain.callbacks import parse_time
from dialback.domain.engine import Engine
from dialback.service.runtime import Runtime
from dialback.store.repository import Reader, Store

JsonBody = Annotated[Any, Body()]
"""A JSON body, validated by the domain's readers (which name the field at fault)."""
OptionalBody = Annotated[Any, Body()]


def new_id() -> str:
    return str(uuid.uuid4())


def runtime(request: Request) -> Runtime:
    found: Runtime = request.app.state.runtime
    return found


def engine(request: Request) -> Engine:
    return runtime(request).engine


def reader(request: Request) -> Reader:
    found: Reader = request.app.state.reader
    return found


def store(request: Request) -> Store:
    found: Store = request.app.state.store
    return found


def now() -> float:
    return time.time()


def object_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(422, "invalid_type", "expected a JSON object", "body")
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
        raise ApiError(422, "invalid_type", "pageSize and pageNumber are integers") from None
    if not 1 <= size <= 500 or number < 1:
        raise ApiError(422, "value_out_of_range", "pageSize 1..500, pageNumber from 1", "pageSize")
    return size, (number - 1) * size
