"""Dialing within the law (issue 14, docs/compliance.md): the queue's compliance settings.

``ComplianceSettings`` is the queue's ``compliance`` object (ext): the calling window (R-X-1..6),
the duplicate policy (R-X-9), the caller-ID allowlist (R-X-11) and the abandoned-call options
(R-X-12..15). The pacing mode (R-X-16) sits beside ``pacingModifier`` in
``mediaSettings.callback`` (``BudgetSettings``). Reading goes through a ``Reader``, the
settings module's JSON reader, so every error names its dotted field.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, TypeVar

from dialback.domain.enums import Closed
from dialback.domain.errors import InvalidPhoneNumber, InvalidType, ValueOutOfRange

E = TypeVar("E", bound=enum.Enum)

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_HOURS = (8 * 60, 21 * 60)  # R-X-1: 08:00-21:00 local (47 CFR 64.1200(c)(1))
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class DuplicatePolicy(Closed):
    """R-X-9: what a second active callback for the same number in the same queue gets."""

    ALLOW = "Allow"
    REFUSE = "Refuse"
    RETURN_EXISTING = "ReturnExisting"


class PacingMode(Closed):
    """R-X-16: ``FIXED`` is R-CF-2 with the pacing modifier; ``ABANDONMENT_BUDGET`` paces to
    an abandoned-call rate target (domain/abandonment.py)."""

    FIXED = "Fixed"
    ABANDONMENT_BUDGET = "AbandonmentBudget"


class AbandonmentWindow(Closed):
    """R-X-13: the rule's measurement window: the US rolling 30 days, or the UK calendar day
    (with Ofcom's answering-machine false-positive estimate)."""

    ROLLING_30_DAYS = "Rolling30Days"
    CALENDAR_DAY = "CalendarDay"


@dataclass(frozen=True, slots=True)
class CallingWindow:
    """R-X-1..3: allowed local hours per weekday (Monday first; minutes since local midnight,
    ``None`` for a closed day), holidays (local ISO dates, closed all day), the zone for
    numbers that map to none, and whether an agent may override it (R-X-6). Off unless
    ``enabled``. Raises ``ValueOutOfRange`` for an empty or reversed day, a window open on no
    day, or a holiday that is not a date."""

    enabled: bool = False
    days: tuple[tuple[int, int] | None, ...] = (DEFAULT_HOURS,) * 7
    holidays: tuple[str, ...] = ()
    fallback_time_zone: str = "UTC"
    allow_manual_override: bool = False

    def __post_init__(self) -> None:
        path = "compliance.callingWindow"
        if len(self.days) != 7:
            raise ValueOutOfRange("seven days, Monday first", field=f"{path}.days")
        for name, hours in zip(DAYS, self.days, strict=True):
            if hours is not None and not 0 <= hours[0] < hours[1] <= 24 * 60:
                raise ValueOutOfRange("start must be before end", field=f"{path}.days.{name}")
        if all(hours is None for hours in self.days):
            raise ValueOutOfRange("the window must open on some day", field=f"{path}.days")
        for i, day in enumerate(self.holidays):
            try:
                date.fromisoformat(day)
            except ValueError:
                raise ValueOutOfRange(
                    f"{day!r} is not a date (YYYY-MM-DD)", field=f"{path}.holidays[{i}]"
                ) from None


@dataclass(frozen=True, slots=True)
class AbandonmentSettings:
    """R-X-12..15: the threshold after the greeting end (seconds), the information message
    (an audio file the SIP dialer plays; the simulated carrier records it), the lockout before
    redialing an abandoned number (hours; UK 72) and the minimum ring time (seconds)."""

    threshold_seconds: float = 2.0
    information_message: bool = False
    information_audio: str | None = None
    lockout_hours: float = 0.0
    minimum_ring_seconds: float = 15.0

    def __post_init__(self) -> None:
        path = "compliance.abandonment"
        for name, value, low, high in (
            ("thresholdSeconds", self.threshold_seconds, 0.5, 60),
            ("lockoutHours", self.lockout_hours, 0, 720),
            ("minimumRingSeconds", self.minimum_ring_seconds, 0, 120),
        ):
            if not low <= value <= high:
                raise ValueOutOfRange(
                    f"{value} is outside {low:g}..{high:g}", field=f"{path}.{name}"
                )


@dataclass(frozen=True, slots=True)
class BudgetSettings:
    """R-X-16: ``pacingMode`` and, for ``AbandonmentBudget``, the target abandoned-call rate
    (a fraction, default 0.03) over ``abandonmentWindow``; in ``mediaSettings.callback``."""

    mode: PacingMode = PacingMode.FIXED
    target_rate: float = 0.03
    window: AbandonmentWindow = AbandonmentWindow.ROLLING_30_DAYS

    def __post_init__(self) -> None:
        if not 0 < self.target_rate <= 0.5:
            raise ValueOutOfRange(
                "a rate in (0, 0.5]", field="mediaSettings.callback.abandonmentTargetRate"
            )


@dataclass(frozen=True, slots=True)
class ComplianceSettings:
    """The queue's ``compliance`` object (ext). Caller IDs of the allowlist are E.164."""

    calling_window: CallingWindow = field(default_factory=CallingWindow)
    duplicate_callbacks: DuplicatePolicy = DuplicatePolicy.ALLOW
    caller_id_allowlist: tuple[str, ...] = ()
    abandonment: AbandonmentSettings = field(default_factory=AbandonmentSettings)

    def __post_init__(self) -> None:
        for i, number in enumerate(self.caller_id_allowlist):
            if not _E164.match(number):
                raise InvalidPhoneNumber(
                    f"{number!r} is not E.164", field=f"compliance.callerIdAllowlist[{i}]"
                )

    def caller_id_allowed(self, caller_id: str | None) -> bool:
        """R-X-11: an empty allowlist allows any caller ID; otherwise it must be listed."""
        return not self.caller_id_allowlist or caller_id in self.caller_id_allowlist


# --- reading and writing the JSON ---------------------------------------------------------------
class Reader(Protocol):
    """The settings module's JSON reader (``settings._Reader``), as this module uses it."""

    body: Any

    def get(self, key: str) -> Any: ...
    def has(self, key: str) -> bool: ...
    def boolean(self, key: str, default: bool) -> bool: ...
    def number(self, key: str, default: float) -> float: ...
    def text(self, key: str, default: str | None) -> str | None: ...
    def choice(self, key: str, enum_type: type[E], default: E) -> E: ...
    def child(self, key: str, ignored: frozenset[str] = frozenset()) -> Reader: ...
    def done(self) -> None: ...


def _minutes(value: object, field_: str) -> int:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise InvalidType("expected a time HH:MM", field=field_)
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def day_hours(value: object, field_: str) -> tuple[int, int] | None:
    """One day's hours from ``{"start": "HH:MM", "end": "HH:MM"}`` (minutes since local
    midnight), or None for ``false`` (closed). Raises ``InvalidType`` naming ``field_``."""
    if value is False:
        return None
    if not isinstance(value, dict) or set(value) != {"start", "end"}:
        raise InvalidType('expected {"start": "HH:MM", "end": "HH:MM"} or false', field=field_)
    return _minutes(value["start"], f"{field_}.start"), _minutes(value["end"], f"{field_}.end")


def _strings(value: object, field_: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidType("expected a list of strings", field=field_)
    return tuple(value)


def read_window(r: Reader, cur: CallingWindow) -> CallingWindow:
    """``compliance.callingWindow``: absent fields keep ``cur``."""
    days = list(cur.days)
    d = r.child("days")
    for i, name in enumerate(DAYS):
        raw = d.get(name)
        if raw is not None:
            days[i] = day_hours(raw, f"compliance.callingWindow.days.{name}")
    d.done()
    holidays = _strings(r.get("holidays"), "compliance.callingWindow.holidays")
    return CallingWindow(
        enabled=r.boolean("enabled", cur.enabled),
        days=tuple(days),
        holidays=cur.holidays if holidays is None else holidays,
        fallback_time_zone=r.text("fallbackTimeZone", cur.fallback_time_zone)
        or cur.fallback_time_zone,
        allow_manual_override=r.boolean("allowManualOverride", cur.allow_manual_override),
    )


def read_compliance(r: Reader, cur: ComplianceSettings) -> ComplianceSettings:
    """The queue's ``compliance`` object (ext); absent fields keep ``cur``."""
    w = r.child("callingWindow")
    window = read_window(w, cur.calling_window)
    w.done()
    a = r.child("abandonment")
    old = cur.abandonment
    abandonment = AbandonmentSettings(
        threshold_seconds=a.number("thresholdSeconds", old.threshold_seconds),
        information_message=a.boolean("informationMessage", old.information_message),
        information_audio=a.text("informationAudio", old.information_audio),
        lockout_hours=a.number("lockoutHours", old.lockout_hours),
        minimum_ring_seconds=a.number("minimumRingSeconds", old.minimum_ring_seconds),
    )
    a.done()
    allow = _strings(r.get("callerIdAllowlist"), "compliance.callerIdAllowlist")
    return ComplianceSettings(
        calling_window=window,
        duplicate_callbacks=r.choice(
            "duplicateCallbacks", DuplicatePolicy, cur.duplicate_callbacks
        ),
        caller_id_allowlist=cur.caller_id_allowlist if allow is None else allow,
        abandonment=abandonment,
    )


def read_budget(r: Reader, cur: BudgetSettings) -> BudgetSettings:
    """``pacingMode``, ``abandonmentTargetRate`` and ``abandonmentWindow`` of
    ``mediaSettings.callback``."""
    return BudgetSettings(
        mode=r.choice("pacingMode", PacingMode, cur.mode),
        target_rate=r.number("abandonmentTargetRate", cur.target_rate),
        window=r.choice("abandonmentWindow", AbandonmentWindow, cur.window),
    )


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def compliance_to_json(c: ComplianceSettings) -> dict[str, Any]:
    """The JSON of ``c``; ``read_compliance`` of it gives ``c`` back."""
    w, a = c.calling_window, c.abandonment
    abandonment: dict[str, Any] = {
        "thresholdSeconds": a.threshold_seconds,
        "informationMessage": a.information_message,
        "lockoutHours": a.lockout_hours,
        "minimumRingSeconds": a.minimum_ring_seconds,
    }
    if a.information_audio:
        abandonment["informationAudio"] = a.information_audio
    return {
        "callingWindow": {
            "enabled": w.enabled,
            "days": {
                name: False if h is None else {"start": _hhmm(h[0]), "end": _hhmm(h[1])}
                for name, h in zip(DAYS, w.days, strict=True)
            },
            "holidays": list(w.holidays),
            "fallbackTimeZone": w.fallback_time_zone,
            "allowManualOverride": w.allow_manual_override,
        },
        "duplicateCallbacks": c.duplicate_callbacks.value,
        "callerIdAllowlist": list(c.caller_id_allowlist),
        "abandonment": abandonment,
    }


def budget_to_json(b: BudgetSettings) -> dict[str, Any]:
    """The ``mediaSettings.callback`` fields of ``b``."""
    return {
        "pacingMode": b.mode.value,
        "abandonmentTargetRate": b.target_rate,
        "abandonmentWindow": b.window.value,
    }
