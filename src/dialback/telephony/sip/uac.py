"""One outbound call leg over SIP: dial, analyse what answers, then hang up or stay up.

The client side of RFC 3261 that a trunk needs: INVITE with an SDP offer (PCMU, PCMA,
telephone-event), retransmission (Timer A) until a response and a transaction timeout (Timer B),
digest authentication (401/407), provisional responses with early media, ACK for every final
response (the route set from Record-Route for a 2xx), CANCEL at the ring timeout, BYE both ways,
and, while the call is up, answering re-INVITEs, OPTIONS and the far end's BYE.

Each leg has its own SIP socket and its own RTP socket. Received audio is decoded (G.711) and fed
to call progress analysis 20 ms at a time; once it has decided, a leg kept up hands its audio to
the other leg of a bridge and plays hold audio, relayed voice or silence to the far
end. SIP goes over UDP, or over one TCP connection to the next hop (``;transport=tcp`` in the
target, or ``DialSettings.transport``). What is not here: TLS, SRTP, codecs other than G.711.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dialback.domain.model import Outcome
from dialback.telephony.cpa.analyzer import (
    CallProgress,
    CpaSettings,
    EarlyMedia,
    outcome_of_response,
)
from dialback.telephony.sip.digest import Credentials, UnsupportedChallenge, authorization
from dialback.telephony.sip.message import (
    MalformedMessage,
    Message,
    branch,
    host_port,
    new_token,
    parse,
    sdp_direction,
    sdp_media,
    uri_of,
)
from dialback.telephony.sip.rtp import PCMA, PCMU, Rtp
from dialback.telephony.sip.tcp import SipTransport, TcpConnection

T1 = 0.5
CANCEL_WAIT = 4.0  # seconds to wait for the final response after our CANCEL
BYE_WAIT = 2.0  # seconds to wait for the answer to our BYE
KEPT = (Outcome.LIVE_VOICE, Outcome.ANSWERING_MACHINE)  # outcomes a kept leg stays up for
ANSWER_DIRECTION = {  # RFC 3264 §6.1: the direction that answers an offer's
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}


@dataclass(frozen=True, slots=True)
class DialSettings:
    ring_timeout: float = 30.0  # seconds from the INVITE to CANCEL (US rules: at least 15)
    transaction_timeout: float = 32.0  # Timer B: no response at all
    media_timeout: float = 3.0  # answered, but no RTP for this long while analysing: ERROR
    kept_media_timeout: float = 60.0  # a leg kept up whose RTP stops this long is over
    local_ip: str = "127.0.0.1"
    transport: str = "udp"  # or "tcp" (also chosen by ";transport=tcp" in the URI)
    credentials: Credentials | None = None  # for a trunk that challenges (401/407)
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
    beep_start: float | None = None  # issue 15: a machine's beep, seconds after the answer
    beep_end: float | None = None
    # seconds from the answer to this report: ``decided_after``, or later when a machine
    # verdict waited for the greeting's beep (``beep_wait``)
    reported_after: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "sipCode": self.sip_code,
            "cause": self.cause,
            "answerSeconds": _round(self.answered_after),
            "greetingStartSeconds": _round(self.greeting_start),
            "greetingEndSeconds": _round(self.greeting_end),
            "decisionSeconds": _round(self.decided_after),
            "beepStartSeconds": _round(self.beep_start),
            "beepEndSeconds": _round(self.beep_end),
            "reportSeconds": _round(self.reported_after),
            "malformedMessages": self.malformed,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


class _Tagged(asyncio.DatagramProtocol):
    """SIP and RTP datagrams of one leg go to one queue, tagged by socket."""

    def __init__(self, queue: asyncio.Queue[Any], tag: str) -> None:
        self.queue, self.tag = queue, tag

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queue.put_nowait((self.tag, data, addr))

    def error_received(self, exc: Exception) -> None:
        self.queue.put_nowait((self.tag, exc, None))


class Call:
    """One outbound call leg: ``await Call(...).run()`` returns its report.

    With ``keep``, a leg whose outcome is live voice or an answering machine stays up after the
    report (``up`` is true) until ``hang_up()`` or the far end hangs up (``on_ended``). Without
    ``analyze`` (an agent's phone, a flow) the answer itself is the outcome: LIVE_VOICE.
    ``cancel()`` gives up a dial in progress (CANCEL, or BYE if it was answered meanwhile)."""

    def __init__(
        self,
        target: str,
        *,
        caller_id: str = "dialback",
        caller_name: str | None = None,
        callback_id: str | None = None,
        settings: DialSettings | None = None,
        keep: bool = False,
        analyze: bool = True,
        on_ringing: Callable[[], None] | None = None,
    ) -> None:
        self.target = target
        self.settings = settings or DialSettings()
        self.caller_id = caller_id
        self.caller_name = caller_name
        self.callback_id = callback_id
        self.keep, self.analyze, self.on_ringing = keep, analyze, on_ringing
        self.relay_to: Rtp | None = None  # the other leg of a bridge: our audio goes there
        self.on_ended: Callable[[str], None] | None = None  # the far end ended a kept leg
        self.call_id = new_token(12)
        self.tag = new_token(4)
        self.branch = branch()
        self.cseq = 1
        self.inbox: asyncio.Queue[Any] = asyncio.Queue()
        self.rtp = Rtp()
        self.transport: SipTransport | None = None
        self.tcp = self.settings.transport == "tcp" or ";transport=tcp" in target.lower()
        self.destination = host_port(target)
        self.port = 0
        self.to_header = f"<{target}>"
        self.remote_to = self.to_header
        self.route: list[str] = []
        self.remote_target = target
        self.malformed = 0
        self.provisional = False
        self.ringing = False
        self.started = 0.0
        self.up = False
        self.ended: str | None = None  # why a kept leg ended
        self._invite_message: Message | None = None
        self._auth_header: tuple[str, str] | None = None
        self._stop = False
        self._serving: asyncio.Task[None] | None = None
        self._bye: Message | None = None
        self._bye_answered = asyncio.Event()
        self._sdp_version = int(time.time())

    # --- messages -------------------------------------------------------------------------------
    @property
    def _via(self) -> str:
        return "TCP" if self.tcp else "UDP"

    def _request(self, method: str, uri: str, via_branch: str, cseq: int, to: str) -> Message:
        ip = self.settings.local_ip
        name = f'"{self.caller_name}" ' if self.caller_name else ""
        headers = [
            ("via", f"SIP/2.0/{self._via} {ip}:{self.port};branch={via_branch};rport"),
            ("max-forwards", "70"),
            ("from", f"{name}<sip:{self.caller_id}@{ip}>;tag={self.tag}"),
            ("to", to),
            ("call-id", self.call_id),
            ("cseq", f"{cseq} {method}"),
        ]
        if method != "CANCEL" and not (method == "ACK" and via_branch == self.branch):
            headers += [("route", r) for r in self.route]
        return Message(f"{method} {uri} SIP/2.0", headers)

    def _sdp(self, codecs: tuple[int, ...] = (PCMU, PCMA), direction: str = "sendrecv") -> bytes:
        """Our SDP: an offer of every codec, or an answer with the one chosen (RFC 3264)."""
        ip = self.settings.local_ip
        self._sdp_version += 1
        names = {PCMU: "PCMU", PCMA: "PCMA"}
        rtpmaps = "".join(f"a=rtpmap:{c} {names[c]}/8000\r\n" for c in codecs)
        return (
            f"v=0\r\no=dialback {self.call_id[:8]} {self._sdp_version} IN IP4 {ip}\r\n"
            f"s=dialback\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {self.rtp.port} RTP/AVP {' '.join(map(str, codecs))} 101\r\n"
            f"{rtpmaps}a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n"
            f"a={direction}\r\n"
        ).encode()

    def _contact(self) -> tuple[str, str]:
        transport = ";transport=tcp" if self.tcp else ""
        return ("contact", f"<sip:dialback@{self.settings.local_ip}:{self.port}{transport}>")

    def _invite(self) -> Message:
        message = self._request("INVITE", self.target, self.branch, self.cseq, self.to_header)
        message.headers.append(self._contact())
        if self._auth_header is not None:
            message.headers.append(self._auth_header)
        if self.callback_id:
            message.headers.append(("x-dialback-callback", self.callback_id))
        message.headers.append(("content-type", "application/sdp"))
        message.body = self._sdp()
        return message

    def _send(self, message: Message, to: tuple[str, int] | None = None) -> None:
        assert self.transport is not None
        self.transport.sendto(message.encode(), to or self._next_hop())

    def _next_hop(self) -> tuple[str, int]:
        return host_port(uri_of(self.route[0])) if self.route else host_port(self.remote_target)

    def _reply(
        self,
        request: Message,
        status: str,
        to: tuple[str, int],
        extra: list[tuple[str, str]] | None = None,
        body: bytes = b"",
    ) -> None:
        keep = ("via", "from", "to", "call-id", "cseq", "record-route")
        headers = [(k, v) for k, v in request.headers if k in keep]
        self._send(Message(f"SIP/2.0 {status}", headers + (extra or []), body), to)

    # --- the call -------------------------------------------------------------------------------
    async def run(self) -> DialReport:
        loop = asyncio.get_running_loop()
        try:
            if self.tcp:
                host, port = self.destination
                connection = await asyncio.wait_for(
                    TcpConnection.open(host, port, self.settings.local_ip, self.inbox),
                    self.settings.transaction_timeout,
                )
                self.transport, self.port = connection, connection.port
            else:
                datagrams, _ = await loop.create_datagram_endpoint(
                    lambda: _Tagged(self.inbox, "sip"), local_addr=(self.settings.local_ip, 0)
                )
                self.transport, self.port = datagrams, datagrams.get_extra_info("sockname")[1]
            await self.rtp.open(self.settings.local_ip, lambda: _Tagged(self.inbox, "rtp"))
            report = await self._dial()
            if self._bye is not None and not self.up:
                await self._bye_done()  # we hung up after the analysis: see the BYE through
            return report
        except (OSError, TimeoutError) as problem:
            reason = str(problem) or type(problem).__name__
            return DialReport(Outcome.ERROR, None, f"NETWORK: {reason}", malformed=self.malformed)
        finally:
            if not self.up:
                self._close()

    def cancel(self) -> None:
        """Give up this dial: CANCEL once it rings, BYE if it was answered meanwhile."""
        self._stop = True

    @property
    def cancelled(self) -> bool:
        return self._stop

    async def _next(self, deadline: float) -> tuple[str, Any, Any] | None:
        """The next datagram or socket error before ``deadline`` (loop time), else None."""
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            return None
        try:
            item: tuple[str, Any, Any] = await asyncio.wait_for(self.inbox.get(), left)
        except TimeoutError:
            return None
        return item

    def _message(self, data: bytes) -> Message | None:
        try:
            return parse(data)
        except MalformedMessage:
            self.malformed += 1
            return None

    async def _dial(self) -> DialReport:
        loop = asyncio.get_running_loop()
        s = self.settings
        self.started = loop.time()
        invite = self._invite_message = self._invite()
        self._send(invite, self.destination)
        early = EarlyMedia(s.cpa.tones)
        retransmit, interval = self.started + (math.inf if self.tcp else T1), T1
        ring_deadline = self.started + s.ring_timeout
        give_up = self.started + s.transaction_timeout
        cancelled, cancel_deadline = False, math.inf
        while True:
            now = loop.time()
            if not self.provisional and now >= give_up:
                reason = "MALFORMED-RESPONSE" if self.malformed else "TIMEOUT"
                return self._report(Outcome.ERROR, None, reason)
            if (
                self.provisional
                and not cancelled
                and (early.result is not None or now >= ring_deadline or self._stop)
            ):
                self._cancel()  # a SIT in early media, rung long enough, or given up
                cancelled, cancel_deadline = True, now + CANCEL_WAIT
            if self.provisional:  # look at early media's verdict every 100 ms
                wake = min(ring_deadline, cancel_deadline, now + 0.1)
            else:
                wake = min(give_up, retransmit, now + 0.1)
            got = await self._next(max(wake, now + 0.02))
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
            tag, data, addr = got
            if tag == "rtp":
                if not isinstance(data, Exception):  # an ICMP error on the media socket
                    for frame in self.rtp.frames(data):
                        early.feed(frame)
                continue
            if isinstance(data, Exception):
                raise OSError(f"unreachable: {data}")
            message = self._message(data)
            if message is None:
                continue
            if not message.is_response:
                if message.method in ("OPTIONS", "BYE"):
                    self._reply(message, "200 OK", addr)
                continue
            if message.method != "INVITE" or message.get("call-id") != self.call_id:
                continue
            if message.get("cseq").split()[0] != str(self.cseq):
                continue  # a late response to the INVITE we authenticated again
            code = message.status
            if code < 200:
                if code > 100 and not self.ringing:  # 180, 183: the far end is alerting
                    self.ringing = True
                    if self.on_ringing is not None:
                        self.on_ringing()
                self.provisional = True  # any provisional (100 too) stops Timer A
                continue
            self.remote_to = message.get("to")
            if code >= 300:
                self._ack_failure()
                if code in (401, 407) and self._authenticate(message, code):
                    invite = self._invite_message = self._invite()
                    self._send(invite, self.destination)
                    retransmit, interval = loop.time() + (math.inf if self.tcp else T1), T1
                    continue
                if early.result is not None:
                    return self._report(early.result[0], code, early.result[1])
                cause = f"SIP-{code}"
                if cancelled and code == 487:
                    cause = "CANCELLED" if self._stop else "RING-TIMEOUT"
                if code in (401, 407):
                    cause = "AUTH-FAILED" if self._auth_header else "AUTH-NEEDED"
                return self._report(outcome_of_response(code), code, cause)
            return await self._answered(message, loop.time() - self.started)

    def _authenticate(self, challenge: Message, code: int) -> bool:
        """Answer a 401/407 once: a new INVITE (new branch, next CSeq) with credentials."""
        credentials = self.settings.credentials
        if credentials is None or self._auth_header is not None:
            return False
        header = challenge.get("www-authenticate" if code == 401 else "proxy-authenticate")
        try:
            value = authorization(header, credentials, "INVITE", self.target)
        except UnsupportedChallenge:
            return False
        name = "authorization" if code == 401 else "proxy-authorization"
        self._auth_header = (name, value)
        self.cseq += 1
        self.branch = branch()
        self.remote_to = self.to_header
        self.provisional = False
        return True

    def _cancel(self) -> None:
        message = self._request("CANCEL", self.target, self.branch, self.cseq, self.to_header)
        if self._auth_header is not None:
            message.headers.append(self._auth_header)
        self._send(message, self.destination)

    def _ack_failure(self) -> None:
        """ACK of a non-2xx final response: same branch, hop by hop (RFC 3261 §17.1.1.3)."""
        ack = self._request("ACK", self.target, self.branch, self.cseq, self.remote_to)
        self._send(ack, self.destination)

    def _ack(self) -> None:
        self._send(self._request("ACK", self.remote_target, branch(), self.cseq, self.remote_to))

    async def _answered(self, ok: Message, answered_after: float) -> DialReport:
        """ACK the 200, listen until call progress analysis decides, then hang up or stay."""
        loop = asyncio.get_running_loop()
        self.route = list(reversed(ok.all("record-route")))
        self.remote_target = uri_of(ok.get("contact")) or self.target
        self._ack()
        media = sdp_media(ok.body)
        if media is None:
            self._send_bye()
            return self._report(Outcome.ERROR, 200, "NO-SDP-ANSWER", answered_after)
        address, port, kinds = media
        codec = next((k for k in kinds if k in (PCMU, PCMA)), None)
        if codec is None:
            self._send_bye()
            return self._report(Outcome.ERROR, 200, "NO-COMMON-CODEC", answered_after)
        self.rtp.play((address, port), codec)  # silence while we listen
        if self._stop:
            self._send_bye()
            return self._report(Outcome.NO_ANSWER, 200, "CANCELLED-ANSWERED", answered_after)
        if not self.analyze:
            return self._stay(self._report(Outcome.LIVE_VOICE, 200, "ANSWERED", answered_after))
        progress = CallProgress(self.settings.cpa)
        last_media = loop.time()
        while True:
            now = loop.time()
            if self._stop:  # given up while we listened: the callback no longer wants this call
                self._send_bye()
                return self._report(Outcome.NO_ANSWER, 200, "CANCELLED-ANSWERED", answered_after)
            if now - last_media > self.settings.media_timeout:
                self._send_bye()
                cause = "NO-RTP" if self.rtp.packets == 0 else "RTP-STOPPED"
                return self._report(Outcome.ERROR, 200, cause, answered_after)
            got = await self._next(now + 0.5)
            if got is None:
                continue
            tag, data, addr = got
            if isinstance(data, Exception):
                continue  # an ICMP error: the media timeout or the far end's BYE decides
            if tag == "rtp":
                last_media = loop.time()
                for frame in self.rtp.frames(data):
                    result = progress.feed(frame)
                    if result is None:
                        continue
                    report = self._report(
                        result.outcome,
                        200,
                        result.cause,
                        answered_after,
                        result.greeting_start,
                        result.greeting_end,
                        result.decided,
                        result.beep_start,
                        result.beep_end,
                        progress.seconds,
                    )
                    if self.keep and result.outcome in KEPT:
                        return self._stay(report)
                    self._send_bye()
                    return report
                continue
            message = self._message(data)
            if message is not None and self._in_dialog(message, addr) == "BYE":
                return self._report(
                    Outcome.CUSTOMER_HANGUP,
                    200,
                    "FAR-END-BYE",
                    answered_after,
                    decided=progress.seconds,
                )

    # --- a leg kept up --------------------------------------------------------------------------
    def _stay(self, report: DialReport) -> DialReport:
        if self.keep:
            self.up = True
            self._serving = asyncio.get_running_loop().create_task(self._serve())
        else:
            self._send_bye()
        return report

    def _in_dialog(self, message: Message, addr: tuple[str, int]) -> str | None:
        """Answer what the far end sends during the call; returns "BYE" when it hangs up."""
        if message.get("call-id") != self.call_id:
            return None
        if message.is_response:
            if message.method == "INVITE" and message.status == 200:
                self._ack()  # our ACK was lost: the 200 comes again
            elif message.method == "BYE":
                self._bye_answered.set()
            return None
        method = message.method
        if method == "BYE":
            self._reply(message, "200 OK", addr)
            return "BYE"
        if method == "INVITE":  # a re-INVITE: hold, a new media address, a session refresh
            media = sdp_media(message.body)
            codecs: tuple[int, ...] = (self.rtp.payload_type,)
            direction = "sendrecv"
            if media is not None:
                codec = next((k for k in media[2] if k in (PCMU, PCMA)), None)
                if codec is None:
                    self._reply(message, "488 Not Acceptable Here", addr)
                    return None
                self.rtp.remote, self.rtp.payload_type = (media[0], media[1]), codec
                codecs = (codec,)
                direction = ANSWER_DIRECTION[sdp_direction(message.body)]
                self.rtp.muted = direction in ("recvonly", "inactive")  # we are on hold
            sdp = [("content-type", "application/sdp")]
            body = self._sdp(codecs, direction)
            self._reply(message, "200 OK", addr, [self._contact(), *sdp], body)
        elif method in ("OPTIONS", "UPDATE", "INFO", "NOTIFY"):
            self._reply(message, "200 OK", addr, [self._contact()])
        elif method != "ACK":
            self._reply(message, "405 Method Not Allowed", addr)
        return None

    async def _serve(self) -> None:
        """While the leg is up: relay its audio, answer its requests, notice its end."""
        loop = asyncio.get_running_loop()
        last_media = loop.time()
        while self.up:
            if loop.time() - last_media > self.settings.kept_media_timeout:
                self._end("RTP-STOPPED")
                self._send_bye()
                return
            got = await self._next(loop.time() + 1.0)
            if got is None:
                continue
            tag, data, addr = got
            if isinstance(data, Exception):
                if tag == "sip" and self.tcp:  # the connection is gone: so is the dialog
                    self._end("CONNECTION-LOST")
                    return
                continue
            if tag == "rtp":
                last_media = loop.time()
                if self.relay_to is not None:
                    self.rtp.forward(data, self.relay_to)
                continue
            message = self._message(data)
            if message is not None and self._in_dialog(message, addr) == "BYE":
                self._end("FAR-END-BYE")
                return

    def _end(self, cause: str) -> None:
        self.up = False
        self.ended = cause
        self._close()
        if self.on_ended is not None:
            self.on_ended(cause)

    async def hang_up(self) -> None:
        """BYE a kept leg and wait (a little) for its answer, sending the BYE again meanwhile."""
        if not self.up:
            return
        self.up = False  # from now on a BYE of the far end's crosses ours
        self.ended = "HUNG-UP"
        self._send_bye()
        await self._bye_done()
        self._close()

    async def _bye_done(self) -> None:
        """Wait (a little) for the answer to our BYE, sending it again meanwhile over UDP."""
        loop = asyncio.get_running_loop()
        give_up, interval = loop.time() + BYE_WAIT, T1
        again = math.inf if self.tcp else loop.time() + interval
        while not self._bye_answered.is_set() and loop.time() < give_up:
            got = await self._next(min(give_up, again))
            if got is None:
                if loop.time() >= again:
                    self._send_bye()  # retransmission (Timer E)
                    interval *= 2
                    again = loop.time() + interval
                continue
            tag, data, addr = got
            if tag == "sip" and isinstance(data, Exception) and self.tcp:
                return  # the connection is closed: nobody will answer
            if tag == "sip" and not isinstance(data, Exception):
                message = self._message(data)
                if message is not None:
                    self._in_dialog(message, addr)

    def _send_bye(self) -> None:
        if self._bye is None:
            cseq = self.cseq + 1
            self._bye = self._request("BYE", self.remote_target, branch(), cseq, self.remote_to)
        self._send(self._bye)

    def _close(self) -> None:
        if self._serving is not None and self._serving is not asyncio.current_task():
            self._serving.cancel()
        if self.transport is not None:
            self.transport.close()
        self.rtp.close()

    def _report(
        self,
        outcome: Outcome,
        code: int | None,
        cause: str,
        answered_after: float | None = None,
        greeting_start: float | None = None,
        greeting_end: float | None = None,
        decided: float | None = None,
        beep_start: float | None = None,
        beep_end: float | None = None,
        reported: float | None = None,
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
            beep_start,
            beep_end,
            decided if reported is None else reported,
        )


def bridge(one: Call, other: Call) -> None:
    """Join two legs kept up: each one's audio is played to the other (an RTP relay)."""
    one.rtp.bridged = other.rtp.bridged = True
    one.relay_to, other.relay_to = other.rtp, one.rtp


async def dial(target: str, **options: Any) -> DialReport:
    return await Call(target, **options).run()
