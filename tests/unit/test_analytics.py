"""Timeline and metrics as Genesys-shaped JSON (issue 3, part 5)."""

from __future__ import annotations

import json

from dialback.api.genesys import aggregates, conversation_detail, iso, stitched
from dialback.domain.events import (
    AgentHungUp,
    AlertAccepted,
    DialCompleted,
    DialRang,
    WrapUpCompleted,
)
from dialback.domain.metrics import GroupBy, aggregate, observations, stitch
from dialback.domain.model import ConversationId, DialResult, Outcome, QueueId
from dialback.domain.settings import ServiceLevel
from dialback.domain.timeline import Timeline

from .domain.harness import World

T0 = 1_795_593_600.0  # 2026-11-25T08:00:00Z


def customer_first_day() -> Timeline:
    w = World(start=T0)
    w.queue(
        {
            "callingPartyNumber": "+14155550199",
            "mediaSettings": {"callback": {"mode": "CustomerFirst"}},
        }
    )
    (a1,) = w.agents(1)  # the clock is now T0 + 1
    cb = w.callback("cb")
    dial = w.dials()[0].dial_id
    w.advance(3)
    w.send(DialRang(dial))
    w.advance(9)
    w.send(DialCompleted(dial, DialResult(Outcome.LIVE_VOICE, 200, 0.3, 1.5, 2.0)))
    w.advance(3)
    w.send(AlertAccepted(a1, cb))
    w.advance(60)
    w.send(AgentHungUp(a1, cb))
    w.advance(20)
    w.send(WrapUpCompleted(a1, cb, "sold"))
    timeline = Timeline()
    timeline.apply(w.log)
    return timeline


def test_iso_times_are_utc_with_milliseconds() -> None:
    assert iso(T0) == "2026-11-25T08:00:00.000Z"
    assert iso(T0 + 1.5) == "2026-11-25T08:00:01.500Z"


def test_conversation_detail_has_genesys_fields() -> None:
    conversation = customer_first_day().conversations[ConversationId("c-cb")]
    body = conversation_detail(conversation)
    json.dumps(body)  # serialisable as it is
    assert body["conversationId"] == "c-cb"
    assert body["conversationStart"] == "2026-11-25T08:00:01.000Z"
    assert body["conversationEnd"] == "2026-11-25T08:01:36.000Z"  # wrap-up at 1 + 95 s
    purposes = [p["purpose"] for p in body["participants"]]
    assert purposes == ["acd", "dialer", "customer", "agent"]
    dialer = body["participants"][1]["sessions"][0]
    assert dialer["mediaType"] == "voice" and dialer["direction"] == "outbound"
    assert [s["segmentType"] for s in dialer["segments"]] == ["dialing", "contacting", "converting"]
    last = dialer["segments"][-1]
    assert last == {
        "segmentStart": "2026-11-25T08:00:11.000Z",
        "segmentEnd": "2026-11-25T08:00:13.000Z",
        "segmentType": "converting",
        "queueId": "q1",
        "disconnectType": "endpoint",
        "sipResponseCodes": [200],
        "callProgressOutcome": "LIVE_VOICE",
    }
    agent = body["participants"][3]
    assert agent["userId"] == "a1"
    (session,) = agent["sessions"]
    metrics = {m["name"]: m["value"] for m in session["metrics"]}
    assert metrics["tTalk"] == 60_000 and metrics["tAcw"] == 20_000 and metrics["tHandle"] == 80_000
    assert metrics["tAnswered"] == 3_000
    assert "tFirstDial" not in metrics  # R-M-2
    wrapup = session["segments"][-1]
    assert (wrapup["segmentType"], wrapup["wrapUpCode"]) == ("wrapup", "sold")
    acd_callback = body["participants"][0]["sessions"][0]
    assert acd_callback["mediaType"] == "callback"
    assert {m["name"] for m in acd_callback["metrics"]} >= {"nOffered", "tWait", "nCfcOffered"}


def test_aggregates_have_genesys_fields_and_milliseconds() -> None:
    timeline = customer_first_day()
    found = [o for c in timeline.conversations.values() for o in observations(c)]
    levels = {QueueId("q1"): ServiceLevel(0.9, 20_000)}
    body = aggregates(aggregate(found, group_by=[GroupBy.QUEUE, GroupBy.MEDIA]), levels)
    json.dumps(body)
    groups = [r["group"] for r in body["results"]]
    assert {"queueId": "q1", "mediaType": "voice"} in groups
    voice = next(
        r for r in body["results"] if r["group"] == {"queueId": "q1", "mediaType": "voice"}
    )
    (interval,) = voice["data"]
    assert interval["interval"] == "2026-11-25T08:00:00.000Z/2026-11-25T08:30:00.000Z"
    stats = {m["metric"]: m["stats"] for m in interval["metrics"]}
    assert stats["tTalk"] == {"count": 1, "sum": 60_000, "min": 60_000, "max": 60_000}
    assert stats["tCfcAcd"]["sum"] == 5_000  # answered at :11, agent at :16
    assert stats["oServiceLevel"] == {
        "ratio": 1.0,
        "numerator": 1.0,
        "denominator": 1,
        "target": 0.9,
    }


def test_stitched_record_as_json() -> None:
    conversation = customer_first_day().conversations[ConversationId("c-cb")]
    body = stitched(stitch(conversation))
    json.dumps(body)
    assert body["grossWaitMs"] == 15_000 and body["netWaitMs"] == 3_000
    assert body["greetingEndToAgentMs"] == 3_500
    assert body["dials"] == [
        {
            "dialId": "cb#1",
            "start": "2026-11-25T08:00:01.000Z",
            "end": "2026-11-25T08:00:13.000Z",
            "outcome": "LIVE_VOICE",
            "sipResponseCode": 200,
            "placedBy": "dialer",
            "answered": "2026-11-25T08:00:11.000Z",  # call progress analysis began
            "beepEnd": None,  # a live voice: no beep (issue 15)
        }
    ]
    assert body["callbackMode"] == "CustomerFirst"
