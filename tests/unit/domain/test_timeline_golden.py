"""Golden scenarios for the timeline and metrics (SPEC §9, R-M-1..5).

Every expected segment and metric value below was worked out by hand from the scenario's
script (times are seconds after the scenario starts), not produced by the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest

from dialback.domain.events import (
    AgentDialed,
    AgentEndedCallback,
    AgentHungUp,
    AgentPresenceChanged,
    AlertAccepted,
    CallbackRequestedOnCall,
    CallbackRescheduled,
    CallHeld,
    CallResumed,
    CustomerHungUp,
    DialCompleted,
    DialRang,
    VoiceCallQueued,
    WrapUpCompleted,
)
from dialback.domain.metrics import GroupBy, aggregate, observations, stitch, totals
from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    ConversationId,
    DialId,
    DialResult,
    InteractionId,
    MediaType,
    Outcome,
    Presence,
)
from dialback.domain.timeline import Purpose, SegmentOpened, Timeline

from .harness import Q, World

A = Purpose.ACD


class Scenario:
    """A World whose clock is read relative to the scenario's start."""

    def __init__(self, queue: dict[str, Any] | None = None, agents: int = 1) -> None:
        self.w = World()
        self.w.queue(queue or {})
        self.agents = self.w.agents(agents)
        self.t0 = self.w.now

    def at(self, t: float) -> World:
        self.w.advance(self.t0 + t - self.w.now)
        return self.w

    def dial(self, n: int) -> DialId:
        return self.w.dials()[n - 1].dial_id

    def timeline(self) -> Timeline:
        timeline = Timeline()
        timeline.apply(self.w.log)
        return timeline

    def segments(
        self, conversation: str, purpose: Purpose, media: MediaType, agent: str | None = None
    ) -> list[tuple[Any, ...]]:
        found = (
            self.timeline()
            .conversations[ConversationId(conversation)]
            .of(purpose, media, AgentId(agent) if agent else None)
        )
        return [
            (
                s.type.value,
                s.start - self.t0,
                None if s.end is None else s.end - self.t0,
                s.how_ended.value if s.how_ended else None,
                s.outcome.value if s.outcome else None,
            )
            for s in found
        ]

    def metrics(self, conversation: str) -> dict[tuple[str, str | None, str], list[float]]:
        """{(metric, agent, media): [values in order]}."""
        found: dict[tuple[str, str | None, str], list[float]] = {}
        for o in observations(self.timeline().conversations[ConversationId(conversation)]):
            found.setdefault((o.name, o.agent_id, o.media.value), []).append(o.value)
        return found


def cf(**callback: Any) -> dict[str, Any]:
    return {
        "callingPartyNumber": "+14155550199",
        "mediaSettings": {"callback": {"mode": "CustomerFirst", **callback}},
    }


