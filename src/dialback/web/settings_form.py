"""The queue settings page's fields: every setting of SPEC §2 with its Genesys label.

Each form input is named by the setting's dotted JSON path (``mediaSettings.callback.
pacingModifier``), the same path the domain names in its errors, so an error from
``domain/settings.py`` lands next to its field without translation. Ranges come from the
domain's ``RANGES`` table and defaults from ``QueueSettings()``: the page states what the
server checks, from the server's own tables.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dialback.domain.settings import (
    AOR,
    CB,
    OFFER,
    RANGES,
    CallbackMode,
    DeliveryMode,
    PacingTrigger,
    QueueSettings,
    Reaction,
    ScoringMethod,
    queue_to_json,
)


class Kind(enum.Enum):
    CHOICE = "choice"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    TEXT = "text"
    FLOW = "flow"  # a flow id, shown only when its reaction is TransferToFlow
    LIST = "list"  # comma-separated ids


@dataclass(frozen=True, slots=True)
class Field:
    path: str
    label: str
    kind: Kind
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)
    unit: str = ""
    reveals: str | None = None  # a reaction: the path of the flow field it reveals

    @property
    def id(self) -> str:
        return "f-" + self.path.replace(".", "-")

    @property
    def range(self) -> tuple[float, float] | None:
        """(lowest, highest) as the domain checks it, or None."""
        for path, low, high in RANGES.values():
            if path == self.path:
                return low, high
        return None

    @property
    def step(self) -> str:
        return "1" if self.kind is Kind.INTEGER else "any"


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    intro: str
    fields: tuple[Field, ...]


def _choices(enum_type: type[enum.Enum], labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((str(m.value), labels.get(str(m.value), str(m.value))) for m in enum_type)


REACTIONS = {
    "TransferToQueue": "Transfer to queue (keeps the place)",
    "TransferToFlow": "Transfer to flow",
    "HangUp": "Hang up",
}
LIVE_FLOW = f"{CB}.liveVoiceFlow.id"
MACHINE_FLOW = f"{CB}.answeringMachineFlow.id"

SECTIONS: tuple[Section, ...] = (
    Section(
        "Callback mode",
        "Route the callback first to an agent (who then dials) or to the customer (the system "
        "dials and routes the answered call to the next agent, keeping its place).",
        (
            Field(
                f"{CB}.mode",
                "Callback mode",
                Kind.CHOICE,
                choices=_choices(
                    CallbackMode, {"AgentFirst": "Agent First", "CustomerFirst": "Customer First"}
                ),
            ),
        ),
    ),
    Section(
        "Customer first callback settings",
        "Used when the mode is Customer First.",
        (
            Field(
                f"{CB}.liveVoiceReactionType",
                "Live Voice",
                Kind.CHOICE,
                "What happens when call progress analysis detects a live voice.",
                _choices(Reaction, REACTIONS),
                reveals=LIVE_FLOW,
            ),
            Field(LIVE_FLOW, "Live Voice flow", Kind.FLOW, "The flow that takes live voices."),
            Field(
                f"{CB}.answeringMachineReactionType",
                "Answering Machine",
                Kind.CHOICE,
                "What happens when an answering machine answers. Every other call progress "
                "outcome dispositions the callback with its outcome code.",
                _choices(Reaction, REACTIONS),
                reveals=MACHINE_FLOW,
            ),
            Field(
                MACHINE_FLOW,
                "Answering Machine flow",
                Kind.FLOW,
                "The flow that takes answering machines.",
            ),
            Field(
                f"{CB}.pacingModifier",
                "Pacing Modifier",
                Kind.NUMBER,
                "Regulates how fast callbacks are dispatched: see the table beside.",
            ),
            Field(
                f"{CB}.pacingTrigger",
                "Pacing trigger (dialback)",
                Kind.CHOICE,
                "Idle: a dial also needs an idle agent per outstanding dial. Pace: the formula "
                "alone.",
                _choices(PacingTrigger, {"Idle": "Idle agents", "Pace": "Pace only"}),
            ),
            Field(
                f"{CB}.customerFirstDeliveryMode",
                "Agent reservation (dialback)",
                Kind.CHOICE,
                "Hold an idle agent while the customer is dialed, so an answered customer never "
                "waits.",
                _choices(
                    DeliveryMode,
                    {
                        "UseAgentReservation": "Reserve an agent",
                        "NoAgentReservation": "No reservation",
                    },
                ),
            ),
            Field(f"{CB}.maxRetryCount", "Maximum retries", Kind.INTEGER, unit="retries"),
            Field(f"{CB}.retryDelaySeconds", "Retry delay", Kind.INTEGER, unit="s"),
        ),
    ),
    Section(
        "Agent first callback settings",
        "Used when the mode is Agent First.",
        (
            Field(f"{CB}.alertingTimeoutSeconds", "Alerting timeout", Kind.INTEGER, unit="s"),
            Field(f"{CB}.enableAutoAnswer", "Auto answer", Kind.BOOLEAN),
            Field(f"{CB}.enableAutoDialAndEnd", "Enable auto-dial and auto-end", Kind.BOOLEAN),
            Field(f"{CB}.autoDialDelaySeconds", "Auto-dial delay", Kind.INTEGER, unit="s"),
            Field(f"{CB}.autoEndDelaySeconds", "Auto-end delay", Kind.INTEGER, unit="s"),
        ),
    ),
    Section(
        "Service level",
        "The share of interactions answered within the duration.",
        (
            Field(
                f"{CB}.serviceLevel.percentage",
                "Service level percentage",
                Kind.NUMBER,
                "A fraction: 0.8 is 80%.",
            ),
            Field(
                f"{CB}.serviceLevel.durationMs", "Service level duration", Kind.INTEGER, unit="ms"
            ),
        ),
    ),
    Section(
        "Agent owned callbacks",
        "Agents may keep a callback for themselves.",
        (
            Field(f"{AOR}.enableAgentOwnedCallbacks", "Enable agent owned callbacks", Kind.BOOLEAN),
            Field(
                f"{AOR}.maxOwnedCallbackDelayHours",
                "Agents can schedule a callback in advance for",
                Kind.INTEGER,
                "How far ahead agents can schedule owned callbacks: from one hour to 30 days.",
                unit="hours",
            ),
            Field(
                f"{AOR}.maxOwnedCallbackHours",
                "Owned callback waits for its owner",
                Kind.INTEGER,
                unit="hours",
            ),
            Field(
                f"{AOR}.assignToQueueOnOwnershipExpiry",
                "Assign to the queue when ownership expires (dialback)",
                Kind.BOOLEAN,
            ),
        ),
    ),
    Section(
        "Queue",
        "Caller ID, scripts and the features that exclude Customer First.",
        (
            Field("name", "Name", Kind.TEXT),
            Field(
                "scoringMethod",
                "Scoring method",
                Kind.CHOICE,
                choices=_choices(
                    ScoringMethod,
                    {
                        "TimestampAndPriority": "Timestamp and priority",
                        "PriorityOnly": "Priority only",
                    },
                ),
            ),
            Field(
                "callingPartyNumber",
                "Caller ID number",
                Kind.TEXT,
                "The queue's voice trunk caller ID (E.164); customer-first needs one.",
            ),
            Field("callingPartyName", "Caller ID name", Kind.TEXT),
            Field("defaultScripts.CALL.id", "Call script", Kind.TEXT, "Customer-first uses it."),
            Field("defaultScripts.CALLBACK.id", "Callback script", Kind.TEXT),
            Field(
                "voicemailEnabled",
                "Voicemail (dialback)",
                Kind.BOOLEAN,
                "Unsupported with Customer First.",
            ),
            Field(
                "previewCampaignIds",
                "Preview campaigns using this queue (dialback)",
                Kind.LIST,
                "Comma-separated ids. Unsupported with Customer First.",
            ),
        ),
    ),
    Section(
        "Callback offer (dialback)",
        "What an IVR asking GET .../callbackoffer is told: offer a callback when the estimated "
        "wait is over the threshold and a callback requested now can reach an agent before the "
        "queue closes (opening hours and their time zone are set through the API).",
        (
            Field(f"{OFFER}.enabled", "Offer callbacks", Kind.BOOLEAN),
            Field(
                f"{OFFER}.minEstimatedWaitSeconds",
                "Offer when the estimated wait is over",
                Kind.NUMBER,
                unit="s",
            ),
        ),
    ),
)

FIELDS: dict[str, Field] = {f.path: f for s in SECTIONS for f in s.fields}
FLOW_OF: dict[str, str] = {f.reveals: f.path for f in FIELDS.values() if f.reveals}
"""A flow field's path to the path of the reaction that reveals it."""


