"""The FastAPI application: routers, error handlers, health and Prometheus metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    disable_created_metrics,
    generate_latest,
)
from starlette.exceptions import HTTPException

from dialback import __version__
from dialback.api import analytics_routes, callbacks, errors, queues, realtime, users
from dialback.domain.effects import Effect
from dialback.domain.errors import DialbackError
from dialback.domain.events import Event
from dialback.service.queries import Queries
from dialback.service.runtime import Runtime


def create_app(runtime: Runtime, *, on_started: Callable[[], Any] | None = None) -> FastAPI:
    """The app for a runtime not yet started; the lifespan starts and stops it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if on_started is not None:
            await on_started()
        yield
        await runtime.stop()

    app = FastAPI(
        title="dialback",
        version=__version__,
        summary="Callbacks that keep the customer's place, with a Genesys-shaped API.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.queries = Queries(runtime)
    app.state.tokens = {}
    app.add_exception_handler(DialbackError, errors.dialback_error)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_exception_handler(HTTPException, errors.http_error)
    for module in (queues, users, callbacks, analytics_routes, realtime):
        app.include_router(module.router)
    _monitoring(app, runtime, app.state.queries)
    return app


def _monitoring(app: FastAPI, runtime: Runtime, queries: Queries) -> None:
    disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series are noise
    registry = CollectorRegistry()
    events = Counter("dialback_events", "Events the engine accepted", ["kind"], registry=registry)
    waiting = Gauge(
        "dialback_waiting", "Interactions waiting in queue", ["queue"], registry=registry
    )
    dials = Gauge("dialback_dials_in_progress", "Dials in progress", registry=registry)
    agents = Gauge("dialback_agents", "Agents by routing status", ["status"], registry=registry)

    def count(_at: float, event: Event, _effects: list[Effect]) -> None:
        events.labels(type(event).__name__).inc()

    runtime.listeners.append(count)

    @app.get("/healthz", tags=["monitoring"])
    async def healthz() -> dict[str, Any]:
        healthy, replayed = queries.health()
        return {"status": "ok" if healthy else "failed", "replayedEvents": replayed}

    @app.get("/metrics", response_class=PlainTextResponse, tags=["monitoring"])
    async def metrics(request: Request) -> PlainTextResponse:
        now = queries.gauges()
        for queue_id, count in now.waiting.items():
            waiting.labels(queue_id).set(count)
        dials.set(now.dials_in_progress)
        for status, n in now.agents_by_status.items():
            agents.labels(status.value).set(n)
        return PlainTextResponse(
            generate_latest(registry).decode(), media_type="text/plain; version=0.0.4"
        )
