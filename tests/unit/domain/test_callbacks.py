"""Reading callback requests (SPEC §3: R-C-1, R-C-2, R-C-3), with the real phonenumbers-backed
normaliser the service uses."""

from __future__ import annotations

from typing import Any

import pytest

from dialback.api.numbers import normalize_number
from dialback.domain.callbacks import parse_callback_request, parse_time
from dialback.domain.errors import (
    DialbackError,
    InvalidChoice,
    InvalidInput,
    InvalidOwnedCallback,
    InvalidPhoneNumber,
    InvalidType,
    MissingField,
    OwnedCallbacksDisabled,
    ScheduledTooFarAhead,
    UnknownField,
    UnknownQueue,
    ValueOutOfRange,
)
from dialback.domain.model import CallbackRequest, QueueId
from dialback.domain.settings import DeliveryMode, QueueSettings, parse_queue

NOW = parse_time("2026-11-25T09:00:00Z", "t")
QUEUES = {
    QueueId("q1"): parse_queue({"name": "plain"}),
    QueueId("owned"): parse_queue(
        {"agentOwnedRouting": {"enableAgentOwnedCallbacks": True, "maxOwnedCallbackDelayHours": 2}}
    ),
}


def settings_of(queue_id: QueueId) -> QueueSettings:
    try:
        return QUEUES[queue_id]
    except KeyError:
        raise UnknownQueue(f"no queue {queue_id}", field="queueId") from None


def parse(**body: Any) -> CallbackRequest:
    body.setdefault("queueId", "q1")
    body.setdefault("callbackNumbers", ["+14155552671"])
    return parse_callback_request(
        body, now=NOW, queue_settings=settings_of, normalize=normalize_number
    )


def test_r_c_1_numbers_are_normalised_to_e164() -> None:
    request = parse(callbackNumbers=["(415) 555-2671", "+44 20 7946 0958"], countryCode="US")
    assert request.numbers == ("+14155552671", "+442079460958")


