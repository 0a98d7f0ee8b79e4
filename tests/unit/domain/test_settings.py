"""Queue callback settings (SPEC §2)."""

from __future__ import annotations

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
    CallbackMode,
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
RANGE_CASES = [
    pytest.param(cb(pacingModifier=0.99), f"{CB}.pacingModifier", id="pacing-low"),
    pytest.param(cb(pacingModifier=10.01), f"{CB}.pacingModifier", id="pacing-high"),
    pytest.param(cb(maxRetryCount=-1), f"{CB}.maxRetryCount", id="retries-low"),
    pytest.param(cb(maxRetryCount=21), f"{CB}.maxRetryCount", id="retries-high"),
    pytest.param(cb(retryDelaySeconds=59), f"{CB}.retryDelaySeconds", id="retry-delay-low"),
    pytest.param(cb(retryDelaySeconds=86_401), f"{CB}.retryDelaySeconds", id="retry-delay-high"),
    pytest.param(cb(autoDialDelaySeconds=-1), f"{CB}.autoDialDelaySeconds", id="auto-dial-low"),
    pytest.param(cb(autoDialDelaySeconds=1201), f"{CB}.autoDialDelaySeconds", id="auto-dial-high"),
    pytest.param(cb(autoEndDelaySeconds=1201), f"{CB}.autoEndDelaySeconds", id="auto-end-high"),
    pytest.param(cb(alertingTimeoutSeconds=6), f"{CB}.alertingTimeoutSeconds", id="alert-low"),
    pytest.param(cb(alertingTimeoutSeconds=901), f"{CB}.alertingTimeoutSeconds", id="alert-high"),
    pytest.param(
        cb(serviceLevel={"percentage": 1.1}), f"{CB}.serviceLevel.percentage", id="sl-percent"
    ),
    pytest.param(
        cb(serviceLevel={"durationMs": 999}), f"{CB}.serviceLevel.durationMs", id="sl-duration"
    ),
    pytest.param(
        {"agentOwnedRouting": {"maxOwnedCallbackDelayHours": 721}},
        "agentOwnedRouting.maxOwnedCallbackDelayHours",
        id="owned-delay-high",
    ),
    pytest.param(
        {"agentOwnedRouting": {"maxOwnedCallbackHours": 0}},
        "agentOwnedRouting.maxOwnedCallbackHours",
        id="owned-hours-low",
    ),
    pytest.param(
        {"agentOwnedRouting": {"maxOwnedCallbackHours": 169}},
        "agentOwnedRouting.maxOwnedCallbackHours",
        id="owned-hours-high",
    ),
]


@pytest.mark.parametrize(("body", "field"), RANGE_CASES)
def test_r_q_1_out_of_range_values_name_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueOutOfRange) as err:
        parse_queue(body)
    assert err.value.field == field
    assert err.value.code == "value_out_of_range"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(cb(pacingModifier=1, maxRetryCount=20, retryDelaySeconds=60), id="low-ends"),
        pytest.param(cb(pacingModifier=10, retryDelaySeconds=86_400), id="high-ends"),
        pytest.param(cb(alertingTimeoutSeconds=7, autoDialDelaySeconds=0), id="alert-min"),
        pytest.param(cb(alertingTimeoutSeconds=900, autoEndDelaySeconds=1200), id="alert-max"),
        pytest.param(cb(pacingModifier=1.5), id="fractional-pacing"),
        pytest.param({"agentOwnedRouting": {"maxOwnedCallbackDelayHours": 720}}, id="owned-max"),
    ],
)
def test_r_q_1_range_ends_are_accepted(body: dict[str, Any]) -> None:
    parse_queue(body)


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
