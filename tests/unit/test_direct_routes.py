"""Direct routes (issue 17, ``api/direct.py``): only an endpoint that takes the request alone,
on a path without parameters, may be answered before the router; the creation route is one."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Message

from dialback.api import callbacks
from dialback.api.direct import Direct, direct, direct_routes


def test_the_creation_route_is_direct() -> None:
    routes = direct_routes([callbacks.router])
    assert routes == {("POST", "/api/v2/conversations/callbacks"): callbacks.create_callback}


def test_an_endpoint_taking_more_than_the_request_is_refused() -> None:
    async def two(request: Request, other: str) -> Response:
        return Response()

    with pytest.raises(TypeError, match="takes only the request"):
        direct(two)  # type: ignore[type-var]  # what the test refuses


def test_a_direct_route_with_path_parameters_is_refused() -> None:
    router = APIRouter()

    @router.get("/things/{thing}")
    @direct
    async def thing(request: Request) -> Response:
        return Response()

    with pytest.raises(TypeError, match="no path parameters"):
        direct_routes([router])


def _asgi(direct_app: Direct, telemetry: object = None) -> tuple[int, bytes]:
    """POST /x through ``direct_app``; the status and body it answered."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "headers": [],
        "query_string": b"",
    }
    if telemetry is not None:
        scope["fastapi.telemetry"] = telemetry
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(direct_app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(sent[0]["status"]), body


def test_refusals_are_answered_in_our_shape_and_recorded_requests_take_the_router() -> None:
    async def refusing(request: Request) -> Response:
        raise HTTPException(429, "slow down")

    async def router(scope: Any, receive: Any, send: Any) -> None:
        await Response("from the router", status_code=299)(scope, receive, send)

    app = Direct(router, {("POST", "/x"): refusing})
    status, body = _asgi(app)
    assert status == 429 and json.loads(body)["status"] == 429  # as the app's handler answers
    status, body = _asgi(app, telemetry=object())  # FastAPI's telemetry records this request
    assert (status, body) == (299, b"from the router")
