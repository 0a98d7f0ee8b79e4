"""Calling windows (docs/compliance.md: R-X-1..6): local hours, zones from the number, several
zones, an explicit zone, DST changes, waiting heads and agent-first dials."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dialback.api.numbers import zones_for_number
from dialback.domain.compliance import CallingWindow
from dialback.domain.errors import DialOutsideCallingWindow, InvalidChoice, OutsideCallingWindow
from dialback.domain.events import AgentDialed, AlertAccepted, CallbackRescheduled
from dialback.domain.model import CallbackRequest, InteractionId, QueueId, State
from dialback.domain.pacing import Reason
from dialback.domain.records import ComplianceRecorded, RecordKind
from dialback.domain.settings import parse_queue
from dialback.domain.windows import callee_zones, closes_at, is_open, next_open

from .harness import Q, World

CALLER = "+14155550199"
WINDOW = CallingWindow(enabled=True)
NY, CHI, LA, BOISE = (
    ZoneInfo(z)
    for z in ("America/New_York", "America/Chicago", "America/Los_Angeles", "America/Boise")
)


def at(zone: ZoneInfo, *parts: int) -> float:
    year, month, day, hour, minute = parts
    return datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


def local(zone: ZoneInfo, t: float | None) -> str:
    assert t is not None
    return datetime.fromtimestamp(t, zone).strftime("%Y-%m-%d %a %H:%M %Z")


# --- the pure rules -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        pytest.param(7, 59, False, id="07:59-closed"),
        pytest.param(8, 0, True, id="08:00-open"),
        pytest.param(20, 59, True, id="20:59-open"),
        pytest.param(21, 0, False, id="21:00-closed"),
    ],
)
def test_r_x_1_default_window_is_8_to_21_local(hour: int, minute: int, expected: bool) -> None:
    assert is_open(WINDOW, [NY], at(NY, 2026, 3, 2, hour, minute)) is expected


def test_r_x_1_a_window_not_enabled_is_always_open() -> None:
    assert is_open(CallingWindow(), [NY], at(NY, 2026, 3, 2, 3, 0))


def test_r_x_1_holidays_and_closed_days_skip_to_the_next_open_day() -> None:
    sundays_off = (*WINDOW.days[:6], None)
    window = CallingWindow(enabled=True, days=sundays_off, holidays=("2026-12-25",))
    friday_night = at(NY, 2026, 12, 24, 22, 0)  # Christmas Eve, Thursday 22:00
    assert local(NY, next_open(window, [NY], friday_night)) == "2026-12-26 Sat 08:00 EST"
    saturday_night = at(NY, 2026, 12, 26, 21, 30)
    assert local(NY, next_open(window, [NY], saturday_night)) == "2026-12-28 Mon 08:00 EST"


@pytest.mark.parametrize(
    ("number", "zones"),
    [
        pytest.param("+18504321234", ("America/Chicago",), id="850-432-Pensacola"),
        pytest.param("+18506561234", ("America/New_York",), id="850-656-Tallahassee"),
        pytest.param("+12085551234", ("America/Boise", "America/Los_Angeles"), id="208-split"),
    ],
)
def test_r_x_2_zones_come_from_the_number_even_in_a_split_area_code(
    number: str, zones: tuple[str, ...]
) -> None:
    assert zones_for_number(number) == zones


def test_r_x_2_a_number_with_no_zone_uses_the_fallback_zone() -> None:
    request = CallbackRequest(QueueId("q"), ("+80012345678",), number_zones=(("Etc/Unknown",),))
    window = CallingWindow(enabled=True, fallback_time_zone="Europe/London")
    assert callee_zones(request, 0, window) == ["Europe/London"]


def test_r_x_3_several_zones_allow_a_dial_only_when_all_are_open() -> None:
    # 208: Boise (Mountain) and Los Angeles (Pacific): 08:30 in Boise is 07:30 in LA.
    boise_830 = at(BOISE, 2026, 3, 2, 8, 30)
    assert is_open(WINDOW, [BOISE], boise_830)
    assert not is_open(WINDOW, [BOISE, LA], boise_830)
    assert local(LA, next_open(WINDOW, [BOISE, LA], boise_830)) == "2026-03-02 Mon 08:00 PST"
    # and the evening closes at 21:00 Boise, 20:00 LA
    assert not is_open(WINDOW, [BOISE, LA], at(LA, 2026, 3, 2, 20, 30))


def test_r_x_3_an_explicit_zone_wins_over_the_number() -> None:
    request = CallbackRequest(
        QueueId("q"), ("+12085551234",), number_zones=(zones_for_number("+12085551234"),)
    )
    assert callee_zones(request, 0, WINDOW) == ["America/Boise", "America/Los_Angeles"]
    explicit = CallbackRequest(
        QueueId("q"), request.numbers, number_zones=request.number_zones, time_zone="Europe/Paris"
    )
    assert callee_zones(explicit, 0, WINDOW) == ["Europe/Paris"]


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # 2026-03-08: New York springs forward at 02:00 EST to 03:00 EDT.
        pytest.param((2026, 3, 8, 1, 30), "2026-03-08 Sun 08:00 EDT", id="spring-forward"),
        # 2026-11-01: New York falls back at 02:00 EDT to 01:00 EST.
        pytest.param((2026, 11, 1, 1, 30), "2026-11-01 Sun 08:00 EST", id="fall-back"),
        pytest.param((2026, 10, 31, 22, 0), "2026-11-01 Sun 08:00 EST", id="night-before-fall"),
    ],
)
def test_r_x_1_dst_changes_move_the_opening_in_utc(
    start: tuple[int, int, int, int, int], expected: str
) -> None:
    assert local(NY, next_open(WINDOW, [NY], at(NY, *start))) == expected


def test_r_x_1_dst_change_keeps_local_hours_across_zones_that_change_on_other_days() -> None:
    # Between US (8 Mar) and EU (29 Mar) changes, London is 4 h ahead of New York, not 5.
    london = ZoneInfo("Europe/London")
    ny_7am = at(NY, 2026, 3, 16, 7, 0)  # 11:00 in London
    opening = next_open(WINDOW, [NY, london], ny_7am)
    assert local(NY, opening) == "2026-03-16 Mon 08:00 EDT"
    assert local(london, opening) == "2026-03-16 Mon 12:00 GMT"


# --- the engine -----------------------------------------------------------------------------------
MONDAY_NOON_UTC = datetime(2026, 3, 2, 12, 0, tzinfo=UTC).timestamp()  # 07:00 in New York


def world(**callback: Any) -> World:
    w = World(start=MONDAY_NOON_UTC)
    w.engine.zones = ZoneInfo
    body: dict[str, Any] = {
        "callingPartyNumber": CALLER,
        "mediaSettings": {"callback": {"mode": "CustomerFirst", **callback}},
        "compliance": {"callingWindow": {"enabled": True, "fallbackTimeZone": "Europe/London"}},
    }
    w.queue(body)
    return w


def zoned(zone: str) -> dict[str, Any]:
    return {"time_zone": zone}


def test_r_x_5_due_callback_outside_its_window_waits_in_place_and_is_dialed_at_opening() -> None:
    w = world()
    w.agents(3)
    ny1 = w.callback("ny1", **zoned("America/New_York"))  # 07:00 there: closed
    w.now += 1
    paris = w.callback("paris", **zoned("Europe/Paris"))  # 13:00 there: open
    w.now += 1
    ny2 = w.callback("ny2", **zoned("America/New_York"))
    assert [d.interaction_id for d in w.dials()] == [paris]
    waiting = [d for d in w.decisions() if d.callback_id in (ny1, ny2)]
    assert {d.reason for d in waiting} == {Reason.OUTSIDE_CALLING_WINDOW}
    assert w.last(ny1).state is State.WAITING  # still in the queue, not rescheduled
    w.advance(3600)  # 08:00 in New York: both come back, the first one first
    assert [d.interaction_id for d in w.dials()] == [paris, ny1, ny2]
    assert local(NY, w.now) == "2026-03-02 Mon 08:00 EST"


def test_r_x_5_window_opening_with_a_waiting_head_dials_it_before_later_callbacks() -> None:
    w = world()
    w.agents(1)  # one dial at a time (idle trigger)
    head = w.callback("head", **zoned("America/New_York"))
    w.advance(3600 - 5)  # 07:59:55 in New York
    later = w.callback("later", **zoned("America/New_York"))
    w.advance(10)
    assert [d.interaction_id for d in w.dials()] == [head]  # the head, then nothing: one agent
    assert later not in [d.interaction_id for d in w.dials()]


def test_r_x_2_the_number_s_zones_are_used_when_no_zone_is_given() -> None:
    w = world()
    w.agents(1)
    w.callback("pensacola", numbers=("+18504321234",), number_zones=(("America/Chicago",),))
    assert w.dials() == []  # 06:00 in Chicago
    w.advance(2 * 3600)
    assert len(w.dials()) == 1
    assert local(CHI, w.now) == "2026-03-02 Mon 08:00 CST"


def test_r_x_4_a_callback_scheduled_into_a_closed_window_is_refused_naming_next_open() -> None:
    w = world()
    ny_23h = at(NY, 2026, 3, 2, 23, 0)
    with pytest.raises(OutsideCallingWindow) as refused:
        w.callback("late", scheduled_time=ny_23h, **zoned("America/New_York"))
    assert refused.value.field == "callbackScheduledTime"
    assert refused.value.params == {"nextOpenTime": "2026-03-03T13:00:00.000Z"}  # 08:00 EST
    assert "late" not in w.engine.interactions
    ok = w.callback("ok", scheduled_time=at(NY, 2026, 3, 3, 9, 0), **zoned("America/New_York"))
    with pytest.raises(OutsideCallingWindow):
        w.send(CallbackRescheduled(ok, scheduled_time=ny_23h))


def test_r_x_3_an_unknown_explicit_zone_is_refused() -> None:
    w = world()
    with pytest.raises(InvalidChoice) as refused:
        w.callback("x", **zoned("Mars/Olympus"))
    assert refused.value.field == "calleeTimeZone"


def test_r_x_2_an_unknown_fallback_zone_is_refused() -> None:
    w = world()
    body = {"compliance": {"callingWindow": {"enabled": True, "fallbackTimeZone": "Nowhere"}}}
    with pytest.raises(InvalidChoice):
        w.queue(body, queue_id=QueueId("q2"))


def agent_first(w: World, **window: Any) -> tuple[Any, InteractionId]:
    w.queue(
        {
            "mediaSettings": {
                "callback": {"enableAutoDialAndEnd": True, "autoDialDelaySeconds": 10}
            },
            "compliance": {"callingWindow": {"enabled": True, **window}},
        }
    )
    (agent,) = w.agents(1)
    callback = w.callback("af", **zoned("America/New_York"))
    w.send(AlertAccepted(agent, callback))
    return agent, callback


def test_r_x_6_agent_first_auto_dial_waits_for_the_window() -> None:
    w = World(start=MONDAY_NOON_UTC)
    w.engine.zones = ZoneInfo
    agent_first(w)
    w.advance(60)
    assert w.dials() == []
    w.advance(3600)
    (dial,) = w.dials()
    assert local(NY, w.now) >= "2026-03-02 Mon 08:00 EST"
    assert dial.agent_id is not None


def test_r_x_6_a_manual_dial_outside_the_window_is_refused_without_an_allowed_override() -> None:
    w = World(start=MONDAY_NOON_UTC)
    w.engine.zones = ZoneInfo
    agent, callback = agent_first(w)
    with pytest.raises(DialOutsideCallingWindow):
        w.send(AgentDialed(agent, callback))
    with pytest.raises(DialOutsideCallingWindow):
        w.send(AgentDialed(agent, callback, override=True))  # the queue does not allow it
    assert w.dials() == []


def test_r_x_6_an_allowed_override_dials_and_is_recorded() -> None:
    w = World(start=MONDAY_NOON_UTC)
    w.engine.zones = ZoneInfo
    agent, callback = agent_first(w, allowManualOverride=True)
    w.send(AgentDialed(agent, callback, override=True))
    (dial,) = w.dials()
    (record,) = w.of(ComplianceRecorded)
    assert (record.kind, record.agent_id, record.number) == (
        RecordKind.WINDOW_OVERRIDE,
        agent,
        dial.number,
    )
    assert record.queue_id == Q


def test_r_x_1_the_window_settings_round_trip_and_name_bad_fields() -> None:
    body = {
        "compliance": {
            "callingWindow": {
                "enabled": True,
                "days": {"saturday": {"start": "10:00", "end": "18:00"}, "sunday": False},
                "holidays": ["2026-12-25"],
                "fallbackTimeZone": "America/New_York",
            }
        }
    }
    settings = parse_queue(body)
    window = settings.compliance.calling_window
    assert (
        window.days[5] == (600, 1080) and window.days[6] is None and window.days[0] == (480, 1260)
    )
    from dialback.domain.settings import queue_to_json

    assert parse_queue(queue_to_json(settings)) == settings
    bad = {
        "compliance": {"callingWindow": {"days": {"monday": {"start": "22:00", "end": "08:00"}}}}
    }
    with pytest.raises(Exception, match="start must be before end") as refused:
        parse_queue(bad)
    assert getattr(refused.value, "field", None) == "compliance.callingWindow.days.monday"


# --- the callback offer's closing time (issue 18 item 4) ----------------------------------------
OFFICE = ((9 * 60, 17 * 60),) * 5 + (None, None)


@pytest.mark.parametrize(
    ("hours", "when", "closes"),
    [
        pytest.param(OFFICE, (2026, 1, 5, 16, 0), "2026-01-05 Mon 17:00 EST", id="today"),
        pytest.param(OFFICE, (2026, 1, 5, 17, 0), None, id="at-closing-closed"),
        pytest.param(OFFICE, (2026, 1, 5, 8, 59), None, id="before-opening"),
        pytest.param(OFFICE, (2026, 1, 10, 12, 0), None, id="closed-day"),
        pytest.param(
            ((0, 1440),) * 5 + ((0, 600), None),
            (2026, 1, 7, 3, 0),
            "2026-01-10 Sat 10:00 EST",
            id="runs-on-past-midnight",
        ),
        pytest.param(
            ((8 * 60, 1440),) * 7,
            (2026, 1, 7, 23, 0),
            "2026-01-08 Thu 00:00 EST",
            id="24h-end-next-day-late-start",
        ),
        pytest.param(((0, 1440),) * 7, (2026, 1, 7, 3, 0), "never", id="never-closes"),
        pytest.param(
            ((9 * 60, 17 * 60),) * 7,
            (2026, 3, 8, 12, 0),
            "2026-03-08 Sun 17:00 EDT",
            id="dst-day-local-hours",
        ),
    ],
)
def test_issue_18_closes_at_is_the_end_of_the_open_stretch_in_local_time(
    hours: tuple[tuple[int, int] | None, ...], when: tuple[int, ...], closes: str | None
) -> None:
    found = closes_at(hours, NY, at(NY, *when))
    if closes == "never":
        assert found == math.inf
    elif closes is None:
        assert found is None
    else:
        assert local(NY, found) == closes
