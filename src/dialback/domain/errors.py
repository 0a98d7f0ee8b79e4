"""Errors of the domain, each with a stable machine-readable code.

The API maps error classes to HTTP statuses in one table; the domain never speaks HTTP.
An expected business outcome (no agent free, a busy line) is an event or a value, never one of
these.
"""

from __future__ import annotations

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

    def __str__(self) -> str:
        where = f" [{self.field}]" if self.field else ""
        return f"{self.code}{where}: {self.message}"


# --- bad input (HTTP 422 in the API) ------------------------------------------------------------
class InvalidInput(DialbackError):
    code = "invalid_input"


class MissingField(InvalidInput):
    code = "missing_field"


class UnknownField(InvalidInput):
    code = "unknown_field"


class InvalidType(InvalidInput):
    code = "invalid_type"


class ValueOutOfRange(InvalidInput):
    code = "value_out_of_range"


class LimitExceeded(InvalidInput):
    """A string, list or object past its bound in ``dialback.domain.limits``."""

    code = "limit_exceeded"


class InvalidText(InvalidInput):
    """Text that cannot round-trip through JSON and the databases (NUL, lone surrogates)."""

    code = "invalid_text"


class InvalidChoice(InvalidInput):
    code = "invalid_choice"


class InvalidPhoneNumber(InvalidInput):
    code = "invalid_phone_number"


class ScheduledTooFarAhead(InvalidInput):
    code = "scheduled_time_too_far_ahead"


class OwnedCallbacksDisabled(InvalidInput):
    code = "agent_owned_callbacks_disabled"


class InvalidOwnedCallback(InvalidInput):
    code = "invalid_owned_callback"


class SettingsConflict(InvalidInput):
    """Two settings that cannot hold together (R-Q-2)."""

    code = "settings_conflict"


class CustomerFirstWithVoicemail(SettingsConflict):
    code = "customer_first_with_voicemail"


class CustomerFirstWithPreviewCampaign(SettingsConflict):
    code = "customer_first_with_preview_campaign"


# --- references to things that do not exist (HTTP 404) -------------------------------------------
class NotFound(DialbackError):
    code = "not_found"


class UnknownQueue(NotFound):
    code = "queue_not_found"


class UnknownAgent(NotFound):
    code = "agent_not_found"


class UnknownInteraction(NotFound):
    code = "interaction_not_found"


class UnknownDial(NotFound):
    code = "dial_not_found"


# --- the request does not fit the current state (HTTP 409) ---------------------------------------
class StateConflict(DialbackError):
    code = "state_conflict"


class DuplicateId(StateConflict):
    code = "duplicate_id"


class CallbackAlreadyConnected(StateConflict):
    """R-C-5: a callback already connected to a customer can be neither rescheduled nor
    disconnected through the callback API."""

    code = "callback_already_connected"


class InteractionEnded(StateConflict):
    code = "interaction_ended"


class NotOfferedToAgent(StateConflict):
    code = "not_offered_to_agent"


class AgentNotHandling(StateConflict):
    code = "agent_not_handling_interaction"


class DialInProgress(StateConflict):
    code = "dial_in_progress"


class InvalidSipUri(InvalidInput):
    """An agent's phone address that is not a SIP URI."""

    code = "invalid_sip_uri"
