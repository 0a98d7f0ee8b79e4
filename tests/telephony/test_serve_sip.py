"""A customer-first callback end to end through ``dialback serve --sip`` (issue 6): the customer
(sipp) answers and says hello, call progress analysis hears a live voice, the engine converts the
callback and offers it to the agent, the agent accepts, dialback calls the agent's phone (baresip)
and relays RTP between the two legs; the agent's recording holds the customer's voice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dialback.telephony.cpa.audio import ulaw_encode

from ..integration.conftest import eventually, ok
from . import baresip, corpus, sipp
from .baresip import recorded, tone_seconds, write_wav
from .conftest import require
from .serving import SLOW_MACHINE, bearer, serve_sip

CUSTOMER_TONE = 1400.0  # what the customer "says" after hello: easy to find in a recording
AGENT_TONE = 700.0


@pytest.fixture(scope="module")
def tools() -> None:
    require("the SIP end-to-end test was", "sipp", "baresip")


@pytest.fixture
def service(tmp_path: Path, sipp_port: int) -> Iterator[tuple[str, str]]:
    """``dialback serve --sip`` on SQLite, dialing through sipp; yields (url, admin token)."""
    with serve_sip(tmp_path, sipp_port) as found:
        yield found


@pytest.fixture
def customer(tmp_path: Path, tools: None) -> Iterator[int]:
    """sipp answers as the customer: "Hello?", a pause, then a steady tone (their voice)."""
    audio = corpus.cat(
        corpus.silence(0.3),
        corpus.speak("Hello?", "en-us", 150),
        corpus.silence(1.5),
        corpus.tone(CUSTOMER_TONE, 25.0, level=6000),
    )
    path = tmp_path / "customer.ulaw"
    path.write_bytes(ulaw_encode(audio))
    with sipp.sipp(sipp.answer(path), tmp_path / "sipp") as port:
        yield port


@pytest.fixture
def sipp_port(customer: int) -> int:
    return customer


def test_r_cf_5_customer_first_callback_reaches_the_agents_phone_with_the_customers_voice(
    tmp_path: Path, service: tuple[str, str]
) -> None:
    url, token = service
    voice = write_wav(tmp_path / "agent.wav", corpus.tone(AGENT_TONE, 30.0, level=6000))
    with (
        baresip.agent_phone(tmp_path / "agent", voice) as phone,
        httpx.Client(base_url=url, headers=bearer(token), timeout=SLOW_MACHINE) as admin,
    ):
        body = {
            "name": "Support",
            "callingPartyNumber": "+14155550199",
            "mediaSettings": {"callback": {"mode": "CustomerFirst", "pacingModifier": 10}},
        }
        queue = ok(admin.post("/api/v2/routing/queues", json=body))["id"]
        bad = admin.post("/api/v2/users", json={"name": "Bo", "sipUri": "tel:+1555"})
        assert (bad.status_code, bad.json()["code"]) == (422, "invalid_sip_uri")
        user = ok(admin.post("/api/v2/users", json={"name": "Ann", "sipUri": phone.uri}))
        assert user["sipUri"] == phone.uri
        agent = user["id"]
        ok(admin.post(f"/api/v2/routing/queues/{queue}/members", json=[{"id": agent}]))
        ok(admin.put(f"/api/v2/users/{agent}/routingstatus", json={"status": "IDLE"}))
        created = ok(
            admin.post(
                "/api/v2/conversations/callbacks",
                json={"queueId": queue, "callbackNumbers": ["+14155552671"]},
            )
        )
        conversation = created["conversation"]["id"]
        callback = created["callbackIdentifiers"][0]["id"]

        def alerting() -> bool:
            work = ok(admin.get(f"/api/v2/users/{agent}/interactions"))["entities"]
            return any(w["id"] == callback and w["state"] == "alerting" for w in work)

        eventually(alerting, timeout=20, what="the answered callback to alert the agent")
        ok(admin.post(f"/api/v2/users/{agent}/interactions/{callback}/accept"))
        eventually(phone.heard, timeout=10, what="the agent's phone to answer")
        recording = phone.heard()[0]

        def customer_heard() -> bool:
            return tone_seconds(recorded(recording), CUSTOMER_TONE) >= 2.0

        eventually(customer_heard, timeout=15, what="the customer's voice at the agent")
        ok(admin.post(f"/api/v2/users/{agent}/interactions/{callback}/hangup"))
        ok(admin.post(f"/api/v2/users/{agent}/interactions/{callback}/wrapup", json={"code": "ok"}))
        details = ok(admin.get(f"/api/v2/analytics/conversations/{conversation}/details"))
    stitched = details["stitched"]
    assert [(d["outcome"], d["sipResponseCode"]) for d in stitched["dials"]] == [
        ("LIVE_VOICE", 200)
    ]
    assert stitched["userId"] == agent and stitched["greetingEnd"] is not None
    assert stitched["greetingEndToAgentMs"] > 0  # the greeting's end came from the audio
    heard = recorded(recording)
    assert tone_seconds(heard, AGENT_TONE) == 0.0  # the agent's own voice is not looped back
    assert tone_seconds(heard, CUSTOMER_TONE) >= 2.0
