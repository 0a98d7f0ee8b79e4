"""Real SIP calls over loopback (issue 6): dialback's UAC dials sipp, which answers with recorded
audio, rejects, or rings; every outcome comes back classified. Ten calls at once, an unreachable
trunk, a malformed response and an answer without RTP end with clear outcomes."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialback.cli import app
from dialback.domain.model import Outcome
from dialback.telephony.sip.digest import Credentials
from dialback.telephony.sip.rtp import PCMA
from dialback.telephony.sip.uac import Call, DialReport, DialSettings, dial

from . import sipp
from .conftest import ANSWERED

QUICK = DialSettings(ring_timeout=1.5, transaction_timeout=2.0, media_timeout=1.5)


def call(scenario: str, folder: Path, settings: DialSettings = QUICK) -> DialReport:
    with sipp.sipp(scenario, folder) as port:
        return asyncio.run(dial(f"sip:15551230000@127.0.0.1:{port}", settings=settings))


@pytest.mark.parametrize(
    ("played", "outcome"),
    ANSWERED,
)
def test_answered_calls_are_classified_from_their_audio(
    audio: dict[str, Path], tmp_path: Path, played: str, outcome: Outcome
) -> None:
    report = call(sipp.answer(audio[played]), tmp_path, DialSettings(ring_timeout=10))
    assert report.outcome is outcome, report
    assert report.sip_code == 200 and report.answered_after is not None
    assert report.answered_after == pytest.approx(0.3, abs=0.25)  # sipp rings 300 ms
    assert report.decided_after is not None and report.decided_after <= 3.0
    if outcome is Outcome.LIVE_VOICE:
        assert report.greeting_start == pytest.approx(0.3, abs=0.1)
        start, end = report.greeting_start, report.greeting_end
        assert start is not None and end is not None and end > start


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("486 Busy Here", Outcome.BUSY),
        ("404 Not Found", Outcome.SIT_INVALID_NUMBER),
        ("480 Temporarily Unavailable", Outcome.NO_ANSWER),
        ("503 Service Unavailable", Outcome.SIT_NO_CIRCUIT),
        ("603 Decline", Outcome.REJECTED),
    ],
)
def test_rejections_map_to_outcomes(
    audio: dict[str, Path], tmp_path: Path, status: str, outcome: Outcome
) -> None:
    report = call(sipp.reject(status), tmp_path)
    assert (report.outcome, report.sip_code) == (outcome, int(status[:3]))


def test_ringing_without_answer_is_cancelled(audio: dict[str, Path], tmp_path: Path) -> None:
    report = call(sipp.ring_forever(), tmp_path)
    assert (report.outcome, report.sip_code, report.cause) == (
        Outcome.NO_ANSWER,
        487,
        "RING-TIMEOUT",
    )


def test_sit_in_early_media_decides_before_the_404(audio: dict[str, Path], tmp_path: Path) -> None:
    report = call(sipp.reject("404 Not Found", early_audio=audio["sit"], pause_ms=2500), tmp_path)
    assert (report.outcome, report.cause) == (Outcome.SIT_INVALID_NUMBER, "SIT-IC")


def test_a_customer_hanging_up_during_analysis(audio: dict[str, Path], tmp_path: Path) -> None:
    """They said hello and hung up before the analysis decided (800 ms of silence)."""
    report = call(sipp.hang_up_after(audio["hello_then_gone"], 1000), tmp_path)
    assert (report.outcome, report.sip_code, report.cause) == (
        Outcome.CUSTOMER_HANGUP,
        200,
        "FAR-END-BYE",
    )
    assert report.decided_after is not None and report.decided_after < 1.5


def test_a_kept_call_answers_a_re_invite_putting_it_on_hold(
    audio: dict[str, Path], tmp_path: Path
) -> None:
    """The customer's side re-INVITEs after the answer (PCMA only, sendonly): the leg answers
    with PCMA recvonly (sipp checks the SDP), stops sending, and hangs up cleanly later."""

    async def kept(port: int) -> tuple[DialReport, int, bool, int]:
        leg = Call(f"sip:15551230000@127.0.0.1:{port}", keep=True, settings=QUICK)
        report = await leg.run()
        for _ in range(100):
            if leg.rtp.payload_type == PCMA:
                break
            await asyncio.sleep(0.05)
        muted, sent = leg.rtp.muted, leg.rtp.sent
        await asyncio.sleep(0.3)
        quiet = leg.rtp.sent - sent  # packets sent while held
        await leg.hang_up()
        return report, leg.rtp.payload_type, muted, quiet

    exits: list[int] = []
    with sipp.sipp(sipp.re_invite_after(audio["human"], 2500), tmp_path, exits=exits) as port:
        report, codec, muted, quiet = asyncio.run(kept(port))
    assert report.outcome is Outcome.LIVE_VOICE
    assert (codec, muted, quiet) == (PCMA, True, 0)
    assert exits == [0], (tmp_path / "sipp.log").read_text()


def test_an_answer_without_rtp_is_an_error(audio: dict[str, Path], tmp_path: Path) -> None:
    report = call(sipp.answer(None), tmp_path)
    assert (report.outcome, report.sip_code, report.cause) == (Outcome.ERROR, 200, "NO-RTP")


def test_a_trunk_asking_for_credentials_gets_them_once(
    audio: dict[str, Path], tmp_path: Path
) -> None:
    """401 from the far end (sipp checks the answer: ``verifyauth``); 407 from a proxy is
    tested through kamailio."""
    scenario = sipp.challenge(audio["human"], "dialback", "s3cret")
    settings = replace(QUICK, ring_timeout=10, credentials=Credentials("dialback", "s3cret"))
    report = call(scenario, tmp_path, settings)
    assert (report.outcome, report.sip_code) == (Outcome.LIVE_VOICE, 200), report


@pytest.mark.parametrize(
    ("credentials", "code", "cause"),
    [(None, 401, "AUTH-NEEDED"), (Credentials("dialback", "wrong"), 403, "SIP-403")],
)
def test_missing_or_wrong_credentials_are_rejected(
    audio: dict[str, Path],
    tmp_path: Path,
    credentials: Credentials | None,
    code: int,
    cause: str,
) -> None:
    scenario = sipp.challenge(audio["human"], "dialback", "s3cret")
    if credentials is None:
        scenario = sipp.reject("401 Unauthorized")
    report = call(scenario, tmp_path, replace(QUICK, credentials=credentials))
    assert (report.outcome, report.sip_code, report.cause) == (Outcome.REJECTED, code, cause)


def test_an_unreachable_trunk_is_an_error(audio: dict[str, Path]) -> None:
    port = sipp.free_udp_port()  # nobody listens there
    report = asyncio.run(dial(f"sip:1@127.0.0.1:{port}", settings=QUICK))
    assert report.outcome is Outcome.ERROR and report.sip_code is None


def test_a_malformed_response_is_counted_and_ends_in_error(audio: dict[str, Path]) -> None:
    """A trunk that answers every request with garbage."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))
        server.settimeout(3)
        port = server.getsockname()[1]

        def garbage() -> None:
            try:
                while True:
                    _, addr = server.recvfrom(65535)
                    server.sendto(b"SIP/2.0 2OO OK\r\nVia: ???\r\n\r\n", addr)
            except OSError:
                return

        thread = threading.Thread(target=garbage, daemon=True)
        thread.start()
        report = asyncio.run(dial(f"sip:1@127.0.0.1:{port}", settings=QUICK))
    assert (report.outcome, report.cause) == (Outcome.ERROR, "MALFORMED-RESPONSE")
    assert report.malformed >= 1


