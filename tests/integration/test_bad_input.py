"""Every bad input is a 4xx in our error shape with a stable code, on SQLite and PostgreSQL
(issue 12), and none of them stops the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from dialback.domain import limits
from dialback.store import tables

from .conftest import Service, eventually, ok, serve
from .test_api import CUSTOMER, callback, count, make_agent, make_queue

CALLBACKS = "/api/v2/conversations/callbacks"


def refused(r: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The answer is our error shape with this status, code (and field)."""
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert (body["status"], body["code"]) == (status, code), body
    assert isinstance(body["message"], str) and body["message"]
    if field is not None:
        assert body["field"] == field
    return body


def test_an_over_long_idempotency_key_is_refused_and_the_service_goes_on(service: Service) -> None:
    """The issue's PostgreSQL outage: an agent's 300-character key used to fail the commit."""
    queue = make_queue(service.admin)
    agent = make_agent(service.admin, queue)
    as_agent = service.client("agent", agent)
    body = {"queueId": queue, "callbackNumbers": [CUSTOMER]}
    r = as_agent.post(CALLBACKS, json=body, headers={"Idempotency-Key": "k" * 300})
    refused(r, 422, "limit_exceeded", "Idempotency-Key")
    r = as_agent.post(CALLBACKS, json=[body], headers={"Idempotency-Key": "k" * 300})
    refused(r, 422, "limit_exceeded", "Idempotency-Key")  # the header is checked first
    key = "k" * limits.IDEMPOTENCY_KEY  # the longest allowed is stored, on both databases
    first = ok(as_agent.post(CALLBACKS, json=body, headers={"Idempotency-Key": key}))
    again = ok(as_agent.post(CALLBACKS, json=body, headers={"Idempotency-Key": key}))
    assert first == again
    callback(service.admin, queue)
    assert ok(service.admin.get("/healthz"))["status"] == "ok"


CALLBACK_CASES = [
    pytest.param(
        {"callbackUserName": "x" * 50_000}, "limit_exceeded", "callbackUserName", id="long-name"
    ),
    pytest.param({"data": {"note": "x" * 2000}}, "limit_exceeded", "data.note", id="long-data"),
    pytest.param({"callbackUserName": "a\x00b"}, "invalid_text", "callbackUserName", id="nul"),
    pytest.param(
        {"routingData": {"priority": 2**64}},
        "value_out_of_range",
        "routingData.priority",
        id="overflow",
    ),
    pytest.param(
        {"routingData": {"priority": "high"}}, "invalid_type", "routingData.priority", id="type"
    ),
    pytest.param(
        {"callbackScheduledTime": "0001-01-01T00:00:00+01:00"},
        "value_out_of_range",
        "callbackScheduledTime",
        id="year-1",
    ),
    pytest.param(
        {"callbackScheduledTime": "1900-01-01T00:00:00Z"},
        "value_out_of_range",
        "callbackScheduledTime",
        id="1900",
    ),
    pytest.param(
        {"callbackNumbers": ["+1" * 40]},
        "limit_exceeded",
        "callbackNumbers[0]",
        id="long-number",
    ),
]


def test_callback_fields_past_their_bounds_are_422(service: Service) -> None:
    queue = make_queue(service.admin)
    for case in CALLBACK_CASES:
        extra, code, field = case.values
        body = {"queueId": queue, "callbackNumbers": [CUSTOMER], **extra}  # type: ignore[dict-item]
        refused(service.admin.post(CALLBACKS, json=body), 422, code, field)  # type: ignore[arg-type]
    assert count(service, tables.interactions) == 0


def test_lone_surrogates_are_refused_at_input(service: Service) -> None:
    queue = make_queue(service.admin)
    raw = (
        f'{{"queueId": "{queue}", "callbackNumbers": ["{CUSTOMER}"], '
        '"callbackUserName": "\\ud800"}'
    )
    r = service.admin.post(CALLBACKS, content=raw, headers={"Content-Type": "application/json"})
    refused(r, 422, "invalid_text", "callbackUserName")
    r = service.admin.post(
        "/api/v2/routing/queues",
        content='{"name": "a\\u0000b"}',
        headers={"Content-Type": "application/json"},
    )
    refused(r, 422, "invalid_text", "name")
    refused(service.admin.get("/api/v2/routing/queues/a%00b"), 422, "invalid_text", "path")
    refused(service.admin.get("/api/v2/routing/queues?pageSize=%ff"), 422, "invalid_text", "query")


