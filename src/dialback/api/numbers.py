"""Phone number normalisation for callback requests (R-C-1), backed by ``phonenumbers``.

This is the shell's side of ``dialback.domain.callbacks.NumberNormalizer``.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import timezone as number_timezones

# The numbers ``normalize_number`` parsed last, by their E.164 form, with their type when it was
# found: ``zones_for_number`` is asked about each right after (``parse_callback_request``) and
# takes both from here instead of working them out again (issue 17: parsing is a tenth of a
# creation's CPU). Bounded; an entry is used once.
_PARSED: dict[str, tuple[phonenumbers.PhoneNumber, int | None]] = {}
_PARSED_MAX = 256


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
    kind: int | None = None
    if strict:  # valid: of a known type in its own region's plan (what is_valid_number asks)
        kind = phonenumbers.number_type(parsed)
        ok = kind != phonenumbers.PhoneNumberType.UNKNOWN
    else:
        ok = phonenumbers.is_possible_number(parsed)
    if not ok:
        wanted = "valid" if strict else "possible"
        raise ValueError(f"{number!r} is not a {wanted} phone number")
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[e164] = (parsed, kind)
    return e164


def zones_for_number(e164: str) -> tuple[str, ...]:
    """R-X-2: the IANA zones of an E.164 number's area, from ``phonenumbers``' prefix data
    (several for a split area code; ``Etc/Unknown`` when it cannot say).

    >>> zones_for_number("+18504321234")
    ('America/Chicago',)
    """
    parsed, kind = _PARSED.pop(e164, (None, None))
    if parsed is None:
        try:
            parsed = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            return ("Etc/Unknown",)
    code = parsed.country_code
    if (
        kind is not None
        and code is not None
        and phonenumbers.is_number_type_geographical(kind, code)
    ):
        # what time_zones_for_number answers for such a number, without typing it again
        return tuple(number_timezones.time_zones_for_geographical_number(parsed))
    return tuple(number_timezones.time_zones_for_number(parsed))
