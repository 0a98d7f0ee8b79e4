"""Do-not-call (R-X-7, R-X-8), one active callback per number per queue (R-X-9) and the caller-ID
allowlist (R-X-11), in the engine (docs/compliance.md)."""

from __future__ import annotations

from typing import Any

import pytest

from dialback.api.numbers import normalize_number
from dialback.domain.dnc import parse_change, parse_rows
from dialback.domain.errors import (
    CallerIdNotAllowed,
    DuplicateCallback,
    InvalidPhoneNumber,
    NumberOnDnc,
)
from dialback.domain.events import (
    AgentDialed,
    AlertAccepted,
    CallbackDisconnected,
    CallbackRescheduled,
    DncUpdated,
)
from dialback.domain.model import EndReason, InteractionId, Outcome, QueueId
from dialback.domain.pacing import Reason
from dialback.domain.records import (
    ComplianceRecorded,
    NumbersClaimed,
    NumbersReleased,
    RecordKind,
)

from .harness import Q, World

CALLER = "+14155550199"
A, B = "+14155550100", "+14155550101"


def cf(**compliance: Any) -> dict[str, Any]:
    return {
        "callingPartyNumber": CALLER,
        "mediaSettings": {"callback": {"mode": "CustomerFirst", "maxRetryCount": 3}},
        "compliance": compliance,
    }


# --- R-X-7, R-X-8 ---------------------------------------------------------------------------------
def test_r_x_7_a_number_on_a_dnc_list_is_refused_at_creation() -> None:
    w = World()
    w.queue(cf())
    w.send(DncUpdated("internal", added=(B,)))
    with pytest.raises(NumberOnDnc) as refused:
        w.callback("cb", numbers=(A, B))
    assert refused.value.field == "callbackNumbers[1]"
    assert "cb" not in w.engine.interactions
    w.send(DncUpdated("internal", removed=(B,)))
    w.callback("cb", numbers=(A, B))


def test_r_x_7_numbers_are_compared_in_e164() -> None:
    change = parse_change(
        "internal",
        {"action": "Add", "phoneNumbers": ["(415) 555-0100"], "countryCode": "US"},
        normalize_number,
    )
    assert change.added == (A,)
    rows = parse_rows(
        "internal", [["phoneNumber"], ["+1 415 555 0101"], [""]], normalize_number, None
    )
    assert rows.added == (B,)
    with pytest.raises(InvalidPhoneNumber) as refused:
        parse_rows("internal", [["name", "number"], ["x", "12"]], normalize_number, "US")
    assert refused.value.field == "rows[0]"
    w = World()
    w.queue(cf())
    w.send(change)
    with pytest.raises(NumberOnDnc):
        w.callback("cb", numbers=(A,))


def test_r_x_8_a_number_listed_after_creation_is_not_dialed_and_the_callback_ends() -> None:
    w = World()
    w.queue(cf())
    w.callback("cb", numbers=(A,))  # no agent yet: it waits undialed
    w.send(DncUpdated("internal", added=(A,)))
    w.agents(1)
    assert w.dials() == []
    assert w.decisions()[-1].reason is Reason.NUMBER_ON_DNC
    ended = w.last("cb")
    assert ended.end_reason is EndReason.DO_NOT_CALL
    (record,) = w.of(ComplianceRecorded)
    assert (record.kind, record.number) == (RecordKind.DNC_BLOCKED, A)


def test_r_x_8_a_listed_number_is_skipped_for_the_next_one() -> None:
    w = World()
    w.queue(cf())
    w.agents(1)
    w.callback("cb", numbers=(A, B))
    (first,) = w.dials()
    assert first.number == A
    w.send(DncUpdated("internal", added=(A,)))
    w.complete(first, Outcome.BUSY)
    w.advance(300)  # the retry
    assert [d.number for d in w.dials()] == [A, B]
    w.complete(w.dials()[-1], Outcome.BUSY)
    w.advance(300)  # the next try would be A again: skipped, B instead
    assert [d.number for d in w.dials()] == [A, B, B]


def test_r_x_8_an_agent_s_dial_of_a_listed_number_is_refused() -> None:
    w = World()
    w.queue({"compliance": {}})
    (agent,) = w.agents(1)
    cb = w.callback("cb", numbers=(A,))
    w.send(AlertAccepted(agent, cb))
    w.send(DncUpdated("internal", added=(A,)))
    with pytest.raises(NumberOnDnc):
        w.send(AgentDialed(agent, cb))
    assert w.dials() == []