@pytest.mark.parametrize(
    ("numbers", "field"),
    [
        pytest.param(["+14155552671", "12"], "callbackNumbers[1]", id="too-short"),
        pytest.param(["call me"], "callbackNumbers[0]", id="words"),
        pytest.param(["4155552671"], "callbackNumbers[0]", id="national-without-country"),
        pytest.param(["+1 555 0100"], "callbackNumbers[0]", id="not-valid-in-plan"),
    ],
)
def test_r_c_1_an_invalid_number_is_refused_naming_it(numbers: list[str], field: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as err:
        parse(callbackNumbers=numbers)
    assert err.value.field == field
    assert err.value.code == "invalid_phone_number"


def test_r_c_1_without_validation_a_possible_number_is_enough() -> None:
    request = parse(callbackNumbers=["+1 555 555 0100"], validateCallbackNumbers=False)
    assert request.numbers == ("+15555550100",)


@pytest.mark.parametrize(
    ("body", "error", "field"),
    [
        pytest.param({"callbackNumbers": []}, ValueOutOfRange, "callbackNumbers", id="none"),
        pytest.param(
            {"callbackNumbers": ["+14155552671"] * 11}, ValueOutOfRange, "callbackNumbers", id="11"
        ),
        pytest.param({"callbackNumbers": None}, MissingField, "callbackNumbers", id="missing"),
        pytest.param({"callbackNumbers": "+14155552671"}, InvalidType, "callbackNumbers", id="str"),
        pytest.param({"queueId": None}, MissingField, "queueId", id="no-queue"),
        pytest.param({"queueId": "nope"}, UnknownQueue, "queueId", id="unknown-queue"),
        pytest.param({"colour": "red"}, UnknownField, "colour", id="unknown-field"),
        pytest.param(
            {"routingData": {"queueId": "q1", "skilIds": []}},
            UnknownField,
            "routingData.skilIds",
            id="routing-typo",
        ),
        pytest.param(
            {"routingData": {"queueId": "owned"}}, InvalidInput, "routingData.queueId", id="differ"
        ),
        pytest.param(
            {"routingData": {"priority": "high"}}, InvalidType, "routingData.priority", id="prio"
        ),
        pytest.param({"data": {"k": 1}}, InvalidType, "data", id="data"),
        pytest.param({"callerId": "nope"}, InvalidPhoneNumber, "callerId", id="caller-id"),
        pytest.param(
            {"customerFirstCallbackDeliveryMode": "Sometimes"},
            InvalidChoice,
            "customerFirstCallbackDeliveryMode",
            id="delivery",
        ),
        pytest.param(
            {"callbackScheduledTime": "tomorrow"},
            InvalidType,
            "callbackScheduledTime",
            id="time",
        ),
    ],
)
def test_r_c_1_bad_requests_name_the_field(
    body: dict[str, Any], error: type[DialbackError], field: str
) -> None:
    with pytest.raises(error) as err:
        parse(**body)
    assert err.value.field == field


def test_r_c_1_routing_data_and_other_fields_are_read() -> None:
    request = parse(
        queueId=None,
        routingData={
            "queueId": "q1",
            "priority": 5,
            "preferredAgentIds": ["a3"],
            "scoredAgents": [
                {"agent": {"id": "a1"}, "score": 10},
                {"agent": {"id": "a2"}, "score": 90},
            ],
        },
        callbackUserName="Ada",
        scriptId="s1",
        data={"account": "42"},
        callerId="+14155550199",
        callerIdName="Acme",
        customerFirstCallbackDeliveryMode="UseAgentReservation",
    )
    assert request.queue_id == "q1"
    assert request.priority == 5
    assert request.preferred_agents == ("a2", "a1", "a3")  # scored first, by score
    assert request.owner is None
    assert (request.user_name, request.script_id) == ("Ada", "s1")
    assert request.data == (("account", "42"),)
    assert (request.caller_id, request.caller_id_name) == ("+14155550199", "Acme")
    assert request.delivery_mode is DeliveryMode.USE_AGENT_RESERVATION


def test_r_c_2_more_than_30_days_ahead_is_refused() -> None:
    with pytest.raises(ScheduledTooFarAhead) as err:
        parse(callbackScheduledTime="2026-12-25T09:00:01Z")
    assert err.value.field == "callbackScheduledTime"
    assert parse(callbackScheduledTime="2026-12-25T09:00:00Z").scheduled_time == NOW + 30 * 86400


def test_r_c_2_a_time_in_the_past_means_now() -> None:
    assert parse(callbackScheduledTime="2026-11-24T09:00:00Z").scheduled_time is None
    assert parse().scheduled_time is None


def test_r_c_2_a_time_without_zone_is_utc() -> None:
    later = parse(callbackScheduledTime="2026-11-25T10:00:00")
    assert later.scheduled_time == NOW + 3600


def owned_body(**extra: Any) -> dict[str, Any]:
    return {
        "routingData": {
            "queueId": "owned",
            "routingFlags": ["AGENT_OWNED_CALLBACK"],
            "scoredAgents": [{"agent": {"id": "a7"}, "score": 100}],
        },
        "queueId": None,
        **extra,
    }


def test_r_c_3_owned_callback_names_its_owner() -> None:
    request = parse(**owned_body(callbackScheduledTime="2026-11-25T10:30:00Z"))
    assert request.owner == "a7"
    assert request.preferred_agents == ()


def test_r_c_3_owned_needs_the_queue_to_allow_it() -> None:
    body = owned_body()
    body["routingData"]["queueId"] = "q1"
    with pytest.raises(OwnedCallbacksDisabled) as err:
        parse(**body)
    assert err.value.field == "routingData.routingFlags"


def test_r_c_3_owned_needs_exactly_one_scored_agent() -> None:
    body = owned_body()
    body["routingData"]["scoredAgents"].append({"agent": {"id": "a8"}, "score": 100})
    with pytest.raises(InvalidOwnedCallback):
        parse(**body)
    body["routingData"]["scoredAgents"] = []
    with pytest.raises(InvalidOwnedCallback):
        parse(**body)


def test_r_c_3_owned_time_must_lie_within_max_owned_callback_delay_hours() -> None:
    with pytest.raises(ValueOutOfRange) as err:
        parse(**owned_body(callbackScheduledTime="2026-11-25T11:00:01Z"))
    assert err.value.field == "callbackScheduledTime"
    assert parse(**owned_body(callbackScheduledTime="2026-11-25T11:00:00Z")).owner == "a7"


def test_body_must_be_an_object() -> None:
    with pytest.raises(InvalidType):
        parse_callback_request([], now=NOW, queue_settings=settings_of, normalize=normalize_number)
