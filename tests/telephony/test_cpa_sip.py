"""Issue 15 through real SIP calls: sipp answers and plays a sample of the held-back recordings
over RTP (u-law as PCMU, A-law as PCMA) to dialback's UAC on loopback, and each call's outcome and
cause are the ones the file gives offline.

sipp picks its own SIP port (no ``-p``: nothing chooses a free port for another process to bind
later); the test reads it from the sockets the sipp process holds (the first one it opened)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialback.cli import app
from dialback.domain.model import Outcome
from dialback.telephony.cpa.analyzer import classify
from dialback.telephony.cpa.audio import load
from dialback.telephony.sip.uac import DialReport, DialSettings, dial

from . import corpus_wide, sipp
from .conftest import require

pytestmark = pytest.mark.timeout(900)  # the held-back part is built first (about 20 s)
SAMPLE = 6  # recordings of each kind (live voice, machine) called through SIP


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Outcome]]:
    require(
        "the CPA calls through SIP (issue 15) were",
        "sipp",
        *corpus_wide.TOOLS,
        *corpus_wide.missing_voices(),
    )
    folder = tmp_path_factory.getbasetemp() / "cpa-heldback"  # shared with test_cpa_heldback
    labelled = corpus_wide.build(folder, "heldback")
    picked: list[tuple[Path, Outcome]] = []
    for kind in (Outcome.LIVE_VOICE, Outcome.ANSWERING_MACHINE):
        mine = [(p, o) for p, o, _ in labelled if o is kind]
        picked += mine[:: len(mine) // SAMPLE][:SAMPLE]
    return picked


@contextmanager
def answering(recording: Path, folder: Path) -> Iterator[int]:
    """sipp answers one call and streams the recording (PCMA for an A-law file); yields its SIP
    port, once it is bound."""
    scenario = sipp.answer(recording)
    if recording.suffix == ".alaw":
        scenario = scenario.replace("RTP/AVP 0", "RTP/AVP 8").replace(
            "rtpmap:0 PCMU", "rtpmap:8 PCMA"
        )
        scenario = scenario.replace(',1,0"/>', ',1,8"/>')
    with sipp.uas(scenario, folder) as port:
        yield port


def test_issue15_sip_calls_give_the_outcome_the_recording_gives(
    sample: list[tuple[Path, Outcome]], tmp_path: Path
) -> None:
    settings = DialSettings(ring_timeout=5, transaction_timeout=5)
    with ExitStack() as stack:
        ports = [
            stack.enter_context(answering(path, tmp_path / str(n)))
            for n, (path, _) in enumerate(sample)
        ]

        async def all_calls() -> list[DialReport]:
            return await asyncio.gather(
                *(dial(f"sip:{n}@127.0.0.1:{p}", settings=settings) for n, p in enumerate(ports))
            )

        reports = asyncio.run(all_calls())
    assert len(reports) == 2 * SAMPLE
    for (path, _), report in zip(sample, reports, strict=True):
        offline = classify(load(path))
        assert report.sip_code == 200, (path.name, report)
        assert (report.outcome, report.cause) == (offline.outcome, offline.cause), path.name
        assert report.decided_after == pytest.approx(offline.decided, abs=0.1), path.name
    laws = {path.suffix for path, _ in sample}
    assert laws == {".ulaw", ".alaw"}  # both G.711 laws went over RTP


def test_issue15_the_dial_command_reports_a_held_back_live_answer(
    sample: list[tuple[Path, Outcome]], tmp_path: Path
) -> None:
    path = next(p for p, o in sample if o is Outcome.LIVE_VOICE)
    with answering(path, tmp_path) as port:
        result = CliRunner().invoke(app, ["dial", f"sip:1@127.0.0.1:{port}", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    offline = classify(load(path))
    assert (found["outcome"], found["cause"]) == (offline.outcome.value, offline.cause)
    assert found["decisionSeconds"] <= 4.0
