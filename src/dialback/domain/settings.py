"""Queue callback settings (SPEC §2): every range, default and conflict, in Genesys' places.

``QueueSettings`` is the validated value; ``parse_queue`` reads a Genesys-shaped body
(``POST /api/v2/routing/queues``) and ``update_queue`` merges a later write into the current
settings. Both raise ``InvalidInput`` subclasses whose ``field`` is the dotted JSON path.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from dialback.domain.compliance import (
    DAYS,
    BudgetSettings,
    ComplianceSettings,
    budget_to_json,
    compliance_to_json,
    day_hours,
    read_budget,
    read_compliance,
)
from dialback.domain.enums import Closed
from dialback.domain.errors import (
    CustomerFirstWithPreviewCampaign,
    CustomerFirstWithVoicemail,
    InvalidChoice,
    InvalidShard,
    InvalidType,
    MissingField,
    SettingsConflict,
    ShardFixed,
    UnknownField,
    ValueOutOfRange,
)
from dialback.domain.limits import MAX_PRIORITY, SHARD_NAME

DEFAULT_SHARD = "all"  # issue 17: the shard of every queue that names none
_SHARD_NAME = re.compile(r"[A-Za-z0-9_.\-]{1," + str(SHARD_NAME) + "}")


class CallbackMode(Closed):
    """Who is called first (R-Q-1): ``AGENT_FIRST`` offers the callback to an agent who
    then dials (SPEC §6); ``CUSTOMER_FIRST`` lets the dialer call the customer and routes the
    answered call (SPEC §7)."""

    AGENT_FIRST = "AgentFirst"
    CUSTOMER_FIRST = "CustomerFirst"


class Reaction(Closed):
    """What happens when call progress analysis says live voice or answering machine."""

    TRANSFER_TO_QUEUE = "TransferToQueue"
    TRANSFER_TO_FLOW = "TransferToFlow"
    HANG_UP = "HangUp"


class PacingTrigger(Closed):
    """R-CF-3: ``IDLE`` also needs idle agents > outstanding dials; ``PACE`` is the formula."""

    IDLE = "Idle"
    PACE = "Pace"


class DeliveryMode(Closed):
    """R-CF-10: whether an idle agent is held while a customer-first callback is dialed."""

    USE_AGENT_RESERVATION = "UseAgentReservation"
    NO_AGENT_RESERVATION = "NoAgentReservation"


class ScoringMethod(Closed):
    """R-O-1: how waiting interactions are ordered: priority then queue entry time, or
    ``PRIORITY_ONLY`` with ties broken by arrival."""

    TIMESTAMP_AND_PRIORITY = "TimestampAndPriority"
    PRIORITY_ONLY = "PriorityOnly"


E = TypeVar("E", bound=enum.Enum)

CB = "mediaSettings.callback"
AOR = "agentOwnedRouting"
OFFER = "callbackOffer"
ALL_DAY = (0, 24 * 60)

# attribute -> (JSON path, lowest, highest). Checked on construction, whoever constructs.
RANGES: dict[str, tuple[str, float, float]] = {
    "pacing_modifier": (f"{CB}.pacingModifier", 1, 10),
    "max_retry_count": (f"{CB}.maxRetryCount", 0, 20),
    "retry_delay_seconds": (f"{CB}.retryDelaySeconds", 60, 86_400),
    "auto_dial_delay_seconds": (f"{CB}.autoDialDelaySeconds", 0, 1200),
    "auto_end_delay_seconds": (f"{CB}.autoEndDelaySeconds", 0, 1200),
    "alerting_timeout_seconds": (f"{CB}.alertingTimeoutSeconds", 7, 900),
    "percentage": (f"{CB}.serviceLevel.percentage", 0, 1),
    "duration_ms": (f"{CB}.serviceLevel.durationMs", 1000, math.inf),
    "max_owned_callback_delay_hours": (f"{AOR}.maxOwnedCallbackDelayHours", 1, 720),
    "max_owned_callback_hours": (f"{AOR}.maxOwnedCallbackHours", 1, 168),
    "max_agent_callback_priority": ("maxAgentCallbackPriority", 0, MAX_PRIORITY),
    "min_wait_seconds": (f"{OFFER}.minEstimatedWaitSeconds", 0, 86_400),
}


def _check_ranges(obj: object) -> None:
    for f in fields(obj):  # type: ignore[arg-type]
        spec = RANGES.get(f.name)
        if spec is None:
            continue
        path, low, high = spec
        value = getattr(obj, f.name)
        if not low <= value <= high:
            raise ValueOutOfRange(f"{value} is outside {low:g}..{high:g}", field=path)


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """The service-level goal: a ``percentage`` (a fraction, 0..1) of interactions answered
    within ``duration_ms`` milliseconds (at least 1000); ``oServiceLevel`` (R-M-3) is measured
    against it. Raises ``ValueOutOfRange`` outside those ranges."""

    percentage: float = 0.8
    duration_ms: int = 20_000

    def __post_init__(self) -> None:
        _check_ranges(self)


@dataclass(frozen=True, slots=True)
class CallbackSettings:
    """``mediaSettings.callback`` of a queue, with SPEC §2's defaults; delays and timeouts
    in seconds. Raises ``ValueOutOfRange`` for a value outside its range (``RANGES``; never
    clamped) and ``MissingField`` for ``TransferToFlow`` without its flow."""

    mode: CallbackMode = CallbackMode.AGENT_FIRST  # R-Q-1
    pacing_modifier: float = 10
    live_voice_reaction: Reaction = Reaction.TRANSFER_TO_QUEUE
    live_voice_flow_id: str | None = None
    answering_machine_reaction: Reaction = Reaction.HANG_UP
    answering_machine_flow_id: str | None = None
    max_retry_count: int = 0
    retry_delay_seconds: int = 300
    enable_auto_dial_and_end: bool = False
    auto_dial_delay_seconds: int = 300
    auto_end_delay_seconds: int = 300
    alerting_timeout_seconds: int = 30
    enable_auto_answer: bool = False
    service_level: ServiceLevel = field(default_factory=ServiceLevel)
    pacing_trigger: PacingTrigger = PacingTrigger.IDLE
    customer_first_delivery_mode: DeliveryMode = DeliveryMode.NO_AGENT_RESERVATION
    budget: BudgetSettings = field(default_factory=BudgetSettings)  # ext, R-X-16

    def __post_init__(self) -> None:
        _check_ranges(self)
        if self.live_voice_reaction is Reaction.TRANSFER_TO_FLOW and not self.live_voice_flow_id:
            raise MissingField("TransferToFlow needs a flow", field=f"{CB}.liveVoiceFlow.id")
        if (
            self.answering_machine_reaction is Reaction.TRANSFER_TO_FLOW
            and not self.answering_machine_flow_id
        ):
            raise MissingField("TransferToFlow needs a flow", field=f"{CB}.answeringMachineFlow.id")


@dataclass(frozen=True, slots=True)
class AgentOwnedRouting:
    """``agentOwnedRouting`` of a queue (SPEC §8, R-C-3): whether agents may own callbacks,
    how far ahead an owned callback may be scheduled (hours, 1..720) and how long it waits for
    its owner (hours, 1..168). Raises ``ValueOutOfRange`` for an hour count out of range."""

    enable_agent_owned_callbacks: bool = False
    max_owned_callback_delay_hours: int = 168
    max_owned_callback_hours: int = 24
    assign_to_queue_on_ownership_expiry: bool = False  # ext (R-OW-2)

    def __post_init__(self) -> None:
        _check_ranges(self)


@dataclass(frozen=True, slots=True)
class CallbackOffer:
    """``callbackOffer`` of a queue (ext, issue 18): the rule an IVR asks about through
    ``GET /api/v2/routing/queues/{id}/callbackoffer``. Offer a callback when it is ``enabled``,
    a new caller's estimated wait is over ``min_wait_seconds`` (0..86400) and a callback
    requested now is expected to reach an agent before the queue closes. ``hours`` are the
    queue's opening hours per weekday (Monday first; minutes since local midnight in
    ``time_zone``, None for a closed day); the default, every day 00:00-24:00, never closes.
    Raises ``ValueOutOfRange`` for a threshold out of range or an empty or reversed day."""

    enabled: bool = True
    min_wait_seconds: float = 300.0
    hours: tuple[tuple[int, int] | None, ...] = (ALL_DAY,) * 7
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        _check_ranges(self)
        if len(self.hours) != 7:
            raise ValueOutOfRange("seven days, Monday first", field=f"{OFFER}.openingHours")
        for name, hours in zip(DAYS, self.hours, strict=True):
            if hours is not None and not 0 <= hours[0] < hours[1] <= 24 * 60:
                raise ValueOutOfRange(
                    "start must be before end", field=f"{OFFER}.openingHours.{name}"
                )

    @property
    def always_open(self) -> bool:
        """Whether the hours never close (every day 00:00-24:00): no zone is needed."""
        return all(hours == ALL_DAY for hours in self.hours)


@dataclass(frozen=True, slots=True)
class QueueSettings:
    """Every setting of a queue that dialback uses. Construction validates, whoever
    constructs: the parts check their ranges, and R-Q-2 conflicts raise
    ``CustomerFirstWithVoicemail`` or ``CustomerFirstWithPreviewCampaign``."""

    name: str = ""
    callback: CallbackSettings = field(default_factory=CallbackSettings)
    agent_owned_routing: AgentOwnedRouting = field(default_factory=AgentOwnedRouting)
    scoring_method: ScoringMethod = ScoringMethod.TIMESTAMP_AND_PRIORITY
    calling_party_number: str | None = None
    calling_party_name: str | None = None
    call_script_id: str | None = None  # defaultScripts.CALL.id
    callback_script_id: str | None = None  # defaultScripts.CALLBACK.id
    voicemail_enabled: bool = False  # ext
    preview_campaign_ids: tuple[str, ...] = ()  # ext
    # ext (issue 12): the highest priority an agent may give a callback; above it only
    # supervisors and admins (so an agent cannot jump its own callbacks up the queue)
    max_agent_callback_priority: int = 0
    compliance: ComplianceSettings = field(default_factory=ComplianceSettings)  # ext, issue 14
    callback_offer: CallbackOffer = field(default_factory=CallbackOffer)  # ext, issue 18
    # ext, issue 17: the shard whose node leads this queue (fixed once the queue exists)
    shard: str = DEFAULT_SHARD

    def __post_init__(self) -> None:
        _check_ranges(self)
        check_conflicts(self)

    @property
    def customer_first(self) -> bool:
        """Whether the queue's callbacks are customer-first (``mode`` ``CustomerFirst``)."""
        return self.callback.mode is CallbackMode.CUSTOMER_FIRST

    def script_for(self, callback_script_id: str | None) -> str | None:
        """R-Q-3: a callback's own script wins; customer-first callbacks are inbound calls and
        use the CALL script, agent-first ones the CALLBACK script."""
        if callback_script_id:
            return callback_script_id
        return self.call_script_id if self.customer_first else self.callback_script_id


