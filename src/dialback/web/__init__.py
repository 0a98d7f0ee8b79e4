"""The browser: queue settings, the live supervisor dashboard and the agent desktop (issue 13).

Server-rendered (Jinja2) pages with htmx and its server-sent-events extension, every asset
served by dialback itself. ``create_app`` is the API's app with the pages mounted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from dialback.api.app import create_app as create_api
from dialback.service.runtime import Runtime
from dialback.service.shards import Shards
from dialback.web.figures import FiguresCache
from dialback.web.live import Changes
from dialback.web.pages import HERE, router
from dialback.web.session import Sessions


def mount(app: FastAPI, runtime: Shards) -> None:
    """Add the pages, their static files and their live updates to ``app``."""
    app.state.web_sessions = Sessions()
    app.state.web_figures = FiguresCache()
    app.state.web_changes = changes = Changes()
    runtime.listeners.append(changes)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


def create_app(
    runtime: Runtime | Shards, *, on_started: Callable[[], Any] | None = None, **options: Any
) -> FastAPI:
    """The whole application ``dialback serve`` runs: the API (``api.app.create_app``, which
    takes ``options`` such as ``max_body_bytes``) with the pages mounted on it. Composed here
    because the pages depend on the API, never the reverse."""
    app = create_api(runtime, on_started=on_started, **options)
    mount(app, app.state.runtime)  # every shard's commits
    return app
