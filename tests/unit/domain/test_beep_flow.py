"""Issue 15: a machine's beep time on the dial's result, and ``answeringMachineReactionType:
TransferToFlow`` starting after the beep (docs/decisions.md), so the flow's message is recorded;
without a beep the flow starts at once (the dialer has waited for one as long as it would)."""

from __future__ import annotations

from typing import Any

from dialback.domain.effects import HangUpCustomer, PlaceCall, TransferToFlow
from dialback.domain.events import CustomerHungUp, DialCompleted, DialRang, QueueConfigured
from dialback.domain.model import DialResult, EndReason, InteractionId, Outcome, State
from dialback.domain.records import CallAccounted
from dialback.domain.settings import parse_queue
from dialback.domain.timeline import Purpose, SegmentClosed, SegmentType

from .harness import Q, World

CALLER = "+14155550199"
CB = InteractionId("cb1")
TO_FLOW = {"answeringMachineReactionType": "TransferToFlow", "answeringMachineFlow": {"id": "vm"}}


def cf(**callback: Any) -> dict[str, Any]:
    return {
        "callingPartyNumber": CALLER,
        "mediaSettings": {"callback": {"mode": "CustomerFirst", **callback}},
    }


def dialed(**callback: Any) -> tuple[World, PlaceCall]:
    w = World()
    w.queue(cf(**callback))
    w.agents(1)
    w.callback("cb1")
    dial = w.dials()[0]
    w.advance(8.0)  # it dials and rings: the answers below come after the dial was placed
    return w, dial


def machine(analysis: float, beep_end: float | None) -> DialResult:
    beep_start = None if beep_end is None else beep_end - 0.5
    return DialResult(Outcome.ANSWERING_MACHINE, 200, 0.3, None, analysis, beep_start, beep_end)


def flow_segment(w: World) -> Any:
    closed = [e.segment for e in w.log if isinstance(e, SegmentClosed)]
    return next(s for s in closed if s.purpose is Purpose.FLOW and s.type is SegmentType.IVR)


def test_issue15_the_dialer_is_asked_to_wait_for_the_beep_only_when_a_flow_takes_machines() -> None:
    assert dialed(**TO_FLOW)[1].wait_for_beep
    assert not dialed()[1].wait_for_beep  # HangUp (the default) wants no beep
    assert not dialed(answeringMachineReactionType="TransferToQueue")[1].wait_for_beep


def test_issue15_transfer_to_flow_starts_after_the_beep() -> None:
    w, dial = dialed(**TO_FLOW)  # the machine answers 2.5 s before the verdict
    answered = w.now - 2.5
    # the verdict comes 2.5 s after the answer; the beep ends 4 s after it: 1.5 s from now
    effects = w.send(DialCompleted(dial.dial_id, machine(2.5, 4.0)))
    assert w.of(TransferToFlow, effects) == []
    assert w.last("cb1").state is State.CONNECTED
    assert w.of(TransferToFlow, w.advance(1.4)) == []
    assert w.of(TransferToFlow, w.advance(0.2)) == [TransferToFlow(CB, "vm")]
    end = w.last("cb1")
    assert (end.state, end.end_reason, end.outcome) == (
        State.ENDED,
        EndReason.FLOW_OUT,
        Outcome.ANSWERING_MACHINE,
    )
    flow = flow_segment(w)
    assert flow.start == answered + 4.0 and flow.flow_id == "vm"
    dial_segment = next(
        e.segment
        for e in w.log
        if isinstance(e, SegmentClosed) and e.segment.type is SegmentType.CONVERTING
    )
    assert dial_segment.beep_end == answered + 4.0  # the timeline keeps the beep
    assert dial_segment.start == answered


def test_issue15_a_beep_already_over_when_the_verdict_comes_goes_to_the_flow_at_once() -> None:
    w, dial = dialed(**TO_FLOW)
    effects = w.send(DialCompleted(dial.dial_id, machine(5.3, 5.0)))  # the SIP dialer's case
    assert TransferToFlow(CB, "vm") in effects
    assert flow_segment(w).start == w.now


def test_issue15_without_a_beep_the_flow_starts_at_once() -> None:
    w, dial = dialed(**TO_FLOW)
    effects = w.send(DialCompleted(dial.dial_id, machine(12.0, None)))
    assert TransferToFlow(CB, "vm") in effects
    assert w.last("cb1").end_reason is EndReason.FLOW_OUT


def test_issue15_a_live_voice_goes_to_its_flow_at_once_whatever_the_result_says() -> None:
    w, dial = dialed(liveVoiceReactionType="TransferToFlow", liveVoiceFlow={"id": "f1"})
    result = DialResult(Outcome.LIVE_VOICE, 200, 0.3, 0.9, 1.8, None, 9.0)
    assert TransferToFlow(CB, "f1") in w.send(DialCompleted(dial.dial_id, result))


def test_issue15_a_machine_that_hangs_up_before_its_beep_ends_never_reaches_the_flow() -> None:
    w, dial = dialed(**TO_FLOW)
    w.send(DialCompleted(dial.dial_id, machine(2.0, 6.0)))
    w.send(CustomerHungUp(CB))
    end = w.last("cb1")
    assert (end.state, end.end_reason) == (State.ENDED, EndReason.HUNG_UP)
    assert w.of(TransferToFlow, w.advance(10)) == []
    assert w.engine.timers == {}


def test_issue15_a_flow_removed_while_the_beep_sounds_hangs_up_instead() -> None:
    w, dial = dialed(**TO_FLOW)
    w.send(DialCompleted(dial.dial_id, machine(2.0, 3.0)))
    w.send(QueueConfigured(Q, parse_queue(cf())))  # back to HangUp
    effects = w.advance(2)
    assert w.of(TransferToFlow, effects) == []
    assert HangUpCustomer(CB) in effects
    assert w.last("cb1").end_reason is EndReason.HUNG_UP


def test_a_late_ring_puts_the_answer_at_the_ring_for_timeline_flow_and_record() -> None:
    """On a busy machine a dial's ring can be reported after the answer the dialer measured on
    its own clock. The answer is then the ring's time, and the timeline, the flow's start after
    the beep and the abandoned-call record all use that one time (``Core.answer_time``)."""
    w, dial = dialed(**TO_FLOW)
    w.send(DialRang(dial.dial_id))  # reported late: 8 s after the dial
    rang = w.now
    w.advance(0.2)
    # the dialer says the machine answered 2.5 s ago: before the ring was reported
    w.send(DialCompleted(dial.dial_id, machine(2.5, 4.0)))
    converting = [
        e.segment
        for e in w.log
        if isinstance(e, SegmentClosed) and e.segment.type is SegmentType.CONVERTING
    ]
    assert [s.start for s in converting] == [rang]
    assert converting[0].beep_end == rang + 4.0
    (record,) = w.of(CallAccounted)
    assert record.answered_at == rang and record.machine
    assert w.of(TransferToFlow, w.advance(3.7)) == []  # 1.5 s from now unclamped
    assert w.of(TransferToFlow, w.advance(0.2)) == [TransferToFlow(CB, "vm")]
    assert flow_segment(w).start == rang + 4.0
