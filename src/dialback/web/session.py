"""Page sessions: a bearer token signs in, the browser keeps only a random session id.

The session cookie is HttpOnly and SameSite=Strict; every form post carries the session's CSRF
token (a hidden field, or the ``X-CSRF-Token`` header htmx sends), compared in constant time.
The sign-in form, posted before any session exists, is protected the same way by a short-lived
pre-session cookie whose value the form repeats (double submit). The principal is the API's
(``api/auth.py``): the same token lookup, the same roles.

Sessions live in memory: a restart signs everyone out, and nothing secret is written anywhere.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.responses import Response

from dialback.api.auth import Principal, Role
from dialback.api.errors import Forbidden, TooManyStreams, Unauthorized
from dialback.domain.errors import InvalidText
from dialback.service.tokens import Tokens

SESSION_COOKIE = "dialback_session"
SIGNIN_COOKIE = "dialback_signin"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
SESSION_SECONDS = 12 * 3600  # one shift
STREAMS_PER_PRINCIPAL = 8  # open live pages (tabs) one token or agent may hold at once
SESSIONS_PER_PRINCIPAL = 32  # signed-in browsers one token or agent may keep; the oldest goes


@dataclass(slots=True)
class Session:
    principal: Principal
    csrf: str
    name: str
    expires: float
    token: str = ""  # the bearer token it signed in with, checked again on every request

    @property
    def role(self) -> str:
        return self.principal.role.value


@dataclass(slots=True)
class Sessions:
    """Session id to session. Ids are 256-bit random; expired ones are dropped when met."""

    by_id: dict[str, Session] = field(default_factory=dict)
    streams: dict[str, int] = field(default_factory=dict)  # open live pages per principal scope

    def open(self, principal: Principal, name: str, token: str = "") -> tuple[str, Session]:
        """A new session. Sessions live in memory: signing in drops the expired ones and, past
        ``SESSIONS_PER_PRINCIPAL`` for this principal, its oldest, so repeated sign-ins with a
        valid token cannot grow the server's memory without end."""
        now = time.time()
        for old_id in [i for i, s in self.by_id.items() if s.expires < now]:
            del self.by_id[old_id]
        mine = [i for i, s in self.by_id.items() if s.principal.scope == principal.scope]
        for old_id in mine[: max(0, len(mine) - SESSIONS_PER_PRINCIPAL + 1)]:
            del self.by_id[old_id]  # insertion order: the oldest first
        session_id = secrets.token_urlsafe(32)
        session = Session(principal, secrets.token_urlsafe(32), name, now + SESSION_SECONDS, token)
        self.by_id[session_id] = session
        return session_id, session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        session = self.by_id.get(session_id)
        if session is not None and session.expires < time.time():
            del self.by_id[session_id]
            return None
        return session

    def close(self, session_id: str | None) -> None:
        if session_id:
            self.by_id.pop(session_id, None)

    def take_stream(self, scope: str) -> None:
        """Count one more open live page for ``scope``; raises ``TooManyStreams`` (429) past
        ``STREAMS_PER_PRINCIPAL``, so one token cannot hold the server rendering for
        thousands of pages."""
        if self.streams.get(scope, 0) >= STREAMS_PER_PRINCIPAL:
            raise TooManyStreams(
                f"at most {STREAMS_PER_PRINCIPAL} live pages open at once; close one"
            )
        self.streams[scope] = self.streams.get(scope, 0) + 1

    def give_stream(self, scope: str) -> None:
        left = self.streams.get(scope, 0) - 1
        if left > 0:
            self.streams[scope] = left
        else:
            self.streams.pop(scope, None)


class CsrfFailed(Forbidden):
    """A form post without the session's CSRF token."""

    code = "csrf_failed"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def sessions(request: Request) -> Sessions:
    found: Sessions = request.app.state.web_sessions
    return found


def current(request: Request) -> Session | None:
    """The request's session; one whose token was revoked or expired is closed at once."""
    session_id = request.cookies.get(SESSION_COOKIE)
    session = sessions(request).get(session_id)
    if session is not None and session.token and _tokens(request).holder(session.token) is None:
        sessions(request).close(session_id)
        return None
    return session


async def still_open(request: Request, session_id: str | None, session: Session) -> bool:
    """Whether ``session`` is still the open session ``session_id`` with a valid token (the
    API's shared lookup, off the event loop): what a live page asks while it streams."""
    if sessions(request).get(session_id) is not session:
        return False
    try:
        valid = not session.token or await _tokens(request).check(session.token) is not None
    except Exception:  # the database is away: end the stream; the browser reconnects
        return False
    if not valid:
        sessions(request).close(session_id)
    return valid


def _tokens(request: Request) -> Tokens:
    found: Tokens = request.app.state.tokens
    return found


def principal_of_token(request: Request, token: str) -> Principal:
    """The API's token lookup: raises ``Unauthorized`` for an unknown, revoked or expired
    token."""
    holder = _tokens(request).holder(token.strip())
    if holder is None:
        raise Unauthorized("unknown, revoked or expired token")
    return Principal(Role(holder.role), holder.user_id, holder.scope)


def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="strict", path="/", secure=False
    )


async def form(request: Request) -> list[tuple[str, str]]:
    """The posted urlencoded form, in order. Raises ``InvalidText`` (422) for a body that is
    not UTF-8 text, or whose escapes decode to bytes that are not (a browser sends neither)."""
    try:
        text = (await request.body()).decode()
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise InvalidText("the form is not UTF-8", field="body") from None


def check_csrf(expected: str, request: Request, posted: list[tuple[str, str]]) -> None:
    given = request.headers.get(CSRF_HEADER) or dict(posted).get(CSRF_FIELD, "")
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfFailed("the form's CSRF token is missing or wrong; reload the page")


async def signed_in(request: Request, *roles: Role) -> Session:
    """The page's session, with the role check of the API's ``Principal.require``."""
    session = current(request)
    if session is None:
        raise Unauthorized("sign in first")
    session.principal.require(*roles)
    return session


async def posted(request: Request, *roles: Role) -> tuple[Session, list[tuple[str, str]]]:
    """A form post from a signed-in page: session, role and CSRF checked; returns the form."""
    session = await signed_in(request, *roles)
    fields = await form(request)
    check_csrf(session.csrf, request, fields)
    return session, fields
