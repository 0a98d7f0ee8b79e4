"""One table from error class to HTTP status, and the error body every failure uses.

The body follows Genesys' error shape (``status``, ``code``, ``message``, ``messageParams``) and
adds ``field`` when one field is at fault.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from dialback.domain.errors import DialbackError, InvalidInput, NotFound, StateConflict
from dialback.service.runtime import ServiceUnavailable


class ApiError(Exception):
    """An error of the API layer itself (authentication, permissions, bad requests)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


STATUSES: list[tuple[type[Exception], int]] = [
    (InvalidInput, 422),
    (NotFound, 404),
    (StateConflict, 409),
    (DialbackError, 400),
    (ServiceUnavailable, 503),
]


def body(status: int, code: str, message: str, field: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"status": status, "code": code, "message": message}
    if field:
        found["field"] = field
        found["messageParams"] = {"field": field}
    return found


def status_of(error: Exception) -> int:
    for cls, status in STATUSES:
        if isinstance(error, cls):
            return status
    return 500


async def dialback_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DialbackError)
    status = status_of(error)
    return JSONResponse(body(status, error.code, error.message, error.field), status_code=status)


async def api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return JSONResponse(
        body(error.status, error.code, error.message, error.field), status_code=error.status
    )


async def unavailable(_: Request, error: Exception) -> JSONResponse:
    return JSONResponse(body(503, "service_unavailable", str(error)), status_code=503)


async def validation_error(_: Request, error: Exception) -> JSONResponse:
    """FastAPI's own validation: malformed JSON is 400, a wrong shape 422 naming the field."""
    assert isinstance(error, RequestValidationError)
    problems = error.errors()
    first = problems[0] if problems else {}
    if first.get("type") == "json_invalid":
        return JSONResponse(body(400, "malformed_json", "the body is not valid JSON"), 400)
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or None
    message = str(first.get("msg", "invalid request"))
    return JSONResponse(body(422, "invalid_input", message, where), status_code=422)


async def http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}
    code = codes.get(error.status_code, "http_error")
    return JSONResponse(body(error.status_code, code, str(error.detail)), error.status_code)
