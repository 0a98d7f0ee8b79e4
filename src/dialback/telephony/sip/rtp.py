"""RTP for G.711 audio (RFC 3550): one socket per call leg, receiving and sending.

Received packets are decoded (PCMU or PCMA) into 20 ms frames. The sender is symmetric (it sends
from the socket it receives on, so a far end or a NAT that answers to the source address works)
and paced by a clock of its own: every 20 ms it sends the next frame of whatever is playing, the
relayed voice of the other leg of a bridge, music on hold, or silence.
"""

from __future__ import annotations

import asyncio
import collections
import random
import struct
import weakref
from collections.abc import Callable
from typing import ClassVar

import numpy as np

from dialback.telephony.cpa.audio import (
    FRAME,
    Samples,
    alaw_decode,
    alaw_encode,
    ulaw_decode,
    ulaw_encode,
)

PCMU, PCMA = 0, 8
PTIME = FRAME / 8000  # seconds of audio per packet
RELAY_DEPTH = 10  # frames (200 ms) of relayed voice kept before the oldest is dropped
SILENCE = np.zeros(FRAME, dtype=np.int16)


class Datagrams(asyncio.DatagramProtocol):
    """Hands every datagram (or socket error) to a queue."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, tuple[str, int]] | Exception] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait((data, addr))

    def error_received(self, exc: Exception) -> None:
        self.queue.put_nowait(exc)


def payload_of(data: bytes) -> tuple[int, bytes] | None:
    """(payload type, payload) of a G.711 RTP packet, else None."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    count = data[0] & 0x0F
    start = 12 + 4 * count
    if data[0] & 0x10:  # header extension
        if len(data) < start + 4:
            return None
        start += 4 + 4 * struct.unpack("!H", data[start + 2 : start + 4])[0]
    end = len(data)
    if data[0] & 0x20 and end > start:  # padding
        end -= data[-1]
    kind = data[1] & 0x7F
    if kind not in (PCMU, PCMA) or end <= start:
        return None
    return kind, data[start:end]


