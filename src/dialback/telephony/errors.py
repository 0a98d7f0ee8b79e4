"""Errors of the telephony adapters, each with a stable code, under the project's one base error.

Adapters raise these (never a bare ``ValueError``) for input they cannot use: a SIP message or URI
they cannot read, an authentication challenge they do not speak, audio they cannot decode.
"""

from __future__ import annotations

from dialback.domain.errors import DialbackError


class TelephonyError(DialbackError):
    code = "telephony_error"


class MalformedMessage(TelephonyError):
    """A datagram that is not a SIP message we can read, or a string that is not a SIP URI."""

    code = "malformed_sip_message"


class UnsupportedChallenge(TelephonyError):
    """A 401/407 challenge that is not one we can answer (RFC 7616 digest with MD5 or SHA-2)."""

    code = "unsupported_auth_challenge"


class UnreadableAudio(TelephonyError):
    """A recording that is neither PCM WAV nor raw G.711."""

    code = "unreadable_audio"