def check_conflicts(settings: QueueSettings) -> None:
    """R-Q-2: CustomerFirst excludes voicemail and preview campaigns. Names the mode; a write
    that turns on the other side of the conflict is renamed by ``update_queue``."""
    if not settings.customer_first:
        return
    if settings.voicemail_enabled:
        raise CustomerFirstWithVoicemail(
            "CustomerFirst callbacks cannot be used with voicemail: voicemail would also dial "
            "the customer first, so no agent could hear it before the customer is on the line",
            field=f"{CB}.mode",
        )
    if settings.preview_campaign_ids:
        raise CustomerFirstWithPreviewCampaign(
            "CustomerFirst callbacks cannot be used on a queue that a preview campaign uses: "
            "preview calls need an agent to start them, so nothing would ever be dialed",
            field=f"{CB}.mode",
        )


# The field on the other side of each R-Q-2 conflict from the mode.
_CONFLICT_FIELDS: dict[type[SettingsConflict], str] = {
    CustomerFirstWithVoicemail: "voicemailEnabled",
    CustomerFirstWithPreviewCampaign: "previewCampaignIds",
}


# --- the Genesys-shaped body --------------------------------------------------------------------
# Queue fields of Genesys' model that dialback accepts and ignores.
_GENESYS_QUEUE_FIELDS = frozenset(
    [
        "id",
        "description",
        "division",
        "dateCreated",
        "dateModified",
        "modifiedBy",
        "createdBy",
        "memberCount",
        "userMemberCount",
        "joinedMemberCount",
        "routingRules",
        "conditionalGroupRouting",
        "bullseye",
        "acwSettings",
        "skillEvaluationMethod",
        "memberGroups",
        "queueFlow",
        "emailInQueueFlow",
        "messageInQueueFlow",
        "whisperPrompt",
        "onHoldPrompt",
        "autoAnswerOnly",
        "enableTranscription",
        "enableAudioMonitoring",
        "enableManualAssignment",
        "outboundMessagingAddresses",
        "outboundEmailAddress",
        "peerId",
        "suppressInQueueCallRecording",
        "selfUri",
        "directRouting",
        "lastAgentRoutingMode",
        "canvasEnabled",
        "mediaSettingsOverrides",
    ]
)
_GENESYS_CALLBACK_FIELDS = frozenset(
    ["autoAnswerAlertToneSeconds", "manualAnswerAlertToneSeconds", "subTypeSettings"]
)
_MEDIA_KEYS = frozenset(["call", "callback", "chat", "email", "message"])


