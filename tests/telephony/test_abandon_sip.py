"""Issue 14 end to end through ``dialback serve --sip`` (R-X-12, R-X-13, R-X-14 of
docs/compliance.md): sipp answers a customer-first dial with a live voice ("Hello?"), the agent
is alerted but never answers, so no agent is connected within the threshold of the greeting's
end: the customer hears the queue's information message (its audio is found, by correlation, in
the RTP dialback sent) and the call is counted abandoned in the analytics API and on ``/metrics``.

sipp's answer (its SDP) points dialback's media at a UDP socket the test binds on port 0, so the
test holds every packet dialback sent to the customer; sipp still plays the customer's voice."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import pytest

from dialback.telephony.cpa.audio import load, ulaw_decode, ulaw_encode

from ..integration.conftest import eventually, ok
from . import corpus, sipp
from .baresip import write_wav
from .conftest import require
from .serving import SLOW_MACHINE, bearer, serve_sip

THRESHOLD = 1.0  # seconds from the greeting's end (compliance.abandonment.thresholdSeconds)
HANG_UP_MS = 9000  # the customer gives up this long after the answer (a BYE of their own)
MESSAGE = "We are sorry, no agent could take your call. We will call you back soon. Goodbye."


class RtpSink:
    """A UDP socket on 127.0.0.1 (port 0) keeping every RTP packet that arrives, by a thread."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port: int = self.socket.getsockname()[1]
        self.packets: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.packets.append(self.socket.recv(2048))
            except TimeoutError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.socket.close()

    def audio(self) -> npt.NDArray[np.int16]:
        """The PCMU stream as sent, in sequence order (a missing packet is 20 ms of silence)."""
        by_seq: dict[int, bytes] = {}
        first: int | None = None
        for data in self.packets:
            assert data[0] >> 6 == 2 and data[1] & 0x7F == 0, "not a PCMU RTP packet"
            seq = struct.unpack("!H", data[2:4])[0]
            first = seq if first is None else first
            by_seq[(seq - first) & 0xFFFF] = data[12:]
        count = max(by_seq) + 1 if by_seq else 0
        silence = ulaw_encode(np.zeros(160, dtype=np.int16))
        return ulaw_decode(b"".join(by_seq.get(i, silence) for i in range(count)))


def best_match(heard: npt.NDArray[np.int16], wanted: npt.NDArray[np.int16]) -> tuple[float, int]:
    """The normalised correlation of ``wanted`` with the best-matching stretch of ``heard``
    (1.0: the same waveform, up to a gain) and where that stretch starts (samples)."""
    x = heard.astype(np.float64)
    w = wanted.astype(np.float64)
    if len(x) < len(w):
        return 0.0, 0
    n = 1 << (len(x) + len(w)).bit_length()
    dots = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(w, n)), n)[: len(x) - len(w) + 1]
    energy = np.concatenate([[0.0], np.cumsum(x * x)])
    window = energy[len(w) :] - energy[: len(x) - len(w) + 1]
    score = dots / (np.sqrt(np.maximum(window, 1e-9)) * np.linalg.norm(w))
    at = int(np.argmax(score))
    return float(score[at]), at


@pytest.fixture
def message(tmp_path: Path) -> Path:
    require("the abandoned-call test through SIP was", "sipp")
    return write_wav(tmp_path / "sorry.wav", corpus.speak(MESSAGE, "en-us", 160))


@pytest.fixture
def sink() -> Iterator[RtpSink]:
    found = RtpSink()
    try:
        yield found
    finally:
        found.close()