def test_r_m_1_agent_first_answered_with_hold() -> None:
    s = Scenario()
    (a1,) = s.agents
    cb = s.w.callback("cb")
    s.at(4).send(AlertAccepted(a1, cb))
    s.at(10).send(AgentDialed(a1, cb))
    s.at(12).send(DialRang(s.dial(1)))
    s.at(20).send(DialCompleted(s.dial(1), DialResult(Outcome.LIVE_VOICE, 200)))
    s.at(60).send(CallHeld(a1, cb))
    s.at(80).send(CallResumed(a1, cb))
    s.at(140).send(CustomerHungUp(cb))
    s.at(145).send(AgentEndedCallback(a1, cb))
    s.at(175).send(WrapUpCompleted(a1, cb, "resolved"))

    assert s.segments("c-cb", A, MediaType.CALLBACK) == [("interact", 0, 4, "answered", None)]
    assert s.segments("c-cb", Purpose.AGENT, MediaType.CALLBACK, "a1") == [
        ("alert", 0, 4, "answered", None),
        ("callback", 4, 10, None, None),
        ("dialing", 10, 12, None, None),
        ("contacting", 12, 20, "dial_ended", "LIVE_VOICE"),
        ("interact", 20, 60, None, None),
        ("hold", 60, 80, None, None),
        ("interact", 80, 140, "customer_hung_up", None),
        ("callback", 140, 145, None, None),
        ("wrapup", 145, 175, "wrapped_up", None),
    ]
    assert s.segments("c-cb", Purpose.CUSTOMER, MediaType.VOICE) == [
        ("interact", 20, 140, "customer_hung_up", None)
    ]
    m = s.metrics("c-cb")
    assert m[("tAlert", "a1", "callback")] == [4]
    assert m[("tAnswered", "a1", "callback")] == [4]
    assert m[("tFirstDial", "a1", "callback")] == [6]
    assert m[("tFirstConnect", "a1", "callback")] == [16]
    assert m[("tDialing", "a1", "callback")] == [2]
    assert m[("tContacting", "a1", "callback")] == [8]
    assert m[("tTalk", "a1", "callback")] == [40, 60]
    assert m[("tHeld", "a1", "callback")] == [20]
    assert m[("tAcw", "a1", "callback")] == [30]
    assert m[("tHandle", "a1", "callback")] == [2 + 8 + 100 + 20 + 30]
    assert m[("nCallbackAttempts", "a1", "callback")] == [1]
    assert m[("nOffered", None, "callback")] == [1]
    assert m[("tWait", None, "callback")] == [4]
    assert m[("tAcd", "a1", "callback")] == [0]
    assert m[("oServiceLevel", None, "callback")] == [1]
    record = stitch(s.timeline().conversations[ConversationId("c-cb")])
    assert (record.gross_wait, record.net_wait, record.agent_id) == (20, 20, "a1")
    assert [(d.outcome, d.start - s.t0, d.end - s.t0) for d in record.dials] == [
        (Outcome.LIVE_VOICE, 10, 20)
    ]


def test_r_m_1_agent_first_no_answer_then_a_redial_that_connects() -> None:
    s = Scenario()
    (a1,) = s.agents
    cb = s.w.callback("cb", numbers=("+14155550100", "+14155550101"))
    s.at(3).send(AlertAccepted(a1, cb))
    s.at(5).send(AgentDialed(a1, cb))
    s.at(30).send(DialCompleted(s.dial(1), DialResult(Outcome.NO_ANSWER, 487)))
    s.at(35).send(AgentDialed(a1, cb))
    s.at(37).send(DialRang(s.dial(2)))
    s.at(45).send(DialCompleted(s.dial(2), DialResult(Outcome.LIVE_VOICE, 200)))
    s.at(105).send(AgentHungUp(a1, cb))
    s.at(110).send(AgentEndedCallback(a1, cb))
    s.at(130).send(WrapUpCompleted(a1, cb, "done"))

    assert s.segments("c-cb", Purpose.AGENT, MediaType.CALLBACK, "a1") == [
        ("alert", 0, 3, "answered", None),
        ("callback", 3, 5, None, None),
        ("dialing", 5, 30, "dial_ended", "NO_ANSWER"),
        ("callback", 30, 35, None, None),
        ("dialing", 35, 37, None, None),
        ("contacting", 37, 45, "dial_ended", "LIVE_VOICE"),
        ("interact", 45, 105, "agent_hung_up", None),
        ("callback", 105, 110, None, None),
        ("wrapup", 110, 130, "wrapped_up", None),
    ]
    m = s.metrics("c-cb")
    assert m[("tFirstDial", "a1", "callback")] == [2]
    assert m[("tFirstConnect", "a1", "callback")] == [42]
    assert m[("nCallbackAttempts", "a1", "callback")] == [1, 1]
    assert m[("tDialing", "a1", "callback")] == [25, 2]
    assert m[("tContacting", "a1", "callback")] == [8]
    assert m[("tHandle", "a1", "callback")] == [27 + 8 + 60 + 20]
    record = stitch(s.timeline().conversations[ConversationId("c-cb")])
    assert [d.outcome for d in record.dials] == [Outcome.NO_ANSWER, Outcome.LIVE_VOICE]
    assert [d.sip_code for d in record.dials] == [487, 200]


