"""The same calls through a SIP proxy standing in for the trunk (issue 6): kamailio record-routes
every INVITE, so the ACK, CANCEL and BYE must follow the route set; with a password it asks for
credentials first (407), as carriers' trunks do."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from dialback.domain.model import Outcome
from dialback.telephony.sip.digest import Credentials
from dialback.telephony.sip.uac import DialReport, DialSettings, dial

from . import kamailio, sipp
from .conftest import ANSWERED, require

QUICK = DialSettings(ring_timeout=10, transaction_timeout=3.0, media_timeout=1.5)


@pytest.fixture(scope="module", autouse=True)
def proxy_installed() -> None:
    require("the SIP proxy tests were", "kamailio", speech=False)


def through_proxy(
    scenario: str,
    folder: Path,
    settings: DialSettings = QUICK,
    user: str | None = None,
    password: str | None = None,
) -> DialReport:
    with (
        sipp.sipp(scenario, folder / "sipp") as upstream,
        kamailio.proxy(folder / "kamailio", upstream, user, password) as port,
    ):
        return asyncio.run(dial(f"sip:15551230000@127.0.0.1:{port}", settings=settings))


@pytest.mark.parametrize(
    ("played", "outcome"),
    ANSWERED,
)
def test_answered_calls_through_a_proxy(
    audio: dict[str, Path], tmp_path: Path, played: str, outcome: Outcome
) -> None:
    report = through_proxy(sipp.answer(audio[played]), tmp_path)
    assert (report.outcome, report.sip_code) == (outcome, 200), report


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("486 Busy Here", Outcome.BUSY),
        ("404 Not Found", Outcome.SIT_INVALID_NUMBER),
        ("502 Bad Gateway", Outcome.SIT_NO_CIRCUIT),
        ("480 Temporarily Unavailable", Outcome.NO_ANSWER),
        ("603 Decline", Outcome.REJECTED),
        # RFC 3261 §16.7: a proxy turns a 503 from beyond it into a 500
        ("503 Service Unavailable", Outcome.REJECTED),
    ],
)
def test_rejections_through_a_proxy(
    audio: dict[str, Path], tmp_path: Path, status: str, outcome: Outcome
) -> None:
    report = through_proxy(sipp.reject(status), tmp_path)
    code = 500 if status.startswith("503") else int(status[:3])
    assert (report.outcome, report.sip_code) == (outcome, code), report


def test_ring_timeout_cancels_through_a_proxy(audio: dict[str, Path], tmp_path: Path) -> None:
    report = through_proxy(sipp.ring_forever(), tmp_path, replace(QUICK, ring_timeout=1.5))
    assert (report.outcome, report.sip_code, report.cause) == (
        Outcome.NO_ANSWER,
        487,
        "RING-TIMEOUT",
    )


def test_sit_in_early_media_through_a_proxy(audio: dict[str, Path], tmp_path: Path) -> None:
    scenario = sipp.reject("404 Not Found", early_audio=audio["sit"], pause_ms=2500)
    report = through_proxy(scenario, tmp_path)
    assert (report.outcome, report.cause) == (Outcome.SIT_INVALID_NUMBER, "SIT-IC")


def test_a_proxy_asking_for_credentials_gets_them(audio: dict[str, Path], tmp_path: Path) -> None:
    settings = replace(QUICK, credentials=Credentials("dialback", "s3cret"))
    report = through_proxy(sipp.answer(audio["human"]), tmp_path, settings, "dialback", "s3cret")
    assert (report.outcome, report.sip_code) == (Outcome.LIVE_VOICE, 200), report


def test_wrong_credentials_end_after_one_more_try(audio: dict[str, Path], tmp_path: Path) -> None:
    settings = replace(QUICK, credentials=Credentials("dialback", "wrong"))
    with (
        sipp.sipp(sipp.answer(audio["human"]), tmp_path / "sipp") as upstream,
        kamailio.proxy(tmp_path / "kamailio", upstream, "dialback", "s3cret") as port,
    ):
        report = asyncio.run(dial(f"sip:15551230000@127.0.0.1:{port}", settings=settings))
        # sipp never saw an INVITE: call it directly so it ends
        asyncio.run(dial(f"sip:15551230000@127.0.0.1:{upstream}", settings=QUICK))
    assert (report.outcome, report.sip_code, report.cause) == (
        Outcome.REJECTED,
        407,
        "AUTH-FAILED",
    )


def test_a_customer_hanging_up_during_analysis_through_a_proxy(
    audio: dict[str, Path], tmp_path: Path
) -> None:
    report = through_proxy(sipp.hang_up_after(audio["hello_then_gone"], 1000), tmp_path)
    assert (report.outcome, report.cause) == (Outcome.CUSTOMER_HANGUP, "FAR-END-BYE")


def test_an_answer_without_rtp_through_a_proxy_is_an_error(
    audio: dict[str, Path], tmp_path: Path
) -> None:
    report = through_proxy(sipp.answer(None), tmp_path)
    assert (report.outcome, report.sip_code, report.cause) == (Outcome.ERROR, 200, "NO-RTP")
