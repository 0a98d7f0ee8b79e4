"""Hostile input over every route, on SQLite and PostgreSQL (issue 12): over-long strings in
every string field, boundary and overflowing numbers, wrong types, text that cannot be encoded,
huge bodies, unreadable paths and parameters, then schemathesis' negative generation. No answer
is a 5xx, every refusal is our error shape, and afterwards a normal callback is still accepted
and offered to an agent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from .conftest import Service, eventually, ok
from .test_api import CUSTOMER, callback, make_agent, make_queue

SURROGATE = "@@lone-surrogate@@"
NUL = "a\x00b"
VALUES: list[Any] = [
    "x" * 5000,
    "x" * 70_000,  # past the body limit on its own
    NUL,
    SURROGATE,
    "",
    2**31,
    2**63,
    -(2**63),
    10**30,
    1e308,
    -1,
    0,
    0.5,
    True,
    None,
    [],
    ["x" * 300] * 120,
    {},
    {"k": {"k": {"k": {"k": {"k": {"k": {"k": {"k": {"k": 1}}}}}}}}},
]
WHOLE_BODIES: list[bytes] = [
    b"[]",
    b'"text"',
    b"12",
    b"null",
    b"{",
    b'{"a": NaN}',
    b"\xff\xfe\xfd",
    b'{"a": "\\ud800"}',
    b'{"a": "\\u0000"}',
    b"[" * 3000 + b"]" * 3000,
    b'{"x": "' + b"y" * 200_000 + b'"}',
]
PATH_VALUES = ["x" * 3000, "a%00b", "%ff%fe", "..%2f..", "0" * 80, "null"]
QUERIES = [
    "pageSize=99999999999999999999",
    "pageNumber=99999999999999999999",
    "pageSize=-1",
    "pageSize=abc",
    "pageNumber=1e3",
    "delete=maybe",
    "pageSize=%00",
    "pageSize=%ff",
]


def encoded(body: Any) -> bytes:
    """JSON text of ``body`` with each ``SURROGATE`` written as a lone surrogate escape."""
    return json.dumps(body).replace(f'"{SURROGATE}"', '"\\ud800x"').encode()


def mutations(base: Any, schema: dict[str, Any]) -> Iterator[bytes]:
    """The base body with each known field set to each hostile value, then whole bodies."""
    names = list(schema.get("properties", {})) if isinstance(schema, dict) else []
    if isinstance(base, dict):
        names = list(dict.fromkeys([*base, *names]))
        for name in names:
            for value in VALUES:
                yield encoded({**base, name: value})
    elif isinstance(base, list):
        for value in VALUES:
            yield encoded([{"id": value}])
            yield encoded([value])
    yield from WHOLE_BODIES


def check(r: httpx.Response, what: str) -> None:
    assert r.status_code < 500, f"{what}: {r.status_code} {r.text[:300]}"
    if r.status_code >= 400:
        body = r.json()
        assert body["status"] == r.status_code, what
        assert isinstance(body["code"], str) and body["code"], what
        assert isinstance(body["message"], str), what


def bases(queue: str, user: str) -> dict[str, Any]:
    """A plausible body per path, for the mutations to start from."""
    callback_body = {"queueId": queue, "callbackNumbers": [CUSTOMER]}
    interval = {"interval": "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z"}
    return {
        "/api/v2/conversations/callbacks": callback_body,
        "/api/v2/conversations/{conversation_id}/participants/{participant_id}/callbacks": (
            callback_body
        ),
        "/api/v2/routing/queues": {"name": "q", "callingPartyNumber": CUSTOMER},
        "/api/v2/routing/queues/{queue_id}": {"name": "q"},
        "/api/v2/routing/queues/{queue_id}/members": [{"id": user}],
        "/api/v2/routing/queues/{queue_id}/calls": {"callerNumber": CUSTOMER, "priority": 1},
        "/api/v2/users": {"name": "Ann", "capacity": 1},
        "/api/v2/users/{user_id}/routingstatus": {"status": "OFF_QUEUE"},
        "/api/v2/users/{user_id}/interactions/{interaction_id}/{action}": {"code": "done"},
        "/api/v2/tokens": {"role": "supervisor", "expiresIn": "1h"},
        "/api/v2/analytics/conversations/details/query": interval,
        "/api/v2/analytics/conversations/aggregates/query": interval,
        "/api/v2/conversations/callbacks/bulk/disconnect": {
            "callbackDisconnectIdentifiers": [{"conversationId": "x"}]
        },
        "/api/v2/conversations/calls/{conversation_id}": {"state": "disconnected"},
        "/api/v2/conversations/callbacks/{conversation_id}": {"state": "disconnected"},
    }


def fill(path: str, ids: dict[str, str], hostile: str | None = None) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", hostile if hostile is not None else value)
    return path


def test_hostile_input_on_every_route_is_a_4xx_in_our_shape(service: Service) -> None:
    c = service.admin
    queue = make_queue(c)
    user = make_agent(c, queue, "Fuzz", on_queue=False)
    conversation, participant = callback(c, queue)
    ids = {
        "queue_id": queue,
        "user_id": user,
        "conversation_id": conversation,
        "participant_id": participant,
        "interaction_id": participant,
        "action": "wrapup",
        "token_id": "0" * 12,
    }
    schema = ok(httpx.get(f"{service.url}/openapi.json"))
    plausible = bases(queue, user)
    sent = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            url = fill(path, ids)
            for query in QUERIES:  # parameters, on every route
                check(c.request(method, f"{url}?{query}"), f"{method} {url}?{query}")
                sent += 1
            if "{" in path:
                for hostile in PATH_VALUES:
                    bad = fill(path, ids, hostile)
                    check(c.request(method, bad), f"{method} {bad}")
                    sent += 1
            if "requestBody" not in operation:
                continue
            body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
            headers = {b"Content-Type": b"application/json"}
            base = plausible.get(path, {})
            for key in (b"k" * 400, b"k\xc3\xa9\xff"):  # over-long, or not UTF-8
                keyed = {**headers, b"Idempotency-Key": key}
                r = c.request(method, url, content=encoded(base), headers=keyed)
                check(r, f"{method} {url} Idempotency-Key {key[:20]!r}")
                sent += 1
            for raw in mutations(base, body_schema):
                r = c.request(method, url, content=raw, headers=headers)
                check(r, f"{method} {url} {raw[:120]!r}")
                sent += 1
            form = c.request(method, url, data={"a": "b"})
            assert form.status_code == 415, f"{method} {url}: {form.text}"
    assert sent > 1500
    still_works(service)


def test_schemathesis_negative_generation_finds_no_server_error(service: Service) -> None:
    c = service.admin
    queue = make_queue(c)
    make_agent(c, queue, "Neg", on_queue=False)
    callback(c, queue)
    loaded = schemathesis.openapi.from_url(f"{service.url}/openapi.json")
    headers = dict(c.headers)
    operations = [result.ok() for result in loaded.get_all_operations()]  # type: ignore[union-attr]
    fuzzed = 0
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)

        @given(case=strategy)
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            r = case.call(headers=headers)
            assert r.status_code < 500, f"{case.method} {case.path}: {r.status_code} {r.text}"
            kind = r.headers.get("content-type") or [""]  # schemathesis keeps lists of values
            if r.status_code >= 400 and str(kind[0]).startswith("application/json"):
                body = r.json()
                assert body["status"] == r.status_code and body["code"]

        try:
            call()
            fuzzed += 1
        except Unsatisfiable:  # nothing to get wrong (no parameters and no body)
            continue
    assert fuzzed >= 20
    still_works(service)


def still_works(service: Service) -> None:
    """After everything: a normal callback is accepted and offered to an idle agent."""
    c = service.admin
    queue = make_queue(c)
    agent = make_agent(c, queue, "After")
    callback(c, queue)
    offered = eventually(
        lambda: ok(c.get(f"/api/v2/users/{agent}/interactions"))["entities"],
        what="a callback offered after the fuzzing",
    )
    assert offered[0]["state"] == "alerting"
    assert ok(c.get("/healthz"))["status"] == "ok"
