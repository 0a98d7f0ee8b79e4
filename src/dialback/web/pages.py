"""The pages: sign-in, the supervisor dashboard, queue settings and the agent desktop.

Pages read through the service's query interface and act through the API's own route functions
(``api/queues.py``, ``api/callbacks.py``, ``api/users.py``) called with the session's principal,
so a page can do exactly what the same token can do through the API, checked by the same code.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sse_starlette.sse import EventSourceResponse
from starlette.types import Receive, Scope, Send

from dialback.api import callbacks as callbacks_api
from dialback.api import errors
from dialback.api import queues as queues_api
from dialback.api import users as users_api
from dialback.api.auth import Role
from dialback.api.common import queries
from dialback.api.errors import Forbidden, Unauthorized, status_of
from dialback.domain.errors import DialbackError, UnknownQueue
from dialback.domain.limits import check_json
from dialback.domain.model import QueueId
from dialback.web import session as sessions_
from dialback.web import settings_form, views
from dialback.web.dashboard import dashboard_context, dashboard_sections, layout_context
from dialback.web.desk import desk_context, desk_sections
from dialback.web.live import Changes, stream

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(
    seconds=views.seconds,
    duration=views.duration,
    clock=views.clock,
    percent=views.percent,
    number=views.number,
)
templates.env.globals["inf"] = math.inf
router = APIRouter(include_in_schema=False)


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    session = sessions_.current(request)
    return templates.TemplateResponse(
        request,
        name,
        {"session": session, "server_time": time.time(), **context},
        status_code=status,
    )


def fragment(name: str, **context: Any) -> str:
    return templates.get_template(name).render(**context)


def refused(request: Request, problem: DialbackError) -> Response:
    """A page the session may not open: sign in again, or say which role it needs."""
    if isinstance(problem, Unauthorized):
        return RedirectResponse(f"/signin?next={quote(request.url.path)}", status_code=303)
    return render(request, "refused.html", status_of(problem), message=problem.message)


def message(text: str, *, error: bool = False, status: int = 200) -> HTMLResponse:
    """The short answer an htmx action shows in the page's status line."""
    return HTMLResponse(fragment("_message.html", text=text, error=error), status_code=status)


def changes(request: Request) -> Changes:
    found: Changes = request.app.state.web_changes
    return found


# --- signing in -----------------------------------------------------------------------------
def _home(role: Role) -> str:
    return "/agent" if role is Role.AGENT else "/"


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host) may follow a sign-in."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parsed = urlparse(target)
    return None if parsed.scheme or parsed.netloc else target


@router.get("/signin")
async def signin_page(request: Request, next: str | None = None) -> Response:
    token = sessions_.new_secret()
    response = render(request, "signin.html", signin_csrf=token, next=_safe_next(next) or "")
    sessions_.set_cookie(response, sessions_.SIGNIN_COOKIE, token, 1800)
    return response


@router.post("/signin")
async def signin(request: Request) -> Response:
    fields: list[tuple[str, str]] = []
    try:
        fields = await sessions_.form(request)
        sessions_.check_csrf(request.cookies.get(sessions_.SIGNIN_COOKIE, "-"), request, fields)
        principal = sessions_.principal_of_token(request, dict(fields).get("token", ""))
    except DialbackError as problem:
        posted = dict(fields)
        token = sessions_.new_secret()
        response = render(
            request,
            "signin.html",
            status_of(problem),
            signin_csrf=token,
            next=_safe_next(posted.get("next")) or "",
            error="That token is not valid."
            if isinstance(problem, Unauthorized)
            else problem.message,
        )
        sessions_.set_cookie(response, sessions_.SIGNIN_COOKIE, token, 1800)
        return response
    posted = dict(fields)
    name = principal.role.value.capitalize()
    if principal.user_id:
        row = queries(request).user(principal.user_id)
        name = row.name if row else principal.user_id
    token = posted.get("token", "").strip()
    session_id, _ = sessions_.sessions(request).open(principal, name, token)
    target = _safe_next(posted.get("next"))
    if principal.role is Role.AGENT or target is None:
        target = _home(principal.role)
    redirect = RedirectResponse(target, status_code=303)
    sessions_.set_cookie(redirect, sessions_.SESSION_COOKIE, session_id, sessions_.SESSION_SECONDS)
    redirect.delete_cookie(sessions_.SIGNIN_COOKIE, path="/")
    return redirect


