"""The browser: queue settings, the live supervisor dashboard and the agent desktop (issue 13).

Server-rendered (Jinja2) pages with htmx and its server-sent-events extension, every asset
served by dialback itself. ``mount`` adds the pages to the API's app.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from dialback.service.runtime import Runtime
from dialback.web.figures import FiguresCache
from dialback.web.live import Changes
from dialback.web.pages import HERE, router
from dialback.web.session import Sessions


def mount(app: FastAPI, runtime: Runtime) -> None:
    """Add the pages, their static files and their live updates to ``app``."""
    app.state.web_sessions = Sessions()
    app.state.web_figures = FiguresCache()
    app.state.web_changes = changes = Changes()
    runtime.listeners.append(changes)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
