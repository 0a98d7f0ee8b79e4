"""Routes answered before the router (issue 17): the busiest route, callback creation, skips the
middlewares, routing and request handling of Starlette and FastAPI that sit between the
request-body checks and the endpoint, which cost a creation more CPU than its own checks.

A direct route is an ordinary FastAPI route (documented, and taking the router's path when
this middleware is not installed) whose endpoint takes only the ``Request``, reads what it needs
itself and answers a ready ``Response``. ``Direct`` calls that same endpoint when the method and
the path match exactly, and answers a ``DialbackError`` (and Starlette's and FastAPI's own
refusals) as the app's handlers do; any other exception goes on to the server-error middleware,
as it would from the router. A request that FastAPI's OpenTelemetry support records (an
operator configured a provider) goes through the router, which names its route.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from dialback.api.errors import http_error, response, validation_error
from dialback.domain.errors import DialbackError

Endpoint = Callable[[Request], Awaitable[Response]]
_E = TypeVar("_E", bound=Endpoint)

_DIRECT: set[Endpoint] = set()


def direct(endpoint: _E) -> _E:
    """Mark a route's endpoint to be answered by ``Direct``: it takes only the request."""
    parameters = list(inspect.signature(endpoint).parameters.values())
    if len(parameters) != 1:
        raise TypeError(f"{endpoint.__name__}: a direct route takes only the request")
    _DIRECT.add(endpoint)
    return endpoint


def direct_routes(routers: Sequence[APIRouter]) -> dict[tuple[str, str], Endpoint]:
    """(method, path) -> endpoint of the marked routes of ``routers``."""
    found: dict[tuple[str, str], Endpoint] = {}
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute) or route.endpoint not in _DIRECT:
                continue
            if "{" in route.path or route.dependant.dependencies:
                raise TypeError(
                    f"{route.path}: a direct route has no path parameters or dependencies"
                )
            for method in route.methods or ():
                found[(method, route.path)] = route.endpoint
    return found


class Direct:
    """ASGI middleware answering the direct routes; everything else goes on to ``app``."""

    def __init__(self, app: ASGIApp, routes: dict[tuple[str, str], Endpoint]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # a request FastAPI's telemetry records goes through the router, which names its route
        if scope["type"] == "http" and scope.get("fastapi.telemetry") is None:
            endpoint = self.routes.get((scope["method"], scope["path"]))
            if endpoint is not None:
                request = Request(scope, receive, send)
                try:
                    answer = await endpoint(request)
                except DialbackError as refused:
                    answer = response(refused)
                except RequestValidationError as invalid:
                    answer = await validation_error(request, invalid)
                except HTTPException as refused_by_starlette:
                    answer = await http_error(request, refused_by_starlette)
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
