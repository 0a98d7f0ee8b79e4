"""Issue 15 through ``dialback serve --sip``: an answering machine (sipp playing a recorded-style
greeting, then Asterisk's recorded beep) is dialed for a queue whose machines go to a flow
(``answeringMachineReactionType: TransferToFlow``). Call progress analysis waits for the beep;
the dial's recorded result carries the beep's time, the one the file gives offline; and the
flow (a second sipp, called by dialback) starts after the beep has ended."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialback.domain.model import Outcome
from dialback.telephony.cpa.amd import AmdSettings
from dialback.telephony.cpa.analyzer import CallProgress, CpaResult, CpaSettings
from dialback.telephony.cpa.audio import frames, load, ulaw_encode
from dialback.telephony.sip.dialer import BEEP_WAIT_MS, GREETING_END_MS

from ..integration.conftest import eventually, ok
from . import corpus, sipp
from .conftest import require
from .serving import SLOW_MACHINE, bearer, serve_sip

# sipp streams the file from its first byte in 160-byte packets, so dialback's 20 ms frames are
# the file's frames and the beep tracker (whose times are frame counts) sees the same audio at the
# same frame index: the times agree exactly but for a packet lost or reordered on loopback (one
# frame each, two allowed) and the API's millisecond timestamps (1 ms each side).
TOLERANCE = 2 * 0.020 + 0.002
HANG_UP_MS = 12_000  # the machine hangs up this long after the answer (the message is left)


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def offline(path: Path) -> tuple[CpaResult, float]:
    """What the file gives offline when the verdict waits for the beep as the SIP dialer's does
    for a flow, and how much audio had been heard when the result came."""
    settings = CpaSettings(amd=AmdSettings(beep_wait=BEEP_WAIT_MS), greeting_end_ms=GREETING_END_MS)
    progress = CallProgress(settings)
    for frame in frames(load(path)):
        found = progress.feed(frame)
        if found is not None:
            return found, progress.seconds
    return progress.finish(), progress.seconds


@pytest.fixture
def greeting(tmp_path: Path) -> tuple[Path, tuple[CpaResult, float]]:
    """A machine's greeting ending in a beep, and what the file gives offline."""
    require("the beep through SIP (issue 15) was", "sipp")
    audio = corpus.cat(
        corpus.silence(0.3),
        corpus.speak(corpus.MACHINE_TEXTS[0], "en-gb", 170),
        corpus.silence(0.4),
        corpus.prompt("beep"),  # Asterisk's recorded voicemail beep
        corpus.silence(HANG_UP_MS / 1000),  # the machine records what the flow says
    )
    path = tmp_path / "machine.ulaw"
    path.write_bytes(ulaw_encode(audio))
    found = offline(path)
    assert found[0].outcome is Outcome.ANSWERING_MACHINE and found[0].beep_end is not None, found
    assert found[0].decided < found[0].beep_end < found[1]  # the verdict waited for the beep
    return path, found


Far = tuple[int, list[subprocess.Popen[bytes]]]  # a sipp's SIP port and its process


@pytest.fixture
def machine(tmp_path: Path, greeting: tuple[Path, tuple[CpaResult, float]]) -> Iterator[Far]:
    """sipp answers as the machine and hangs up ``HANG_UP_MS`` after the answer."""
    exits: list[int] = []
    running: list[subprocess.Popen[bytes]] = []
    scenario = sipp.hang_up_after(greeting[0], HANG_UP_MS)
    with sipp.uas(scenario, tmp_path / "machine", exits, running) as port:
        yield port, running
    assert exits == [0], (tmp_path / "machine" / "sipp.log").read_text()


@pytest.fixture
def flow(tmp_path: Path, greeting: tuple[Path, tuple[CpaResult, float]]) -> Iterator[Far]:
    """sipp answers as the flow that leaves the message (a prompt), until dialback's BYE: its
    scenario (INVITE, ACK, BYE) completes only if dialback called it and hung it up."""
    prompt = tmp_path / "message.ulaw"
    prompt.write_bytes(ulaw_encode(corpus.speak("This is a message from dialback.", "en-us", 150)))
    exits: list[int] = []
    running: list[subprocess.Popen[bytes]] = []
    with sipp.uas(sipp.answer(prompt), tmp_path / "flow", exits, running) as port:
        yield port, running
    assert exits == [0], (tmp_path / "flow" / "sipp.log").read_text()


def test_issue15_the_beep_time_comes_through_sip_and_the_flow_starts_after_it(
    tmp_path: Path, greeting: tuple[Path, tuple[CpaResult, float]], machine: Far, flow: Far
) -> None:
    (_, (result, reported)) = greeting
    assert result.beep_end is not None
    uri = f"sip:voicemail@127.0.0.1:{flow[0]}"
    with (
        serve_sip(tmp_path / "service", machine[0], "--flow", f"vm={uri}") as (url, token),
        httpx.Client(base_url=url, headers=bearer(token), timeout=SLOW_MACHINE) as admin,
    ):
        reaction = {"answeringMachineReactionType": "TransferToFlow"}
        body = {
            "name": "Support",
            "callingPartyNumber": "+14155550199",
            "mediaSettings": {
                "callback": {
                    "mode": "CustomerFirst",
                    "pacingModifier": 10,
                    **reaction,
                    "answeringMachineFlow": {"id": "vm"},
                }
            },
        }
        queue = ok(admin.post("/api/v2/routing/queues", json=body))["id"]
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

        def ended() -> dict[str, Any] | None:
            found: dict[str, Any] = ok(
                admin.get(f"/api/v2/analytics/conversations/{conversation}/details")
            )
            return found if found["stitched"]["ended"] else None

        details = eventually(ended, timeout=40, what="the machine's call to reach the flow")

        def over() -> bool:  # the machine hangs up; dialback then hangs up the flow's leg
            return all(p.poll() is not None for p in machine[1] + flow[1])

        eventually(over, timeout=HANG_UP_MS / 1000 + 10, what="the machine and the flow to end")
    stitched = details["stitched"]
    assert stitched["howEnded"] is not None
    (dial,) = stitched["dials"]
    assert (dial["outcome"], dial["sipResponseCode"]) == ("ANSWERING_MACHINE", 200)
    # the recorded result carries the beep, where the file has it
    answered = seconds(dial["answered"])
    beep_end = seconds(dial["beepEnd"]) - answered
    print(f"beep end after the answer: SIP {beep_end:.3f} s, file {result.beep_end:.3f} s")
    assert beep_end == pytest.approx(result.beep_end, abs=TOLERANCE)
    # ... and the answer where it was: analysis lasted until the beep was over, not only until
    # the machine verdict (which came seconds before the beep)
    analysed = seconds(dial["end"]) - answered
    print(f"analysis: SIP {analysed:.3f} s, file {reported:.3f} s (verdict {result.decided:.3f} s)")
    assert analysed == pytest.approx(reported, abs=TOLERANCE)
    # the flow took the call after the beep had ended (call progress analysis heard its end)
    segments = [
        s for p in details["participants"] for session in p["sessions"] for s in session["segments"]
    ]
    (flow_segment,) = [s for s in segments if s.get("flowId") == "vm"]
    started = seconds(flow_segment["segmentStart"]) - answered
    print(f"flow started {started:.3f} s after the answer")
    assert beep_end <= started <= beep_end + 1.0
