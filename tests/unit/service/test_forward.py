"""A follower rebuilds the leader's refusal as the same coded error (issue 17), whatever extra
arguments the error class takes."""

from __future__ import annotations

import pytest

from dialback.domain.errors import DialbackError, DuplicateCallback, OutsideCallingWindow
from dialback.service.forward import error_from
from dialback.service.runtime import ServiceUnavailable


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
