"""R-X-14 (docs/compliance.md): the information message played to an abandoned customer: the
engine orders it, the simulated carrier records it, the SIP leg plays it once before its hold
audio, and a file that cannot be read plays nothing."""

from __future__ import annotations

import asyncio
import random
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dialback.domain.model import InteractionId
from dialback.telephony.cpa.audio import FRAME, ulaw_decode
from dialback.telephony.simulated import SimulatedCarrier
from dialback.telephony.sip.dialer import SipDialer
from dialback.telephony.sip.rtp import Rtp


def levels(rtp: Rtp, frames: int) -> list[int]:
    return [int(ulaw_decode(rtp.next_payload())[0]) for _ in range(frames)]


def test_r_x_14_a_message_plays_once_then_the_hold_audio_resumes() -> None:
    rtp = Rtp()
    rtp.hold = np.full(FRAME * 2, 1000, dtype=np.int16)
    rtp.play_once(np.full(FRAME * 3 + 7, -2000, dtype=np.int16))  # whole frames only
    played = levels(rtp, 6)
    assert played[:3] == [pytest.approx(-2000, abs=70)] * 3
    assert played[3:] == [pytest.approx(1000, abs=40)] * 3


def test_r_x_14_the_simulated_carrier_records_the_message() -> None:
    async def scenario() -> list[tuple[InteractionId, str | None]]:
        async def report(_: Any) -> None:
            return None

        carrier = SimulatedCarrier(report, random.Random(1))
        carrier.play_message(InteractionId("cb"), "optout.wav")
        await carrier.close()
        return carrier.messages

    assert asyncio.run(scenario()) == [(InteractionId("cb"), "optout.wav")]


def test_r_x_14_the_sip_dialer_plays_the_configured_file_to_a_held_customer(
    tmp_path: Path,
) -> None:
    audio = tmp_path / "optout.wav"
    with wave.open(str(audio), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(np.full(FRAME * 2, -3000, dtype=np.int16).tobytes())

    class Leg:
        rtp = Rtp()

    async def report(_: Any) -> None:
        return None

    dialer = SipDialer(report, "sip:127.0.0.1:5060")
    leg = Leg()
    leg.rtp.hold = np.full(FRAME, 500, dtype=np.int16)
    dialer.customers[InteractionId("cb")] = leg  # type: ignore[assignment]
    dialer.play_message(InteractionId("cb"), str(tmp_path / "missing.wav"))
    dialer.play_message(InteractionId("nobody"), str(audio))
    assert levels(leg.rtp, 1) == [pytest.approx(500, abs=30)]  # nothing played yet
    dialer.play_message(InteractionId("cb"), str(audio))
    assert levels(leg.rtp, 3) == [
        pytest.approx(-3000, abs=100),
        pytest.approx(-3000, abs=100),
        pytest.approx(500, abs=30),
    ]
