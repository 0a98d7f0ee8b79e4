"""The FastAPI application: routers, error handlers, health and Prometheus metrics."""

from __future__ import annotations

import time
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
from dialback.api import (
    analytics_routes,
    callbacks,
    compliance,
    dnc,
    docs,
    errors,
    queues,
    realtime,
    tokens,
    users,
)
from dialback.api.auth import Auth, Role
from dialback.api.body import BodyLimit
from dialback.api.direct import Direct, direct_routes
from dialback.api.errors import SafeJSONResponse
from dialback.domain.effects import Effect
from dialback.domain.errors import DialbackError
from dialback.domain.events import Event
from dialback.domain.limits import BODY_BYTES
from dialback.service.queries import Queries
from dialback.service.runtime import Runtime
from dialback.service.shards import Shards
from dialback.service.tokens import Tokens


def create_app(
    service: Runtime | Shards,
    *,
    on_started: Callable[[], Any] | None = None,
    max_body_bytes: int = BODY_BYTES,
) -> FastAPI:
    """The app for a runtime not yet started; the lifespan starts and stops it. Request bodies
    over ``max_body_bytes`` are refused with 413. A single ``Runtime`` is the default shard's:
    the app runs the other shards' runtimes beside it (issue 17, ``service/shards.py``)."""
    runtime = service if isinstance(service, Shards) else Shards(service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if on_started is not None:
            await on_started()
        yield
        try:
            await runtime.stop()
        finally:
            await app.state.tokens.close()

    app = FastAPI(
        title="dialback",
        version=__version__,
        summary="Callbacks that keep the customer's place, with a Genesys-shaped API.",
        lifespan=lifespan,
        docs_url=None,  # served by docs.install, from local assets
        redoc_url=None,
        default_response_class=SafeJSONResponse,
    )
    app.state.runtime = runtime
    app.state.queries = Queries(runtime)
    app.state.tokens = Tokens(runtime.store)
    app.add_exception_handler(DialbackError, errors.dialback_error)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_exception_handler(HTTPException, errors.http_error)
    app.add_exception_handler(Exception, errors.internal_error)  # a 500 still in our shape
    routers = [
        m.router
        for m in (  # routes are tried in order: the busiest first (issue 17); none overlap
            callbacks,
            queues,
            users,
            analytics_routes,
            tokens,
            dnc,
            compliance,
            realtime,
        )
    ]
    # the last added is the outermost: the body is checked before a direct route reads it
    app.add_middleware(Direct, routes=direct_routes(routers))
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    for router in routers:
        app.include_router(router)
    _monitoring(app, runtime, app.state.queries)
    docs.install(app, routers)
    return app


def _monitoring(app: FastAPI, runtime: Shards, queries: Queries) -> None:
    disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series are noise
    registry = CollectorRegistry()
    events = Counter("dialback_events", "Events the engine accepted", ["kind"], registry=registry)
    waiting = Gauge(
        "dialback_waiting", "Interactions waiting in queue", ["queue"], registry=registry
    )
    dials = Gauge("dialback_dials_in_progress", "Dials in progress", registry=registry)
    agents = Gauge("dialback_agents", "Agents by routing status", ["status"], registry=registry)
    abandon_rate = Gauge(  # R-X-13
        "dialback_abandoned_call_rate",
        "Abandoned-call rate: US rolling 30 days, UK calendar day (Ofcom)",
        ["queue", "rule"],
        registry=registry,
    )

    by_kind: dict[type, Any] = {}  # each kind's counter, looked up once (every event counts)

    def count(_at: float, event: Event, _effects: list[Effect]) -> None:
        kind = type(event)
        counter = by_kind.get(kind)
        if counter is None:
            counter = by_kind[kind] = events.labels(kind.__name__)
        counter.inc()

    runtime.listeners.append(count)

    @app.get("/healthz", tags=["monitoring"])
    async def healthz() -> dict[str, Any]:
        healthy, replayed = queries.health()
        return {"status": "ok" if healthy else "recovering", "replayedEvents": replayed}

    @app.get("/metrics", response_class=PlainTextResponse, tags=["monitoring"])
    async def metrics(request: Request, who: Auth) -> PlainTextResponse:
        """Prometheus metrics, for a supervisor's or an admin's token (a scraper's
        ``authorization: {credentials: …}``)."""
        who.require(Role.SUPERVISOR)
        now = queries.gauges()
        for queue_id, count in now.waiting.items():
            waiting.labels(queue_id).set(count)
        dials.set(now.dials_in_progress)
        for status, n in now.agents_by_status.items():
            agents.labels(status.value).set(n)
        for queue_id in queries.queue_ids():
            report = compliance.abandonment_report(queries, queue_id, time.time())
            abandon_rate.labels(queue_id, "us_30d").set(report["us"]["rate"])
            abandon_rate.labels(queue_id, "uk_day").set(report["uk"]["rate"])
        return PlainTextResponse(
            generate_latest(registry).decode(), media_type="text/plain; version=0.0.4"
        )
