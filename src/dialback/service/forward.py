"""Forwarding an event to the node that owns its shard (issue 17).

A node that does not own the shard hands the event, as the log encodes it, to the owner's
``POST /internal/v1/events`` (``api/cluster.py``), which submits it to its runtime and answers
with the first answer of an idempotent request, or the error the engine refused it with. The
follower raises that same error, so the API answers exactly as the owner would
(docs/decisions.md, "Any node answers any request").
"""

from __future__ import annotations

from typing import Any

import httpx

from dialback.domain.errors import DialbackError, DuplicateCallback
from dialback.domain.events import Event
from dialback.service.runtime import Accepted, ServiceUnavailable
from dialback.store.codec import decode_event, encode_event
from dialback.store.repository import Idempotent

PATH = "/internal/v1/events"
SECRET_HEADER = "X-Dialback-Cluster"


def encode_submission(event: Event, idempotent: Idempotent | None) -> dict[str, Any]:
    kind, payload = encode_event(event)
    body: dict[str, Any] = {"kind": kind, "payload": payload, "idempotent": None}
    if idempotent is not None:
        body["idempotent"] = {
            "key": idempotent.key,
            "requestHash": idempotent.request_hash,
            "statusCode": idempotent.status_code,
            "response": idempotent.response,
            "scope": idempotent.scope,
        }
    return body


def decode_submission(body: dict[str, Any]) -> tuple[Event, Idempotent | None]:
    event = decode_event(str(body["kind"]), body["payload"])
    i = body.get("idempotent")
    if i is None:
        return event, None
    return event, Idempotent(
        i["key"], i["requestHash"], int(i["statusCode"]), i["response"], str(i.get("scope", ""))
    )


def encode_accepted(accepted: Accepted) -> dict[str, Any]:
    r = accepted.replayed
    if r is None:
        return {"replayed": None}
    return {
        "replayed": {
            "key": r.key,
            "requestHash": r.request_hash,
            "statusCode": r.status_code,
            "response": r.response,
        }
    }


def _classes(base: type[DialbackError]) -> dict[str, type[DialbackError]]:
    found: dict[str, type[DialbackError]] = {}
    for sub in base.__subclasses__():
        found.setdefault(sub.code, sub)
        for code, cls in _classes(sub).items():
            found.setdefault(code, cls)
    return found


def error_from(body: dict[str, Any]) -> DialbackError:
    """The owner's refusal, as the same error class (by its stable code), with its message,
    field and message parameters. Built without the class's own ``__init__``, whose extra
    arguments (a duplicate's ids, a retry delay) differ from class to class."""
    cls = _classes(DialbackError).get(str(body.get("code")), ServiceUnavailable)
    error = cls.__new__(cls)
    field = body.get("field")
    DialbackError.__init__(
        error,
        str(body.get("message", "refused by the owner")),
        field=field if isinstance(field, str) else None,
    )
    raw = body.get("messageParams")
    found = raw.items() if isinstance(raw, dict) else ()
    params = {str(k): str(v) for k, v in found if k != "field"}
    error.params = params
    if isinstance(error, ServiceUnavailable):
        error.retry_after = 5
    if isinstance(error, DuplicateCallback):
        error.existing = str(params.get("existingCallbackId", ""))
        error.conversation = str(params.get("existingConversationId", ""))
    return error


async def forward(
    client: httpx.AsyncClient,
    owner_url: str,
    secret: str,
    event: Event,
    idempotent: Idempotent | None,
) -> Accepted:
    """Submit ``event`` at the owner. Raises the owner's ``DialbackError``, or
    ``ServiceUnavailable`` when the owner cannot be reached (the client retries)."""
    try:
        response = await client.post(
            owner_url.rstrip("/") + PATH,
            json=encode_submission(event, idempotent),
            headers={SECRET_HEADER: secret},
        )
    except httpx.HTTPError as failure:
        raise ServiceUnavailable(f"the shard's owner did not answer ({failure})") from None
    body = response.json() if response.content else {}
    if response.status_code != 200:
        raise error_from(body)
    r = body.get("replayed")
    if r is None:
        return Accepted([])
    replayed = Idempotent(
        r["key"], r["requestHash"], int(r["statusCode"]), r["response"], str(r.get("scope", ""))
    )
    return Accepted([], replayed=replayed)
