"""The checks every dial passes before it is placed (issue 14, docs/compliance.md): calling
windows (R-X-1..6), do-not-call lists (R-X-7, R-X-8), the lockout after an abandon (R-X-14),
and one active callback per number per queue (R-X-9).

The engine calls these from small hooks (``customer_first._consider``, the agent's dial, the
auto-dial timer, callback creation and end); the state they keep is ``GuardState``.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from dialback.domain.abandonment import (
    BudgetInputs,
    Tally,
    abandon_share,
    budget,
    live_rate,
    risk,
    window_start,
)
from dialback.domain.compliance import DuplicatePolicy, PacingMode
from dialback.domain.errors import (
    CallerIdNotAllowed,
    DialOutsideCallingWindow,
    DuplicateCallback,
    InvalidChoice,
    NumberOnDnc,
    OutsideCallingWindow,
)
from dialback.domain.events import TimerKind
from dialback.domain.guard_state import Pending
from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    DialId,
    DialResult,
    EndReason,
    InteractionId,
    Outcome,
)
from dialback.domain.pacing import Reason
from dialback.domain.records import (
    CallAccounted,
    ComplianceRecorded,
    RecordKind,
)
from dialback.domain.settings import Reaction
from dialback.domain.state import Interaction, QueueState
from dialback.domain.windows import callee_zones, is_open, next_open

if TYPE_CHECKING:
    from dialback.domain.core import Core

_NEVER_OPENS_RETRY = 86_400.0  # a window closed for the whole search horizon: look again daily


# --- calling windows ------------------------------------------------------------------------------
def zones_of(core: Core, queue: QueueState, request: CallbackRequest, index: int) -> list[tzinfo]:
    """R-X-2, R-X-3: the tzinfo of every zone the dial of number ``index`` must respect."""
    window = queue.settings.compliance.calling_window
    return [core.zones(name) for name in callee_zones(request, index, window)]


def window_open(core: Core, queue: QueueState, request: CallbackRequest, index: int) -> bool:
    """R-X-1: the window of number ``index`` is open now (always, when not enabled)."""
    window = queue.settings.compliance.calling_window
    if not window.enabled:
        return True
    return is_open(window, zones_of(core, queue, request, index), core.now)


def opens_at(
    core: Core, queue: QueueState, request: CallbackRequest, index: int, at: float
) -> float:
    """R-X-5: when the window of number ``index`` next opens at or after ``at``."""
    window = queue.settings.compliance.calling_window
    found = next_open(window, zones_of(core, queue, request, index), at)
    return at + _NEVER_OPENS_RETRY if found is None else found


# --- the customer-first dial (called by customer_first._consider) ---------------------------------
def next_number(core: Core, interaction: Interaction) -> int | None:
    """R-X-8: the next number to try (in order across dials, R-CF-7) that no DNC list names,
    or None when every number is listed."""
    request = interaction.request
    assert request is not None
    count = len(request.numbers)
    for step in range(1, count + 1):
        index = (interaction.number_index + step) % count
        if not core.guard.on_dnc(request.numbers[index]):
            return index
    return None


def blocked(core: Core, queue: QueueState, interaction: Interaction) -> tuple[Reason | None, int]:
    """Why the head callback may not be dialed now, checked before pacing (R-X-8, R-X-14,
    R-X-4), and the number it would dial: ``(None, index)`` when nothing stops it."""
    request = interaction.request
    assert request is not None
    index = next_number(core, interaction)
    if index is None:
        return Reason.NUMBER_ON_DNC, (interaction.number_index + 1) % len(request.numbers)
    if core.guard.lockout_until.get(request.numbers[index], 0.0) > core.now:
        return Reason.LOCKED_OUT, index
    if not window_open(core, queue, request, index):
        return Reason.OUTSIDE_CALLING_WINDOW, index
    return None, index


def act_on_block(
    core: Core, queue: QueueState, interaction: Interaction, reason: Reason, index: int
) -> None:
    """A blocked head keeps its place (R-O-3) and waits out of the dialer's order until its
    number may be called (a ``CALLBACK_DUE`` timer puts it back with its key, R-X-5), or, when
    every number is on a DNC list, ends with ``DO_NOT_CALL`` (R-X-8)."""
    request = interaction.request
    assert request is not None
    number = request.numbers[index]
    if reason is Reason.NUMBER_ON_DNC:
        core.sink.compliance_recorded(
            ComplianceRecorded(
                core.now, RecordKind.DNC_BLOCKED, queue.id, interaction.id, number=number
            )
        )
        core.remove_from_queues(interaction)
        core.end(interaction, EndReason.DO_NOT_CALL)
        return
    at = max(core.now, core.guard.lockout_until.get(number, core.now))
    queue.undialed.remove(interaction.id)
    core.start_timer(
        TimerKind.CALLBACK_DUE,
        interaction.id,
        opens_at(core, queue, request, index, at),
        interaction,
    )


# --- agent-first dials --------------------------------------------------------------------------
def auto_dial_number(core: Core, interaction: Interaction) -> int | None:
    """R-X-6, R-X-8: the number an agent-first auto-dial may dial now, or None: a listed number
    is skipped for the next (every number listed: no dial, recorded, the agent decides); outside
    the window the auto-dial moves to the window's opening."""
    queue = core.queues[interaction.queue_id]
    request = interaction.request
    assert request is not None
    index = next_number(core, interaction)
    if index is None:
        number = request.numbers[(interaction.number_index + 1) % len(request.numbers)]
        core.sink.compliance_recorded(
            ComplianceRecorded(
                core.now, RecordKind.DNC_BLOCKED, queue.id, interaction.id, number=number
            )
        )
        return None
    if window_open(core, queue, request, index):
        return index
    core.start_timer(
        TimerKind.AUTO_DIAL,
        interaction.id,
        opens_at(core, queue, request, index, core.now),
        interaction,
    )
    return None


