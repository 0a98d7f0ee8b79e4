"""What a request may carry (issue 12), checked before any route reads it.

- ``BodyLimit`` (ASGI middleware): a body over ``max_bytes`` is a 413 before it is read whole;
  a body whose next part takes longer than ``seconds`` to arrive is a 408 (a stalled or
  trickling client cannot hold a connection for ever); a path or query string holding NUL or
  bytes that are not UTF-8 is a 422.
- ``json_body`` (a dependency, ``JsonBody`` in ``common``): the body must be declared JSON
  (``application/json`` or ``…+json``) without a ``Content-Encoding`` (else 415), parse as
  JSON (else 400 ``malformed_json``, one code for every way of failing, ``NaN`` and
  ``Infinity`` included) and keep within ``domain.limits`` (else 422 naming the field).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote_to_bytes

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dialback.api.errors import (
    BodyTimeout,
    BodyTooLarge,
    MalformedJson,
    UnsupportedMediaType,
    response,
)
from dialback.domain.errors import DialbackError, InvalidText, MissingField
from dialback.domain.limits import BODY_BYTES, PATH, check_json, check_text

_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])

BODY = "dialback.body"
"""The scope key under which ``BodyLimit`` leaves the body it read."""

BODY_SECONDS = 30.0
"""How long a request body's next part may take to arrive (``BodyLimit``)."""


class BodyLimit:
    """Refuse bodies over ``max_bytes`` (413), bodies that stall for ``seconds`` between two
    parts (408) and unreadable paths or queries (422)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = BODY_BYTES, seconds: float = BODY_SECONDS
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_target(scope)
            body = await self._read(scope, receive)
        except DialbackError as refused:
            answer = response(refused)
            if isinstance(refused, BodyTooLarge | BodyTimeout):  # the rest of it is not read
                answer.headers["connection"] = "close"
            await answer(scope, receive, send)
            return
        scope[BODY] = body  # ``json_body`` reads it from here: it is not streamed again
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        too_large = BodyTooLarge(f"the body is over {self.max_bytes} bytes", field="body")
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                async with asyncio.timeout(self.seconds):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout(
                    f"the body stalled: no part of it came for {self.seconds:g} s", field="body"
                ) from None
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _check_target(scope: Scope) -> None:
    path: str = scope["path"]
    check_text(path, "path", PATH)
    query = unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" "))
    try:
        text = query.decode()
    except UnicodeDecodeError:
        raise InvalidText("the query string is not UTF-8", field="query") from None
    check_text(text, "query", PATH)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _parse(request: Request, raw: bytes) -> Any:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise UnsupportedMediaType("send the body as Content-Type: application/json")
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):  # we decode none: the bytes would be read as they are
        raise UnsupportedMediaType(f"Content-Encoding {encoding[:32]!r} is not accepted")
    try:  # as json.loads reads bytes, with one decoder made once
        value = _DECODER.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))
    except (ValueError, RecursionError):
        raise MalformedJson("the body is not valid JSON") from None
    check_json(value, "")
    return value


async def _raw_body(request: Request) -> bytes:
    """The body ``BodyLimit`` read, else (no such middleware) the request's own."""
    raw = request.scope.get(BODY)
    return raw if isinstance(raw, bytes) else await request.body()


async def json_body(request: Request) -> Any:
    """The request's JSON body, checked; a missing body is a 422 naming ``body``."""
    raw = await _raw_body(request)
    if not raw.strip():
        raise MissingField("a JSON body is needed", field="body")
    return _parse(request, raw)


async def optional_json_body(request: Request) -> Any:
    """As ``json_body``, but an empty body is None."""
    raw = await _raw_body(request)
    return _parse(request, raw) if raw.strip() else None


READS_JSON_BODY: set[Callable[..., Any]] = set()
"""Endpoints that call ``json_body`` themselves rather than declaring it (``reads_json_body``);
the API's documentation describes their body as it does a declared one's."""


def reads_json_body(endpoint: _Endpoint) -> _Endpoint:
    """Mark ``endpoint`` as reading a required JSON body with ``json_body`` itself: the busiest
    route (issue 17) declares no dependency, as FastAPI's solving of them cost a tenth of a
    creation's CPU."""
    READS_JSON_BODY.add(endpoint)
    return endpoint
