"""Agents' phone addresses: SIP URIs, checked once here for the API and read by telephony.

A SIP URI (RFC 3261 §19.1) as dialback takes it: ``sip:`` or ``sips:``, an optional user part,
a host (a name, an IPv4 literal or a bracketed IPv6 literal), an optional port and URI
parameters. No DNS is looked up: the address must only be well formed.
"""

from __future__ import annotations

import re

from dialback.domain.errors import InvalidSipUri

SIP_URI = re.compile(r"^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?")
"""The start of a SIP URI: group 1 the host (IPv6 in brackets), group 2 the port if any."""

MAX_URI_LENGTH = 256


def check_sip_uri(value: object, field: str) -> str:
    """``value`` if it is a SIP URI of at most 256 characters without white space. Raises
    ``InvalidSipUri`` naming ``field`` otherwise.

    >>> check_sip_uri("sip:ann@10.0.0.5:5062", "sipUri")
    'sip:ann@10.0.0.5:5062'
    """
    if (
        not isinstance(value, str)
        or len(value) > MAX_URI_LENGTH
        or any(c.isspace() for c in value)
        or not SIP_URI.match(value)
    ):
        raise InvalidSipUri("expected sip:user@host[:port]", field=field)
    return value
