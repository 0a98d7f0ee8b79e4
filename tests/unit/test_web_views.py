"""What the pages say (web/views.py): durations, the pacing modifier's meaning, row states."""

from __future__ import annotations

import pytest

from dialback.domain.ewt import Formula
from dialback.domain.model import (
    AgentId,
    ConversationId,
    InteractionId,
    MediaType,
    State,
)
from dialback.service.estimates import Estimate
from dialback.service.queries import QueuedInteraction
from dialback.sim.ewt import Spread
from dialback.web import views
from dialback.web.pages import fragment


@pytest.mark.parametrize(
    ("value", "seconds", "duration"),
    [
        pytest.param(None, "—", "—", id="nothing"),
        pytest.param(0.4, "0:00", "0.4 s", id="under-a-second"),
        pytest.param(12.0, "0:12", "12 s", id="seconds"),
        pytest.param(65.0, "1:05", "1:05", id="minutes"),
        pytest.param(3725.0, "1:02:05", "1:02:05", id="hours"),
    ],
)
def test_durations_read_as_people_say_them(
    value: float | None, seconds: str, duration: str
) -> None:
    assert views.seconds(value) == seconds
    assert views.duration(value) == duration


@pytest.mark.parametrize(
    ("multiplier", "minimum", "on_queue", "says"),
    [
        pytest.param(0.7, 2, 4, "up to 2.8 callbacks dialed at once", id="guaranteed"),
        pytest.param(0.1, 10, 3, "probability 30%", id="below-the-minimum"),
        pytest.param(1.0, 1, 0, "nothing is dialed", id="nobody-on-queue"),
    ],
)
def test_r_cf_1_the_pacing_modifier_is_explained_with_the_agents_on_queue(
    multiplier: float, minimum: int, on_queue: int, says: str
) -> None:
    assert says in views.pacing_meaning(multiplier, minimum, on_queue)


def _row(**changes: object) -> QueuedInteraction:
    fields: dict[str, object] = {
        "id": InteractionId("i"),
        "conversation_id": ConversationId("c"),
        "position": 1,
        "entry_time": 0.0,
        "priority": 0,
        "media": MediaType.CALLBACK,
        "customer_first": True,
        "converted": False,
        "state": State.WAITING,
        "agent_id": None,
        "numbers": ("+14155552671",),
        "user_name": None,
        "scheduled_time": None,
        "attempts": 0,
        "last_outcome": None,
        "owner": None,
    }
    fields.update(changes)
    return QueuedInteraction(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("row", "state", "kind", "cancellable"),
    [
        pytest.param(_row(), "waiting", "Callback · customer first", True, id="waiting"),
        pytest.param(_row(state=State.DIALING), "dialing", "Callback · customer first", False),
        pytest.param(
            _row(media=MediaType.VOICE, converted=True, state=State.ALERTING),
            "converted",
            "Callback · customer first",
            False,
            id="converted",
        ),
        pytest.param(
            _row(media=MediaType.VOICE, converted=True, state=State.CONNECTED),
            "with agent",
            "Callback · customer first",
            False,
            id="with-agent",
        ),
        pytest.param(
            _row(customer_first=False, state=State.ACW, agent_id=AgentId("a")),
            "wrap-up",
            "Callback · agent first",
            False,
            id="wrap-up",
        ),
        pytest.param(
            _row(owner=AgentId("a"), state=State.SCHEDULED),
            "scheduled",
            "Callback · owned",
            True,
            id="owned-scheduled",
        ),
        pytest.param(_row(media=MediaType.VOICE, customer_first=False), "waiting", "Call", False),
    ],
)
def test_rows_say_the_state_a_supervisor_reads(
    row: QueuedInteraction, state: str, kind: str, cancellable: bool
) -> None:
    assert views.row_state(row) == state
    assert views.row_kind(row) == kind
    assert views.cancellable(row) is cancellable


def _estimate(best: Spread | None) -> Estimate:
    return Estimate(best, {Formula.SIMPLE: 600.0}, at=1_700_000_000.0, runs=64)


@pytest.mark.parametrize(
    ("estimate", "says", "data"),
    [
        pytest.param(
            _estimate(Spread(125.4, 40.0, 3725.0, 1.0, 64)),
            ["2:05", "80%: 0:40\u20131:02:05"],
            {"data-seconds": "125", "data-low": "40", "data-high": "3725"},
            id="best-with-interval",
        ),
        pytest.param(None, ["estimating…"], {}, id="first-forecast-running"),
        pytest.param(
            _estimate(Spread(6 * 3600.0, 6 * 3600.0, 6 * 3600.0, 1.0, 64)),
            ["over 6:00:00", "no agent in sight"],
            {"data-beyond": ""},
            id="beyond-the-horizon",
        ),
        pytest.param(_estimate(None), ["—"], {}, id="nobody-answered-in-the-runs"),
        pytest.param(_estimate(Spread(0.0, 0.0, 0.0, 1.0, 0)), ["—"], {}, id="no-samples"),
    ],
)
def test_issue_18_the_dashboard_tile_shows_best_with_its_80_percent_interval(
    estimate: Estimate | None, says: list[str], data: dict[str, str]
) -> None:
    """Issue 18 item 5: each queue's EWT (BEST's median) and its 80% interval."""
    html = fragment("_ewt.html", ewt=views.wait_shown(estimate))
    tile = html.split(">", 1)[0]
    assert "Estimated wait" in html
    for text in says:
        assert text in html
    for name, value in data.items():
        assert (f'{name}="{value}"' if value else name) in tile
    if "data-seconds" not in data:
        assert "data-seconds" not in tile and "80%" not in html
