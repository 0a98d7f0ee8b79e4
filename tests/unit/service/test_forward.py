"""A follower rebuilds the leader's refusal as the same coded error (issue 17), whatever extra
arguments the error class takes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from dialback.domain.errors import (
    DialbackError,
    DuplicateCallback,
    OutsideCallingWindow,
    UnknownInteraction,
)
from dialback.domain.events import CustomerHungUp
from dialback.domain.model import InteractionId
from dialback.service.forward import (
    BATCH_PATH,
    SECRET_HEADER,
    Forwarder,
    encode_submission,
    error_from,
)
from dialback.service.runtime import Accepted, ServiceUnavailable


@pytest.mark.parametrize(
    ("body", "cls"),
    [
        pytest.param(
            {
                "status": 409,
                "code": "duplicate_callback",
                "message": "a callback for this number is active",
                "messageParams": {"existingCallbackId": "cb-1", "existingConversationId": "c-1"},
            },
            DuplicateCallback,
            id="duplicate",
        ),
        pytest.param(
            {
                "status": 422,
                "code": "outside_calling_window",
                "message": "closed",
                "field": "callbackScheduledTime",
                "messageParams": {
                    "field": "callbackScheduledTime",
                    "nextOpenTime": "2026-12-01T08:00:00.000Z",
                },
            },
            OutsideCallingWindow,
            id="window",
        ),
        pytest.param(
            {"status": 503, "code": "service_unavailable", "message": "rebuilding"},
            ServiceUnavailable,
            id="unavailable",
        ),
        pytest.param({"status": 500, "code": "no_such_code"}, ServiceUnavailable, id="unknown"),
    ],
)
def test_the_leaders_refusal_comes_back_as_its_class(body: dict[str, object], cls: type) -> None:
    error = error_from(body)
    assert type(error) is cls
    assert isinstance(error, DialbackError)
    assert error.field == body.get("field")
    params = body.get("messageParams")
    expected = {k: v for k, v in params.items() if k != "field"} if isinstance(params, dict) else {}
    assert error.params == expected


def test_a_forwarded_duplicate_names_the_existing_callback() -> None:
    error = error_from(
        {
            "code": "duplicate_callback",
            "message": "active",
            "messageParams": {"existingCallbackId": "cb-9", "existingConversationId": "c-9"},
        }
    )
    assert isinstance(error, DuplicateCallback)
    assert (error.existing, error.conversation) == ("cb-9", "c-9")


def test_a_forwarded_unavailable_has_a_retry_delay() -> None:
    error = error_from({"code": "service_unavailable", "message": "stepping down"})
    assert isinstance(error, ServiceUnavailable) and error.retry_after > 0


# --- forwarding in groups (issue 17) ------------------------------------------------------------
def _hung_up(n: int) -> CustomerHungUp:
    return CustomerHungUp(InteractionId(f"interaction-{n:03d}"))


async def _forward_all(
    handler: Callable[[httpx.Request], httpx.Response], count: int, **options: int
) -> list[Accepted | BaseException]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        forwarder = Forwarder(client, **options)
        return await asyncio.gather(
            *(forwarder.forward("http://owner", "s", _hung_up(n), None) for n in range(count)),
            return_exceptions=True,
        )


def test_waiting_writes_go_in_groups_within_the_byte_bound_each_with_its_answer() -> None:
    """Issue 17: a follower sends the writes waiting for the leader together, at most
    ``batch_bytes`` a request (one event a line), and each write gets its own line's answer: one
    refused among accepted ones raises for that write alone."""
    groups: list[list[dict[str, Any]]] = []

    def owner(request: httpx.Request) -> httpx.Response:
        assert request.url.path == BATCH_PATH and request.headers[SECRET_HEADER] == "s"
        lines = [json.loads(line) for line in request.content.splitlines()]
        groups.append(lines)
        results: list[dict[str, Any]] = [
            {"error": {"code": "interaction_not_found", "message": "no"}}
            if line["payload"]["interaction_id"] == "interaction-007"
            else {"replayed": None}
            for line in lines
        ]
        return httpx.Response(200, json={"results": results})

    size = len(json.dumps(encode_submission(_hung_up(0), None), separators=(",", ":")))
    answers = asyncio.run(_forward_all(owner, 20, batch_bytes=3 * size + 3, in_flight=1))
    assert [len(g) for g in groups] == [3, 3, 3, 3, 3, 3, 2]  # 3 lines fit, a 4th would not
    sent = [line["payload"]["interaction_id"] for g in groups for line in g]
    assert sent == [f"interaction-{n:03d}" for n in range(20)]
    refused = [n for n, a in enumerate(answers) if isinstance(a, BaseException)]
    assert refused == [7] and isinstance(answers[7], UnknownInteraction)
    assert all(isinstance(a, Accepted) for n, a in enumerate(answers) if n != 7)


def test_a_leader_that_cannot_be_reached_fails_each_write_of_the_group_with_its_own_error() -> None:
    def owner(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    answers = asyncio.run(_forward_all(owner, 5))
    assert all(isinstance(a, ServiceUnavailable) for a in answers)
    assert len({id(a) for a in answers}) == 5  # raised concurrently: not one shared object


def test_a_transport_that_breaks_outside_httpx_errors_still_answers_503_not_500() -> None:
    """Seen in a fresh-clone CI run: a follower forwarding to a leader killed a moment before
    got anyio's ``AttributeError`` (``getpeername`` on a closed socket) out of httpx, not an
    ``httpx.HTTPError``, and answered 500. Any failure to reach the leader is a 503 to retry."""

    def owner(request: httpx.Request) -> httpx.Response:
        raise AttributeError("'NoneType' object has no attribute 'getpeername'")

    answers = asyncio.run(_forward_all(owner, 3))
    assert all(isinstance(a, ServiceUnavailable) for a in answers)


def test_a_group_the_leader_refuses_as_a_whole_fails_each_write() -> None:
    def owner(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"code": "service_unavailable", "message": "no"})

    answers = asyncio.run(_forward_all(owner, 4))
    assert all(isinstance(a, ServiceUnavailable) for a in answers)
    assert len({id(a) for a in answers}) == 4


def test_an_answer_with_another_number_of_results_fails_the_group_not_the_follower() -> None:
    def owner(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"results": [{"replayed": None}]})

    answers = asyncio.run(_forward_all(owner, 3, in_flight=1))
    assert all(isinstance(a, ServiceUnavailable) for a in answers)
