"""Do-not-call lists (R-X-7, docs/compliance.md): reading the numbers of an import or a change.

Numbers are compared in E.164 (R-X-7), so every number is normalised on the way in by the
shell's normaliser (``api.numbers.normalize_number``, injected as for callbacks).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from dialback.domain.callbacks import NumberNormalizer
from dialback.domain.errors import InvalidChoice, InvalidInput, InvalidPhoneNumber, InvalidType
from dialback.domain.events import DncUpdated

LIST_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_CHANGE = 100_000  # numbers in one change or import (one event in the log)
_NUMBER_COLUMNS = ("phonenumber", "phone_number", "number", "e164")


def check_list_id(list_id: str) -> str:
    """A list id is 1..64 letters, digits, ``_``, ``.`` or ``-``."""
    if not LIST_ID.match(list_id):
        raise InvalidInput("a list id is 1..64 of A-Z a-z 0-9 _ . -", field="listId")
    return list_id


def _normalised(
    numbers: list[str], normalize: NumberNormalizer, country: str | None, where: str
) -> tuple[str, ...]:
    if len(numbers) > MAX_CHANGE:
        raise InvalidInput(f"at most {MAX_CHANGE} numbers at once", field=where)
    out = []
    for i, number in enumerate(numbers):
        try:
            out.append(normalize(number, country, False))
        except ValueError as problem:
            raise InvalidPhoneNumber(str(problem), field=f"{where}[{i}]") from None
    return tuple(dict.fromkeys(out))


def parse_change(list_id: str, body: object, normalize: NumberNormalizer) -> DncUpdated:
    """Genesys' ``PATCH /api/v2/outbound/dnclists/{id}/phonenumbers`` body:
    ``{"action": "Add" | "Remove", "phoneNumbers": [...], "countryCode": "US"}``."""
    if not isinstance(body, Mapping):
        raise InvalidType("expected an object", field="body")
    action = body.get("action")
    if action not in ("Add", "Remove"):
        raise InvalidChoice("expected Add or Remove", field="action")
    raw = body.get("phoneNumbers")
    if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
        raise InvalidType("expected a list of strings", field="phoneNumbers")
    country = body.get("countryCode")
    if country is not None and not isinstance(country, str):
        raise InvalidType("expected a string", field="countryCode")
    numbers = _normalised(raw, normalize, country, "phoneNumbers")
    check_list_id(list_id)
    if action == "Add":
        return DncUpdated(list_id, added=numbers)
    return DncUpdated(list_id, removed=numbers)


def parse_rows(
    list_id: str, rows: list[list[str]], normalize: NumberNormalizer, country: str | None
) -> DncUpdated:
    """A CSV import, already split into rows by the shell: a header naming the number column
    (``phoneNumber``, ``phone_number``, ``number`` or ``e164``), else numbers in the first
    column. Every number is added; a row that is not a number is refused naming it
    (``rows[i]``, from 0 after the header)."""
    check_list_id(list_id)
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    column = 0
    if rows:
        header = [cell.strip().lower() for cell in rows[0]]
        named = [i for i, cell in enumerate(header) if cell in _NUMBER_COLUMNS]
        if named:
            column, rows = named[0], rows[1:]
    numbers = [row[column].strip() if column < len(row) else "" for row in rows]
    return DncUpdated(list_id, added=_normalised(numbers, normalize, country, "rows"))