def test_r_m_1_agent_first_reschedule_is_a_second_queue_visit() -> None:
    s = Scenario()
    (a1,) = s.agents
    cb = s.w.callback("cb")
    s.at(2).send(AlertAccepted(a1, cb))
    s.at(4).send(AgentDialed(a1, cb))
    s.at(7).send(DialCompleted(s.dial(1), DialResult(Outcome.BUSY, 486)))
    s.at(10).send(CallbackRescheduled(cb, scheduled_time=s.t0 + 3610, by_agent=a1))
    s.at(25).send(WrapUpCompleted(a1, cb, "rescheduled"))
    s.at(3613).send(AlertAccepted(a1, cb))
    s.at(3620).send(AgentEndedCallback(a1, cb))
    s.at(3630).send(WrapUpCompleted(a1, cb, "gave up"))

    assert s.segments("c-cb", A, MediaType.CALLBACK) == [
        ("interact", 0, 2, "answered", None),
        ("scheduled", 10, 3610, None, None),
        ("interact", 3610, 3613, "answered", None),
    ]
    assert s.segments("c-cb", Purpose.AGENT, MediaType.CALLBACK, "a1") == [
        ("alert", 0, 2, "answered", None),
        ("callback", 2, 4, None, None),
        ("dialing", 4, 7, "dial_ended", "BUSY"),
        ("callback", 7, 10, None, None),
        ("wrapup", 10, 25, "wrapped_up", None),
        ("alert", 3610, 3613, "answered", None),
        ("callback", 3613, 3620, None, None),
        ("wrapup", 3620, 3630, "wrapped_up", None),
    ]
    m = s.metrics("c-cb")
    assert m[("nOffered", None, "callback")] == [1, 1]
    assert m[("tAnswered", "a1", "callback")] == [2, 3]
    assert m[("tHandle", "a1", "callback")] == [3 + 15, 10]
    assert m[("tFirstDial", "a1", "callback")] == [2]
    assert s.w.last(cb).outcome is Outcome.BUSY


def test_r_m_1_missed_alert_then_another_agent_takes_it() -> None:
    s = Scenario({"mediaSettings": {"callback": {"alertingTimeoutSeconds": 10}}}, agents=2)
    a1, a2 = s.agents
    s.w.send(AgentPresenceChanged(a2, Presence.OFF_QUEUE))
    s.t0 = s.w.now
    cb = s.w.callback("cb")
    s.at(15).send(AgentPresenceChanged(a2, Presence.ON_QUEUE))
    s.at(18).send(AlertAccepted(a2, cb))
    s.at(20).send(AgentEndedCallback(a2, cb))
    s.at(30).send(WrapUpCompleted(a2, cb, "x"))

    assert s.segments("c-cb", Purpose.AGENT, MediaType.CALLBACK, "a1") == [
        ("alert", 0, 10, "not_responding", None)
    ]
    assert s.segments("c-cb", Purpose.AGENT, MediaType.CALLBACK, "a2") == [
        ("alert", 15, 18, "answered", None),
        ("callback", 18, 20, None, None),
        ("wrapup", 20, 30, "wrapped_up", None),
    ]
    assert s.segments("c-cb", A, MediaType.CALLBACK) == [("interact", 0, 18, "answered", None)]
    m = s.metrics("c-cb")
    assert m[("tAlert", "a1", "callback")] == [10]
    assert m[("tNotResponding", "a1", "callback")] == [10]
    assert m[("tAlert", "a2", "callback")] == [3]
    assert m[("tAnswered", "a2", "callback")] == [18]
    assert ("tAnswered", "a1", "callback") not in m
    assert m[("tAcd", "a2", "callback")] == [0]
    assert m[("tHandle", "a2", "callback")] == [10]


