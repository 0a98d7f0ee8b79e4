"""Errors of the domain, each with a stable machine-readable code.

The API maps error classes to HTTP statuses in one table; the domain never speaks HTTP.
An expected business outcome (no agent free, a busy line) is an event or a value, never one of
these.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar


class DialbackError(Exception):
    """Base of every dialback error. ``code`` is stable across releases; ``field`` names the
    input field at fault (a dotted JSON path such as ``mediaSettings.callback.pacingModifier``)
    when there is one."""

    code: ClassVar[str] = "dialback_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.params: dict[str, str] = {}  # more for the client (``messageParams``)

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.code}{where}: {self.message}"


# --- bad input (HTTP 422 in the API) ------------------------------------------------------------
class InvalidInput(DialbackError):
    """A request or setting that is not acceptable as written; ``field`` names the part at
    fault. Subclasses say why; this base is raised as is only for a bad value no subclass fits."""

    code = "invalid_input"


class MissingField(InvalidInput):
    """A value that must be present is absent (a flow for ``TransferToFlow``, a wrap-up
    code)."""

    code = "missing_field"


class UnknownField(InvalidInput):
    """A field that neither Genesys' model nor dialback knows (SPEC §2): a typo never passes
    silently."""

    code = "unknown_field"


class InvalidType(InvalidInput):
    """A value of the wrong JSON type: a string for a number, a fraction or a boolean for an
    integer, a list for an object."""

    code = "invalid_type"


class ValueOutOfRange(InvalidInput):
    """A number outside its allowed range (SPEC §2's table, R-C-3's owned-callback delay).
    Refused, never clamped to the nearest end."""

    code = "value_out_of_range"


class InvalidShard(InvalidInput):
    """Issue 17: a shard's name is 1 to 40 letters, digits, ``_``, ``-`` or ``.``."""

    code = "invalid_shard"


class LimitExceeded(InvalidInput):
    """A string, list or object past its bound in ``dialback.domain.limits``."""

    code = "limit_exceeded"


class InvalidText(InvalidInput):
    """Text that cannot round-trip through JSON and the databases (NUL, lone surrogates)."""

    code = "invalid_text"


class InvalidChoice(InvalidInput):
    """A value outside a closed set (a mode, a reaction, a status); the message lists the
    allowed values."""

    code = "invalid_choice"


class InvalidPhoneNumber(InvalidInput):
    """R-C-1: a callback or caller-ID number that cannot be read as E.164 (with
    ``countryCode`` for a national form); ``field`` is the number's place, e.g.
    ``callbackNumbers[1]``."""

    code = "invalid_phone_number"


class ScheduledTooFarAhead(InvalidInput):
    """R-C-2: a callback scheduled more than 30 days ahead."""

    code = "scheduled_time_too_far_ahead"


class OwnedCallbacksDisabled(InvalidInput):
    """R-C-3: an owned callback asked of a queue without
    ``enableAgentOwnedCallbacks``."""

    code = "agent_owned_callbacks_disabled"


class InvalidOwnedCallback(InvalidInput):
    """R-C-3: an owned callback without exactly one scored agent."""

    code = "invalid_owned_callback"


class SettingsConflict(InvalidInput):
    """Two settings that cannot hold together (R-Q-2)."""

    code = "settings_conflict"


class CustomerFirstWithVoicemail(SettingsConflict):
    """R-Q-2: ``CustomerFirst`` on a queue with ``voicemailEnabled``; ``field`` is the
    setting the later write turned on."""

    code = "customer_first_with_voicemail"


class CustomerFirstWithPreviewCampaign(SettingsConflict):
    """R-Q-2: ``CustomerFirst`` on a queue that a preview campaign uses; ``field`` is
    the setting the later write turned on."""

    code = "customer_first_with_preview_campaign"


# --- references to things that do not exist (HTTP 404) -------------------------------------------
class NotFound(DialbackError):
    """A reference to something that does not exist (or no longer does)."""

    code = "not_found"


class UnknownQueue(NotFound):
    """A queue id that no ``QueueConfigured`` created; ``field`` is where the id was given."""

    code = "queue_not_found"


class UnknownShard(NotFound):
    """Issue 17: an agent registered in a shard that no queue names."""

    code = "shard_not_found"


