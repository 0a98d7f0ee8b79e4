"""How many bridged calls one dialback process relays (issue 6: dialback stays in the media path).

Run by hand (not part of the tests):

    .venv/bin/python bench/sip_relay.py                 # 10, 50, 100 and 200 calls, 10 s each
    .venv/bin/python bench/sip_relay.py --calls 50 --seconds 20

Each bridged call is two of dialback's RTP legs (``telephony.sip.rtp.Rtp``) relaying to each other
exactly as a kept ``Call`` does (decode, hand to the other leg, re-encode and send every 20 ms).
The far ends (a customer and an agent per call) live in a second process: each sends a 20 ms
G.711 packet every 20 ms and counts what comes back. Reported per run: dialback's CPU (share of
one core, from ``time.process_time``), packets relayed per second, and what the far ends got
back against what they should have (a relay that cannot keep up falls behind or drops).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import socket
import struct
import sys
import time
from collections.abc import Callable
from typing import Any

from dialback.telephony.sip.rtp import PCMU, Rtp

FRAME_BYTES = 160


class _Leg(asyncio.DatagramProtocol):
    """dialback's receiving side of one leg: frames go to the other leg's sender."""

    def __init__(self, rtp: Rtp) -> None:
        self.rtp = rtp
        self.to: Rtp | None = None
        self.received = 0

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received += 1  # what a kept Call's loop does with a packet of a bridged leg
        if self.to is not None:
            self.rtp.forward(data, self.to)


def _receiver(leg: _Leg) -> Callable[[], asyncio.DatagramProtocol]:
    return lambda: leg


def far_ends(ports: list[int], seconds: float, out: Any) -> None:
    """Every port gets a packet each 20 ms from its own socket; returns what came back."""
    sockets = []
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        sockets.append((s, port))
    out.send([s.getsockname()[1] for s, _ in sockets])
    payload = bytes([0x55]) * FRAME_BYTES
    got = 0
    sent = 0
    start = time.monotonic()
    tick = 0
    while (now := time.monotonic()) - start < seconds:
        for s, port in sockets:
            header = struct.pack("!BBHII", 0x80, PCMU, tick & 0xFFFF, tick * 160, port)
            s.sendto(header + payload, ("127.0.0.1", port))
            sent += 1
            while True:
                try:
                    s.recv(2048)
                except BlockingIOError:
                    break
                got += 1
        tick += 1
        time.sleep(max(0.0, start + tick * 0.02 - time.monotonic()))
    out.send((sent, got, now - start))


async def relay(calls: int, seconds: float) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    legs: list[_Leg] = []
    for _ in range(calls * 2):
        rtp = Rtp()
        leg = _Leg(rtp)
        await rtp.open("127.0.0.1", _receiver(leg))
        legs.append(leg)
    for a, b in zip(legs[::2], legs[1::2], strict=True):
        a.to, b.to = b.rtp, a.rtp
        a.rtp.bridged = b.rtp.bridged = True
    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.Process(
        target=far_ends, args=([leg.rtp.port for leg in legs], seconds, theirs)
    )
    process.start()
    remote = await loop.run_in_executor(None, ours.recv)
    for leg, port in zip(legs, remote, strict=True):
        leg.rtp.play(("127.0.0.1", port), PCMU)
    cpu, wall = time.process_time(), time.perf_counter()
    sent, got, far_seconds = await loop.run_in_executor(None, ours.recv)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    process.join()
    relayed = sum(leg.received for leg in legs)
    for leg in legs:
        leg.rtp.close()
    expected = calls * 2 * far_seconds / 0.02
    return {
        "calls": calls,
        "cpu_share": cpu / wall,
        "relayed_per_s": relayed / wall,
        "far_sent": sent / expected,
        "far_got": got / expected,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, nargs="*", default=[10, 50, 100, 200])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}; "
        f"command: {' '.join(sys.argv)}"
    )
    print("| bridged calls | dialback CPU (one core) | packets in/s | far ends sent | got back |")
    print("|---:|---:|---:|---:|---:|")
    for calls in args.calls:
        r = asyncio.run(relay(calls, args.seconds))
        print(
            f"| {calls} | {r['cpu_share']:.0%} | {r['relayed_per_s']:,.0f} | "
            f"{r['far_sent']:.1%} | {r['far_got']:.1%} |"
        )


if __name__ == "__main__":
    main()