def _lookup(body: Mapping[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def values_of(settings: QueueSettings) -> dict[str, Any]:
    """Each field's value in ``settings`` (by path), as the form shows it."""
    body = queue_to_json(settings)
    return {path: _shown(FIELDS[path], _lookup(body, path)) for path in FIELDS}


def _shown(field: Field, value: Any) -> Any:
    if field.kind is Kind.LIST:
        return ", ".join(value or [])
    if field.kind is Kind.NUMBER and isinstance(value, float) and value.is_integer():
        return int(value)
    return "" if value is None else value


DEFAULTS = values_of(QueueSettings())


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[last] = value


def _number(raw: str, integer: bool) -> Any:
    """The typed number, or the text as typed (the domain then says it is not a number)."""
    text = raw.strip()
    try:
        return int(text) if integer else float(text)
    except ValueError:
        try:
            as_float = float(text)
        except ValueError:
            return text
        return int(as_float) if as_float.is_integer() else as_float


def body_from_form(form: Sequence[tuple[str, str]], current: QueueSettings) -> dict[str, Any]:
    """The Genesys-shaped body (``PUT /api/v2/routing/queues/{id}``) of what the admin changed
    on the form: fields equal to ``current`` are left out (absent fields keep their values), so
    an R-Q-2 conflict names the field this save turned on."""
    wanted = _leaves(_full_body(form))
    now = _leaves(queue_to_json(current))
    body: dict[str, Any] = {}
    for path, value in wanted.items():
        if value != now.get(path) and not (value == "" and now.get(path) is None):
            _put(body, path, value)
    return body


def _leaves(body: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in body.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            found.update(_leaves(value, path))
        else:
            found[path] = value
    return found


def _full_body(form: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Every field of the form as a body. Unchecked boxes are false; a flow is kept only with
    its ``TransferToFlow`` reaction (cleared otherwise), so the domain says when that reaction
    lacks its flow."""
    posted = dict(form)
    body: dict[str, Any] = {}
    for path, field in FIELDS.items():
        raw = posted.get(path, "")
        if field.kind is Kind.BOOLEAN:
            _put(body, path, path in posted)
        elif field.kind is Kind.FLOW:
            continue
        elif field.kind in (Kind.INTEGER, Kind.NUMBER):
            _put(body, path, _number(raw, field.kind is Kind.INTEGER))
        elif field.kind is Kind.LIST:
            _put(body, path, [part.strip() for part in raw.split(",") if part.strip()])
        elif path.startswith("defaultScripts."):
            _put(body, path, raw.strip() or None)  # {"id": null} clears the script
        elif field.kind is Kind.TEXT:
            _put(body, path, raw.strip())
        else:
            _put(body, path, raw)
    for reaction in (
        FIELDS[f"{CB}.liveVoiceReactionType"],
        FIELDS[f"{CB}.answeringMachineReactionType"],
    ):
        assert reaction.reveals is not None
        flow = posted.get(reaction.reveals, "").strip()
        wants_flow = posted.get(reaction.path) == Reaction.TRANSFER_TO_FLOW.value
        _put(body, reaction.reveals, flow if wants_flow and flow else None)
    return body


def echo(form: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The form's values as posted, to show them again beside an error (nothing was saved)."""
    posted = dict(form)
    shown: dict[str, Any] = {}
    for path, field in FIELDS.items():
        shown[path] = path in posted if field.kind is Kind.BOOLEAN else posted.get(path, "")
    return shown