class _Reader:
    """Reads one JSON object, type-checking each field and remembering which it consumed."""

    def __init__(self, body: object, path: str, ignored: frozenset[str] = frozenset()) -> None:
        if not isinstance(body, Mapping):
            raise InvalidType("expected an object", field=path or "body")
        self.body: Mapping[str, Any] = body
        self.path = path
        self.ignored = ignored
        self.seen: set[str] = set()

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str) -> Any:
        self.seen.add(key)
        return self.body.get(key)

    def has(self, key: str) -> bool:
        return self.body.get(key) is not None

    def boolean(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise InvalidType("expected true or false", field=self._at(key))
        return value

    def integer(self, key: str, default: int) -> int:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidType("expected an integer", field=self._at(key))
        if isinstance(value, float) and not value.is_integer():
            raise InvalidType("expected an integer", field=self._at(key))
        return int(value)

    def number(self, key: str, default: float) -> float:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise InvalidType("expected a number", field=self._at(key))
        return float(value)

    def text(self, key: str, default: str | None) -> str | None:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise InvalidType("expected a string", field=self._at(key))
        return value

    def choice(self, key: str, enum_type: type[E], default: E) -> E:
        value = self.get(key)
        if value is None:
            return default
        try:
            return enum_type(value)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in enum_type)
            raise InvalidChoice(f"{value!r} is not one of {allowed}", field=self._at(key)) from None

    def child(self, key: str, ignored: frozenset[str] = frozenset()) -> _Reader:
        value = self.get(key)
        return _Reader({} if value is None else value, self._at(key), ignored)

    def ref_id(self, key: str) -> str | None:
        """A Genesys DomainEntityRef ``{"id": ...}``."""
        ref = self.child(key, ignored=frozenset({"name", "selfUri"}))
        found = ref.text("id", None)
        ref.done()
        return found

    def done(self) -> None:
        for key in self.body:
            if key not in self.seen and key not in self.ignored:
                raise UnknownField("no such setting", field=self._at(key))


