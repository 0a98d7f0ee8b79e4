"""Customer-first pacing (SPEC §7: R-CF-1..3), through the table, the rule and the engine."""

from __future__ import annotations

import math
import random

import pytest

from dialback.domain.errors import InvalidInput, InvalidType, ValueOutOfRange
from dialback.domain.events import CallbackDisconnected
from dialback.domain.model import Outcome
from dialback.domain.pacing import (
    PacingRow,
    PacingTable,
    Reason,
    decide,
    draw_cap,
    idle_trigger,
    minimum_agents,
    pace_trigger,
)
from dialback.domain.settings import PacingTrigger

from .harness import World

PUBLISHED_READING = [
    (1, 0.1, 10),
    (2, 0.2, 5),
    (3, 0.3, 4),
    (4, 0.4, 3),
    (5, 0.5, 2),
    (6, 0.6, 2),
    (7, 0.7, 2),
    (8, 0.8, 2),
    (9, 0.9, 2),
    (10, 1.0, 1),
]


def test_r_cf_1_default_table_is_the_spec_reading() -> None:
    rows = [
        (r.modifier, round(r.multiplier, 9), r.minimum_agents) for r in PacingTable.default().rows
    ]
    assert rows == PUBLISHED_READING


def test_r_cf_1_fractional_modifiers_interpolate_between_rows() -> None:
    table = PacingTable.default()
    assert table.multiplier(1.5) == pytest.approx(0.15)
    assert table.multiplier(9.25) == pytest.approx(0.925)
    assert table.multiplier(10) == 1.0


def test_r_cf_1_a_user_can_replace_the_table() -> None:
    table = PacingTable.from_rows(
        [
            {"modifier": 1, "multiplier": 0.05},
            {"modifier": 10, "multiplier": 0.5, "minimum_agents": 2},
        ]
    )
    assert table.rows[0] == PacingRow(1.0, 0.05, 20)
    assert table.multiplier(0.5) == 0.05  # below the first row: the first row
    assert table.multiplier(5.5) == pytest.approx(0.275)
    assert table.multiplier(11) == 0.5


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        pytest.param([], InvalidInput, id="empty"),
        pytest.param([{"modifier": 1, "multiplier": 1.5}], ValueOutOfRange, id="above-one"),
        pytest.param([{"modifier": 1, "multiplier": 0}], ValueOutOfRange, id="zero"),
        pytest.param([{"modifier": "1", "multiplier": 0.1}], InvalidType, id="string"),
        pytest.param(
            [{"modifier": 2, "multiplier": 0.2}, {"modifier": 1, "multiplier": 0.1}],
            InvalidInput,
            id="unsorted",
        ),
        pytest.param(
            [{"modifier": 1, "multiplier": 0.1, "minimum_agents": 9}], InvalidInput, id="min-agents"
        ),
    ],
)
def test_r_cf_1_a_bad_replacement_table_is_refused(
    rows: list[dict[str, object]], error: type[InvalidInput]
) -> None:
    with pytest.raises(error):
        PacingTable.from_rows(rows)


def test_r_cf_1_direct_construction_checks_rows_too() -> None:
    with pytest.raises(ValueOutOfRange):
        PacingTable((PacingRow(1, 2.0, 1),))


def test_r_cf_2_cap_rounds_at_random_with_one_draw() -> None:
    rng = random.Random(7)
    caps = [draw_cap(0.3, 5, rng) for _ in range(4000)]  # expected 1.5
    assert {c.value for c in caps} == {1, 2}
    share = sum(c.value == 2 for c in caps) / len(caps)
    assert abs(share - 0.5) < 3.29 * math.sqrt(0.25 / len(caps))
    assert all(c.value == (2 if c.draw < 0.5 else 1) for c in caps)
    exact = draw_cap(0.5, 4, rng)
    assert (exact.expected, exact.value) == (2.0, 2)


def run_evaluations(modifier: float, agents: int, evaluations: int, seed: int) -> int:
    """One callback at a time at the head, no dial outstanding: each creation is one
    evaluation. Returns how many dialed."""
    w = World(seed=seed)
    w.queue(
        {
            "callingPartyNumber": "+14155550199",
            "mediaSettings": {"callback": {"mode": "CustomerFirst", "pacingModifier": modifier}},
        }
    )
    w.agents(agents)
    dialed = 0
    for i in range(evaluations):
        mark = len(w.log)
        w.callback(f"cb{i}")
        effects = w.log[mark:]
        decision = w.decisions(effects)[-1]
        assert decision.callback_id == f"cb{i}" and decision.outstanding == 0
        if decision.dialed:
            dialed += 1
            w.complete(w.dials(effects)[-1], Outcome.NO_ANSWER)
        else:
            w.send(CallbackDisconnected(decision.callback_id))
    assert w.engine.evaluations == evaluations
    return dialed


@pytest.mark.parametrize("modifier", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 2.5])
def test_r_cf_2_one_agent_dials_with_probability_multiplier(modifier: float) -> None:
    n = 10_000
    p = PacingTable.default().multiplier(modifier)
    dialed = run_evaluations(modifier, 1, n, seed=int(modifier * 100))
    # 99.9% binomial interval (normal approximation, exact at p = 1)
    assert abs(dialed / n - p) <= 3.29 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("modifier", range(1, 11))
def test_r_cf_2_with_minimum_agents_every_evaluation_dials(modifier: int) -> None:
    agents = math.ceil(10 / modifier)
    assert agents == minimum_agents(modifier / 10)
    assert run_evaluations(modifier, agents, 300, seed=modifier) == 300


def test_r_cf_3_triggers() -> None:
    assert idle_trigger(2, 1) and not idle_trigger(1, 1)
    assert pace_trigger(0, 5)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        pytest.param({}, Reason.DIALED, id="dial"),
        pytest.param({"has_caller_id": False}, Reason.NO_CALLER_ID, id="no-caller-id"),
        pytest.param({"on_queue": 0, "idle": 0}, Reason.NO_AGENT_ON_QUEUE, id="nobody"),
        pytest.param({"outstanding": 2}, Reason.CAP_REACHED, id="cap"),
        pytest.param({"idle": 1, "outstanding": 1}, Reason.NO_IDLE_AGENT, id="idle-trigger"),
        pytest.param(
            {"idle": 0, "trigger": PacingTrigger.PACE, "needs_reservation": True},
            Reason.NO_IDLE_AGENT,
            id="reservation-needs-idle",
        ),
        pytest.param(
            {"idle": 0, "trigger": PacingTrigger.PACE}, Reason.DIALED, id="pace-without-idle"
        ),
        pytest.param(
            {"idle": 1, "outstanding": 1, "reserved_dials": 1},
            Reason.DIALED,
            id="reserved-dials-have-their-agent",
        ),
    ],
)
def test_r_cf_3_decide(kwargs: dict[str, object], reason: Reason) -> None:
    args: dict[str, object] = {
        "on_queue": 4,
        "idle": 2,
        "outstanding": 0,
        "reserved_dials": 0,
        "cap": 2,
        "trigger": PacingTrigger.IDLE,
        "has_caller_id": True,
        "needs_reservation": False,
        **kwargs,
    }
    assert decide(**args) is reason  # type: ignore[arg-type]
