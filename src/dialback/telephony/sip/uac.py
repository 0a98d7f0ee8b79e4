"""Place one call over SIP/UDP, analyse what answers, and end it.

The client side of RFC 3261 that a trunk needs for an outbound dial: INVITE with an SDP offer
(PCMU, PCMA, telephone-event), retransmission (Timer A) until a response and a transaction
timeout (Timer B), provisional responses with early media, ACK for every final response (the
route set from Record-Route for a 2xx), CANCEL at the ring timeout, BYE, and answering the far
end's BYE. RTP is received on its own socket, decoded (G.711) and fed to call progress analysis
20 ms at a time. What is not here yet: digest authentication, re-INVITE and OPTIONS answering,
TCP, bridging (see the issue notes).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dialback.domain.model import Outcome
from dialback.telephony.cpa.analyzer import (
    CallProgress,
    CpaSettings,
    EarlyMedia,
    outcome_of_response,
)
from dialback.telephony.cpa.audio import FRAME, Samples, alaw_decode, ulaw_decode
from dialback.telephony.sip.message import (
    MalformedMessage,
    Message,
    branch,
    host_port,
    new_token,
    parse,
    sdp_media,
    uri_of,
)

T1 = 0.5
CANCEL_WAIT = 4.0  # seconds to wait for the final response after our CANCEL


@dataclass(frozen=True, slots=True)
class DialSettings:
    ring_timeout: float = 30.0  # seconds from the INVITE to CANCEL (US rules: at least 15)
    transaction_timeout: float = 32.0  # Timer B: no response at all
    media_timeout: float = 3.0  # answered, but no RTP for this long: ERROR
    local_ip: str = "127.0.0.1"
    cpa: CpaSettings = field(default_factory=CpaSettings)


@dataclass
class DialReport:
    outcome: Outcome
    sip_code: int | None
    cause: str
    answered_after: float | None = None  # seconds from the INVITE to the 200
    greeting_start: float | None = None  # seconds after the answer
    greeting_end: float | None = None
    decided_after: float | None = None  # seconds from the answer to the decision
    malformed: int = 0  # datagrams we could not read

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "sipCode": self.sip_code,
            "cause": self.cause,
            "answerSeconds": _round(self.answered_after),
            "greetingStartSeconds": _round(self.greeting_start),
            "greetingEndSeconds": _round(self.greeting_end),
            "decisionSeconds": _round(self.decided_after),
            "malformedMessages": self.malformed,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, tuple[str, int]] | Exception] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait((data, addr))

    def error_received(self, exc: Exception) -> None:
        self.queue.put_nowait(exc)


class Rtp:
    """Receives RTP, decodes G.711 and hands out 20 ms frames."""

    def __init__(self) -> None:
        self.protocol = _Datagrams()
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self._pending = np.zeros(0, dtype=np.int16)
        self.packets = 0

    async def open(self, ip: str) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(20):  # an even port (RFC 3550 §11)
            transport, _ = await loop.create_datagram_endpoint(
                lambda: self.protocol, local_addr=(ip, 0)
            )
            port = transport.get_extra_info("sockname")[1]
            if port % 2 == 0:
                self.transport, self.port = transport, port
                return
            transport.close()
            self.protocol = _Datagrams()
        raise OSError("no even RTP port")

    def frames(self, data: bytes) -> list[Samples]:
        payload = _rtp_payload(data)
        if payload is None:
            return []
        kind, audio = payload
        self.packets += 1
        decoded = ulaw_decode(audio) if kind == 0 else alaw_decode(audio)
        self._pending = np.concatenate([self._pending, decoded])
        whole = len(self._pending) // FRAME * FRAME
        out = list(self._pending[:whole].reshape(-1, FRAME))
        self._pending = self._pending[whole:]
        return out

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _rtp_payload(data: bytes) -> tuple[int, bytes] | None:
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
    if kind not in (0, 8) or end <= start:
        return None
    return kind, data[start:end]


class Call:
    """One outbound call: ``await Call(...).run()`` returns its report."""

    def __init__(
        self,
        target: str,
        *,
        caller_id: str = "dialback",
        callback_id: str | None = None,
        settings: DialSettings | None = None,
    ) -> None:
        self.target = target
        self.settings = settings or DialSettings()
        self.caller_id = caller_id
        self.callback_id = callback_id
        self.call_id = new_token(12)
        self.tag = new_token(4)
        self.branch = branch()
        self.sip = _Datagrams()
        self.rtp = Rtp()
        self.transport: asyncio.DatagramTransport | None = None
        self.destination = host_port(target)
        self.port = 0
        self.to_header = f"<{target}>"
        self.remote_to = self.to_header
        self.route: list[str] = []
        self.remote_target = target
        self.malformed = 0
        self.provisional = False
        self.started = 0.0

    # --- messages -------------------------------------------------------------------------------
    def _request(self, method: str, uri: str, via_branch: str, cseq: int, to: str) -> Message:
        ip = self.settings.local_ip
        headers = [
            ("via", f"SIP/2.0/UDP {ip}:{self.port};branch={via_branch};rport"),
            ("max-forwards", "70"),
            ("from", f"<sip:{self.caller_id}@{ip}>;tag={self.tag}"),
            ("to", to),
            ("call-id", self.call_id),
            ("cseq", f"{cseq} {method}"),
        ]
        if method != "CANCEL" and not (method == "ACK" and via_branch == self.branch):
            headers += [("route", r) for r in self.route]
        return Message(f"{method} {uri} SIP/2.0", headers)

    def _invite(self) -> Message:
        ip = self.settings.local_ip
        message = self._request("INVITE", self.target, self.branch, 1, self.to_header)
        message.headers.append(("contact", f"<sip:dialback@{ip}:{self.port}>"))
        if self.callback_id:
            message.headers.append(("x-dialback-callback", self.callback_id))
        message.headers.append(("content-type", "application/sdp"))
        session = int(time.time())
        message.body = (
            f"v=0\r\no=dialback {session} {session} IN IP4 {ip}\r\ns=dialback\r\n"
            f"c=IN IP4 {ip}\r\nt=0 0\r\nm=audio {self.rtp.port} RTP/AVP 0 8 101\r\n"
            "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n"
            "a=sendrecv\r\n"
        ).encode()
        return message

    def _send(self, message: Message, to: tuple[str, int] | None = None) -> None:
        assert self.transport is not None
        self.transport.sendto(message.encode(), to or self._next_hop())

    def _next_hop(self) -> tuple[str, int]:
        return host_port(uri_of(self.route[0])) if self.route else host_port(self.remote_target)

    def _reply(self, request: Message, status: str, to: tuple[str, int]) -> None:
        headers = [
            (k, v) for k, v in request.headers if k in ("via", "from", "to", "call-id", "cseq")
        ]
        self._send(Message(f"SIP/2.0 {status}", headers), to)

    # --- the call -------------------------------------------------------------------------------
    async def run(self) -> DialReport:
        loop = asyncio.get_running_loop()
        try:
            self.transport, _ = await loop.create_datagram_endpoint(
                lambda: self.sip, local_addr=(self.settings.local_ip, 0)
            )
            self.port = self.transport.get_extra_info("sockname")[1]
            await self.rtp.open(self.settings.local_ip)
            return await self._dial()
        except OSError as problem:
            return DialReport(Outcome.ERROR, None, f"NETWORK: {problem}", malformed=self.malformed)
        finally:
            if self.transport is not None:
                self.transport.close()
            self.rtp.close()

    async def _receive(self, deadline: float) -> tuple[Message, tuple[str, int]] | None:
        """The next readable SIP message before ``deadline`` (loop time), else None."""
        loop = asyncio.get_running_loop()
        while (left := deadline - loop.time()) > 0:
            try:
                item = await asyncio.wait_for(self.sip.queue.get(), left)
            except TimeoutError:
                return None
            if isinstance(item, Exception):
                raise OSError(f"unreachable: {item}")
            data, addr = item
            try:
                return parse(data), addr
            except MalformedMessage:
                self.malformed += 1
        return None

    async def _dial(self) -> DialReport:
        loop = asyncio.get_running_loop()
        s = self.settings
        self.started = loop.time()
        invite = self._invite()
        self._send(invite, self.destination)
        early = EarlyMedia(s.cpa.tones)
        retransmit, interval = self.started + T1, T1
        ring_deadline = self.started + s.ring_timeout
        give_up = self.started + s.transaction_timeout
        cancelled, cancel_deadline = False, math.inf
        early_task = asyncio.ensure_future(self._early_media(early))
        try:
            while True:
                now = loop.time()
                if not self.provisional and now >= give_up:
                    reason = "MALFORMED-RESPONSE" if self.malformed else "TIMEOUT"
                    return self._report(Outcome.ERROR, None, reason)
                if (
                    self.provisional
                    and not cancelled
                    and (early.result is not None or now >= ring_deadline)
                ):
                    self._cancel()  # a SIT in early media, or rung long enough
                    cancelled, cancel_deadline = True, now + CANCEL_WAIT
                if self.provisional:  # look at early media's verdict every 100 ms
                    wake = min(ring_deadline, cancel_deadline, now + 0.1)
                else:
                    wake = min(give_up, retransmit)
                got = await self._receive(max(wake, now + 0.02))
                if got is None:
                    if not self.provisional and loop.time() >= retransmit:
                        self._send(invite, self.destination)
                        interval = min(interval * 2, 4.0)
                        retransmit = loop.time() + interval
                    elif cancelled and loop.time() >= cancel_deadline:
                        if early.result is not None:  # we hung up on the announcement
                            return self._report(early.result[0], None, early.result[1])
                        return self._report(Outcome.NO_ANSWER, None, "CANCELLED-NO-487")
                    continue
                message, addr = got
                if not message.is_response:
                    if message.method in ("OPTIONS", "BYE"):
                        self._reply(message, "200 OK", addr)
                    continue
                if message.method != "INVITE" or message.get("call-id") != self.call_id:
                    continue
                code = message.status
                if code < 200:
                    self.provisional = True
                    continue
                self.remote_to = message.get("to")
                if code >= 300:
                    self._ack_failure()
                    if early.result is not None:
                        return self._report(early.result[0], code, early.result[1])
                    cause = "RING-TIMEOUT" if cancelled and code == 487 else f"SIP-{code}"
                    return self._report(outcome_of_response(code), code, cause)
                early_task.cancel()
                return await self._answered(message, loop.time() - self.started)
        finally:
            early_task.cancel()

    async def _early_media(self, early: EarlyMedia) -> None:
        while early.result is None:
            item = await self.rtp.protocol.queue.get()
            if isinstance(item, Exception):
                continue  # an ICMP error on the media socket: the signalling decides
            for frame in self.rtp.frames(item[0]):
                early.feed(frame)

    def _cancel(self) -> None:
        message = self._request("CANCEL", self.target, self.branch, 1, self.to_header)
        self._send(message, self.destination)

    def _ack_failure(self) -> None:
        """ACK of a non-2xx final response: same branch, hop by hop (RFC 3261 §17.1.1.3)."""
        self._send(
            self._request("ACK", self.target, self.branch, 1, self.remote_to), self.destination
        )

    async def _answered(self, ok: Message, answered_after: float) -> DialReport:
        """ACK the 200, listen until call progress analysis decides, then hang up."""
        loop = asyncio.get_running_loop()
        self.route = list(reversed(ok.all("record-route")))
        self.remote_target = uri_of(ok.get("contact")) or self.target
        self._send(self._request("ACK", self.remote_target, branch(), 1, self.remote_to))
        if sdp_media(ok.body) is None:
            self._bye()
            return self._report(Outcome.ERROR, 200, "NO-SDP-ANSWER", answered_after)
        progress = CallProgress(self.settings.cpa)
        answered = loop.time()
        last_media = answered
        while True:
            now = loop.time()
            if now - last_media > self.settings.media_timeout:
                self._bye()
                cause = "NO-RTP" if self.rtp.packets == 0 else "RTP-STOPPED"
                return self._report(Outcome.ERROR, 200, cause, answered_after)
            media = asyncio.ensure_future(self.rtp.protocol.queue.get())
            signal = asyncio.ensure_future(self._receive(now + 0.5))
            done, _ = await asyncio.wait(
                {media, signal}, timeout=0.5, return_when="FIRST_COMPLETED"
            )
            if media in done:
                item = media.result()
                if not isinstance(item, Exception):
                    last_media = loop.time()
                    for frame in self.rtp.frames(item[0]):
                        result = progress.feed(frame)
                        if result is not None:
                            signal.cancel()
                            self._bye()
                            return self._report(
                                result.outcome,
                                200,
                                result.cause,
                                answered_after,
                                result.greeting_start,
                                result.greeting_end,
                                result.decided,
                            )
            else:
                media.cancel()
            if signal in done:
                got = signal.result()
                if got is not None:
                    message, addr = got
                    if not message.is_response and message.method == "BYE":
                        self._reply(message, "200 OK", addr)
                        return self._report(
                            Outcome.CUSTOMER_HANGUP,
                            200,
                            "FAR-END-BYE",
                            answered_after,
                            decided=progress.seconds,
                        )
                    if not message.is_response and message.method == "OPTIONS":
                        self._reply(message, "200 OK", addr)
                    if message.is_response and message.status == 200 and message.method == "INVITE":
                        self._send(
                            self._request("ACK", self.remote_target, branch(), 1, self.remote_to)
                        )
            else:
                signal.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await signal

    def _bye(self) -> None:
        self._send(self._request("BYE", self.remote_target, branch(), 2, self.remote_to))

    def _report(
        self,
        outcome: Outcome,
        code: int | None,
        cause: str,
        answered_after: float | None = None,
        greeting_start: float | None = None,
        greeting_end: float | None = None,
        decided: float | None = None,
    ) -> DialReport:
        return DialReport(
            outcome,
            code,
            cause,
            answered_after,
            greeting_start,
            greeting_end,
            decided,
            self.malformed,
        )


async def dial(target: str, **options: Any) -> DialReport:
    return await Call(target, **options).run()
