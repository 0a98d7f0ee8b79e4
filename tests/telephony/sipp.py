"""sipp (Debian's sip-tester) as the called party, one scenario per behaviour, rendered from a
template because sipp reads audio paths, pauses and status codes when it loads a scenario."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from . import processes
from .processes import launch

HEAD = '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="{name}">\n'
INVITE = """<recv request="INVITE" crlf="true"/>
<send><![CDATA[
SIP/2.0 100 Trying
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
"""
RESPONSE = """<send><![CDATA[
SIP/2.0 {status}
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
{sdp_headers}
{sdp}]]></send>
"""
SDP = """v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [rtpstream_audio_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
a=ptime:20
a=sendrecv
"""
OK = """<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
"""
END_CALL = '<recv request="BYE"/>\n' + OK


def _response(status: str, sdp: bool) -> str:
    if sdp:
        return RESPONSE.format(
            status=status,
            sdp_headers="Content-Type: application/sdp\nContent-Length: [len]\n",
            sdp=SDP,
        )
    return RESPONSE.format(status=status, sdp_headers="Content-Length: 0\n", sdp="")


def answer(audio: Path | None, ring_ms: int = 300) -> str:
    """Rings, answers, plays ``audio`` (raw u-law) after the ACK, waits for our BYE."""
    play = (
        f'<nop><action><exec rtp_stream="{audio.resolve()},1,0"/></action></nop>\n' if audio else ""
    )
    return (
        HEAD.format(name="answer")
        + INVITE
        + _response("180 Ringing", False)
        + f'<pause milliseconds="{ring_ms}"/>\n'
        + _response("200 OK", True).replace("<send>", '<send retrans="500">', 1)
        + '<recv request="ACK"/>\n'
        + play
        # On a busy machine our ACK can come after sipp retransmitted its 200, and we ACK that
        # one too (RFC 3261 13.2.2.4): a late duplicate ACK is fine, not an unexpected message.
        + '<label id="acked"/>\n<recv request="ACK" optional="true" next="acked"/>\n'
        + END_CALL
        + "</scenario>\n"
    )


CAPTURE_DIALOG = (
    '<recv request="INVITE" crlf="true" rrs="true"><action>'
    '<ereg regexp=".*" search_in="hdr" header="From:" assign_to="caller"/>'
    '<ereg regexp="sip:[^>;]*" search_in="hdr" header="Contact:" assign_to="contact"/>'
    "</action></recv>"
)


def _request(method: str, cseq: int, body: str = "") -> str:
    """A request of the called party's own, inside the dialog captured by CAPTURE_DIALOG (with
    the route set a proxy recorded, so it goes back through the proxy)."""
    content = "Content-Type: application/sdp\nContent-Length: [len]" if body else ""
    return f"""<send retrans="500"><![CDATA[
{method} [$contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:callee@[local_ip]:[local_port]>;tag=[pid]SIPpTag01[call_number]
To: [$caller]
Call-ID: [call_id]
CSeq: {cseq} {method}
[routes]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
{content or "Content-Length: 0"}

{body}]]></send>
"""


def _answered_playing(name: str, audio: Path) -> str:
    return (
        HEAD.format(name=name)
        + INVITE.replace('<recv request="INVITE" crlf="true"/>', CAPTURE_DIALOG)
        + _response("200 OK", True).replace("<send>", '<send retrans="500">', 1)
        + '<recv request="ACK"/>\n'
        + f'<nop><action><exec rtp_stream="{audio.resolve()},1,0"/></action></nop>\n'
    )


def hang_up_after(audio: Path, ms: int) -> str:
    """Answers, plays ``audio``, and hangs up itself ``ms`` after the ACK (a BYE of its own)."""
    return (
        _answered_playing("hang-up", audio)
        + f'<pause milliseconds="{ms}"/>\n'
        + _request("BYE", 2)
        + '<recv response="200"/>\n'
        + "</scenario>\n"
    )


def re_invite_after(audio: Path, ms: int) -> str:
    """Answers, plays ``audio``; ``ms`` after the ACK puts us on hold with a re-INVITE offering
    PCMA only (``a=sendonly``), checks that the 200 answers PCMA ``recvonly``, ACKs, and waits
    for our BYE."""
    offer = SDP.replace("RTP/AVP 0", "RTP/AVP 8").replace("rtpmap:0 PCMU", "rtpmap:8 PCMA")
    offer = offer.replace("a=sendrecv", "a=sendonly")
    check = (
        '<recv response="200"><action><ereg regexp="m=audio [0-9]+ RTP/AVP 8 101" '
        'search_in="body" check_it="true" assign_to="answer"/>'
        '<ereg regexp="a=recvonly" search_in="body" check_it="true" assign_to="held"/>'
        "</action></recv>\n"
    )
    ack = (
        _request("ACK", 2)
        .replace('<send retrans="500">', "<send>")
        .replace("Max-Forwards: 70", "Max-Forwards: 70\nX-Checked: [$answer] [$held]")
    )
    return (
        _answered_playing("re-invite", audio)
        + f'<pause milliseconds="{ms}"/>\n'
        + _request("INVITE", 2, offer)
        + check
        + ack
        + END_CALL
        + "</scenario>\n"
    )


def reject(status: str, early_audio: Path | None = None, pause_ms: int = 200) -> str:
    """Rejects with ``status`` (after a 183 with ``early_audio`` if given)."""
    early = ""
    if early_audio is not None:
        early = (
            _response("183 Session Progress", True)
            + f'<nop><action><exec rtp_stream="{early_audio.resolve()},1,0"/></action></nop>\n'
        )
    return (
        HEAD.format(name="reject")
        + INVITE
        + early
        + f'<pause milliseconds="{pause_ms}"/>\n'
        + _response(status, False)
        + '<recv request="ACK"/>\n'
        + "</scenario>\n"
    )


def challenge(audio: Path, user: str, password: str) -> str:
    """Asks for digest credentials (401), then answers an INVITE that carries the right ones
    (sipp's ``verifyauth``, which reads Authorization only) and refuses a wrong one with 403."""
    ask = _response("401 Unauthorized", False).replace(
        "Content-Length: 0",
        'WWW-Authenticate: Digest realm="dialback.test", nonce="4a8c1f0b2d", qop="auth", '
        "algorithm=MD5\nContent-Length: 0",
    )
    verify = (
        '<recv request="INVITE" crlf="true"><action><verifyauth assign_to="authvalid" '
        f'username="{user}" password="{password}"/></action></recv>\n'
    )
    good = answer(audio).split(INVITE, 1)[1].removesuffix("</scenario>\n")
    return (
        HEAD.format(name="challenge")
        + INVITE
        + ask
        + '<recv request="ACK"/>\n'
        + verify
        + '<nop test="authvalid" next="good"/>\n'
        + _response("403 Forbidden", False)
        + '<recv request="ACK"/>\n<nop next="end"/>\n<label id="good"/>\n'
        + good
        + '<label id="end"/>\n</scenario>\n'
    )


def ring_forever() -> str:
    """Rings until CANCEL, then 200 to the CANCEL and 487 to the INVITE. The 487 carries the
    INVITE's Via lines (captured from it): a proxy's CANCEL is its own, with only its Via."""
    return (
        HEAD.format(name="ring")
        + INVITE.replace(
            '<recv request="INVITE" crlf="true"/>',
            '<recv request="INVITE" crlf="true"><action><ereg regexp="[0-9]+" search_in="hdr" '
            'header="CSeq:" assign_to="invcseq"/><ereg regexp="Via: [^[:cntrl:]]*'
            '([[:space:]]+Via: [^[:cntrl:]]*)*" search_in="msg" assign_to="invvia"/>'
            "</action></recv>",
        )
        + _response("180 Ringing", False)
        + '<recv request="CANCEL" timeout="120000"/>\n'
        + OK
        + """<send><![CDATA[
SIP/2.0 487 Request Terminated
[$invvia]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [$invcseq] INVITE
Content-Length: 0

]]></send>
<recv request="ACK"/>
</scenario>
"""
    )


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def listening(port: int, tcp: bool = False) -> bool:
    """Whether a UDP socket is bound (or a TCP one listens) on 127.0.0.1:``port``."""
    wanted = f"0100007F:{port:04X}"
    table = Path("/proc/net/tcp" if tcp else "/proc/net/udp").read_text().splitlines()
    return any(wanted in line and (not tcp or line.split()[3] == "0A") for line in table)


@contextmanager
def sipp(
    scenario: str,
    folder: Path,
    calls: int = 1,
    exits: list[int] | None = None,
    tcp: bool = False,
) -> Iterator[int]:
    """Run sipp as a UAS on a free loopback port for the scenario; yields the port. ``exits``
    gets sipp's exit status (0: every call went as the scenario says)."""
    assert shutil.which("sipp"), "sipp is not installed"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scenario.xml"
    path.write_text(scenario)
    logs: list[BinaryIO] = []
    chosen: list[int] = []

    def start() -> tuple[subprocess.Popen[bytes], Path]:
        chosen.append(free_udp_port())
        logs.append((folder / "sipp.log").open("wb"))
        process = subprocess.Popen(
            [
                "sipp", "-sf", str(path), "-i", "127.0.0.1", "-p", str(chosen[-1]),
                "-mi", "127.0.0.1", "-m", str(calls), "-nostdin", "-trace_err",
                "-error_file", str(folder / "err.log"), "-timeout", "60s", "-timeout_error",
                "-t", "t1" if tcp else "u1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=logs[-1],
            cwd=folder,
        )  # fmt: skip
        return process, folder / "sipp.log"

    # a busy machine can take a while to start sipp; ready once its port is bound
    process = launch(start, lambda _: listening(chosen[-1], tcp), "sipp")
    port = chosen[-1]
    try:
        yield port
    finally:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for log in logs:
            log.close()
        if exits is not None:
            exits.append(process.returncode)


def bound_ports(pid: int) -> list[int]:
    """The loopback UDP ports the process has bound, in the order it opened them (by fd)."""
    inodes = {}
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes[target[8:-1]] = int(fd.name)
    ports = []
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        address, inode = fields[1], fields[9]
        if inode in inodes and address.startswith("0100007F:"):
            ports.append((inodes[inode], int(address.split(":")[1], 16)))
    return [port for _, port in sorted(ports)]


@contextmanager
def uas(
    scenario: str,
    folder: Path,
    exits: list[int] | None = None,
    running: list[subprocess.Popen[bytes]] | None = None,
) -> Iterator[int]:
    """sipp answers one call as ``scenario`` says, on a SIP port it picks itself (no ``-p``:
    nothing chooses a free port for it to bind later); yields that port once it and the RTP
    echo pair are bound. ``exits`` gets sipp's exit status (0: the call went as scripted);
    ``running`` the process, for a test that waits for the call to be over."""
    assert shutil.which("sipp"), "sipp is not installed"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.xml").write_text(scenario)
    log = folder / "sipp.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["sipp", "-sf", "scenario.xml", "-i", "127.0.0.1", "-mi", "127.0.0.1", "-m", "1",
             "-nostdin", "-trace_err", "-timeout", "60s", "-timeout_error"],
            stdout=subprocess.DEVNULL, stderr=out, cwd=folder,
        )  # fmt: skip
    found: list[int] = []

    def bound(_: str) -> bool:  # SIP first, then the RTP echo pair (-mp): all three bound
        found[:] = bound_ports(process.pid)
        return len(found) >= 3

    if running is not None:
        running.append(process)
    try:
        processes.wait_ready(process, log, bound, "sipp")
        yield found[0]
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            processes.stop(process)
        if exits is not None:
            exits.append(process.returncode)