def check_agent_dial(
    core: Core, interaction: Interaction, agent: AgentId, index: int | None, override: bool
) -> int:
    """R-X-6, R-X-8: the number an agent's dial may call: the one asked for, or the next one
    no DNC list names. A listed number asked for, or every number listed, is refused
    (``NumberOnDnc``); outside the window the dial is refused (``DialOutsideCallingWindow``)
    unless the agent asks to override and the queue allows it, which is recorded."""
    queue = core.queues[interaction.queue_id]
    request = interaction.request
    assert request is not None
    if index is None:
        index = next_number(core, interaction)
        if index is None:
            raise NumberOnDnc("every number of this callback is on a do-not-call list")
    number = request.numbers[index]
    if core.guard.on_dnc(number):
        raise NumberOnDnc(f"{number} is on a do-not-call list", field="number_index")
    if window_open(core, queue, request, index):
        return index
    window = queue.settings.compliance.calling_window
    if not (override and window.allow_manual_override):
        opening = opens_at(core, queue, request, index, core.now)
        raise DialOutsideCallingWindow(
            f"the callee's calling window is closed; it opens at {opening:.0f} (epoch seconds)"
        )
    core.sink.compliance_recorded(
        ComplianceRecorded(
            core.now, RecordKind.WINDOW_OVERRIDE, queue.id, interaction.id, number, agent
        )
    )
    return index


# --- a new callback (R-X-4, R-X-7, R-X-11) ------------------------------------------------------
def check_new(core: Core, request: CallbackRequest) -> None:
    """Refuse a callback the queue may not take: a caller ID outside the queue's allowlist
    (``CallerIdNotAllowed``, R-X-11), a number on a DNC list (``NumberOnDnc``, R-X-7), or a
    time scheduled into a closed calling window (``OutsideCallingWindow`` with the next open
    time, R-X-4). A callback due now is accepted in a closed window: it waits (R-X-5)."""
    queue = core.queue(request.queue_id)
    compliance = queue.settings.compliance
    if request.time_zone is not None:
        check_zone(core, request.time_zone, "calleeTimeZone")
    if request.caller_id is not None and not compliance.caller_id_allowed(request.caller_id):
        raise CallerIdNotAllowed(
            f"{request.caller_id} is not among the queue's caller IDs", field="callerId"
        )
    for i, number in enumerate(request.numbers):
        if core.guard.on_dnc(number):
            raise NumberOnDnc(f"{number} is on a do-not-call list", field=f"callbackNumbers[{i}]")
    check_scheduled(core, queue, request, request.scheduled_time)


def check_scheduled(
    core: Core, queue: QueueState, request: CallbackRequest, when: float | None
) -> None:
    """R-X-4: a callback scheduled for ``when`` (None: now) must fall in its first number's
    window; the error names the next open time."""
    if when is None or when <= core.now or not queue.settings.compliance.calling_window.enabled:
        return
    zones = zones_of(core, queue, request, 0)
    window = queue.settings.compliance.calling_window
    if is_open(window, zones, when):
        return
    opening = next_open(window, zones, when)
    raise OutsideCallingWindow(
        "the callee's calling window is closed at that time",
        field="callbackScheduledTime",
        next_open=opening,
    )


def check_zone(core: Core, name: str, field: str) -> None:
    """A zone name the tz database knows, else ``InvalidChoice`` naming ``field``."""
    try:
        core.zones(name)
    except (KeyError, ValueError):
        raise InvalidChoice(f"{name!r} is not an IANA time zone", field=field) from None