def _read_callback(r: _Reader, cur: CallbackSettings) -> CallbackSettings:
    sl = r.child("serviceLevel")
    service_level = ServiceLevel(
        percentage=sl.number("percentage", cur.service_level.percentage),
        duration_ms=sl.integer("durationMs", cur.service_level.duration_ms),
    )
    sl.done()
    live_flow = r.ref_id("liveVoiceFlow") if r.has("liveVoiceFlow") else cur.live_voice_flow_id
    am_flow = (
        r.ref_id("answeringMachineFlow")
        if r.has("answeringMachineFlow")
        else cur.answering_machine_flow_id
    )
    return CallbackSettings(
        mode=r.choice("mode", CallbackMode, cur.mode),
        pacing_modifier=r.number("pacingModifier", cur.pacing_modifier),
        live_voice_reaction=r.choice("liveVoiceReactionType", Reaction, cur.live_voice_reaction),
        live_voice_flow_id=live_flow,
        answering_machine_reaction=r.choice(
            "answeringMachineReactionType", Reaction, cur.answering_machine_reaction
        ),
        answering_machine_flow_id=am_flow,
        max_retry_count=r.integer("maxRetryCount", cur.max_retry_count),
        retry_delay_seconds=r.integer("retryDelaySeconds", cur.retry_delay_seconds),
        enable_auto_dial_and_end=r.boolean("enableAutoDialAndEnd", cur.enable_auto_dial_and_end),
        auto_dial_delay_seconds=r.integer("autoDialDelaySeconds", cur.auto_dial_delay_seconds),
        auto_end_delay_seconds=r.integer("autoEndDelaySeconds", cur.auto_end_delay_seconds),
        alerting_timeout_seconds=r.integer("alertingTimeoutSeconds", cur.alerting_timeout_seconds),
        enable_auto_answer=r.boolean("enableAutoAnswer", cur.enable_auto_answer),
        service_level=service_level,
        pacing_trigger=r.choice("pacingTrigger", PacingTrigger, cur.pacing_trigger),
        customer_first_delivery_mode=r.choice(
            "customerFirstDeliveryMode", DeliveryMode, cur.customer_first_delivery_mode
        ),
        budget=read_budget(r, cur.budget),
    )