class Rtp:
    """One leg's RTP socket: decodes what arrives, and plays frames to the far end."""

    def __init__(self) -> None:
        self.protocol: asyncio.DatagramProtocol = Datagrams()
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self._pending = np.zeros(0, dtype=np.int16)
        self.packets = 0  # received
        self.sent = 0
        self.remote: tuple[str, int] | None = None
        self.payload_type = PCMU
        self._ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._stamp = random.getrandbits(32)
        self.relayed: collections.deque[bytes] = collections.deque(maxlen=RELAY_DEPTH)
        self.bridged = False
        self.muted = False  # the far end put us on hold: send nothing
        self.hold: Samples | None = None
        self._hold_encoded: tuple[int, bytes] | None = None
        self._hold_at = 0
        self._once = b""  # R-X-14: a message played once before the hold audio resumes

    async def open(
        self, ip: str, protocol: Callable[[], asyncio.DatagramProtocol] = Datagrams
    ) -> None:
        """Bind an even port (RFC 3550 §11) on ``ip``; ``protocol`` makes the receiver."""
        loop = asyncio.get_running_loop()
        for _ in range(20):
            transport, receiver = await loop.create_datagram_endpoint(protocol, local_addr=(ip, 0))
            port = transport.get_extra_info("sockname")[1]
            if port % 2 == 0:
                self.transport, self.port, self.protocol = transport, port, receiver
                return
            transport.close()
        raise OSError("no even RTP port")

    def frames(self, data: bytes) -> list[Samples]:
        """The whole 20 ms frames a packet completes (empty if it is not G.711 RTP)."""
        payload = payload_of(data)
        if payload is None:
            return []
        kind, audio = payload
        self.packets += 1
        decoded = ulaw_decode(audio) if kind == PCMU else alaw_decode(audio)
        self._pending = np.concatenate([self._pending, decoded])
        whole = len(self._pending) // FRAME * FRAME
        out = list(self._pending[:whole].reshape(-1, FRAME))
        self._pending = self._pending[whole:]
        return out

    def forward(self, data: bytes, to: Rtp) -> None:
        """Relay a received packet to the other leg of a bridge: the payload as it is when both
        legs speak the same codec in 20 ms packets, else decoded and encoded again."""
        payload = payload_of(data)
        if payload is None:
            return
        kind, audio = payload
        if kind == to.payload_type and len(audio) == FRAME and not len(self._pending):
            self.packets += 1
            to.relayed.append(audio)
            return
        for frame in self.frames(data):
            to.relayed.append(encode(frame, to.payload_type))

    # --- sending --------------------------------------------------------------------------------
    def send(self, payload: bytes) -> None:
        """One packet of ``payload`` (20 ms, already in the negotiated codec) to the far end."""
        if self.muted:  # time goes on for the stream while we are held
            self._stamp = (self._stamp + FRAME) & 0xFFFFFFFF
        if self.transport is None or self.remote is None or self.muted:
            return
        marker = 0x80 if self.sent == 0 else 0
        header = struct.pack(
            "!BBHII", 0x80, marker | self.payload_type, self._seq, self._stamp, self._ssrc
        )
        self.transport.sendto(header + payload, self.remote)
        self.sent += 1
        self._seq = (self._seq + 1) & 0xFFFF
        self._stamp = (self._stamp + FRAME) & 0xFFFFFFFF

    def play(self, remote: tuple[str, int], payload_type: int) -> None:
        """Start sending to ``remote`` every 20 ms (silence until there is something to play)."""
        self.remote, self.payload_type = remote, payload_type
        MediaClock.of_running_loop().add(self)

    def play_once(self, samples: Samples) -> None:
        """Play ``samples`` once, in whole frames, ahead of the hold audio (R-X-14)."""
        usable = samples[: len(samples) // FRAME * FRAME]
        self._once = encode(usable, self.payload_type)

    def relay(self, payload: bytes) -> None:
        """20 ms of voice for the far end, in its codec: played in order, at most 200 ms behind."""
        self.relayed.append(payload)

    def next_payload(self) -> bytes:
        """What to send now: relayed voice, else the hold audio (looped), else silence."""
        if self.relayed:
            return self.relayed.popleft()
        kind = self.payload_type
        if self._once and not self.bridged:
            payload, self._once = self._once[:FRAME], self._once[FRAME:]
            return payload
        if self.bridged or self.hold is None or len(self.hold) < FRAME:
            return _SILENCE[kind]
        if self._hold_encoded is None or self._hold_encoded[0] != kind:
            usable = self.hold[: len(self.hold) // FRAME * FRAME]
            self._hold_encoded = (kind, encode(usable, kind))
        held = self._hold_encoded[1]
        if self._hold_at + FRAME > len(held):
            self._hold_at = 0  # the hold audio loops
        payload = held[self._hold_at : self._hold_at + FRAME]
        self._hold_at += FRAME
        return payload

    def close(self) -> None:
        for clock in MediaClock.clocks():
            clock.remove(self)
        if self.transport is not None:
            self.transport.close()


def encode(samples: Samples, payload_type: int) -> bytes:
    return ulaw_encode(samples) if payload_type == PCMU else alaw_encode(samples)


_SILENCE = {PCMU: encode(SILENCE, PCMU), PCMA: encode(SILENCE, PCMA)}


class MediaClock:
    """One task per event loop sends the next packet of every playing leg each 20 ms: a
    thousand legs cost one wake-up, not a thousand."""

    _clocks: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MediaClock]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self) -> None:
        self.legs: dict[Rtp, None] = {}  # an ordered set
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def of_running_loop(cls) -> MediaClock:
        loop = asyncio.get_running_loop()
        clock = cls._clocks.get(loop)
        if clock is None:
            clock = cls._clocks[loop] = MediaClock()
        return clock

    @classmethod
    def clocks(cls) -> list[MediaClock]:
        return list(cls._clocks.values())

    def add(self, leg: Rtp) -> None:
        self.legs[leg] = None
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def remove(self, leg: Rtp) -> None:
        self.legs.pop(leg, None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time()
        while self.legs:
            for leg in list(self.legs):
                leg.send(leg.next_payload())
            due += PTIME
            if loop.time() - due > 10 * PTIME:  # the loop was busy: no burst to catch up
                due = loop.time()
            await asyncio.sleep(max(0.0, due - loop.time()))
