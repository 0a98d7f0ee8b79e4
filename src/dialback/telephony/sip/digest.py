"""HTTP digest authentication for SIP (RFC 3261 §22, RFC 7616 and RFC 8760): answering a
401 ``WWW-Authenticate`` or 407 ``Proxy-Authenticate`` challenge from a trunk."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from dialback.telephony.errors import UnsupportedChallenge

__all__ = ["Credentials", "UnsupportedChallenge", "authorization", "parse_challenge"]

ALGORITHMS = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}
_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str


def parse_challenge(header: str) -> dict[str, str]:
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        raise UnsupportedChallenge(f"not a Digest challenge: {scheme!r}")
    params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
              for m in _PARAM.finditer(rest)}  # fmt: skip
    if "realm" not in params or "nonce" not in params:
        raise UnsupportedChallenge("a Digest challenge needs a realm and a nonce")
    return params


def authorization(
    challenge: str,
    credentials: Credentials,
    method: str,
    uri: str,
    count: int = 1,
    cnonce: str | None = None,
) -> str:
    """The ``Authorization``/``Proxy-Authorization`` value answering ``challenge`` (``cnonce``
    is drawn at random unless given)."""
    params = parse_challenge(challenge)
    algorithm = params.get("algorithm", "MD5")
    name = ALGORITHMS.get(algorithm.upper())
    if name is None:
        raise UnsupportedChallenge(f"unknown digest algorithm {algorithm!r}")

    def h(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    realm, nonce = params["realm"], params["nonce"]
    ha1 = h(f"{credentials.username}:{realm}:{credentials.password}")
    ha2 = h(f"{method}:{uri}")
    offered = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    fields = [
        f'username="{credentials.username}"',
        f'realm="{realm}"',
        f'nonce="{nonce}"',
        f'uri="{uri}"',
        f"algorithm={algorithm}",
    ]
    if offered:
        if "auth" not in offered:
            raise UnsupportedChallenge(f"no qop we speak in {offered}")
        cnonce, nc = cnonce or secrets.token_hex(8), f"{count:08x}"
        response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    else:
        response = h(f"{ha1}:{nonce}:{ha2}")  # RFC 2069 compatibility
    fields.append(f'response="{response}"')
    if "opaque" in params:
        fields.append(f'opaque="{params["opaque"]}"')
    return "Digest " + ", ".join(fields)
