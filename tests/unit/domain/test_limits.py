"""The one table of bounds (issue 12): every string, list, object and number of a body."""

from __future__ import annotations

import pytest

from dialback.domain.errors import DialbackError
from dialback.domain.limits import NAME, PHONE, TEXT, check_json


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        pytest.param({"name": "x" * (NAME + 1)}, "limit_exceeded", "name", id="name"),
        pytest.param(
            {"callerNumber": "1" * (PHONE + 1)}, "limit_exceeded", "callerNumber", id="phone"
        ),
        pytest.param(
            {"callbackNumbers": ["1" * (PHONE + 1)]},
            "limit_exceeded",
            "callbackNumbers[0]",
            id="list-item-by-list-name",
        ),
        pytest.param({"anything": "x" * (TEXT + 1)}, "limit_exceeded", "anything", id="default"),
        pytest.param({"data": {"k": "a\x00b"}}, "invalid_text", "data.k", id="nul"),
        pytest.param({"name": "\ud800"}, "invalid_text", "name", id="lone-surrogate"),
        pytest.param({"k\x00": 1}, "invalid_text", "k\x00", id="nul-in-key"),
        pytest.param(
            {"callbackNumbers": ["1"] * 11}, "limit_exceeded", "callbackNumbers", id="list"
        ),
        pytest.param({"x": list(range(101))}, "limit_exceeded", "x", id="default-list"),
        pytest.param({str(i): 1 for i in range(101)}, "limit_exceeded", None, id="keys"),
        pytest.param({"priority": 2**63}, "value_out_of_range", "priority", id="overflow"),
        pytest.param({"priority": -1}, "value_out_of_range", "priority", id="negative-priority"),
        pytest.param({"x": 2**31}, "value_out_of_range", "x", id="int32"),
        pytest.param({"x": float("inf")}, "value_out_of_range", "x", id="infinite"),
        pytest.param({"x": 1e300}, "value_out_of_range", "x", id="huge-float"),
        pytest.param(
            [[[[[[[[[[1]]]]]]]]]], "limit_exceeded", "[0][0][0][0][0][0][0][0][0]", id="deep"
        ),
    ],
)
def test_a_value_past_its_bound_is_refused_naming_it(body: object, code: str, field: str) -> None:
    with pytest.raises(DialbackError) as refused:
        check_json(body, "")
    assert (refused.value.code, refused.value.field) == (code, field)


def test_values_within_bounds_pass() -> None:
    check_json(
        {
            "name": "x" * NAME,
            "callbackNumbers": ["+14155552671"] * 10,
            "routingData": {"priority": 1_000_000, "skillIds": ["a"] * 100},
            "data": {"note": "é" * TEXT},
            "score": 0.5,
            "on": True,
            "off": None,
        },
        "",
    )
