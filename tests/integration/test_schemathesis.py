"""Schemathesis against ``/openapi.json`` with an admin token: no 5xx for anything the schema
allows (or not), and responses match the schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from .conftest import Service, serve

TOKEN: dict[str, str] = {}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    running = serve(str(tmp_path_factory.mktemp("schemathesis") / "dialback.db"))
    TOKEN["admin"] = running.store.create_token("admin")
    # something to find: a queue, a user and a callback
    queue = running.admin.post("/api/v2/routing/queues", json={"name": "q"}).json()["id"]
    running.admin.post("/api/v2/users", json={"name": "Ann"})
    body = {"queueId": queue, "callbackNumbers": ["+14155552671"]}
    running.admin.post("/api/v2/conversations/callbacks", json=body)
    yield running
    running.stop()


def test_no_server_error_and_responses_match_the_schema(served: Service) -> None:
    """Every operation of the schema, with generated requests (schemathesis' pytest plugin does
    not run on pytest 9, so the operations are driven through its strategies)."""
    loaded = schemathesis.openapi.from_url(f"{served.url}/openapi.json")
    headers = {"Authorization": f"Bearer {TOKEN['admin']}"}
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    operations = [result.ok() for result in loaded.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=checks)

        call()
