"""Phone numbers (R-C-1, R-X-2): ``api.numbers`` types a number once and reuses that for its
time zones (issue 17); its answers must stay phonenumbers' own, for numbers of every country
calling code."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import timezone
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from dialback.api.numbers import normalize_number, zones_for_number


def numbers(count: int, seed: int) -> list[str]:
    """Digit strings after a country calling code, valid or not, of every length they take."""
    rng = random.Random(seed)
    codes = sorted(COUNTRY_CODE_TO_REGION_CODE)
    return [
        f"+{rng.choice(codes)}{rng.randrange(10**11):011d}"[: rng.randint(7, 15)]
        for _ in range(count)
    ]


@pytest.mark.parametrize("strict", [True, False])
def test_valid_or_possible_and_zones_are_those_of_phonenumbers(strict: bool) -> None:
    accepted = 0
    for raw in numbers(20_000, seed=11):
        try:
            parsed = phonenumbers.parse(raw, None)
        except phonenumbers.NumberParseException:
            with pytest.raises(ValueError):
                normalize_number(raw, None, strict)
            continue
        check = phonenumbers.is_valid_number if strict else phonenumbers.is_possible_number
        if not check(parsed):
            with pytest.raises(ValueError, match="valid" if strict else "possible"):
                normalize_number(raw, None, strict)
            continue
        e164 = normalize_number(raw, None, strict)
        assert e164 == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        assert zones_for_number(e164) == tuple(timezone.time_zones_for_number(parsed)), raw
        accepted += 1
    assert accepted > 1_000  # the sample holds many numbers of each kind


def test_zones_of_a_number_not_just_normalized() -> None:
    assert zones_for_number("+18504321234") == ("America/Chicago",)
    assert zones_for_number("+447911123456") == (
        "Europe/Guernsey",
        "Europe/Isle_of_Man",
        "Europe/Jersey",
        "Europe/London",
    )
    assert zones_for_number("not a number") == ("Etc/Unknown",)
