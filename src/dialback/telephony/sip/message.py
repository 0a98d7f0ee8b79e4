"""SIP messages: parse a datagram into a request or a response, build one back (RFC 3261 §7)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from dialback.domain.addresses import SIP_URI
from dialback.telephony.errors import MalformedMessage

COMPACT = dict(zip("vftimlc", ["via", "from", "to", "call-id", "contact", "content-length",
                                  "content-type"], strict=True))  # fmt: skip


__all__ = ["MalformedMessage", "Message", "host_port"]


@dataclass
class Message:
    first_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_response(self) -> bool:
        return self.first_line.startswith("SIP/2.0 ")

    @property
    def status(self) -> int:
        return int(self.first_line.split(" ", 2)[1])

    @property
    def method(self) -> str:
        if self.is_response:
            return self.get("cseq").split()[-1].upper()
        return self.first_line.split(" ", 1)[0].upper()

    def get(self, name: str, default: str = "") -> str:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return default

    def all(self, name: str) -> list[str]:
        """Every value of a header, comma-separated lists split (Via, Record-Route)."""
        name = name.lower()
        found: list[str] = []
        for key, value in self.headers:
            if key == name:
                found += [v.strip() for v in _split_commas(value)]
        return found

    def encode(self) -> bytes:
        lines = [self.first_line]
        for key, value in self.headers:
            if key != "content-length":
                lines.append(f"{_canonical(key)}: {value}")
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


def _canonical(name: str) -> str:
    special = {"call-id": "Call-ID", "cseq": "CSeq", "www-authenticate": "WWW-Authenticate"}
    return special.get(name, "-".join(p.capitalize() for p in name.split("-")))


def _split_commas(value: str) -> list[str]:
    """Split on commas outside <...> and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(value):
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth -= 1
        elif ch == "," and depth == 0 and not quoted:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


_STATUS = re.compile(r"^SIP/2\.0 [1-6]\d\d( .*)?$")
_REQUEST = re.compile(r"^[A-Z]+ \S+ SIP/2\.0$")


def parse(data: bytes) -> Message:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as problem:
        raise MalformedMessage(f"not UTF-8: {problem}") from None
    lines = re.split(r"\r?\n", text)
    first = lines[0].strip()
    if not (_STATUS.match(first) or _REQUEST.match(first)):
        raise MalformedMessage(f"bad first line {first[:60]!r}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded line
            key, value = headers[-1]
            headers[-1] = (key, value + " " + line.strip())
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise MalformedMessage(f"bad header line {line[:60]!r}")
        key = name.strip().lower()
        headers.append((COMPACT.get(key, key), value.strip()))
    message = Message(first, headers, body)
    for needed in ("via", "from", "to", "call-id", "cseq"):
        if not message.get(needed):
            raise MalformedMessage(f"no {needed} header")
    length = message.get("content-length")
    if length:
        if not length.isdigit():
            raise MalformedMessage("bad Content-Length")
        message.body = body[: int(length)]
    return message


def tag_of(header: str) -> str | None:
    found = re.search(r";\s*tag=([^;>\s]+)", header)
    return found.group(1) if found else None


def uri_of(header: str) -> str:
    """The URI in a name-addr (``"x" <sip:a@b>;p``) or addr-spec header value."""
    found = re.search(r"<([^>]*)>", header)
    return found.group(1) if found else header.split(";", 1)[0].strip()


def host_port(uri: str, default_port: int = 5060) -> tuple[str, int]:
    """Where to send a request for a sip: URI (no DNS: an IP literal or a host name)."""
    found = SIP_URI.match(uri)
    if not found:
        raise MalformedMessage(f"not a sip URI: {uri!r}")
    host = found.group(1).strip("[]")
    return host, int(found.group(2) or default_port)


def new_token(n: int = 8) -> str:
    return secrets.token_hex(n)


def branch() -> str:
    return "z9hG4bK" + new_token()


def sdp_media(body: bytes) -> tuple[str, int, list[int]] | None:
    """The audio address, port and payload types of an SDP body (RFC 4566): the media-level
    ``c=`` line if there is one, else the session's."""
    address: str | None = None
    media: tuple[int, list[int]] | None = None
    for line in body.decode("utf-8", "replace").splitlines():
        if line.startswith("m="):
            if media is not None:
                break
            parts = line.split()
            if parts[0] == "m=audio" and len(parts) > 3 and parts[1].isdigit():
                media = int(parts[1]), [int(p) for p in parts[3:] if p.isdigit()]
        elif line.startswith("c=") and (media is not None or address is None):
            address = line.split()[-1]
    if media is None or address is None:
        return None
    return address, media[0], media[1]


def sdp_direction(body: bytes) -> str:
    """The audio stream's direction attribute (RFC 4566 §6): ``sendrecv`` unless it says
    ``sendonly``, ``recvonly`` or ``inactive`` (or ``c=0.0.0.0``, the old way to hold)."""
    direction = "sendrecv"
    for line in body.decode("utf-8", "replace").splitlines():
        if line.strip() in ("a=sendonly", "a=recvonly", "a=inactive", "a=sendrecv"):
            direction = line.strip()[2:]
        elif line.startswith("c=") and line.split()[-1] == "0.0.0.0":
            direction = "inactive"
    return direction