AGENT_CALLBACK_METRICS = (
    "tFirstDial",
    "tFirstConnect",
    "tHandle",
    "tTalk",
    "tDialing",
    "tContacting",
)


def test_r_m_2_customer_first_live_voice_to_an_agent() -> None:
    s = Scenario(cf())
    (a1,) = s.agents
    cb = s.w.callback("cb")
    s.at(3).send(DialRang(s.dial(1)))
    result = DialResult(
        Outcome.LIVE_VOICE, 200, greeting_start=0.3, greeting_end=1.5, analysis_seconds=2
    )
    s.at(12).send(DialCompleted(s.dial(1), result))
    s.at(15).send(AlertAccepted(a1, cb))
    s.at(75).send(AgentHungUp(a1, cb))
    s.at(95).send(WrapUpCompleted(a1, cb, "sold"))

    assert s.segments("c-cb", Purpose.DIALER, MediaType.VOICE) == [
        ("dialing", 0, 3, None, None),
        ("contacting", 3, 10, None, None),
        ("converting", 10, 12, "dial_ended", "LIVE_VOICE"),
    ]
    assert s.segments("c-cb", A, MediaType.CALLBACK) == [("interact", 0, 12, "converted", None)]
    assert s.segments("c-cb", A, MediaType.VOICE) == [("interact", 12, 15, "answered", None)]
    assert s.segments("c-cb", Purpose.CUSTOMER, MediaType.VOICE) == [
        ("interact", 10, 75, "agent_hung_up", None)
    ]
    assert s.segments("c-cb", Purpose.AGENT, MediaType.VOICE, "a1") == [
        ("alert", 12, 15, "answered", None),
        ("interact", 15, 75, "agent_hung_up", None),
        ("wrapup", 75, 95, "wrapped_up", None),
    ]
    assert s.segments("c-cb", Purpose.AGENT, MediaType.CALLBACK, "a1") == []
    m = s.metrics("c-cb")
    for name in AGENT_CALLBACK_METRICS:  # the dialer owns dialing: no agent callback metrics
        assert (name, "a1", "callback") not in m
    assert m[("tAlert", "a1", "voice")] == [3]
    assert m[("tAnswered", "a1", "voice")] == [3]
    assert m[("tTalk", "a1", "voice")] == [60]
    assert m[("tAcw", "a1", "voice")] == [20]
    assert m[("tHandle", "a1", "voice")] == [80]
    assert m[("nCallbackAttempts", None, "voice")] == [1]
    assert m[("nCfcOffered", None, "callback")] == [1]
    assert m[("tCfcAnswered", None, "voice")] == [3]
    assert m[("tCfcAcd", None, "voice")] == [5]
    assert m[("tFlowOut", None, "callback")] == [12]  # the callback medium converted to voice
    record = stitch(s.timeline().conversations[ConversationId("c-cb")])
    assert (record.gross_wait, record.net_wait) == (15, 3)
    assert record.greeting_end is not None and record.greeting_end - s.t0 == 11.5
    assert record.greeting_end_to_agent == 3.5


def test_r_m_2_customer_first_answering_machine_hung_up() -> None:
    s = Scenario(cf())
    s.w.callback("cb")
    result = DialResult(Outcome.ANSWERING_MACHINE, 200, analysis_seconds=4)
    s.at(20).send(DialCompleted(s.dial(1), result))

    assert s.segments("c-cb", Purpose.DIALER, MediaType.VOICE) == [
        ("dialing", 0, 16, None, None),
        ("converting", 16, 20, "dial_ended", "ANSWERING_MACHINE"),
    ]
    assert s.segments("c-cb", A, MediaType.CALLBACK) == [("interact", 0, 20, "hung_up", None)]
    assert s.segments("c-cb", Purpose.CUSTOMER, MediaType.VOICE) == [
        ("interact", 16, 20, "hung_up", None)
    ]
    m = s.metrics("c-cb")
    assert m[("tAbandon", None, "callback")] == [20]
    assert "nCfcOffered" not in {name for name, _, _ in m}


