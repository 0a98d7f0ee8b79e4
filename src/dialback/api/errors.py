"""One table from error class to HTTP status, and the error body every failure uses.

Every error a client can get is a ``DialbackError`` subclass with a stable ``code``: the domain's
(bad input, unknown things, state conflicts), the service's (``ServiceUnavailable``) and the API's
own below (authentication, permissions, unreadable requests). ``STATUSES`` maps them to HTTP
statuses, most specific class first; nothing else in ``api/`` chooses a status.

The body follows Genesys' error shape (``status``, ``code``, ``message``, ``messageParams``) and
adds ``field`` when one field is at fault.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from dialback.domain.errors import (
    DialbackError,
    InvalidInput,
    NotFound,
    StateConflict,
)
from dialback.service.runtime import EventNotStored, ServiceUnavailable


# --- errors of the API layer itself --------------------------------------------------------------
class Unauthorized(DialbackError):
    """No bearer token, or one that is unknown."""

    code = "unauthorized"


class Forbidden(DialbackError):
    """The principal's role may not do this, or an agent acts for another user."""

    code = "forbidden"


class MalformedJson(DialbackError):
    """The body is not JSON at all (a JSON of the wrong shape is ``InvalidInput``)."""

    code = "malformed_json"


class BodyTooLarge(DialbackError):
    """The request body is over the configured size (``dialback serve --max-body``)."""

    code = "body_too_large"


class BodyTimeout(DialbackError):
    """The request body did not arrive in time (a slow or stalled client holds a connection)."""

    code = "body_timeout"


class UnsupportedMediaType(DialbackError):
    """A body that is not declared JSON (a form, or no ``Content-Type``)."""

    code = "unsupported_media_type"


class RouteNotFound(NotFound):
    code = "not_found"


class MethodNotAllowed(DialbackError):
    code = "method_not_allowed"


class IdempotencyKeyReused(StateConflict):
    """The same ``Idempotency-Key`` came with another body."""

    code = "idempotency_key_reused"


class TooManyStreams(DialbackError):
    """A principal already holds its share of open live pages (server-sent events)."""

    code = "too_many_streams"


class HttpError(DialbackError):
    """Any other HTTP-level refusal of the server framework; its status is kept."""

    code = "http_error"

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


STATUSES: list[tuple[type[DialbackError], int]] = [
    (InvalidInput, 422),
    (EventNotStored, 422),
    (NotFound, 404),
    (StateConflict, 409),
    (Unauthorized, 401),
    (Forbidden, 403),
    (MalformedJson, 400),
    (BodyTooLarge, 413),
    (BodyTimeout, 408),
    (UnsupportedMediaType, 415),
    (MethodNotAllowed, 405),
    (TooManyStreams, 429),
    (ServiceUnavailable, 503),
    (DialbackError, 400),
]
"""Error class to HTTP status; the first class an error is an instance of wins."""


def status_of(error: DialbackError) -> int:
    if isinstance(error, HttpError):
        return error.status
    return next(status for cls, status in STATUSES if isinstance(error, cls))


def body(status: int, code: str, message: str, field: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"status": status, "code": code, "message": message}
    if field:
        found["field"] = field
        found["messageParams"] = {"field": field}
    return found


class SafeJSONResponse(JSONResponse):
    """JSON in ASCII: a string the database kept from before input was checked (a lone
    surrogate) is escaped rather than failing the response."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_body(error: DialbackError) -> dict[str, Any]:
    """The JSON body of ``error``'s answer."""
    found = body(status_of(error), error.code, error.message, error.field)
    params = getattr(error, "params", None)  # issue 14: the next open time, the existing callback
    if params:
        found["messageParams"] = {**found.get("messageParams", {}), **params}
    return found


def response(error: DialbackError) -> JSONResponse:
    headers = None
    if isinstance(error, ServiceUnavailable):
        headers = {"Retry-After": str(error.retry_after)}
    return SafeJSONResponse(error_body(error), status_code=status_of(error), headers=headers)


async def dialback_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DialbackError)
    return response(error)


async def validation_error(_: Request, error: Exception) -> JSONResponse:
    """FastAPI's own validation: malformed JSON is 400, a wrong shape 422 naming the field."""
    assert isinstance(error, RequestValidationError)
    problems = error.errors()
    first = problems[0] if problems else {}
    if first.get("type") == "json_invalid":
        return response(MalformedJson("the body is not valid JSON"))
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or None
    return response(InvalidInput(str(first.get("msg", "invalid request")), field=where))


class InternalError(DialbackError):
    """A failure of ours that no other class describes: still answered in the error shape."""

    code = "internal_error"


async def internal_error(_: Request, error: Exception) -> JSONResponse:
    """The last resort (Starlette's server-error middleware, which logs the traceback after):
    a 500 in our shape, naming no internals. It says ``Connection: close`` because uvicorn
    drops the connection after an exception: a client would otherwise reuse it and be reset."""
    return SafeJSONResponse(
        body(500, InternalError.code, "the server failed on this request; it is logged"),
        status_code=500,
        headers={"connection": "close"},
    )


async def http_error(_: Request, error: Exception) -> JSONResponse:
    """Starlette's refusals (no such route, method not allowed) in our shape."""
    assert isinstance(error, HTTPException)
    detail = str(error.detail)
    translated: DialbackError
    if error.status_code == 404:
        translated = RouteNotFound(detail)
    elif error.status_code == 405:
        translated = MethodNotAllowed(detail)
    elif error.status_code == 401:
        translated = Unauthorized(detail)
    else:
        translated = HttpError(detail, error.status_code)
    return response(translated)
