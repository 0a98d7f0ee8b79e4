"""Direct routes (issue 17, ``api/direct.py``): only an endpoint that takes the request alone,
on a path without parameters, may be answered before the router; the creation route is one."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Request
from starlette.responses import Response

from dialback.api import callbacks
from dialback.api.direct import direct, direct_routes


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
