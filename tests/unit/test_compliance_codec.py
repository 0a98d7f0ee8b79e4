"""Issue 14's additions survive the event log (docs/compliance.md): queue settings with a calling
window and the rest of ``compliance``, callbacks with their numbers' zones and an explicit zone,
DNC changes and an agent's override (R-X-1..R-X-7, R-X-16)."""

from __future__ import annotations

from dialback.domain.events import (
    AgentDialed,
    CallbackRequested,
    DncUpdated,
    Event,
    QueueConfigured,
)
from dialback.domain.model import AgentId, CallbackRequest, ConversationId, InteractionId, QueueId
from dialback.domain.settings import parse_queue
from dialback.store.codec import decode_event, encode_event


def round_trip(event: Event) -> Event:
    return decode_event(*encode_event(event))


def test_r_x_1_r_x_16_queue_compliance_settings_survive_the_event_log() -> None:
    settings = parse_queue(
        {
            "mediaSettings": {"callback": {"pacingMode": "AbandonmentBudget"}},
            "compliance": {
                "callingWindow": {
                    "enabled": True,
                    "days": {"sunday": False, "saturday": {"start": "10:00", "end": "14:30"}},
                    "holidays": ["2026-12-25"],
                    "fallbackTimeZone": "Europe/London",
                },
                "duplicateCallbacks": "ReturnExisting",
                "callerIdAllowlist": ["+14155550199"],
                "abandonment": {"lockoutHours": 72, "informationMessage": True},
            },
        }
    )
    event = QueueConfigured(QueueId("q"), settings)
    assert round_trip(event) == event


def test_r_x_2_r_x_3_r_x_6_r_x_7_callback_zones_overrides_and_dnc_survive_the_event_log() -> None:
    request = CallbackRequest(
        QueueId("q"),
        ("+12085551234", "+18504321234"),
        number_zones=(("America/Boise", "America/Los_Angeles"), ("America/Chicago",)),
        time_zone="America/Denver",
    )
    events: list[Event] = [
        CallbackRequested(InteractionId("cb"), ConversationId("c"), request),
        DncUpdated("internal", added=("+14155550100",), removed=("+14155550101",)),
        AgentDialed(AgentId("a"), InteractionId("cb"), 1, override=True),
    ]
    for event in events:
        assert round_trip(event) == event