def test_r_m_2_customer_first_busy_without_retry() -> None:
    s = Scenario(cf())
    s.w.callback("cb")
    s.at(2).send(DialCompleted(s.dial(1), DialResult(Outcome.BUSY, 486)))
    assert s.segments("c-cb", Purpose.DIALER, MediaType.VOICE) == [
        ("dialing", 0, 2, "dial_ended", "BUSY")
    ]
    assert s.segments("c-cb", A, MediaType.CALLBACK) == [("interact", 0, 2, "dispositioned", None)]
    m = s.metrics("c-cb")
    assert m[("tAbandon", None, "callback")] == [2]
    assert m[("nCallbackAttempts", None, "voice")] == [1]
    record = stitch(s.timeline().conversations[ConversationId("c-cb")])
    assert [(d.outcome, d.sip_code) for d in record.dials] == [(Outcome.BUSY, 486)]
    assert record.agent_connected is None and record.gross_wait is None


def test_r_m_2_customer_first_busy_then_a_retry_that_connects_in_one_visit() -> None:
    s = Scenario(cf(maxRetryCount=1, retryDelaySeconds=60))
    (a1,) = s.agents
    cb = s.w.callback("cb")
    s.at(2).send(DialCompleted(s.dial(1), DialResult(Outcome.BUSY, 486)))
    s.at(70).send(DialCompleted(s.dial(2), DialResult(Outcome.LIVE_VOICE, 200)))
    s.at(72).send(AlertAccepted(a1, cb))
    s.at(100).send(AgentHungUp(a1, cb))
    s.at(110).send(WrapUpCompleted(a1, cb, "ok"))

    assert s.segments("c-cb", A, MediaType.CALLBACK) == [
        ("interact", 0, 2, None, None),
        ("scheduled", 2, 62, None, None),
        ("interact", 62, 70, "converted", None),
    ]
    assert s.segments("c-cb", Purpose.DIALER, MediaType.VOICE) == [
        ("dialing", 0, 2, "dial_ended", "BUSY"),
        ("dialing", 62, 70, "dial_ended", "LIVE_VOICE"),
    ]
    m = s.metrics("c-cb")
    assert m[("nOffered", None, "callback")] == [1]  # the retry stayed in the same visit
    assert m[("tFlowOut", None, "callback")] == [2 + 8]  # the retry's wait is not queue time
    assert m[("nCallbackAttempts", None, "voice")] == [1, 1]
    assert m[("tCfcAnswered", None, "voice")] == [2]
    assert m[("tCfcAcd", None, "voice")] == [2]
    record = stitch(s.timeline().conversations[ConversationId("c-cb")])
    assert (record.gross_wait, record.net_wait) == (72, 2)


def test_r_m_2_customer_abandons_while_waiting_after_conversion() -> None:
    s = Scenario(cf(pacingTrigger="Pace"))
    (a1,) = s.agents
    call = InteractionId("v")
    s.w.send(VoiceCallQueued(call, ConversationId("c-v"), Q, "+14155550111", s.w.now))
    s.w.send(AlertAccepted(a1, call))
    s.at(1)
    cb = s.w.callback("cb")
    s.at(9).send(DialCompleted(s.dial(1), DialResult(Outcome.LIVE_VOICE, 200)))
    s.at(39).send(CustomerHungUp(cb))

    assert s.segments("c-cb", A, MediaType.CALLBACK) == [("interact", 1, 9, "converted", None)]
    assert s.segments("c-cb", A, MediaType.VOICE) == [("interact", 9, 39, "abandoned", None)]
    assert s.segments("c-cb", Purpose.CUSTOMER, MediaType.VOICE) == [
        ("interact", 9, 39, "abandoned", None)
    ]
    m = s.metrics("c-cb")
    assert m[("tCfcAbandon", None, "voice")] == [30]
    assert m[("tAbandon", None, "voice")] == [30]
    assert m[("nCfcOffered", None, "callback")] == [1]
    assert m[("oServiceLevel", None, "voice")] == [0]
    assert m[("nOverSla", None, "voice")] == [1]