def _read_owned(r: _Reader, cur: AgentOwnedRouting) -> AgentOwnedRouting:
    return AgentOwnedRouting(
        enable_agent_owned_callbacks=r.boolean(
            "enableAgentOwnedCallbacks", cur.enable_agent_owned_callbacks
        ),
        max_owned_callback_delay_hours=r.integer(
            "maxOwnedCallbackDelayHours", cur.max_owned_callback_delay_hours
        ),
        max_owned_callback_hours=r.integer("maxOwnedCallbackHours", cur.max_owned_callback_hours),
        assign_to_queue_on_ownership_expiry=r.boolean(
            "assignToQueueOnOwnershipExpiry", cur.assign_to_queue_on_ownership_expiry
        ),
    )


def _read_scripts(r: _Reader, cur: QueueSettings) -> tuple[str | None, str | None]:
    scripts = r.child("defaultScripts")
    call = scripts.ref_id("CALL") if scripts.has("CALL") else cur.call_script_id
    callback = scripts.ref_id("CALLBACK") if scripts.has("CALLBACK") else cur.callback_script_id
    scripts.ignored = frozenset(scripts.body) - {"CALL", "CALLBACK"}  # other media's scripts
    scripts.done()
    return call, callback


def _read_campaigns(r: _Reader, cur: tuple[str, ...]) -> tuple[str, ...]:
    value = r.get("previewCampaignIds")
    if value is None:
        return cur
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidType("expected a list of campaign ids", field="previewCampaignIds")
    return tuple(value)