@pytest.fixture
def customer(tmp_path: Path, sink: RtpSink, message: Path) -> Iterator[tuple[int, float]]:
    """sipp answers as a live voice ("Hello?", then silence), sends dialback's media to the
    sink, and hangs up ``HANG_UP_MS`` after the answer; yields (SIP port, end of the hello)."""
    hello = corpus.speak("Hello?", "en-us", 150)
    audio = corpus.cat(corpus.silence(0.3), hello, corpus.silence(HANG_UP_MS / 1000 + 2))
    path = tmp_path / "customer.ulaw"
    path.write_bytes(ulaw_encode(audio))
    scenario = sipp.hang_up_after(path, HANG_UP_MS)
    scenario = scenario.replace("c=IN IP[media_ip_type] [media_ip]", "c=IN IP4 127.0.0.1")
    scenario = scenario.replace(
        "m=audio [rtpstream_audio_port] RTP/AVP 0",
        f"m=audio {sink.port} RTP/AVP 0\na=x-sipp-stream:[rtpstream_audio_port]",
    )
    exits: list[int] = []
    with sipp.uas(scenario, tmp_path / "sipp", exits) as port:
        yield port, 0.3 + len(hello) / 8000
    assert exits == [0], (tmp_path / "sipp" / "sipp.log").read_text()


def test_r_x_12_r_x_14_an_abandoned_live_answer_hears_the_message_and_is_counted(
    tmp_path: Path, customer: tuple[int, float], sink: RtpSink, message: Path
) -> None:
    port, spoken_until = customer
    with (
        serve_sip(tmp_path / "service", port) as (url, token),
        httpx.Client(base_url=url, headers=bearer(token), timeout=SLOW_MACHINE) as admin,
    ):
        body = {
            "name": "Support",
            "callingPartyNumber": "+14155550199",
            "compliance": {
                "abandonment": {
                    "thresholdSeconds": THRESHOLD,
                    "informationMessage": True,
                    "informationAudio": str(message),
                }
            },
            "mediaSettings": {"callback": {"mode": "CustomerFirst", "pacingModifier": 10}},
        }
        queue = ok(admin.post("/api/v2/routing/queues", json=body))["id"]
        # an idle agent lets the dialer dial; she is alerted and never answers
        agent = ok(admin.post("/api/v2/users", json={"name": "Ann"}))["id"]
        ok(admin.post(f"/api/v2/routing/queues/{queue}/members", json=[{"id": agent}]))
        ok(admin.put(f"/api/v2/users/{agent}/routingstatus", json={"status": "IDLE"}))
        created = ok(
            admin.post(
                "/api/v2/conversations/callbacks",
                json={"queueId": queue, "callbackNumbers": ["+14155552671"]},
            )
        )
        conversation = created["conversation"]["id"]

        def accounted() -> dict[str, Any] | None:
            found: dict[str, Any] = ok(
                admin.get(f"/api/v2/analytics/compliance/queues/{queue}/abandonment")
            )
            return found if found["us"]["liveAnswers"] else None

        report = eventually(accounted, timeout=30, what="the live answer to be accounted")
        metrics = admin.get("/metrics").text

        def dialed() -> dict[str, Any] | None:  # the details' read model may lag the count
            found: dict[str, Any] = ok(
                admin.get(f"/api/v2/analytics/conversations/{conversation}/details")
            )
            return found if found["stitched"]["dials"] else None

        details = eventually(dialed, timeout=30, what="the dial in the conversation's details")
    # (2) counted abandoned, by both rules, in the analytics API and on /metrics (R-X-13)
    assert (report["us"]["liveAnswers"], report["us"]["abandoned"]) == (1, 1)
    assert report["us"]["rate"] == 1.0
    assert (report["uk"]["drops"], report["uk"]["humanAgent"], report["uk"]["rate"]) == (1, 0, 1.0)
    assert f'dialback_abandoned_call_rate{{queue="{queue}",rule="us_30d"}} 1.0' in metrics
    stitched = details["stitched"]
    assert [d["outcome"] for d in stitched["dials"]] == ["LIVE_VOICE"]
    assert stitched["agentConnected"] is None and stitched["greetingEnd"] is not None
    # (1) the customer heard the information message: its waveform is in what dialback sent
    heard = sink.audio()
    wanted = load(message)
    score, at = best_match(heard, wanted)
    assert score > 0.9, f"the message is not in the customer's audio (correlation {score:.2f})"
    # ... whole, after the threshold passed from the end of the customer's "Hello?"
    # (dialback's stream starts at the answer: silence while it listens, then the hold audio)
    started = at / 8000
    assert spoken_until + THRESHOLD - 0.1 <= started <= spoken_until + THRESHOLD + 1.5, started
    assert len(heard) >= at + len(wanted)
