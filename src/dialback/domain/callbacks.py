"""Reading a request to be called back (SPEC §3, R-C-1..3) from its Genesys-shaped body.

Phone numbers are normalised by a function injected from the shell (``dialback.api.numbers`` wraps
``phonenumbers``), so the core stays stdlib-only while the library's rules apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from dialback.domain.errors import (
    InvalidChoice,
    InvalidInput,
    InvalidOwnedCallback,
    InvalidPhoneNumber,
    InvalidType,
    MissingField,
    OwnedCallbacksDisabled,
    ScheduledTooFarAhead,
    UnknownField,
    ValueOutOfRange,
)
from dialback.domain.model import AgentId, CallbackRequest, QueueId
from dialback.domain.settings import DeliveryMode, QueueSettings

NumberZones = Callable[[str], tuple[str, ...]]
"""E.164 -> the IANA time zones of the number's area (R-X-2); the shell's number data."""

NumberNormalizer = Callable[[str, str | None, bool], str]
"""(number, country code or None, strict) -> E.164. Raises ValueError saying what is wrong.
``strict`` asks for a number valid in its numbering plan, not only a possible one."""

MAX_NUMBERS = 10
MAX_SCHEDULE_AHEAD = 30 * 86_400  # R-C-2
OWNED_FLAG = "AGENT_OWNED_CALLBACK"

_FIELDS = frozenset(
    [
        "queueId",
        "routingData",
        "callbackNumbers",
        "callbackUserName",
        "callbackScheduledTime",
        "scriptId",
        "countryCode",
        "validateCallbackNumbers",
        "data",
        "callerId",
        "callerIdName",
        "customerFirstCallbackDeliveryMode",
        "calleeTimeZone",  # ext, R-X-3
    ]
)
_ROUTING_FIELDS = frozenset(
    [
        "queueId",
        "priority",
        "skillIds",
        "preferredAgentIds",
        "scoredAgents",
        "routingFlags",
        "languageId",
        "label",
        "skillExpression",
    ]
)


def parse_time(value: object, field: str) -> float:
    """ISO-8601 to seconds since the epoch; a time without a zone is UTC (as Genesys sends)."""
    if not isinstance(value, str):
        raise InvalidType("expected an ISO-8601 date-time", field=field)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp()
    except (ValueError, OverflowError):
        raise InvalidType(f"{value[:64]!r} is not an ISO-8601 date-time", field=field) from None
    if not 0 <= seconds < 253_402_300_800:  # 1970 to 9999, as Genesys takes
        raise ValueOutOfRange("a date-time from 1970 to 9999", field=field)
    return seconds


def _strings(value: object, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidType("expected a list of strings", field=field)
    return value


def _optional_text(body: Mapping[str, Any], key: str, field: str | None = None) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidType("expected a string", field=field or key)
    return value


def _check_keys(body: Mapping[str, Any], allowed: frozenset[str], prefix: str) -> None:
    for key in body:
        if key not in allowed:
            raise UnknownField("no such field", field=f"{prefix}{key}")


def _numbers(body: Mapping[str, Any], normalize: NumberNormalizer) -> tuple[str, ...]:
    raw = body.get("callbackNumbers")
    if raw is None:
        raise MissingField("at least one callback number is needed", field="callbackNumbers")
    numbers = _strings(raw, "callbackNumbers")
    if not 1 <= len(numbers) <= MAX_NUMBERS:
        raise ValueOutOfRange(f"1 to {MAX_NUMBERS} numbers", field="callbackNumbers")
    country = _optional_text(body, "countryCode")
    strict = body.get("validateCallbackNumbers", True)
    if not isinstance(strict, bool):
        raise InvalidType("expected true or false", field="validateCallbackNumbers")
    normalized = []
    for i, number in enumerate(numbers):
        try:
            normalized.append(normalize(number, country, strict))
        except ValueError as problem:
            raise InvalidPhoneNumber(str(problem), field=f"callbackNumbers[{i}]") from None
    return tuple(normalized)


def _scored_agents(routing: Mapping[str, Any]) -> list[AgentId]:
    """``scoredAgents`` ordered by score, highest first."""
    raw = routing.get("scoredAgents") or []
    if not isinstance(raw, list):
        raise InvalidType("expected a list", field="routingData.scoredAgents")
    scored: list[tuple[float, int, AgentId]] = []
    for i, item in enumerate(raw):
        field = f"routingData.scoredAgents[{i}]"
        agent = item.get("agent") if isinstance(item, Mapping) else None
        agent_id = agent.get("id") if isinstance(agent, Mapping) else None
        score = item.get("score", 0) if isinstance(item, Mapping) else None
        if not isinstance(agent_id, str) or not isinstance(score, int | float):
            raise InvalidType("expected {agent: {id}, score}", field=field)
        scored.append((-score, i, AgentId(agent_id)))
    return [agent for _, _, agent in sorted(scored)]


def parse_callback_request(
    body: object,
    *,
    now: float,
    queue_settings: Callable[[QueueId], QueueSettings],
    normalize: NumberNormalizer,
    zones: NumberZones | None = None,
) -> CallbackRequest:
    """Validate a ``POST /api/v2/conversations/callbacks`` body into a ``CallbackRequest``.

    ``queue_settings`` returns the settings of a queue or raises ``UnknownQueue``. Every error
    is an ``InvalidInput`` (or ``NotFound``) naming the field; nothing is stored on error.
    """
    if not isinstance(body, Mapping):
        raise InvalidType("expected an object", field="body")
    _check_keys(body, _FIELDS, "")
    routing = body.get("routingData") or {}
    if not isinstance(routing, Mapping):
        raise InvalidType("expected an object", field="routingData")
    _check_keys(routing, _ROUTING_FIELDS, "routingData.")
    queue_id = _queue_id(body, routing)
    settings = queue_settings(queue_id)
    scheduled = _scheduled(body, now)
    priority = routing.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise InvalidType("expected an integer", field="routingData.priority")
    flags = _strings(routing.get("routingFlags"), "routingData.routingFlags")
    scored = _scored_agents(routing)
    preferred = [
        AgentId(a)
        for a in _strings(routing.get("preferredAgentIds"), "routingData.preferredAgentIds")
    ]
    owner = None
    if OWNED_FLAG in flags:
        owner = _owner(scored, settings, scheduled, now)
    else:
        preferred = list(dict.fromkeys(scored + preferred))
    caller_id = _optional_text(body, "callerId")
    if caller_id is not None:
        try:
            caller_id = normalize(caller_id, _optional_text(body, "countryCode"), False)
        except ValueError as problem:
            raise InvalidPhoneNumber(str(problem), field="callerId") from None
    numbers = _numbers(body, normalize)
    return CallbackRequest(
        queue_id=queue_id,
        numbers=numbers,
        scheduled_time=scheduled,
        priority=priority,
        user_name=_optional_text(body, "callbackUserName"),
        preferred_agents=tuple(preferred),
        owner=owner,
        script_id=_optional_text(body, "scriptId"),
        caller_id=caller_id,
        caller_id_name=_optional_text(body, "callerIdName"),
        delivery_mode=_delivery_mode(body),
        data=_data(body),
        number_zones=tuple(zones(n) for n in numbers) if zones else (),  # R-X-2
        time_zone=_optional_text(body, "calleeTimeZone"),  # R-X-3
    )


def _queue_id(body: Mapping[str, Any], routing: Mapping[str, Any]) -> QueueId:
    direct = _optional_text(body, "queueId")
    routed = _optional_text(routing, "queueId", "routingData.queueId")
    if direct and routed and direct != routed:
        raise InvalidInput("queueId and routingData.queueId differ", field="routingData.queueId")
    queue_id = direct or routed
    if not queue_id:
        raise MissingField("queueId or routingData.queueId is needed", field="queueId")
    return QueueId(queue_id)


def _scheduled(body: Mapping[str, Any], now: float) -> float | None:
    """R-C-2: more than 30 days ahead is refused; a time in the past means now (None)."""
    raw = body.get("callbackScheduledTime")
    if raw is None:
        return None
    when = parse_time(raw, "callbackScheduledTime")
    _check_ahead(when, now)
    return when if when > now else None


def _check_ahead(when: float, now: float) -> None:
    """R-C-2: at most 30 days ahead."""
    if when > now + MAX_SCHEDULE_AHEAD:
        raise ScheduledTooFarAhead("at most 30 days ahead", field="callbackScheduledTime")


def _check_owned(settings: QueueSettings, when: float | None, now: float, flag_field: str) -> None:
    """R-C-3: the queue allows owned callbacks, and ``when`` lies within its owned window
    (``maxOwnedCallbackDelayHours``). ``flag_field`` names what asked for ownership."""
    owned = settings.agent_owned_routing
    if not owned.enable_agent_owned_callbacks:
        raise OwnedCallbacksDisabled(
            "the queue does not allow agent-owned callbacks", field=flag_field
        )
    if when is not None and when > now + owned.max_owned_callback_delay_hours * 3600:
        raise ValueOutOfRange(
            f"owned callbacks may be scheduled at most "
            f"{owned.max_owned_callback_delay_hours} hours ahead",
            field="callbackScheduledTime",
        )


def check_reschedule(
    when: float | None,
    now: float,
    settings: QueueSettings | None,
    owner: AgentId | None,
    *,
    owner_field: str = "agentId",
) -> None:
    """R-C-2 and R-C-3 for a reschedule (R-C-5): a new time at most 30 days ahead (``when``
    None keeps the time) and, when the callback gets an ``owner``, the target queue's
    owned-callback rules (``settings`` of that queue; None when the callback's queue is gone,
    which the engine refuses itself). Raises ``ScheduledTooFarAhead``,
    ``OwnedCallbacksDisabled`` (field ``owner_field``) or ``ValueOutOfRange``."""
    if when is not None:
        _check_ahead(when, now)
    if owner is not None and settings is not None:
        _check_owned(settings, when, now, owner_field)


def _owner(
    scored: list[AgentId], settings: QueueSettings, scheduled: float | None, now: float
) -> AgentId:
    """R-C-3: exactly one scored agent, owned callbacks enabled, within the delay allowed."""
    if not settings.agent_owned_routing.enable_agent_owned_callbacks:
        _check_owned(settings, None, now, "routingData.routingFlags")
    if len(scored) != 1:
        raise InvalidOwnedCallback(
            "an owned callback needs exactly one scored agent", field="routingData.scoredAgents"
        )
    _check_owned(settings, scheduled, now, "routingData.routingFlags")
    return scored[0]


def _delivery_mode(body: Mapping[str, Any]) -> DeliveryMode | None:
    raw = body.get("customerFirstCallbackDeliveryMode", "UseQueueSetting")
    if raw == "UseQueueSetting":
        return None
    try:
        return DeliveryMode(raw)
    except ValueError:
        raise InvalidChoice(
            "expected UseQueueSetting, UseAgentReservation or NoAgentReservation",
            field="customerFirstCallbackDeliveryMode",
        ) from None


def _data(body: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    raw = body.get("data") or {}
    if not isinstance(raw, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise InvalidType("expected a map of strings to strings", field="data")
    return tuple(sorted(raw.items()))