def test_bodies_over_the_limit_are_413(service: Service) -> None:
    big = {"name": "x" * (1 << 20)}  # the 1 MB queue name
    refused(service.admin.post("/api/v2/routing/queues", json=big), 413, "body_too_large")
    queue = make_queue(service.admin)
    body = {
        "queueId": queue,
        "callbackNumbers": [CUSTOMER],
        "data": {f"k{i}": "v" * 1000 for i in range(70)},
    }
    refused(service.admin.post(CALLBACKS, json=body), 413, "body_too_large")
    assert count(service, tables.interactions) == 0


def test_content_types_and_unparseable_json(service: Service) -> None:
    c = service.admin
    refused(c.post("/api/v2/routing/queues", data={"name": "q"}), 415, "unsupported_media_type")
    refused(
        c.post("/api/v2/routing/queues", content=b'{"name": "q"}'), 415, "unsupported_media_type"
    )
    for raw in (b'{"name": ', b"\xff\xfe", b'{"name": NaN}', b"[" * 5000 + b"]" * 5000):
        r = c.post(
            "/api/v2/routing/queues", content=raw, headers={"Content-Type": "application/json"}
        )
        refused(r, 400, "malformed_json")
    refused(c.post("/api/v2/routing/queues"), 422, "missing_field", "body")
    assert ok(c.get("/api/v2/routing/queues"))["total"] == 0


PAGING_CASES = [
    pytest.param("pageSize=%C2%B2", "invalid_type", "pageSize", id="unicode-digit"),
    pytest.param("pageSize=abc", "invalid_type", "pageSize", id="type"),
    pytest.param("pageSize=0", "value_out_of_range", "pageSize", id="zero"),
    pytest.param(
        "pageNumber=99999999999999999999", "value_out_of_range", "pageNumber", id="overflow"
    ),
    pytest.param("pageNumber=-3", "value_out_of_range", "pageNumber", id="negative"),
    pytest.param("pageSize=1.5", "invalid_type", "pageSize", id="float"),
]


def test_paging_parameters(service: Service) -> None:
    queue = make_queue(service.admin)
    for case in PAGING_CASES:
        query, code, field = case.values
        for path in ("/api/v2/routing/queues", f"/api/v2/routing/queues/{queue}/pacing/decisions"):
            refused(service.admin.get(f"{path}?{query}"), 422, code, field)  # type: ignore[arg-type]


ANALYTICS_CASES = [
    pytest.param({"interval": "x"}, "invalid_input", "interval", id="shape"),
    pytest.param(
        {"interval": "0001-01-01T00:00:00+14:00/2026-01-01T00:00:00Z"},
        "value_out_of_range",
        "interval",
        id="year-1",
    ),
    pytest.param(
        {"interval": "2026-01-02T00:00:00Z/2026-01-01T00:00:00Z"},
        "value_out_of_range",
        "interval",
        id="backwards",
    ),
    pytest.param(
        {
            "interval": "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z",
            "granularity": "P9999999999D",
        },
        "invalid_input",
        "granularity",
        id="granularity-overflow",
    ),
    pytest.param(
        {"interval": "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z", "granularity": "PT7M"},
        "value_out_of_range",
        "granularity",
        id="granularity-15",
    ),
    pytest.param(
        {"interval": "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z", "groupBy": 5},
        "invalid_type",
        "groupBy",
        id="group-type",
    ),
    pytest.param(
        {"interval": "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z", "groupBy": ["x"]},
        "invalid_choice",
        "groupBy",
        id="group-name",
    ),
    pytest.param(
        {"interval": "2026-01-01T00:00:00Z/2026-01-02T00:00:00Z", "metrics": "tWait"},
        "invalid_type",
        "metrics",
        id="metrics",
    ),
]