class UnknownAgent(NotFound):
    """An agent (user) id that no ``AgentRegistered`` created."""

    code = "agent_not_found"


class UnknownInteraction(NotFound):
    """No active interaction with that id: it never existed or it has ended (ended
    interactions leave the engine's state)."""

    code = "interaction_not_found"


class UnknownDial(NotFound):
    """A dial event (``DialRang``, ``DialCompleted``) for a dial that is not in progress."""

    code = "dial_not_found"


# --- the request does not fit the current state (HTTP 409) ---------------------------------------
class StateConflict(DialbackError):
    """A well-formed request that the current state does not allow; the state is left
    unchanged."""

    code = "state_conflict"


class AgentInOtherShard(StateConflict):
    """Issue 17: an agent is in one shard (fixed when it is registered); a queue of another
    shard, or a callback of another shard, cannot have it."""

    code = "agent_in_other_shard"


class QueueInOtherShard(StateConflict):
    """Issue 17: a callback or call cannot move to, or be requested in, a queue of another
    shard than the one it is in."""

    code = "queue_in_other_shard"


class ShardFixed(StateConflict):
    """Issue 17: a queue's shard is chosen when the queue is created and never changes."""

    code = "shard_fixed"


class DuplicateId(StateConflict):
    """An agent or interaction created with an id already in use."""

    code = "duplicate_id"


class CallbackAlreadyConnected(StateConflict):
    """R-C-5: a callback already connected to a customer can be neither rescheduled nor
    disconnected through the callback API."""

    code = "callback_already_connected"


class InteractionEnded(StateConflict):
    """The interaction is past the step the request needs: a call no longer waiting
    cannot become a callback (R-C-6), no customer is on the line to hang up."""

    code = "interaction_ended"


class NotOfferedToAgent(StateConflict):
    """An agent accepted an interaction that is not alerting that agent (R-AF-1)."""

    code = "not_offered_to_agent"


class AgentNotHandling(StateConflict):
    """An agent acted on an interaction it does not hold, or in a way its media does
    not allow (dialing a voice call, ending a voice call as a callback)."""

    code = "agent_not_handling_interaction"


class DialInProgress(StateConflict):
    """R-CF-9: a callback is already being dialed or on a call, so no second dial,
    reschedule or end may start now."""

    code = "dial_in_progress"


class InvalidSipUri(InvalidInput):
    """An agent's phone address that is not a SIP URI."""

    code = "invalid_sip_uri"


# --- dialing within the law (issue 14, docs/compliance.md) ---------------------------------------
class OutsideCallingWindow(InvalidInput):
    """R-X-4: a callback scheduled into a time its callee's calling window is closed;
    ``next_open`` (epoch seconds, or None if it never opens) is the next allowed time."""

    code = "outside_calling_window"

    def __init__(self, message: str, *, field: str | None = None, next_open: float | None) -> None:
        super().__init__(message, field=field)
        self.next_open = next_open
        if next_open is not None:
            self.params = {"nextOpenTime": _iso(next_open)}


class DialOutsideCallingWindow(StateConflict):
    """R-X-6: an agent's manual dial while the callee's calling window is closed, on a queue
    that does not allow a recorded override (or without asking for one)."""

    code = "dial_outside_calling_window"


class NumberOnDnc(InvalidInput):
    """R-X-7: a callback number on a do-not-call list; ``field`` is the number's place."""

    code = "number_on_dnc"


class DuplicateCallback(StateConflict):
    """R-X-9: the queue already has an active callback for this number; ``existing`` is its
    id and ``conversation`` its conversation's."""

    code = "duplicate_callback"

    def __init__(
        self, message: str, *, existing: str, conversation: str, field: str | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.existing = existing
        self.conversation = conversation
        self.params = {"existingCallbackId": existing, "existingConversationId": conversation}


class CallerIdNotAllowed(InvalidInput):
    """R-X-11: a callback's caller ID outside its queue's allowlist."""

    code = "caller_id_not_allowed"


def _iso(at: float) -> str:
    """Epoch seconds as Genesys writes times (``2026-11-25T08:00:00.000Z``), as the API does."""
    whole = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
    return whole + f"{round(at * 1000) % 1000:03d}Z"
