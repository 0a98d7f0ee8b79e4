"""RTP packets and digest answers, checked against the standards' own numbers (no network)."""

from __future__ import annotations

import asyncio
import itertools
import struct

import numpy as np
import pytest

from dialback.telephony.cpa.audio import FRAME, alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from dialback.telephony.sip.digest import (
    Credentials,
    UnsupportedChallenge,
    authorization,
    parse_challenge,
)
from dialback.telephony.sip.rtp import PCMA, PCMU, Rtp, payload_of

RFC2617 = (
    'Digest realm="testrealm@host.com", qop="auth,auth-int", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)


def test_rfc_2617_example_response() -> None:
    """RFC 2617 §3.5: Mufasa / Circle Of Life, GET /dir/index.html, cnonce 0a4f113b."""
    value = authorization(
        RFC2617, Credentials("Mufasa", "Circle Of Life"), "GET", "/dir/index.html",
        cnonce="0a4f113b",
    )  # fmt: skip
    assert 'response="6629fae49393a05397450978507c4ef1"' in value
    assert "qop=auth" in value and "nc=00000001" in value
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value


def test_rfc_7616_sha_256_example_response() -> None:
    """RFC 7616 §3.9.1: the same user and request with SHA-256."""
    challenge = (
        'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )
    value = authorization(
        challenge, Credentials("Mufasa", "Circle of Life"), "GET", "/dir/index.html",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )  # fmt: skip
    assert 'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"' in value


def test_a_challenge_without_qop_is_answered_the_rfc_2069_way() -> None:
    value = authorization('Digest realm="r", nonce="n"', Credentials("u", "p"), "INVITE", "sip:x")
    assert "qop" not in value and "cnonce" not in value


@pytest.mark.parametrize(
    "challenge",
    ['Basic realm="r"', 'Digest realm="r"', 'Digest realm="r", nonce="n", algorithm=SHA-1',
     'Digest realm="r", nonce="n", qop="auth-int"'],
)  # fmt: skip
def test_challenges_we_cannot_answer_say_so(challenge: str) -> None:
    with pytest.raises(UnsupportedChallenge):
        authorization(challenge, Credentials("u", "p"), "INVITE", "sip:x")


def test_challenge_parameters_are_read_quoted_or_not() -> None:
    found = parse_challenge('Digest realm="a, b", nonce=xyz, stale=TRUE')
    assert found == {"realm": "a, b", "nonce": "xyz", "stale": "TRUE"}


def test_every_a_law_code_survives_a_round_trip() -> None:
    codes = bytes(range(256))
    assert alaw_encode(alaw_decode(codes)) == codes
    ramp = np.arange(-32768, 32768, 7, dtype=np.int16)
    error = np.abs(alaw_decode(alaw_encode(ramp)).astype(np.int32) - ramp)
    assert error.max() <= 1024  # the widest A-law step is 1024 at full scale


def packet(kind: int, payload: bytes, *, csrc: int = 0, extension: bytes = b"",
           padding: int = 0) -> bytes:  # fmt: skip
    first = 0x80 | csrc | (0x10 if extension else 0) | (0x20 if padding else 0)
    header = struct.pack("!BBHII", first, kind, 1, 160, 0x1234) + b"\0\0\0\1" * csrc
    tail = b"\0" * (padding - 1) + bytes([padding]) if padding else b""
    return header + extension + payload + tail


def test_rtp_payloads_are_found_past_csrcs_extensions_and_padding() -> None:
    audio = bytes(range(160))
    extension = struct.pack("!HH", 0xBEDE, 1) + b"abcd"
    assert payload_of(packet(PCMU, audio)) == (PCMU, audio)
    assert payload_of(packet(PCMA, audio, csrc=2, extension=extension, padding=4)) == (
        PCMA,
        audio,
    )
    assert payload_of(packet(101, b"\x01\x0a\x00\xa0")) is None  # telephone-event
    assert payload_of(b"\x00" * 20) is None  # not version 2
    assert payload_of(packet(PCMU, audio)[:10]) is None


class Collector(asyncio.DatagramProtocol):
    def __init__(self, into: list[bytes]) -> None:
        self.into = into

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.into.append(data)


def test_the_sender_plays_hold_audio_then_relayed_voice_paced_every_20_ms() -> None:
    async def scenario() -> tuple[list[bytes], float]:
        loop = asyncio.get_running_loop()
        got: list[bytes] = []
        far = Rtp()
        await far.open("127.0.0.1", lambda: Collector(got))
        near = Rtp()
        await near.open("127.0.0.1")
        near.hold = np.full(FRAME * 3, 1000, dtype=np.int16)
        started = loop.time()
        near.play(("127.0.0.1", far.port), PCMU)
        await asyncio.sleep(0.5)
        near.bridged = True
        near.relay(ulaw_encode(np.full(FRAME, -2000, dtype=np.int16)))
        await asyncio.sleep(0.2)
        elapsed = loop.time() - started
        near.close()
        far.close()
        return got, elapsed

    got, elapsed = asyncio.run(scenario())
    due = elapsed / 0.02
    assert 0.8 * due <= len(got) <= due + 3  # paced: one every 20 ms, never a burst
    seqs = [struct.unpack("!H", p[2:4])[0] for p in got]
    stamps = [struct.unpack("!I", p[4:8])[0] for p in got]
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))
    assert all((b - a) & 0xFFFFFFFF == FRAME for a, b in itertools.pairwise(stamps))
    assert got[0][1] & 0x80 and not got[1][1] & 0x80  # the marker bit starts the stream
    levels = [int(ulaw_decode(p[12:])[0]) for p in got]
    assert levels[0] == pytest.approx(1000, abs=40)  # hold audio first
    assert any(v == pytest.approx(-2000, abs=70) for v in levels)  # then the relayed frame
    assert levels[-1] == int(ulaw_decode(bytes([0xFF]))[0])  # bridged: silence, no hold
