"""Bounds on everything the API takes (issue 12), in one table.

Every JSON body is walked by ``check_json`` before it is read into an event, so the engine never
sees a value the database cannot hold: the column lengths in ``store/tables.py`` are read from
this table too, and SQLite and PostgreSQL take the same values. A string is bounded by the name
of the field holding it (``STRINGS``; a list's items by ``name[]``), else by ``TEXT``; a list by
``LISTS``, else ``LIST``; an integer by ``INTEGERS``, else ``INT_MIN..INT_MAX``. Text that cannot
round-trip through JSON, UTF-8 and PostgreSQL (NUL, lone surrogates) is refused everywhere.
Worked example::

    >>> check_json({"name": "x" * 300}, "")
    Traceback (most recent call last):
    ...
    dialback.domain.errors.LimitExceeded: limit_exceeded [name]: at most 256 characters
"""

from __future__ import annotations

import math
import re

from dialback.domain.errors import InvalidText, InvalidType, LimitExceeded, ValueOutOfRange

ID = 64  # an id a client names (ours are 36-character UUIDs)
NAME = 256  # names of queues, users, customers, caller IDs
TEXT = 1024  # any other string, and the values of a callback's ``data``
PHONE = 32  # a phone number as typed (E.164 has at most 16 characters)
CODE = 128  # a wrap-up code
URI = 256  # an agent's SIP URI
IDEMPOTENCY_KEY = 256  # the ``Idempotency-Key`` header
SHARD = 64  # a shard's name as stored (issue 17)
SHARD_NAME = 40  # a shard's name as given: its meta keys (``log_pruned_through:<name>``) fit 64
LIST = 100  # items of any list
KEYS = 100  # members of any object
DEPTH = 8  # nesting of objects and lists
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # PostgreSQL's integer
BODY_BYTES = 64 * 1024  # a request body (``dialback serve --max-body``)
PAGE_SIZE = 500  # ``pageSize``
PAGE_NUMBER = 100_000  # ``pageNumber`` (offset = size x number fits every database)
PATH = 2048  # a request's path

STRINGS: dict[str, int] = {
    **dict.fromkeys(
        [
            "id",
            "queueId",
            "agentId",
            "userId",
            "conversationId",
            "scriptId",
            "languageId",
            "flowId",
            "participantId",
        ],
        ID,
    ),
    **dict.fromkeys(
        ["name", "callbackUserName", "callerIdName", "callingPartyName", "label"], NAME
    ),
    **dict.fromkeys(["callbackNumbers[]", "callerId", "callerNumber", "callingPartyNumber"], PHONE),
    "countryCode": 8,
    "code": CODE,
    "sipUri": URI,
    "status": 32,
    "state": 32,
    "interval": 128,
    "granularity": 32,
    "callbackScheduledTime": 64,
    "entryTime": 64,
}
LISTS: dict[str, int] = {
    "callbackNumbers": 10,  # SPEC §3
    "body": 1000,  # queue members added or removed at once
}
INTEGERS: dict[str, tuple[int, int]] = {
    "priority": (0, 1_000_000),
    "numberIndex": (0, 9),
    "capacity": (1, 25),
}
MAX_PRIORITY = INTEGERS["priority"][1]

# built with chr(): mypyc cannot compile surrogate code points in a string literal
_BAD_TEXT = re.compile("[" + chr(0) + chr(0xD800) + "-" + chr(0xDFFF) + "]")


def check_text(value: str, field: str | None, longest: int = TEXT) -> None:
    """Refuse a string with NUL or a lone surrogate, or longer than ``longest`` characters."""
    if _BAD_TEXT.search(value):
        raise InvalidText("NUL characters and lone surrogates are not accepted", field=field)
    if len(value) > longest:
        raise LimitExceeded(f"at most {longest} characters", field=field)


def check_json(value: object, path: str, name: str = "body", depth: int = 0) -> None:
    """Walk a parsed JSON value and refuse the first thing past its bound, naming its path.
    Raises ``LimitExceeded``, ``InvalidText``, ``ValueOutOfRange`` or ``InvalidType``."""
    field = path or None
    if depth > DEPTH:
        raise LimitExceeded(f"nested more than {DEPTH} deep", field=field)
    if isinstance(value, str):
        check_text(value, field, STRINGS.get(name, TEXT))
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        low, high = INTEGERS.get(name, (INT_MIN, INT_MAX))
        if not low <= value <= high:
            raise ValueOutOfRange(f"{low}..{high}", field=field)
    elif isinstance(value, float):
        if not math.isfinite(value) or abs(value) > 1e15:
            raise ValueOutOfRange("a finite number of magnitude at most 1e15", field=field)
    elif isinstance(value, list):
        longest = LISTS.get(name, LIST)
        if len(value) > longest:
            raise LimitExceeded(f"at most {longest} items", field=field)
        for i, item in enumerate(value):
            check_json(item, f"{path}[{i}]", f"{name}[]", depth + 1)
    elif isinstance(value, dict):
        if len(value) > KEYS:
            raise LimitExceeded(f"at most {KEYS} members", field=field)
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            check_text(str(key), where, NAME)
            check_json(item, where, str(key), depth + 1)
    else:
        raise InvalidType("not a JSON value", field=field)