def test_r_m_3_owned_callback_expiring() -> None:
    owned = {"agentOwnedRouting": {"enableAgentOwnedCallbacks": True, "maxOwnedCallbackHours": 1}}
    s = Scenario(owned)
    (a1,) = s.agents
    s.w.send(AgentPresenceChanged(a1, Presence.OFF_QUEUE))
    s.t0 = s.w.now
    s.w.callback("cb", owner=a1)
    s.at(3601)
    assert s.segments("c-cb", A, MediaType.CALLBACK) == [("interact", 0, 3600, "expired", None)]
    m = s.metrics("c-cb")
    assert m[("tAbandon", None, "callback")] == [3600]
    assert m[("oServiceLevel", None, "callback")] == [0]
    assert m[("nOverSla", None, "callback")] == [1]


def test_r_m_2_live_voice_transferred_to_a_flow() -> None:
    s = Scenario(cf(liveVoiceReactionType="TransferToFlow", liveVoiceFlow={"id": "survey"}))
    s.w.callback("cb")
    s.at(2).send(DialRang(s.dial(1)))
    s.at(10).send(DialCompleted(s.dial(1), DialResult(Outcome.LIVE_VOICE, 200, analysis_seconds=2)))

    assert s.segments("c-cb", Purpose.DIALER, MediaType.VOICE) == [
        ("dialing", 0, 2, None, None),
        ("contacting", 2, 8, None, None),
        ("converting", 8, 10, "dial_ended", "LIVE_VOICE"),
    ]
    assert s.segments("c-cb", A, MediaType.CALLBACK) == [("interact", 0, 10, "flow_out", None)]
    assert s.segments("c-cb", Purpose.FLOW, MediaType.VOICE) == [("ivr", 10, 10, "flow_out", None)]
    flow = s.timeline().conversations[ConversationId("c-cb")].of(Purpose.FLOW, MediaType.VOICE)
    assert flow[0].flow_id == "survey"
    m = s.metrics("c-cb")
    assert m[("nCfcOffered", None, "voice")] == [1]
    assert m[("tCfcFlowOut", None, "voice")] == [2]
    assert m[("tFlowOut", None, "callback")] == [10]


def test_r_m_3_a_waiting_call_flows_out_to_a_callback_that_keeps_its_place() -> None:
    s = Scenario()
    (a1,) = s.agents
    s.w.send(AgentPresenceChanged(a1, Presence.OFF_QUEUE))
    s.t0 = s.w.now
    call = InteractionId("v")
    s.w.send(VoiceCallQueued(call, ConversationId("c-v"), Q, "+14155550111", s.w.now))
    s.at(25).send(
        CallbackRequestedOnCall(call, InteractionId("cb"), CallbackRequest(Q, ("+14155550111",)))
    )
    s.at(30).send(AgentPresenceChanged(a1, Presence.ON_QUEUE))
    s.at(32).send(AlertAccepted(a1, InteractionId("cb")))
    assert s.segments("c-v", A, MediaType.VOICE) == [("interact", 0, 25, "flow_out", None)]
    assert s.segments("c-v", Purpose.CUSTOMER, MediaType.VOICE) == [
        ("interact", 0, 25, "flow_out", None)
    ]
    assert s.segments("c-v", A, MediaType.CALLBACK) == [("interact", 25, 32, "answered", None)]
    m = s.metrics("c-v")
    assert m[("tFlowOut", None, "voice")] == [25]
    assert m[("tAnswered", "a1", "callback")] == [7]
    assert m[("tAcd", "a1", "callback")] == [5]  # queued at 25, first alert at 30
    record = stitch(s.timeline().conversations[ConversationId("c-v")])
    assert record.first_queue_entry == s.t0  # gross wait counts from the caller's entry