@router.post("/signout")
async def signout(request: Request) -> Response:
    session = sessions_.current(request)
    if session is not None:
        try:
            sessions_.check_csrf(session.csrf, request, await sessions_.form(request))
        except DialbackError as problem:
            return refused(request, problem)
    sessions_.sessions(request).close(request.cookies.get(sessions_.SESSION_COOKIE))
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(sessions_.SESSION_COOKIE, path="/")
    return response


# --- the supervisor dashboard ---------------------------------------------------------------
@router.get("/")
async def dashboard(request: Request) -> Response:
    try:
        session = await sessions_.signed_in(request, Role.SUPERVISOR)
    except DialbackError as problem:
        if isinstance(problem, Forbidden) and sessions_.current(request):
            return RedirectResponse("/agent", status_code=303)  # an agent's home
        return refused(request, problem)
    context = await dashboard_context(request, session, changes(request).version, fragment)
    return render(request, "dashboard.html", **context)


class _CountedStream(EventSourceResponse):
    """An event stream that gives its principal's share back when it ends, however it ends
    (the client left, the session closed, an error): ``__call__`` runs once per response."""

    def __init__(self, messages: AsyncIterator[dict[str, str]], release: Callable[[], None]):
        super().__init__(messages, ping=15)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _live(
    request: Request, session: sessions_.Session, messages: AsyncIterator[dict[str, str]]
) -> Response:
    """A live page's event stream, counted against its principal's share
    (``STREAMS_PER_PRINCIPAL``) while it is open. Raises ``TooManyStreams``."""
    registry = sessions_.sessions(request)
    scope = session.principal.scope
    registry.take_stream(scope)
    return _CountedStream(messages, lambda: registry.give_stream(scope))


def _alive(request: Request, session: sessions_.Session) -> Callable[[], Awaitable[bool]]:
    session_id = request.cookies.get(sessions_.SESSION_COOKIE)

    async def alive() -> bool:
        return await sessions_.still_open(request, session_id, session)

    return alive


@router.get("/live/dashboard")
async def dashboard_stream(request: Request) -> Response:
    try:
        session = await sessions_.signed_in(request, Role.SUPERVISOR)
    except DialbackError as problem:
        return errors.response(problem)
    live = changes(request)

    async def sections() -> dict[str, str]:
        return await dashboard_sections(request, session, live.version, fragment)

    layout = fragment("_layout.html", **layout_context(request, session, None))
    try:
        return _live(
            request,
            session,
            stream(live, sections, refresh=3.0, layout=layout, alive=_alive(request, session)),
        )
    except DialbackError as problem:
        return errors.response(problem)


@router.post("/callbacks/{conversation_id}/cancel")
async def cancel_callback(request: Request, conversation_id: str) -> Response:
    try:
        session, _ = await sessions_.posted(request, Role.SUPERVISOR)
        await callbacks_api.disconnect(request, conversation_id, session.principal, None)
    except DialbackError as problem:
        return message(problem.message, error=True, status=status_of(problem))
    return message("Callback cancelled.")


@router.post("/callbacks/reschedule")
async def reschedule_callback(request: Request) -> Response:
    try:
        session, fields = await sessions_.posted(request, Role.SUPERVISOR)
        posted = dict(fields)
        body = {"conversationId": posted.get("conversationId", "")}
        if posted.get("callbackScheduledTime"):
            body["callbackScheduledTime"] = posted["callbackScheduledTime"]
        check_json(body, "")  # the API's bounds, as for a JSON body
        await callbacks_api.reschedule(request, session.principal, body)
    except DialbackError as problem:
        return message(problem.message, error=True, status=status_of(problem))
    return message("Callback rescheduled.")


# --- queue settings -------------------------------------------------------------------------
def _settings_page(
    request: Request, queue_id: str, values: dict[str, Any], status: int = 200, **extra: Any
) -> HTMLResponse:
    snapshot = queries(request).queue_snapshot(QueueId(queue_id))
    rows = queries(request).pacing_table()
    current = snapshot.settings.callback.pacing_modifier
    row = next((r for r in rows if r.modifier == math.floor(current)), rows[-1])
    meaning = views.pacing_meaning(
        snapshot.pacing.multiplier, row.minimum_agents, snapshot.pacing.on_queue
    )
    return render(
        request,
        "settings.html",
        status,
        queue_id=queue_id,
        snapshot=snapshot,
        sections=settings_form.SECTIONS,
        fields=settings_form.FIELDS,
        flow_of=settings_form.FLOW_OF,
        values=values,
        defaults=settings_form.DEFAULTS,
        pacing_rows=rows,
        pacing_meaning=meaning,
        **extra,
    )


