"""Forwarding events to the node that owns their shard (issue 17).

A node that does not own the shard hands each event, as the log encodes it, to the owner, which
submits it to its runtime and answers with the first answer of an idempotent request, or the
error the engine refused it with. The follower raises that same error, so the API answers
exactly as the owner would (docs/decisions.md, "Any node answers any request").

The events go in groups (``Forwarder``): the ones waiting while a request to the owner is out
leave together in the next ``POST /internal/v1/events/batch`` (``api/cluster.py``; one JSON
object a line, each within the limits of a request body, the group within half of this node's
body limit, which the cluster's nodes share), which the owner submits at once and answers item
by item, so its HTTP cost is paid once per group, not once per write. ``POST
/internal/v1/events`` (one event) still answers a node of the version before.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import Any

import httpx

from dialback.domain.errors import DialbackError, DuplicateCallback
from dialback.domain.events import Event
from dialback.domain.limits import BODY_BYTES
from dialback.domain.settings import DEFAULT_SHARD, check_shard
from dialback.service.runtime import Accepted, ServiceUnavailable
from dialback.store.codec import decode_event, encode_event
from dialback.store.repository import Idempotent

PATH = "/internal/v1/events"
BATCH_PATH = "/internal/v1/events/batch"
SECRET_HEADER = "X-Dialback-Cluster"


def encode_submission(
    event: Event, idempotent: Idempotent | None, shard: str = DEFAULT_SHARD
) -> dict[str, Any]:
    kind, payload = encode_event(event)
    body: dict[str, Any] = {"kind": kind, "payload": payload, "idempotent": None}
    if shard != DEFAULT_SHARD:  # absent: the default shard (and a node of the version before)
        body["shard"] = shard
    if idempotent is not None:
        body["idempotent"] = {
            "key": idempotent.key,
            "requestHash": idempotent.request_hash,
            "statusCode": idempotent.status_code,
            "response": idempotent.response,
            "scope": idempotent.scope,
        }
    return body


def decode_submission(body: dict[str, Any]) -> tuple[Event, Idempotent | None, str]:
    """The event, its idempotency key and its shard."""
    event = decode_event(str(body["kind"]), body["payload"])
    shard = check_shard(body.get("shard", DEFAULT_SHARD))
    i = body.get("idempotent")
    if i is None:
        return event, None, shard
    return (
        event,
        Idempotent(
            i["key"],
            i["requestHash"],
            int(i["statusCode"]),
            i["response"],
            str(i.get("scope", "")),
        ),
        shard,
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


def accepted_from(body: dict[str, Any]) -> Accepted:
    """The owner's ``encode_accepted``, read back."""
    r = body.get("replayed")
    if r is None:
        return Accepted([])
    replayed = Idempotent(
        r["key"], r["requestHash"], int(r["statusCode"]), r["response"], str(r.get("scope", ""))
    )
    return Accepted([], replayed=replayed)


_Waiting = tuple[str, str, bytes, "asyncio.Future[Accepted]"]


class Forwarder:
    """Forwards events to their owner in groups: at most ``in_flight`` requests out at a time,
    each carrying what waited for it (at most ``batch_max`` events and ``batch_bytes`` bytes, or
    one event); each caller gets its own event's answer or error. An owner that cannot be
    reached fails the whole group with ``ServiceUnavailable`` (the clients retry)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        batch_max: int = 256,
        batch_bytes: int = BODY_BYTES // 2,
        in_flight: int = 2,
    ) -> None:
        self.client, self.batch_max, self.in_flight = client, batch_max, in_flight
        self.batch_bytes = batch_bytes
        self.requests = 0  # requests sent to owners, for the tests and the curious
        self._waiting: list[_Waiting] = []
        self._senders: set[asyncio.Task[None]] = set()
        self._active = 0  # senders that have not yet found the queue empty

    async def forward(
        self,
        owner_url: str,
        secret: str,
        event: Event,
        idempotent: Idempotent | None,
        shard: str = DEFAULT_SHARD,
    ) -> Accepted:
        """Submit ``event`` at the owner of ``shard``. Raises the owner's ``DialbackError``, or
        ``ServiceUnavailable`` when the owner cannot be reached."""
        future: asyncio.Future[Accepted] = asyncio.get_running_loop().create_future()
        submission = encode_submission(event, idempotent, shard)
        line = json.dumps(submission, separators=(",", ":")).encode()
        self._waiting.append((owner_url, secret, line, future))
        if self._active < self.in_flight:
            self._active += 1
            sender = asyncio.get_running_loop().create_task(self._send())
            self._senders.add(sender)
            sender.add_done_callback(self._senders.discard)
        return await future

    async def _send(self) -> None:
        try:
            while self._waiting:
                await self._send_group()
        finally:  # counted down as it finds nothing waiting, with no await in between
            self._active -= 1

    async def _send_group(self) -> None:
        owner, secret = self._waiting[0][0], self._waiting[0][1]
        group: list[_Waiting] = []
        size = 0
        for w in self._waiting:
            if w[:2] != (owner, secret):
                continue
            if group and (len(group) == self.batch_max or size + len(w[2]) > self.batch_bytes):
                break
            group.append(w)
            size += len(w[2]) + 1
        taken = {id(w) for w in group}
        self._waiting = [w for w in self._waiting if id(w) not in taken]
        answers: list[Accepted | DialbackError] = []
        try:
            answers = await self._post(owner, secret, [w[2] for w in group])
        except ServiceUnavailable as failure:  # one error each: they are raised concurrently
            answers = [ServiceUnavailable(failure.message) for _ in group]
        except Exception as failure:  # an answer we cannot read: fail the group, go on
            answers = [ServiceUnavailable(f"forwarding failed ({failure!r})") for _ in group]
        finally:  # cancelled (the node stops): no caller is left waiting
            for (_, _, _, future), answer in itertools.zip_longest(group, answers):
                if future.done():  # its caller gave up
                    continue
                if answer is None:
                    future.set_exception(ServiceUnavailable("this node is stopping"))
                elif isinstance(answer, DialbackError):
                    future.set_exception(answer)
                else:
                    future.set_result(answer)

    async def close(self) -> None:
        """Stop sending; whoever still waits gets ``ServiceUnavailable``."""
        for sender in list(self._senders):
            sender.cancel()
        for sender in list(self._senders):
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        for *_, future in self._waiting:
            if not future.done():
                future.set_exception(ServiceUnavailable("this node is stopping"))
        self._waiting = []

    async def _post(
        self, owner: str, secret: str, submissions: list[bytes]
    ) -> list[Accepted | DialbackError]:
        self.requests += 1
        try:
            response = await self.client.post(
                owner.rstrip("/") + BATCH_PATH,
                content=b"\n".join(submissions),
                headers={SECRET_HEADER: secret, "Content-Type": "application/x-ndjson"},
            )
        except httpx.HTTPError as failure:
            raise ServiceUnavailable(f"the shard's owner did not answer ({failure})") from None
        body: Any = {}
        with contextlib.suppress(ValueError):
            body = response.json() if response.content else {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code != 200:  # the whole group refused: one error each
            return [error_from(body) for _ in submissions]
        results = body.get("results")
        if not isinstance(results, list) or len(results) != len(submissions):
            raise ServiceUnavailable("the shard's owner answered another number of events")
        return [
            error_from(r["error"]) if isinstance(r.get("error"), dict) else accepted_from(r)
            for r in results
        ]
