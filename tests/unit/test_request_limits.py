"""Issue 12: what a slow or persistent client can hold. A request body that stalls between two
parts is refused with 408 in our error shape (and the connection closed), so a trickling client
cannot keep a connection and a request for ever; signing in again and again keeps at most
``SESSIONS_PER_PRINCIPAL`` sessions per principal in memory and drops expired ones."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from dialback.api.auth import Principal, Role
from dialback.api.body import BodyLimit
from dialback.web import session as sessions_

SCOPE: Scope = {
    "type": "http",
    "method": "POST",
    "path": "/api/v2/routing/queues",
    "query_string": b"",
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"20")],
}


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    body = (await receive())["body"]
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def call(parts: list[bytes | None], seconds: float) -> list[Message]:
    """Run ``BodyLimit`` on a request whose body comes in ``parts``; ``None`` is a client that
    stops sending (it never sends the next part)."""
    sent: list[Message] = []

    async def main() -> None:
        stalled = asyncio.Event()
        queue = list(parts)

        async def receive() -> Message:
            part = queue.pop(0)
            if part is None:
                await stalled.wait()  # never set: the client has gone quiet
            return {"type": "http.request", "body": part, "more_body": bool(queue)}

        async def send(message: Message) -> None:
            sent.append(message)

        await BodyLimit(echo, max_bytes=1000, seconds=seconds)(SCOPE, receive, send)

    asyncio.run(main())
    return sent


def test_a_body_that_stalls_is_refused_with_408_in_our_shape_and_the_connection_closed() -> None:
    start, body = call([b'{"name":', None], seconds=0.05)
    assert start["status"] == 408
    assert (b"connection", b"close") in start["headers"]
    answer: dict[str, Any] = json.loads(body["body"])
    assert answer["code"] == "body_timeout" and answer["status"] == 408


def test_a_body_in_several_timely_parts_goes_through_whole() -> None:
    start, body = call([b'{"name":', b' "q1"', b"}"], seconds=5.0)
    assert start["status"] == 200 and body["body"] == b'{"name": "q1"}'


def principal(scope: str) -> Principal:
    return Principal(Role.SUPERVISOR, None, scope)


def test_sessions_per_principal_are_bounded_oldest_dropped_others_untouched() -> None:
    registry = sessions_.Sessions()
    other_id, _ = registry.open(principal("b"), "B")
    ids = [
        registry.open(principal("a"), "A")[0] for _ in range(sessions_.SESSIONS_PER_PRINCIPAL + 5)
    ]
    kept = [i for i in ids if registry.get(i) is not None]
    assert kept == ids[-sessions_.SESSIONS_PER_PRINCIPAL :]
    assert registry.get(other_id) is not None  # another principal's session stays


def test_signing_in_drops_expired_sessions() -> None:
    registry = sessions_.Sessions()
    old_id, old = registry.open(principal("a"), "A")
    old.expires = 0.0
    registry.open(principal("b"), "B")
    assert old_id not in registry.by_id
