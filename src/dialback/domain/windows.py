"""Calling windows in the callee's local time (R-X-1..6, docs/compliance.md).

Pure: zone data arrive as ``tzinfo`` values from a ``ZoneLookup`` the shell injects (it wraps
``zoneinfo.ZoneInfo``, which reads the system's tz database); the domain only does arithmetic
with them (``datetime`` is allowed in the domain, ``zoneinfo`` is not, since it reads files).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dialback.domain.compliance import CallingWindow
from dialback.domain.model import CallbackRequest

ZoneLookup = Callable[[str], tzinfo]
"""IANA zone name -> tzinfo; raises ``KeyError`` or ``ValueError`` for an unknown name."""

UNKNOWN_ZONE = "Etc/Unknown"  # what phonenumbers answers for a number it cannot place
_HORIZON_DAYS = 400  # a window with holidays still opens within a year and a bit (bounded search)


def utc_only(name: str) -> tzinfo:
    """The lookup an engine gets when its shell gives none: UTC only (tests, tools)."""
    if name in ("UTC", "Etc/UTC"):
        return UTC
    raise KeyError(name)


def callee_zones(request: CallbackRequest, number_index: int, window: CallingWindow) -> list[str]:
    """R-X-2, R-X-3: the zones whose window a dial of ``request.numbers[number_index]`` must
    respect: the callback's explicit zone if it has one; else the number's zones (all of them,
    R-X-3); else the window's fallback zone."""
    if request.time_zone:
        return [request.time_zone]
    zones: Sequence[str] = ()
    if 0 <= number_index < len(request.number_zones):
        zones = request.number_zones[number_index]
    known = [z for z in zones if z != UNKNOWN_ZONE]
    return known or [window.fallback_time_zone]


def _open_in(window: CallingWindow, zone: tzinfo, at: float) -> bool:
    local = datetime.fromtimestamp(at, zone)
    if local.date().isoformat() in window.holidays:
        return False
    hours = window.days[local.weekday()]
    if hours is None:
        return False
    minute = local.hour * 60 + local.minute + local.second / 60
    return hours[0] <= minute < hours[1]


def is_open(window: CallingWindow, zones: Sequence[tzinfo], at: float) -> bool:
    """R-X-1, R-X-3: ``at`` (epoch seconds) lies inside the window in every zone. A window not
    ``enabled`` is always open."""
    if not window.enabled:
        return True
    return all(_open_in(window, zone, at) for zone in zones)


def _starts(window: CallingWindow, zone: tzinfo, first: date, days: int) -> list[float]:
    """Epoch seconds of the window's openings in ``zone`` on ``days`` local dates from
    ``first``. Built from local wall time, so DST changes move them correctly."""
    out = []
    for k in range(days):
        day = first + timedelta(days=k)
        hours = window.days[day.weekday()]
        if hours is None or day.isoformat() in window.holidays:
            continue
        minutes = hours[0]
        wall = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
        out.append(wall.timestamp())
    return out


def next_open(window: CallingWindow, zones: Sequence[tzinfo], at: float) -> float | None:
    """R-X-4, R-X-5: the first instant at or after ``at`` when the window is open in every zone,
    or None if it does not open within ``_HORIZON_DAYS``. The intersection of windows opens
    when its last zone opens, so the candidates are ``at`` and each zone's openings.

    >>> from datetime import timezone
    >>> w = CallingWindow(enabled=True)
    >>> ny = timezone(timedelta(hours=-5))
    >>> at = datetime(2026, 1, 5, 22, 0, tzinfo=ny).timestamp()  # Monday 22:00
    >>> datetime.fromtimestamp(next_open(w, [ny], at), ny).strftime("%a %H:%M")
    'Tue 08:00'
    """
    if is_open(window, zones, at):
        return at
    for span in (3, 9, 27, 81, 243, 3 * _HORIZON_DAYS):
        candidates: list[float] = []
        for zone in zones:
            first = datetime.fromtimestamp(at, zone).date() - timedelta(days=1)
            candidates += _starts(window, zone, first, span + 1)
        limit = at + (span - 2) * 86_400  # past this, a later chunk may hold an earlier opening
        for candidate in sorted(c for c in candidates if c >= at):
            if candidate > limit:
                break
            if is_open(window, zones, candidate):
                return candidate
    return None


def closes_at(hours: Sequence[tuple[int, int] | None], zone: tzinfo, at: float) -> float | None:
    """Issue 18 (the callback offer): when a queue open at ``at`` (epoch seconds) next closes,
    given its weekly ``hours`` (Monday first; minutes since local midnight in ``zone``, None for
    a closed day). None if it is closed at ``at``; ``math.inf`` if it never closes (a day open
    until 24:00 runs on into a next day that opens at 00:00, for a week at most).

    >>> from datetime import timezone
    >>> week = ((9 * 60, 17 * 60),) * 5 + (None, None)
    >>> at = datetime(2026, 1, 5, 16, 0, tzinfo=timezone.utc).timestamp()  # Monday 16:00
    >>> closes_at(week, timezone.utc, at) - at
    3600.0
    >>> closes_at(week, timezone.utc, at + 2 * 3600) is None
    True
    """
    local = datetime.fromtimestamp(at, zone)
    day = local.date()
    today = hours[day.weekday()]
    minute = local.hour * 60 + local.minute + local.second / 60
    if today is None or not today[0] <= minute < today[1]:
        return None
    end = today[1]
    for _ in range(8):
        following = hours[(day + timedelta(days=1)).weekday()]
        if end < 24 * 60 or following is None or following[0] != 0:
            midnight = datetime.combine(day, time(0), tzinfo=zone)
            return (midnight + timedelta(minutes=end)).timestamp()
        day, end = day + timedelta(days=1), following[1]
    return math.inf
