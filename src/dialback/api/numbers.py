"""Phone number normalisation for callback requests (R-C-1), backed by ``phonenumbers``.

This is the shell's side of ``dialback.domain.callbacks.NumberNormalizer``.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import timezone as number_timezones


def normalize_number(number: str, country_code: str | None, strict: bool) -> str:
    """Return ``number`` in E.164. A national form needs ``country_code`` (ISO 3166 alpha-2,
    such as ``"US"``). With ``strict`` the number must be valid in its numbering plan;
    otherwise a possible number (right length for its country) is enough.

    >>> normalize_number("(415) 555-2671", "US", True)
    '+14155552671'

    Raises ValueError saying what is wrong.
    """
    region = country_code.upper() if country_code else None
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as problem:
        hint = "" if region else " (a national number needs countryCode)"
        raise ValueError(f"{number!r} is not a phone number: {problem}{hint}") from None
    ok = phonenumbers.is_valid_number(parsed) if strict else phonenumbers.is_possible_number(parsed)
    if not ok:
        kind = "valid" if strict else "possible"
        raise ValueError(f"{number!r} is not a {kind} phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def zones_for_number(e164: str) -> tuple[str, ...]:
    """R-X-2: the IANA zones of an E.164 number's area, from ``phonenumbers``' prefix data
    (several for a split area code; ``Etc/Unknown`` when it cannot say).

    >>> zones_for_number("+18504321234")
    ('America/Chicago',)
    """
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ("Etc/Unknown",)
    return tuple(number_timezones.time_zones_for_number(parsed))