def test_ten_calls_at_once_with_mixed_outcomes(audio: dict[str, Path], tmp_path: Path) -> None:
    plan = [
        (sipp.answer(audio["human"]), Outcome.LIVE_VOICE),
        (sipp.answer(audio["machine"]), Outcome.ANSWERING_MACHINE),
        (sipp.answer(audio["fax"]), Outcome.FAX),
        (sipp.answer(audio["human"], ring_ms=900), Outcome.LIVE_VOICE),
        (sipp.reject("486 Busy Here"), Outcome.BUSY),
        (sipp.reject("404 Not Found"), Outcome.SIT_INVALID_NUMBER),
        (sipp.ring_forever(), Outcome.NO_ANSWER),
        (sipp.answer(audio["sit"]), Outcome.SIT_INVALID_NUMBER),
        (sipp.reject("503 Service Unavailable"), Outcome.SIT_NO_CIRCUIT),
        (sipp.answer(audio["machine"], ring_ms=600), Outcome.ANSWERING_MACHINE),
    ]
    settings = DialSettings(ring_timeout=4, transaction_timeout=5)
    with ExitStack() as stack:
        ports = [
            stack.enter_context(sipp.sipp(scenario, tmp_path / str(n)))
            for n, (scenario, _) in enumerate(plan)
        ]

        async def all_calls() -> list[DialReport]:
            return await asyncio.gather(
                *(dial(f"sip:{n}@127.0.0.1:{p}", settings=settings) for n, p in enumerate(ports))
            )

        reports = asyncio.run(all_calls())
    assert [r.outcome for r in reports] == [expected for _, expected in plan]


