"""The simulator within the law (issue 14, docs/compliance.md: R-X-19): workloads with calling
windows, callee zones and DNC shares, and pacing to an abandonment budget against fixed pacing
modifiers on common random numbers, on light, heavy and overloaded days."""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from dialback.cli import app
from dialback.domain.effects import Effect, PlaceCall, RecordPacingDecision
from dialback.domain.errors import InvalidChoice
from dialback.domain.events import CallbackRequestedOnCall, Event
from dialback.domain.pacing import Reason
from dialback.domain.windows import is_open
from dialback.sim.model import Simulation
from dialback.sim.sweep import BUDGET, sweep
from dialback.sim.workload import parse_workload

TARGET = 0.03
REPLICATIONS = 8
# name: (agents, calls per hour, live-answer share): occupancy about 0.75, 0.9 and over 1
LOADS = {
    "light": (20, 230, 0.8),
    "heavy": (20, 290, 0.7),
    "overloaded": (20, 340, 0.5),
}


def day(name: str, **extra: Any) -> dict[str, Any]:
    agents, rate, live = LOADS[name]
    queue = {
        "name": name,
        "mode": "CustomerFirst",
        "agents": agents,
        "arrivals_per_hour": rate,
        "handle_seconds": {"distribution": "exponential", "mean": 240},
        "patience_seconds": {"distribution": "exponential", "mean": 180},
        "callback_offer": {"after_wait_seconds": 5, "accept": 0.6},
        "outcomes": {"live_voice": live, "answering_machine": 0.9 - live, "no_answer": 0.1},
        **extra,
    }
    # Eight hours: on four, the light day abandons so few calls that the budget mode's 95%
    # interval over 8 replications reached past 3% on 3 seeds of 20 (its mean 1.7-2.3%); on
    # eight, every assertion below held on seeds 1-80 of every load (issue 16).
    return {"simulation": {"hours": 8, "warmup_minutes": 20, "seed": 14}, "queue": [queue]}


@cache
def frontier(name: str) -> list[dict[str, Any]]:
    """Fixed modifiers without and with a reserved agent, and the budget mode: same seeds."""
    free = sweep(day(name), [1, 5, 10], ["CustomerFirst"], REPLICATIONS, workers=2, budget=True)
    held = sweep(
        day(name, customer_first_delivery_mode="UseAgentReservation"),
        [1, 10],
        ["CustomerFirst"],
        REPLICATIONS,
        workers=2,
    )
    reserved = [r | {"reserved": True} for r in held["queues"][name]]
    return [*free["queues"][name], *reserved]


@pytest.mark.timeout(900)  # a frontier is 40 eight-hour days: ~40 s alone, far more when shared
@pytest.mark.parametrize("name", list(LOADS))
def test_r_x_19_budget_mode_stays_under_target_with_occupancy_of_the_best_fixed_that_does(
    name: str,
) -> None:
    rows = frontier(name)
    (budget,) = [r for r in rows if r["pacing_modifier"] == BUDGET]
    assert budget["abandon_rate"]["high"] <= TARGET  # the 95% interval over replications
    fixed = [r for r in rows if r["pacing_modifier"] != BUDGET]
    meeting = [r for r in fixed if r["abandon_rate"]["high"] <= TARGET]
    assert meeting  # with a reserved agent fixed pacing never abandons
    best = max(r["agent_occupancy"]["mean"] for r in meeting)
    # At least as busy: the best compliant fixed modifier's mean lies within or under the
    # budget mode's 95% interval (common random numbers; the difference is within chance).
    assert budget["agent_occupancy"]["high"] >= best
    # Without a reserved agent, fixed pacing abandons far more than the rules allow here.
    worst = max(r["abandon_rate"]["mean"] for r in fixed if not r.get("reserved"))
    assert worst > TARGET


def test_r_x_19_a_workload_sets_windows_zones_dnc_shares_and_the_pacing_mode() -> None:
    data = day(
        "heavy",
        pacing_mode="AbandonmentBudget",
        abandonment_target_rate=0.02,
        calling_window={"enabled": True, "days": {"thursday": False}},
        callee_time_zones={"America/New_York": 0.5, "Asia/Tokyo": 0.5},
        dnc_share=0.2,
    )
    data["simulation"]["hours"] = 1.5
    workload = parse_workload(data)
    spec = workload.queues[0]
    assert spec.settings.callback.budget.target_rate == 0.02
    window = spec.settings.compliance.calling_window
    assert window.enabled and window.days[3] is None
    sim = Simulation(workload, workload.seed, listen=True)
    seen: list[tuple[float, Event, list[Effect]]] = []
    sim.driver.listeners.append(lambda now, event, effects: seen.append((now, event, effects)))
    sim.run()
    zone = {
        e.callback_id: e.request.time_zone
        for _, e, _ in seen
        if isinstance(e, CallbackRequestedOnCall)
    }
    dials = [(now, f) for now, _, fx in seen for f in fx if isinstance(f, PlaceCall)]
    reasons = Counter(
        f.decision.reason for _, _, fx in seen for f in fx if isinstance(f, RecordPacingDecision)
    )
    # 2026-01-01 00:00 UTC: Wednesday 19:00 in New York (open), Thursday 09:00 in Tokyo (closed
    # all day): only New York is dialed, and never a number once it is on the DNC list.
    assert dials
    assert all(zone[d.interaction_id] == "America/New_York" for _, d in dials)
    assert all(is_open(window, [ZoneInfo("America/New_York")], at) for at, _ in dials)
    assert reasons[Reason.OUTSIDE_CALLING_WINDOW] > 0
    assert reasons[Reason.NUMBER_ON_DNC] > 0
    assert sim.figures()["queues"]["heavy"]["live_answers"] > 0


def test_r_x_19_a_workload_with_an_unknown_zone_is_refused_naming_the_key() -> None:
    with pytest.raises(InvalidChoice) as refused:
        parse_workload(day("light", callee_time_zones={"Mars/Olympus": 1.0}))
    assert refused.value.field == "queue[0].callee_time_zones"


@pytest.mark.timeout(900)
def test_r_x_19_cli_sweep_with_budget_reports_the_frontier(tmp_path: Path) -> None:
    data = day("heavy")
    data["simulation"]["hours"] = 0.5
    workload = tmp_path / "w.toml"
    workload.write_text(toml(data))
    out, report = tmp_path / "sweep.json", tmp_path / "report"
    result = CliRunner().invoke(
        app,
        [
            "sweep",
            str(workload),
            *("--pacing", "2,8", "--modes", "CustomerFirst", "--replications", "2"),
            *("--workers", "2", "--budget", "--json", str(out), "--report", str(report)),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())["queues"]["heavy"]
    assert [r["pacing_modifier"] for r in rows] == [2, 8, BUDGET]
    assert all("abandon_rate" in r for r in rows)
    page = (report / "report.html").read_text()
    for x in ("agent_occupancy", "mean_wait_seconds"):
        image = report / f"heavy-frontier-{x}.png"
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.name in page
    assert "<td>budget</td>" in page


def toml(data: dict[str, Any]) -> str:
    """The few TOML shapes this file's workloads use (tables, inline tables, numbers, text)."""

    def value(v: Any) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f'"{k}" = {value(x)}' for k, x in v.items()) + " }"
        return json.dumps(v)

    lines = ["[simulation]", *(f"{k} = {value(v)}" for k, v in data["simulation"].items())]
    for queue in data["queue"]:
        lines += ["[[queue]]", *(f"{k} = {value(v)}" for k, v in queue.items())]
    return "\n".join(lines) + "\n"
