"""Phone number normalisation for callback requests (R-C-1), backed by ``phonenumbers``.

This is the shell's side of ``dialback.domain.callbacks.NumberNormalizer``.
"""

from __future__ import annotations

import phonenumbers


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