@router.get("/queues/{queue_id}/settings")
async def settings_page(request: Request, queue_id: str, saved: int = 0) -> Response:
    try:
        await sessions_.signed_in(request)  # admin
        settings = queries(request).queue_settings(QueueId(queue_id))
    except DialbackError as problem:
        if isinstance(problem, UnknownQueue):
            return render(request, "refused.html", 404, message=problem.message)
        return refused(request, problem)
    return _settings_page(request, queue_id, settings_form.values_of(settings), saved=bool(saved))


@router.post("/queues/{queue_id}/settings")
async def save_settings(request: Request, queue_id: str) -> Response:
    try:
        session, fields = await sessions_.posted(request)  # admin
    except DialbackError as problem:
        return refused(request, problem)
    try:
        current = queries(request).queue_settings(QueueId(queue_id))
        body = settings_form.body_from_form(fields, current)
        check_json(body, "")
        await queues_api.update(request, queue_id, session.principal, body)
    except UnknownQueue as problem:
        return render(request, "refused.html", 404, message=problem.message)
    except DialbackError as problem:  # nothing was saved: show the form as posted
        return _settings_page(
            request,
            queue_id,
            settings_form.echo(fields),
            status_of(problem),
            error=problem,
        )
    return RedirectResponse(f"/queues/{queue_id}/settings?saved=1", status_code=303)


# --- the agent desktop ----------------------------------------------------------------------
@router.get("/agent")
async def agent_page(request: Request) -> Response:
    try:
        session = await sessions_.signed_in(request, Role.AGENT)
    except DialbackError as problem:
        if isinstance(problem, Forbidden):
            return render(
                request,
                "refused.html",
                403,
                message="The agent desktop is for agents: sign in with an agent's token.",
            )
        return refused(request, problem)
    return render(request, "agent.html", **desk_context(request, session))


@router.get("/live/agent")
async def agent_stream(request: Request) -> Response:
    try:
        session = await sessions_.signed_in(request, Role.AGENT)
    except DialbackError as problem:
        return errors.response(problem)
    live = changes(request)

    async def sections() -> dict[str, str]:
        return desk_sections(request, session, fragment)

    try:
        return _live(
            request,
            session,
            stream(live, sections, min_interval=0.1, alive=_alive(request, session)),
        )
    except DialbackError as problem:
        return errors.response(problem)


def _own_user(session: sessions_.Session) -> str:
    """An agent acts only as itself: the user comes from the session, never from the page."""
    if session.principal.user_id is None:
        raise Forbidden("this token belongs to no agent; sign in with an agent's token")
    return session.principal.user_id


@router.post("/agent/status")
async def agent_status(request: Request) -> Response:
    try:
        session, fields = await sessions_.posted(request, Role.AGENT)
        status = dict(fields).get("status", "")
        body = {"status": status}
        check_json(body, "")
        await users_api.set_status(request, _own_user(session), session.principal, body)
    except DialbackError as problem:
        return message(problem.message, error=True, status=status_of(problem))
    return message("You are on queue." if status == "IDLE" else "You are off queue.")


ACTION_DONE = {
    "accept": "Accepted.",
    "dial": "Dialing…",
    "hangup": "Disconnected.",
    "hold": "On hold.",
    "resume": "Resumed.",
    "end": "Callback finished: choose a wrap-up code.",
    "wrapup": "Wrapped up.",
    "reschedule": "Callback rescheduled.",
}


def _action_body(action: str, posted: dict[str, str]) -> dict[str, Any]:
    index = posted.get("numberIndex", "").strip()
    if action == "dial" and index:
        # ASCII digits only ("²".isdigit() is true, and int() of 5,000 digits raises): any
        # other text goes on as typed, for the API's reader to refuse
        return {"numberIndex": int(index) if re.fullmatch("[0-9]{1,9}", index) else index}
    if action == "wrapup":
        return {"code": posted.get("code", "")}
    if action == "reschedule":
        body: dict[str, Any] = {"owned": "owned" in posted}
        if posted.get("callbackScheduledTime"):
            body["callbackScheduledTime"] = posted["callbackScheduledTime"]
        return body
    return {}


@router.post("/agent/interactions/{interaction_id}/{action}")
async def agent_action(request: Request, interaction_id: str, action: str) -> Response:
    try:
        session, fields = await sessions_.posted(request, Role.AGENT)
        user = _own_user(session)
        body = _action_body(action, dict(fields))
        check_json(body, "")
        await users_api.act(request, user, interaction_id, action, session.principal, body)
    except DialbackError as problem:
        return message(problem.message, error=True, status=status_of(problem))
    return message(ACTION_DONE.get(action, "Done."))
