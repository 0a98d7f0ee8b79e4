"""Queue callback settings (SPEC §2)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from dialback.domain.errors import (
    CustomerFirstWithPreviewCampaign,
    CustomerFirstWithVoicemail,
    DialbackError,
    InvalidChoice,
    InvalidType,
    MissingField,
    UnknownField,
    ValueOutOfRange,
)
from dialback.domain.settings import (
    AgentOwnedRouting,
    CallbackMode,
    CallbackOffer,
    CallbackSettings,
    DeliveryMode,
    PacingTrigger,
    QueueSettings,
    Reaction,
    ScoringMethod,
    parse_queue,
    queue_to_json,
    update_queue,
)


def cb(**fields: Any) -> dict[str, Any]:
    return {"mediaSettings": {"callback": fields}}


def test_r_q_1_defaults_are_agent_first_and_the_spec_table() -> None:
    s = parse_queue({"name": "support"})
    c = s.callback
    assert c.mode is CallbackMode.AGENT_FIRST
    assert (c.pacing_modifier, c.max_retry_count, c.retry_delay_seconds) == (10, 0, 300)
    assert c.live_voice_reaction is Reaction.TRANSFER_TO_QUEUE
    assert c.answering_machine_reaction is Reaction.HANG_UP
    assert (c.enable_auto_dial_and_end, c.auto_dial_delay_seconds, c.auto_end_delay_seconds) == (
        False,
        300,
        300,
    )
    assert (c.alerting_timeout_seconds, c.enable_auto_answer) == (30, False)
    assert (c.service_level.percentage, c.service_level.duration_ms) == (0.8, 20_000)
    assert c.pacing_trigger is PacingTrigger.IDLE
    assert c.customer_first_delivery_mode is DeliveryMode.NO_AGENT_RESERVATION
    o = s.agent_owned_routing
    assert (o.enable_agent_owned_callbacks, o.max_owned_callback_delay_hours) == (False, 168)
    assert (o.max_owned_callback_hours, o.assign_to_queue_on_ownership_expiry) == (24, False)
    assert s.scoring_method is ScoringMethod.TIMESTAMP_AND_PRIORITY
    assert (s.voicemail_enabled, s.preview_campaign_ids) == (False, ())


CB = "mediaSettings.callback"
AOR = "agentOwnedRouting"


@dataclass(frozen=True)
class Ranged:
    """One ranged setting of SPEC §2: its JSON path, its ends, and where the value is kept."""

    path: str
    low: float
    high: float | None  # None: no upper end
    integer: bool
    stored: Callable[[QueueSettings], float]


# SPEC §2's table, written out here (not read from settings.RANGES: the test must not share the
# code's mistakes).
RANGED = [
    Ranged(f"{CB}.pacingModifier", 1, 10, False, lambda s: s.callback.pacing_modifier),
    Ranged(f"{CB}.maxRetryCount", 0, 20, True, lambda s: s.callback.max_retry_count),
    Ranged(f"{CB}.retryDelaySeconds", 60, 86_400, True, lambda s: s.callback.retry_delay_seconds),
    Ranged(
        f"{CB}.autoDialDelaySeconds", 0, 1200, True, lambda s: s.callback.auto_dial_delay_seconds
    ),
    Ranged(f"{CB}.autoEndDelaySeconds", 0, 1200, True, lambda s: s.callback.auto_end_delay_seconds),
    Ranged(
        f"{CB}.alertingTimeoutSeconds", 7, 900, True, lambda s: s.callback.alerting_timeout_seconds
    ),
    Ranged(
        f"{CB}.serviceLevel.percentage", 0, 1, False, lambda s: s.callback.service_level.percentage
    ),
    Ranged(
        f"{CB}.serviceLevel.durationMs",
        1000,
        None,
        True,
        lambda s: s.callback.service_level.duration_ms,
    ),
    Ranged(
        f"{AOR}.maxOwnedCallbackDelayHours",
        1,
        720,
        True,
        lambda s: s.agent_owned_routing.max_owned_callback_delay_hours,
    ),
    Ranged(
        f"{AOR}.maxOwnedCallbackHours",
        1,
        168,
        True,
        lambda s: s.agent_owned_routing.max_owned_callback_hours,
    ),
    Ranged(  # ext, issue 18 item 4
        "callbackOffer.minEstimatedWaitSeconds",
        0,
        86_400,
        False,
        lambda s: s.callback_offer.min_wait_seconds,
    ),
]


def body_at(path: str, value: object) -> dict[str, Any]:
    """The queue body that sets only the dotted ``path`` to ``value``."""
    body: dict[str, Any] = {}
    *parents, last = path.split(".")
    inner = body
    for key in parents:
        inner = inner.setdefault(key, {})
    inner[last] = value
    return body


def _ends() -> list[Any]:
    cases = []
    for r in RANGED:
        name = r.path.rsplit(".", 1)[1]
        cases.append(pytest.param(r, r.low, id=f"{name}-min"))
        if r.high is not None:
            cases.append(pytest.param(r, r.high, id=f"{name}-max"))
        else:  # no upper end: a large value is kept as it is
            cases.append(pytest.param(r, 10**9, id=f"{name}-large"))
    return cases


def _outside() -> list[Any]:
    cases = []
    for r in RANGED:
        name = r.path.rsplit(".", 1)[1]
        below = [r.low - 1] if r.integer else [r.low - 0.01, math.nextafter(r.low, -math.inf)]
        above: list[float] = []
        if r.high is not None:
            above = [r.high + 1] if r.integer else [r.high + 0.01, math.nextafter(r.high, math.inf)]
        cases += [pytest.param(r, v, id=f"{name}-below-{v!r}") for v in below]
        cases += [pytest.param(r, v, id=f"{name}-above-{v!r}") for v in above]
    return cases


@pytest.mark.parametrize(("ranged", "value"), _ends())
def test_r_q_1_range_ends_are_accepted_and_stored_exactly(ranged: Ranged, value: float) -> None:
    settings = parse_queue(body_at(ranged.path, value))
    assert ranged.stored(settings) == value
    assert parse_queue(queue_to_json(settings)) == settings
    assert ranged.stored(update_queue(parse_queue({}), body_at(ranged.path, value))) == value


@pytest.mark.parametrize(("ranged", "value"), _outside())
def test_r_q_1_out_of_range_values_are_refused_naming_the_field_not_clamped(
    ranged: Ranged, value: float
) -> None:
    """Just past either end is an error on create and on update; a clamp would return the end."""
    with pytest.raises(ValueOutOfRange) as err:
        parse_queue(body_at(ranged.path, value))
    assert (err.value.field, err.value.code) == (ranged.path, "value_out_of_range")
    with pytest.raises(ValueOutOfRange) as err:
        update_queue(parse_queue({}), body_at(ranged.path, value))
    assert err.value.field == ranged.path


def test_r_q_1_direct_construction_refuses_out_of_range_values_too() -> None:
    with pytest.raises(ValueOutOfRange) as err:
        CallbackSettings(pacing_modifier=math.nextafter(10, math.inf))
    assert err.value.field == f"{CB}.pacingModifier"
    with pytest.raises(ValueOutOfRange) as err:
        AgentOwnedRouting(max_owned_callback_hours=0)
    assert err.value.field == f"{AOR}.maxOwnedCallbackHours"


def test_r_q_1_a_fractional_pacing_modifier_is_kept() -> None:
    assert parse_queue(cb(pacingModifier=1.5)).callback.pacing_modifier == 1.5


@pytest.mark.parametrize(
    ("body", "error", "field"),
    [
        pytest.param(cb(pacingModifer=3), UnknownField, f"{CB}.pacingModifer", id="typo"),
        pytest.param({"voicemailEnable": True}, UnknownField, "voicemailEnable", id="top-typo"),
        pytest.param(cb(mode="AgentLast"), InvalidChoice, f"{CB}.mode", id="bad-mode"),
        pytest.param(cb(maxRetryCount="3"), InvalidType, f"{CB}.maxRetryCount", id="string-int"),
        pytest.param(cb(maxRetryCount=2.5), InvalidType, f"{CB}.maxRetryCount", id="float-int"),
        pytest.param(cb(maxRetryCount=True), InvalidType, f"{CB}.maxRetryCount", id="bool-int"),
        pytest.param(cb(enableAutoAnswer=1), InvalidType, f"{CB}.enableAutoAnswer", id="int-bool"),
        pytest.param(cb(pacingModifier="5"), InvalidType, f"{CB}.pacingModifier", id="str-num"),
        pytest.param({"name": 5}, InvalidType, "name", id="name-int"),
        pytest.param({"mediaSettings": []}, InvalidType, "mediaSettings", id="media-list"),
        pytest.param({"previewCampaignIds": "c1"}, InvalidType, "previewCampaignIds", id="ids"),
        pytest.param(
            cb(liveVoiceReactionType="TransferToFlow"),
            MissingField,
            f"{CB}.liveVoiceFlow.id",
            id="flow-missing",
        ),
        pytest.param(
            cb(answeringMachineReactionType="TransferToFlow", answeringMachineFlow={}),
            MissingField,
            f"{CB}.answeringMachineFlow.id",
            id="am-flow-missing",
        ),
        pytest.param(
            cb(liveVoiceFlow={"id": "f", "colour": "red"}),
            UnknownField,
            f"{CB}.liveVoiceFlow.colour",
            id="ref-extra",
        ),
    ],
)
def test_r_q_1_bad_values_are_refused_with_stable_codes(
    body: dict[str, Any], error: type[DialbackError], field: str
) -> None:
    with pytest.raises(error) as err:
        parse_queue(body)
    assert err.value.field == field
    assert err.value.code == error.code


def test_r_q_1_genesys_fields_dialback_does_not_use_are_accepted_and_ignored() -> None:
    body = {
        "name": "support",
        "bullseye": {"rings": []},
        "acwSettings": {"wrapupPrompt": "OPTIONAL"},
        "mediaSettings": {
            "call": {"alertingTimeoutSeconds": 8, "serviceLevel": {"percentage": 0.8}},
            "callback": {"mode": "CustomerFirst", "autoAnswerAlertToneSeconds": 1.0},
        },
        "defaultScripts": {"EMAIL": {"id": "s-email"}, "CALL": {"id": "s-call"}},
    }
    s = parse_queue(body)
    assert s.customer_first
    assert s.call_script_id == "s-call"


def test_r_q_1_json_round_trip_keeps_every_setting() -> None:
    body = {
        "name": "sales",
        "mediaSettings": cb(
            mode="CustomerFirst",
            pacingModifier=3.5,
            liveVoiceReactionType="TransferToFlow",
            liveVoiceFlow={"id": "flow-1"},
            answeringMachineReactionType="TransferToFlow",
            answeringMachineFlow={"id": "flow-2"},
            maxRetryCount=4,
            pacingTrigger="Pace",
            customerFirstDeliveryMode="UseAgentReservation",
        )["mediaSettings"],
        "agentOwnedRouting": {"enableAgentOwnedCallbacks": True, "maxOwnedCallbackHours": 5},
        "scoringMethod": "PriorityOnly",
        "callingPartyNumber": "+14155550199",
        "callingPartyName": "Acme",
        "defaultScripts": {"CALL": {"id": "s1"}, "CALLBACK": {"id": "s2"}},
    }
    s = parse_queue(body)
    assert parse_queue(queue_to_json(s)) == s
    assert s.callback.live_voice_flow_id == "flow-1"
    assert s.agent_owned_routing.max_owned_callback_hours == 5


def test_r_q_1_an_update_keeps_fields_it_does_not_mention() -> None:
    s = parse_queue({"name": "q", "voicemailEnabled": True, **cb(maxRetryCount=3)})
    updated = update_queue(s, cb(retryDelaySeconds=120))
    assert updated.voicemail_enabled
    assert updated.callback.max_retry_count == 3
    assert updated.callback.retry_delay_seconds == 120


def test_r_q_2_customer_first_then_voicemail_is_refused_naming_voicemail() -> None:
    s = parse_queue(cb(mode="CustomerFirst"))
    with pytest.raises(CustomerFirstWithVoicemail) as err:
        update_queue(s, {"voicemailEnabled": True})
    assert err.value.field == "voicemailEnabled"
    assert err.value.code == "customer_first_with_voicemail"


def test_r_q_2_voicemail_then_customer_first_is_refused_naming_the_mode() -> None:
    s = parse_queue({"voicemailEnabled": True})
    with pytest.raises(CustomerFirstWithVoicemail) as err:
        update_queue(s, cb(mode="CustomerFirst"))
    assert err.value.field == f"{CB}.mode"


def test_r_q_2_customer_first_then_preview_campaign_is_refused() -> None:
    s = parse_queue(cb(mode="CustomerFirst"))
    with pytest.raises(CustomerFirstWithPreviewCampaign) as err:
        update_queue(s, {"previewCampaignIds": ["camp-1"]})
    assert err.value.field == "previewCampaignIds"
    assert err.value.code == "customer_first_with_preview_campaign"


def test_r_q_2_preview_campaign_then_customer_first_is_refused() -> None:
    s = parse_queue({"previewCampaignIds": ["camp-1"]})
    with pytest.raises(CustomerFirstWithPreviewCampaign) as err:
        update_queue(s, cb(mode="CustomerFirst"))
    assert err.value.field == f"{CB}.mode"


def test_r_q_2_both_in_one_body_and_direct_construction_are_refused() -> None:
    with pytest.raises(CustomerFirstWithVoicemail):
        parse_queue({"voicemailEnabled": True, **cb(mode="CustomerFirst")})
    with pytest.raises(CustomerFirstWithVoicemail):
        QueueSettings(
            callback=CallbackSettings(mode=CallbackMode.CUSTOMER_FIRST), voicemail_enabled=True
        )


def test_r_q_2_agent_first_with_voicemail_and_campaigns_is_fine() -> None:
    s = parse_queue({"voicemailEnabled": True, "previewCampaignIds": ["c"]})
    assert not s.customer_first


def test_r_q_2_turning_voicemail_off_while_switching_to_customer_first_is_fine() -> None:
    s = parse_queue({"voicemailEnabled": True})
    assert update_queue(s, {"voicemailEnabled": False, **cb(mode="CustomerFirst")}).customer_first


def test_r_q_3_scripts_customer_first_uses_call_script_agent_first_callback_script() -> None:
    scripts = {"defaultScripts": {"CALL": {"id": "call"}, "CALLBACK": {"id": "cb"}}}
    agent_first = parse_queue(scripts)
    customer_first = parse_queue({**scripts, **cb(mode="CustomerFirst")})
    assert agent_first.script_for(None) == "cb"
    assert customer_first.script_for(None) == "call"
    assert customer_first.script_for("own") == "own"


# --- the callback offer rule (ext, issue 18 item 4) ---------------------------------------------
OFFER = "callbackOffer"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def test_issue_18_offer_rule_defaults_keep_the_old_endpoint_s_behaviour() -> None:
    """Before the rule was stored, the endpoint offered above 300 s and never closed."""
    rule = parse_queue({"name": "q"}).callback_offer
    assert (rule.enabled, rule.min_wait_seconds, rule.time_zone) == (True, 300.0, "UTC")
    assert rule.hours == ((0, 1440),) * 7 and rule.always_open
    stored_before = queue_to_json(QueueSettings())
    del stored_before["callbackOffer"]  # a queue stored before issue 18 item 4
    assert parse_queue(stored_before).callback_offer == CallbackOffer()


def test_issue_18_offer_rule_round_trips_and_an_update_keeps_what_it_omits() -> None:
    body = {
        OFFER: {
            "enabled": False,
            "minEstimatedWaitSeconds": 120.5,
            "openingHours": {
                **{d: {"start": "08:30", "end": "18:00"} for d in WEEKDAYS},
                "saturday": {"start": "10:00", "end": "24:00"},
                "sunday": False,
            },
            "timeZone": "Europe/London",
        }
    }
    s = parse_queue(body)
    rule = s.callback_offer
    assert (rule.enabled, rule.min_wait_seconds, rule.time_zone) == (False, 120.5, "Europe/London")
    assert rule.hours == ((510, 1080),) * 5 + ((600, 1440), None)
    assert not rule.always_open
    assert parse_queue(queue_to_json(s)) == s
    assert queue_to_json(s)[OFFER]["openingHours"]["saturday"] == {"start": "10:00", "end": "24:00"}
    later = update_queue(
        s, {OFFER: {"openingHours": {"sunday": {"start": "12:00", "end": "13:00"}}}}
    )
    assert later.callback_offer.hours == ((510, 1080),) * 5 + ((600, 1440), (720, 780))
    assert (later.callback_offer.enabled, later.callback_offer.time_zone) == (
        False,
        "Europe/London",
    )
    assert update_queue(s, cb(maxRetryCount=2)).callback_offer == rule


@pytest.mark.parametrize(
    ("body", "error", "field"),
    [
        pytest.param({OFFER: []}, InvalidType, OFFER, id="not-an-object"),
        pytest.param({OFFER: {"enabled": "yes"}}, InvalidType, f"{OFFER}.enabled", id="enabled"),
        pytest.param(
            {OFFER: {"minEstimatedWaitSeconds": "5m"}},
            InvalidType,
            f"{OFFER}.minEstimatedWaitSeconds",
            id="wait-text",
        ),
        pytest.param({OFFER: {"closes": "18:00"}}, UnknownField, f"{OFFER}.closes", id="typo"),
        pytest.param(
            {OFFER: {"openingHours": {"funday": False}}},
            UnknownField,
            f"{OFFER}.openingHours.funday",
            id="day-typo",
        ),
        pytest.param(
            {OFFER: {"openingHours": {"monday": {"start": "8:00", "end": "18:00"}}}},
            InvalidType,
            f"{OFFER}.openingHours.monday.start",
            id="not-hh-mm",
        ),
        pytest.param(
            {OFFER: {"openingHours": {"monday": True}}},
            InvalidType,
            f"{OFFER}.openingHours.monday",
            id="day-true",
        ),
        pytest.param(
            {OFFER: {"openingHours": {"monday": {"start": "18:00", "end": "08:00"}}}},
            ValueOutOfRange,
            f"{OFFER}.openingHours.monday",
            id="reversed",
        ),
        pytest.param({OFFER: {"timeZone": 1}}, InvalidType, f"{OFFER}.timeZone", id="zone-int"),
    ],
)
def test_issue_18_offer_rule_bad_values_are_refused_with_stable_codes(
    body: dict[str, Any], error: type[DialbackError], field: str
) -> None:
    with pytest.raises(error) as err:
        parse_queue(body)
    assert (err.value.field, err.value.code) == (field, error.code)
    with pytest.raises(error) as err:
        update_queue(parse_queue({}), body)
    assert err.value.field == field