def _read_offer(r: _Reader, cur: CallbackOffer) -> CallbackOffer:
    """``callbackOffer`` (ext): absent fields keep ``cur``, and so do absent days of
    ``openingHours``."""
    hours = list(cur.hours)
    h = r.child("openingHours")
    for i, name in enumerate(DAYS):
        raw = h.get(name)
        if raw is not None:
            hours[i] = day_hours(raw, f"{OFFER}.openingHours.{name}")
    h.done()
    return CallbackOffer(
        enabled=r.boolean("enabled", cur.enabled),
        min_wait_seconds=r.number("minEstimatedWaitSeconds", cur.min_wait_seconds),
        hours=tuple(hours),
        time_zone=r.text("timeZone", cur.time_zone) or cur.time_zone,
    )


def _written_paths(body: Mapping[str, Any], prefix: str = "") -> frozenset[str]:
    paths: set[str] = set()
    for key, value in body.items():
        path = f"{prefix}.{key}" if prefix else key
        paths.add(path)
        if isinstance(value, Mapping):
            paths |= _written_paths(value, path)
    return frozenset(paths)


def check_shard(name: object, field: str = "shard") -> str:
    """A shard's name (issue 17), or ``InvalidShard`` naming ``field``."""
    if not isinstance(name, str):
        raise InvalidType("expected a string", field=field)
    if not _SHARD_NAME.fullmatch(name):
        raise InvalidShard(
            f"a shard is named by 1 to {SHARD_NAME} letters, digits, '_', '-' or '.'", field=field
        )
    return name


def update_queue(current: QueueSettings, body: object) -> QueueSettings:
    """Apply a Genesys-shaped write to ``current``: a field absent from ``body`` keeps its
    value (so tooling that does not know our extensions cannot reset them). Raises
    ``InvalidInput`` naming the field; R-Q-2 names the field of this write that conflicts;
    ``ShardFixed`` for a write that would move the queue to another shard (issue 17)."""
    settings = _apply(current, body)
    if settings.shard != current.shard:
        raise ShardFixed(
            f"the queue is in shard {current.shard!r}; a queue's shard cannot change",
            field="shard",
        )
    return settings


def _apply(current: QueueSettings, body: object) -> QueueSettings:
    r = _Reader(body, "", ignored=_GENESYS_QUEUE_FIELDS)
    media = r.child("mediaSettings", ignored=_MEDIA_KEYS - {"callback"})
    cb = media.child("callback", ignored=_GENESYS_CALLBACK_FIELDS)
    callback = _read_callback(cb, current.callback)
    cb.done()
    media.done()
    aor = r.child("agentOwnedRouting")
    owned = _read_owned(aor, current.agent_owned_routing)
    aor.done()
    call_script, callback_script = _read_scripts(r, current)
    comp = r.child("compliance")
    compliance = read_compliance(comp, current.compliance)
    comp.done()
    off = r.child("callbackOffer")
    offer = _read_offer(off, current.callback_offer)
    off.done()
    fields_ = {
        "name": r.text("name", current.name) or "",
        "callback": callback,
        "agent_owned_routing": owned,
        "scoring_method": r.choice("scoringMethod", ScoringMethod, current.scoring_method),
        "calling_party_number": r.text("callingPartyNumber", current.calling_party_number),
        "calling_party_name": r.text("callingPartyName", current.calling_party_name),
        "call_script_id": call_script,
        "callback_script_id": callback_script,
        "voicemail_enabled": r.boolean("voicemailEnabled", current.voicemail_enabled),
        "preview_campaign_ids": _read_campaigns(r, current.preview_campaign_ids),
        "max_agent_callback_priority": r.integer(
            "maxAgentCallbackPriority", current.max_agent_callback_priority
        ),
        "compliance": compliance,
        "callback_offer": offer,
        "shard": check_shard(r.get("shard")) if r.has("shard") else current.shard,
    }
    r.done()
    try:
        return QueueSettings(**fields_)  # type: ignore[arg-type]
    except SettingsConflict as conflict:
        # Name the field this write set: the mode if it set the mode, else the other side.
        written = _written_paths(r.body)
        other = _CONFLICT_FIELDS[type(conflict)]
        if f"{CB}.mode" in written or other not in written:
            raise
        raise type(conflict)(conflict.message, field=other) from None