def test_r_x_8_an_agent_s_next_number_skips_a_listed_one() -> None:
    w = World()
    w.queue({"compliance": {}})
    (agent,) = w.agents(1)
    cb = w.callback("cb", numbers=(A, B))
    w.send(AlertAccepted(agent, cb))
    w.send(DncUpdated("internal", added=(A,)))
    w.send(AgentDialed(agent, cb))
    assert [d.number for d in w.dials()] == [B]


def test_r_x_8_an_auto_dial_skips_listed_numbers_and_dials_none_when_all_are() -> None:
    w = World()
    w.queue(
        {"mediaSettings": {"callback": {"enableAutoDialAndEnd": True, "autoDialDelaySeconds": 5}}}
    )
    (agent,) = w.agents(1)
    cb = w.callback("cb", numbers=(A,))
    w.send(AlertAccepted(agent, cb))
    w.send(DncUpdated("internal", added=(A,)))
    w.advance(10)
    assert w.dials() == []
    (record,) = w.of(ComplianceRecorded)
    assert (record.kind, record.number) == (RecordKind.DNC_BLOCKED, A)


# --- R-X-9 ----------------------------------------------------------------------------------------
def test_r_x_9_a_second_active_callback_for_a_number_is_refused_naming_the_first() -> None:
    w = World()
    w.queue(cf(duplicateCallbacks="Refuse"))
    first = w.callback("first", numbers=(A,))
    with pytest.raises(DuplicateCallback) as refused:
        w.callback("second", numbers=(B, A))
    assert (refused.value.existing, refused.value.conversation) == (first, "c-first")
    assert refused.value.field == "callbackNumbers[1]"
    (claimed,) = w.of(NumbersClaimed)
    assert claimed.numbers == (A,)
    w.send(CallbackDisconnected(first))
    assert w.of(NumbersReleased) == [NumbersReleased(first)]
    w.callback("second", numbers=(B, A))  # the number is free again


def test_r_x_9_the_default_policy_allows_duplicates_and_another_queue_is_another_place() -> None:
    w = World()
    w.queue(cf())
    w.callback("one", numbers=(A,))
    w.callback("two", numbers=(A,))
    other = QueueId("q2")
    w.queue(cf(duplicateCallbacks="Refuse"), queue_id=other)
    w.callback("three", numbers=(A,), queue_id=other)
    assert w.of(NumbersClaimed) == [NumbersClaimed(InteractionId("three"), other, (A,))]


def test_r_x_9_moving_a_callback_to_a_queue_where_its_number_is_active_is_refused() -> None:
    w = World()
    other = QueueId("q2")
    w.queue(cf(duplicateCallbacks="Refuse"))
    w.queue(cf(duplicateCallbacks="Refuse"), queue_id=other)
    w.callback("here", numbers=(A,), scheduled_time=w.now + 3600)
    w.callback("there", numbers=(A,), queue_id=other, scheduled_time=w.now + 3600)
    with pytest.raises(DuplicateCallback):
        w.send(CallbackRescheduled(InteractionId("here"), queue_id=other))
    w.send(CallbackDisconnected(InteractionId("there")))
    w.send(CallbackRescheduled(InteractionId("here"), queue_id=other))
    assert w.engine.guard.active == {(other, A): "here"}


# --- R-X-11 ---------------------------------------------------------------------------------------
def test_r_x_11_a_caller_id_outside_the_queue_s_allowlist_is_refused() -> None:
    w = World()
    w.queue(cf(callerIdAllowlist=[CALLER, "+14155550198"]))
    with pytest.raises(CallerIdNotAllowed) as refused:
        w.callback("spoof", caller_id="+12125550000")
    assert refused.value.field == "callerId"
    own = w.callback("own", caller_id="+14155550198")
    assert own in w.engine.interactions


def test_r_x_11_r_c_4_the_queue_s_caller_id_applies_inside_the_allowlist() -> None:
    w = World()
    w.queue(cf(callerIdAllowlist=[CALLER]))
    w.agents(1)
    w.callback("cb")
    (dial,) = w.dials()
    assert dial.caller_id == CALLER


def test_r_x_11_the_allowlist_must_be_e164() -> None:
    w = World()
    with pytest.raises(InvalidPhoneNumber) as refused:
        w.queue(cf(callerIdAllowlist=["415-555-0199"]))
    assert refused.value.field == "compliance.callerIdAllowlist[0]"
    assert Q not in w.engine.queues