# --- one active callback per number per queue (R-X-9) ------------------------------------------
def claim(core: Core, callback_id: InteractionId, request: CallbackRequest) -> None:
    """Hold ``request``'s numbers in its queue, or raise ``DuplicateCallback`` naming the
    active callback that holds one. Nothing is held on a queue whose policy is ``Allow``."""
    queue = core.queue(request.queue_id)
    if queue.settings.compliance.duplicate_callbacks is DuplicatePolicy.ALLOW:
        release(core, callback_id)  # moving to a queue that allows duplicates
        return
    guard = core.guard
    for i, number in enumerate(request.numbers):
        holder = guard.active.get((queue.id, number))
        if holder is not None and holder != callback_id:
            other = core.interactions[holder]
            raise DuplicateCallback(
                f"callback {holder} is already active for {number} in this queue",
                existing=holder,
                conversation=other.conversation_id,
                field=f"callbackNumbers[{i}]",
            )
    release(core, callback_id)  # a callback moving between queues holds only the new one
    numbers = tuple(dict.fromkeys(request.numbers))
    for number in numbers:
        guard.active[(queue.id, number)] = callback_id
    guard.claims[callback_id] = (queue.id, numbers)
    core.sink.numbers_claimed(callback_id, queue.id, numbers)


def release(core: Core, callback_id: InteractionId) -> None:
    """The callback leaves its queue: its numbers are free."""
    if core.guard.release(callback_id):
        core.sink.numbers_released(callback_id)


# --- abandoned-call accounting (R-X-12..15) ---------------------------------------------------
def dial_resolved(
    core: Core, interaction: Interaction, dial_id: DialId, result: DialResult, answered: float
) -> None:
    """A dialer's dial resolved: counted for the live-answer rate; a live voice starts its
    wait for an agent, measured from the greeting end (from call progress analysis, else the
    result's time) against the threshold (R-X-12). ``answered`` is ``Core.answer_time``."""
    queue = core.queues[interaction.queue_id]
    accounting = core.guard.accounting
    ledger = accounting.ledger(queue.id)
    ledger.add(core.now, Tally.RESOLVED)
    if result.outcome not in (Outcome.LIVE_VOICE, Outcome.ANSWERING_MACHINE):
        return
    request = interaction.request
    assert request is not None
    greeting_end = core.now if result.greeting_end is None else answered + result.greeting_end
    number = request.numbers[interaction.number_index]
    if result.outcome is Outcome.ANSWERING_MACHINE:  # for Ofcom's false-positive estimate
        ledger.add(core.now, Tally.MACHINE)
        record = CallAccounted(
            queue.id, interaction.id, dial_id, number, answered, greeting_end, None, False, True
        )
        if queue.settings.callback.answering_machine_reaction is Reaction.TRANSFER_TO_QUEUE:
            accounting.machines[interaction.id] = record  # its record when an agent hears it
        else:
            core.sink.call_accounted(record)
        return
    options = queue.settings.compliance.abandonment
    ledger.add(core.now, Tally.LIVE)
    if interaction.reserved_agent is None:
        ledger.add(core.now, Tally.UNRESERVED_LIVE)
    accounting.pending[interaction.id] = Pending(
        queue.id,
        dial_id,
        number,
        answered,
        greeting_end,
        options.threshold_seconds,
        options.lockout_hours * 3600,
    )
    at = max(core.now, greeting_end + options.threshold_seconds)
    core.start_timer(TimerKind.ABANDON_CHECK, interaction.id, at, interaction)


def abandon_check(core: Core, interaction: Interaction) -> None:
    """R-X-12, R-X-14: the threshold passed with no agent: the call is abandoned (counted now,
    for the budget) and, where the queue asks, hears the information message, recorded."""
    counted = core.guard.accounting.abandon(core.guard, interaction.id, core.now)
    options = core.queues[interaction.queue_id].settings.compliance.abandonment
    if counted is not None and options.information_message:
        core.sink.play_information_message(interaction.id, options.information_audio)
        core.sink.compliance_recorded(
            ComplianceRecorded(
                core.now,
                RecordKind.INFORMATION_MESSAGE,
                counted.queue_id,
                interaction.id,
                number=counted.number,
                detail=options.information_audio or "",
            )
        )


def budget_inputs(core: Core, queue: QueueState) -> BudgetInputs | None:
    """R-X-17, R-X-18: what the budget loop sees for ``queue``, or None in ``Fixed`` mode."""
    settings = queue.settings.callback.budget
    if settings.mode is not PacingMode.ABANDONMENT_BUDGET:
        return None
    zone = core.zones(queue.settings.compliance.calling_window.fallback_time_zone)
    ledger = core.guard.accounting.ledger(queue.id)
    ledger.since(window_start(settings.window, core.now, zone))
    left = budget(settings, ledger)
    live = live_rate(ledger)
    unreserved = queue.outstanding - queue.reserved_dials + 1  # this dial included
    return BudgetInputs(left, live, risk(live, abandon_share(ledger), unreserved))