@pytest.mark.parametrize("seconds", [900, 1800, 3600])
def test_r_m_3_aggregates_fold_the_same_observations(seconds: int) -> None:
    s = Scenario(cf())
    (a1,) = s.agents
    for i in range(3):
        cb = s.w.callback(f"cb{i}")
        s.at(i * 1000 + 10).send(
            DialCompleted(s.w.dials()[-1].dial_id, DialResult(Outcome.LIVE_VOICE, 200))
        )
        s.at(i * 1000 + 13).send(AlertAccepted(a1, cb))
        s.at(i * 1000 + 60).send(AgentHungUp(a1, cb))
        s.at(i * 1000 + 70).send(WrapUpCompleted(a1, cb, "ok"))
        s.at(i * 1000 + 999)
    timeline = s.timeline()
    found = [o for c in timeline.conversations.values() for o in observations(c)]
    rows = aggregate(found, interval_seconds=seconds, group_by=[GroupBy.QUEUE, GroupBy.AGENT])
    summed = sum(r.metrics["tTalk"].sum for r in rows if "tTalk" in r.metrics)
    assert summed == totals(found)["tTalk"].sum == 3 * 47
    assert all(r.interval_end - r.interval_start == seconds for r in rows)
    assert all(r.interval_start % seconds == 0 for r in rows)


def test_r_m_4_metrics_from_stored_segments_equal_the_live_ones() -> None:
    """Segments written as rows and read back give the same metrics: nothing else is needed."""
    from dialback.store.repository import _segment_from, _segment_row

    s = Scenario(cf(maxRetryCount=1, retryDelaySeconds=60))
    (a1,) = s.agents
    cb = s.w.callback("cb")
    s.at(2).send(DialCompleted(s.dial(1), DialResult(Outcome.BUSY, 486)))
    s.at(70).send(DialCompleted(s.dial(2), DialResult(Outcome.LIVE_VOICE, 200, 0.2, 1.0, 1.0)))
    s.at(72).send(AlertAccepted(a1, cb))
    s.at(100).send(AgentHungUp(a1, cb))
    live = s.timeline().conversations[ConversationId("c-cb")]
    rows = [_segment_row(segment) for segment in live.segments()]
    stored = Timeline()
    stored.apply(SegmentOpened(_segment_from(_Row(row))) for row in rows)
    again = stored.conversations[ConversationId("c-cb")]
    assert observations(again) == observations(live)
    assert stitch(again) == stitch(live)


def test_r_m_5_one_stitched_row_joins_request_dials_and_agent() -> None:
    s = Scenario(cf(maxRetryCount=1, retryDelaySeconds=60))
    (a1,) = s.agents
    cb = s.w.callback("cb")
    s.at(2).send(DialCompleted(s.dial(1), DialResult(Outcome.NO_ANSWER, 487)))
    s.at(70).send(DialCompleted(s.dial(2), DialResult(Outcome.LIVE_VOICE, 200, 0.2, 1.0, 1.0)))
    s.at(75).send(AlertAccepted(a1, cb))
    record = stitch(s.timeline().conversations[ConversationId("c-cb")])
    assert [(d.outcome, d.sip_code) for d in record.dials] == [
        (Outcome.NO_ANSWER, 487),
        (Outcome.LIVE_VOICE, 200),
    ]
    assert (record.gross_wait, record.net_wait) == (75, 5)  # queued at 0; converted at 70
    assert record.greeting_end is not None and record.greeting_end - s.t0 == 70  # 69 + 1.0
    assert record.greeting_end_to_agent == 5
    assert record.agent_id == "a1" and record.ended is None  # still talking


class _Row:
    """A stored row as the reader sees it: columns as attributes."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