def test_analytics_queries(service: Service) -> None:
    for case in ANALYTICS_CASES:
        body, code, field = case.values
        for path in ("aggregates", "details"):
            if path == "details" and field != "interval":
                continue
            r = service.admin.post(f"/api/v2/analytics/conversations/{path}/query", json=body)
            refused(r, 422, code, field)  # type: ignore[arg-type]


def test_adding_members_is_all_or_nothing(service: Service) -> None:
    c = service.admin
    queue = make_queue(c)
    known = ok(c.post("/api/v2/users", json={"name": "Ann"}))["id"]
    path = f"/api/v2/routing/queues/{queue}/members"
    refused(
        c.post(path, json=[{"id": known}, {"id": "nobody"}]), 404, "agent_not_found", "body[1].id"
    )
    assert ok(c.get(path))["entities"] == []
    with service.store.engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(tables.queue_members)).scalar() == 0
        )
    ok(c.post(path, json=[{"id": known}]))
    r = c.post(f"{path}?delete=true", json=[{"id": known}, {"id": "nobody"}])
    refused(r, 404, "agent_not_found", "body[1].id")
    assert [m["id"] for m in ok(c.get(path))["entities"]] == [known]
    conversation, _ = callback(c, queue)
    r = c.post(
        "/api/v2/conversations/callbacks/bulk/disconnect",
        json={"callbackDisconnectIdentifiers": [{"conversationId": conversation}, {"x": 1}]},
    )
    refused(r, 422, "missing_field", "callbackDisconnectIdentifiers[1].conversationId")
    found = ok(c.get(f"{CALLBACKS}/{conversation}"))["participants"][0]
    assert found["state"] != "ended"


def test_over_long_wrap_up_code_and_caller_number(service: Service) -> None:
    c = service.admin
    queue = make_queue(c)
    r = c.post(f"/api/v2/routing/queues/{queue}/calls", json={"callerNumber": "1" * 40})
    refused(r, 422, "limit_exceeded", "callerNumber")
    agent = make_agent(c, queue)
    callback(c, queue)
    alert = eventually(lambda: ok(c.get(f"/api/v2/users/{agent}/interactions"))["entities"])
    path = f"/api/v2/users/{agent}/interactions/{alert[0]['id']}"
    r = c.post(f"{path}/wrapup", json={"code": "w" * (limits.CODE + 1)})
    refused(r, 422, "limit_exceeded", "code")


@pytest.mark.parametrize(
    ("column", "bound"),
    [
        (tables.users.c.name, limits.NAME),
        (tables.queues.c.name, limits.NAME),
        (tables.interactions.c.caller_number, limits.PHONE),
        (tables.interactions.c.wrapup_code, limits.CODE),
        (tables.idempotency_keys.c.key, limits.IDEMPOTENCY_KEY),
        (tables.segments.c.flow_id, limits.ID),
        (tables.queue_members.c.user_id, limits.ID),
    ],
)
def test_column_lengths_follow_the_limits(column: sa.Column[Any], bound: int) -> None:
    assert isinstance(column.type, sa.String) and column.type.length == bound


def test_a_string_stored_before_input_was_checked_can_still_be_read(tmp_path: Path) -> None:
    """The issue's callback that could never be read again: a lone surrogate already in the
    database (SQLite took it) is escaped in the answer, not a 500."""
    service = serve(str(tmp_path / "old.db"))
    try:
        conversation, _ = callback(service.admin, make_queue(service.admin))
        with service.store.engine.begin() as c:
            c.execute(
                sa.text(
                    "UPDATE interactions SET request = json_set(request, '$.user_name', json(:v))"
                ),
                {"v": '"old\\ud800"'},
            )
        found = ok(service.admin.get(f"{CALLBACKS}/{conversation}"))
        assert found["participants"][0]["callbackUserName"] == "old\ud800"
    finally:
        service.stop()