def parse_queue(body: object) -> QueueSettings:
    """Read a new queue's settings from a Genesys-shaped body; absent fields take SPEC §2's
    defaults; ``shard`` (issue 17) names the queue's shard. Raises as ``update_queue`` does."""
    return _apply(QueueSettings(), body)


def queue_to_json(s: QueueSettings) -> dict[str, Any]:
    """The Genesys-shaped body of ``s``; ``parse_queue(queue_to_json(s)) == s``."""
    c = s.callback
    callback: dict[str, Any] = {
        "mode": c.mode.value,
        "pacingModifier": c.pacing_modifier,
        "liveVoiceReactionType": c.live_voice_reaction.value,
        "answeringMachineReactionType": c.answering_machine_reaction.value,
        "maxRetryCount": c.max_retry_count,
        "retryDelaySeconds": c.retry_delay_seconds,
        "enableAutoDialAndEnd": c.enable_auto_dial_and_end,
        "autoDialDelaySeconds": c.auto_dial_delay_seconds,
        "autoEndDelaySeconds": c.auto_end_delay_seconds,
        "alertingTimeoutSeconds": c.alerting_timeout_seconds,
        "enableAutoAnswer": c.enable_auto_answer,
        "serviceLevel": {
            "percentage": c.service_level.percentage,
            "durationMs": c.service_level.duration_ms,
        },
        "pacingTrigger": c.pacing_trigger.value,
        "customerFirstDeliveryMode": c.customer_first_delivery_mode.value,
        **budget_to_json(c.budget),
    }
    if c.live_voice_flow_id:
        callback["liveVoiceFlow"] = {"id": c.live_voice_flow_id}
    if c.answering_machine_flow_id:
        callback["answeringMachineFlow"] = {"id": c.answering_machine_flow_id}
    o = s.agent_owned_routing
    scripts = {
        key: {"id": value}
        for key, value in (("CALL", s.call_script_id), ("CALLBACK", s.callback_script_id))
        if value
    }
    body: dict[str, Any] = {
        "name": s.name,
        "mediaSettings": {"callback": callback},
        "agentOwnedRouting": {
            "enableAgentOwnedCallbacks": o.enable_agent_owned_callbacks,
            "maxOwnedCallbackDelayHours": o.max_owned_callback_delay_hours,
            "maxOwnedCallbackHours": o.max_owned_callback_hours,
            "assignToQueueOnOwnershipExpiry": o.assign_to_queue_on_ownership_expiry,
        },
        "scoringMethod": s.scoring_method.value,
        "voicemailEnabled": s.voicemail_enabled,
        "previewCampaignIds": list(s.preview_campaign_ids),
        "maxAgentCallbackPriority": s.max_agent_callback_priority,
        "compliance": compliance_to_json(s.compliance),
        "callbackOffer": offer_to_json(s.callback_offer),
    }
    if s.calling_party_number:
        body["callingPartyNumber"] = s.calling_party_number
    if s.calling_party_name:
        body["callingPartyName"] = s.calling_party_name
    if scripts:
        body["defaultScripts"] = scripts
    if s.shard != DEFAULT_SHARD:
        body["shard"] = s.shard
    return body


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def offer_to_json(o: CallbackOffer) -> dict[str, Any]:
    """The ``callbackOffer`` object of ``o``; ``_read_offer`` of it gives ``o`` back."""
    return {
        "enabled": o.enabled,
        "minEstimatedWaitSeconds": o.min_wait_seconds,
        "openingHours": {
            name: False if h is None else {"start": _hhmm(h[0]), "end": _hhmm(h[1])}
            for name, h in zip(DAYS, o.hours, strict=True)
        },
        "timeZone": o.time_zone,
    }