def test_the_dial_command_prints_the_report(audio: dict[str, Path], tmp_path: Path) -> None:
    with sipp.sipp(sipp.answer(audio["human"]), tmp_path) as port:
        result = CliRunner().invoke(
            app, ["dial", f"sip:15551230000@127.0.0.1:{port}", "--json", "--timeout", "3"]
        )
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert (found["outcome"], found["sipCode"]) == ("LIVE_VOICE", 200)
    assert found["greetingEndSeconds"] > found["greetingStartSeconds"] > 0
    bad = CliRunner().invoke(app, ["dial", "tel:+15551230000"])
    assert bad.exit_code == 2 and "not a sip URI" in bad.output
    half = CliRunner().invoke(app, ["dial", "sip:1@127.0.0.1", "--sip-user", "u"])
    assert half.exit_code == 2 and "--sip-password" in half.output


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (["--sip", "carrier.example"], "not a sip URI"),
        (["--sip", "sip:127.0.0.1", "--flow", "survey"], "FLOW_ID=sip:uri"),
        (["--sip", "sip:127.0.0.1", "--hold-audio", "/nonexistent/hold.wav"], "hold.wav"),
        (["--sip", "sip:127.0.0.1", "--sip-user", "u"], "--sip-password"),
        (["--sip", "sip:127.0.0.1", "--ring-timeout", "0"], "--ring-timeout"),
    ],
)
def test_serve_refuses_bad_sip_options_before_starting(
    tmp_path: Path, options: list[str], complaint: str
) -> None:
    result = CliRunner().invoke(
        app, ["serve", "--db", str(tmp_path / "x.db"), *options], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 2, result.output
    assert complaint in result.output
    assert not (tmp_path / "x.db").exists()  # nothing was set up


@pytest.mark.parametrize(
    ("kind", "outcome", "code"),
    [
        ("human", Outcome.LIVE_VOICE, 200),
        ("busy", Outcome.BUSY, 486),
        ("ring", Outcome.NO_ANSWER, 487),
    ],
)
def test_sip_over_tcp(
    audio: dict[str, Path], tmp_path: Path, kind: str, outcome: Outcome, code: int
) -> None:
    """``;transport=tcp``: one connection, messages framed by Content-Length, no
    retransmissions; sipp listens on TCP and checks every message (exit status 0)."""
    scenario = {
        "human": sipp.answer(audio["human"]),
        "busy": sipp.reject("486 Busy Here"),
        "ring": sipp.ring_forever(),
    }[kind]
    exits: list[int] = []
    with sipp.sipp(scenario, tmp_path, exits=exits, tcp=True) as port:
        target = f"sip:15551230000@127.0.0.1:{port};transport=tcp"
        report = asyncio.run(dial(target, settings=replace(QUICK, ring_timeout=3)))
    assert (report.outcome, report.sip_code) == (outcome, code), report
    assert exits == [0], (tmp_path / "sipp.log").read_text()


def test_a_tcp_trunk_that_refuses_the_connection_is_an_error() -> None:
    port = sipp.free_udp_port()  # nobody listens there on TCP either
    target = f"sip:1@127.0.0.1:{port};transport=tcp"
    report = asyncio.run(dial(target, settings=QUICK))
    assert report.outcome is Outcome.ERROR and report.cause.startswith("NETWORK:"), report
