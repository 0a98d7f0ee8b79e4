"""The simulator: workload validation, a seeded golden run, and one engine for two drivers."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dialback.cli import app
from dialback.domain.errors import (
    DialbackError,
    InvalidChoice,
    InvalidInput,
    InvalidType,
    MissingField,
    UnknownField,
)
from dialback.domain.model import MediaType
from dialback.domain.timeline import Purpose, SegmentType
from dialback.sim.model import Simulation, simulate
from dialback.sim.workload import load_workload, parse_workload

HERE = Path(__file__).parent


def test_seeded_golden_run_gives_exactly_the_stored_json(tmp_path: Path) -> None:
    """Updated only on purpose: ``dialback simulate tests/sim/workload.toml --json
    tests/sim/golden.json``."""
    out = tmp_path / "figures.json"
    result = CliRunner().invoke(app, ["simulate", str(HERE / "workload.toml"), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == (HERE / "golden.json").read_text()
    figures = json.loads(out.read_text())["queues"]["support"]
    assert figures["cfc_offered"] > 0 and figures["abandoned"] > 0 and figures["dials"] > 0


def test_another_seed_gives_another_day() -> None:
    workload = load_workload(HERE / "workload.toml")
    _, first = simulate(workload, seed=1)
    _, second = simulate(workload, seed=2)
    assert first != second


def test_one_engine_two_drivers_the_same_effects() -> None:
    """Every event the simulator fed, fed again to a fresh engine through the unit tests'
    virtual clock, gives the same effects (the simulator copies no engine rule)."""
    from dialback.sim.clock import VirtualClock

    workload = parse_workload(
        {
            "simulation": {"hours": 1, "warmup_minutes": 0, "seed": 4},
            "queue": [
                {
                    "name": "q",
                    "mode": "CustomerFirst",
                    "agents": 3,
                    "arrivals_per_hour": 60,
                    "handle_seconds": {"distribution": "exponential", "mean": 120},
                    "patience_seconds": {"distribution": "exponential", "mean": 60},
                    "callback_offer": {"after_wait_seconds": 20, "accept": 0.6},
                    "outcomes": {"live_voice": 0.6, "busy": 0.2, "no_answer": 0.2},
                    "max_retry_count": 1,
                    "retry_delay_seconds": 60,
                }
            ],
        }
    )
    sim = Simulation(workload, 4, record=True)
    sim.run()
    assert sim.record is not None and len(sim.record) > 200
    replay = VirtualClock.seeded(4, sim.record[0][0])
    for at, event, effects in sim.record:
        replay.now = at
        assert replay.send(event) == effects


def test_running_totals_agree_with_the_timeline_metrics() -> None:
    """The simulator's figures come from running totals fed as segments close
    (``domain/tally.py``); the service's analytics fold the recorded timeline afterwards
    (``metrics.observations``). On a customer-first day with abandons, callbacks, retries and
    a warm-up, both give the same figures."""
    workload = load_workload(HERE / "workload.toml")
    sim, figures = simulate(workload, timeline=True)
    q = figures["queues"]["support"]
    found = sim.observations()

    def values(name: str, media: MediaType | None = None) -> list[float]:
        return [o.value for o in found if o.name == name and (media is None or o.media is media)]

    voice = MediaType.VOICE
    waits = values("tWait", voice)
    assert q["offered"] == len(values("nOffered", voice)) > 1000
    assert q["answered"] == len(values("tAnswered", voice))
    assert q["abandoned"] == len(values("tAbandon", voice)) > 0
    assert q["mean_wait_seconds"] == pytest.approx(statistics.fmean(waits), abs=1e-6)
    assert q["p_wait"] == pytest.approx(sum(w > 1e-9 for w in waits) / len(waits), abs=1e-6)
    service = values("oServiceLevel", voice)
    assert q["service_level"] == pytest.approx(statistics.fmean(service), abs=1e-6)
    assert q["callbacks_requested"] == len(values("nOffered", MediaType.CALLBACK)) > 0
    assert q["dials"] == len(values("nCallbackAttempts")) > 0
    assert q["cfc_offered"] == len(values("nCfcOffered")) > 0
    assert q["cfc_abandoned"] == len(values("tCfcAbandon"))
    acd = values("tCfcAcd")
    assert q["mean_cfc_acd_seconds"] == pytest.approx(statistics.fmean(acd), abs=1e-6)
    assert sim.timeline is not None
    segments = [s for c in sim.timeline.conversations.values() for s in c.segments()]
    outcomes = Counter(
        s.outcome.value for s in segments if s.outcome and s.end and sim.warm <= s.end < sim.end
    )
    assert q["outcomes"] == dict(outcomes)
    busy = sum(
        max(0.0, min(s.end or sim.end, sim.end) - max(s.start, sim.warm))
        for s in segments
        if s.purpose is Purpose.AGENT and s.type is not SegmentType.CALLBACK
    )
    assert q["agent_occupancy"] == pytest.approx(busy / (20 * (sim.end - sim.warm)), abs=1e-6)
    area = sum(
        min(s.end or sim.end, sim.end) - s.start
        for s in segments
        if s.purpose is Purpose.ACD and s.type is SegmentType.INTERACT and s.media is voice
    )
    series = sim.waiting_over_day()["support"]["voice"]
    assert sum(series) * 900 == pytest.approx(area, rel=1e-6)


BAD = [
    pytest.param(
        {"simulation": {"hours": 1, "speed": 2}}, UnknownField, "simulation.speed", id="sim-key"
    ),
    pytest.param({"simulation": {}}, MissingField, "queue", id="no-queue"),
    pytest.param(
        {
            "queue": [
                {
                    "name": "q",
                    "arrivals_per_hour": 10,
                    "handle_seconds": {"distribution": "exponential", "mean": 1},
                }
            ]
        },
        MissingField,
        "queue[0].agents",
        id="no-agents",
    ),
    pytest.param(
        {
            "queue": [
                {
                    "name": "q",
                    "agents": 2,
                    "arrivals_per_hour": 10,
                    "handle_seconds": {"distribution": "gamma", "mean": 1},
                }
            ]
        },
        InvalidChoice,
        "queue[0].handle_seconds.distribution",
        id="distribution",
    ),
    pytest.param(
        {
            "queue": [
                {
                    "name": "q",
                    "agents": 2,
                    "arrivals_per_hour": 10,
                    "handle_seconds": {"distribution": "fixed", "value": 1},
                    "pacing_modifier": 11,
                }
            ]
        },
        InvalidInput,
        "queue[0].pacing_modifier",
        id="pacing",
    ),
    pytest.param(
        {
            "queue": [
                {
                    "name": "q",
                    "agents": 2,
                    "arrivals_per_hour": "many",
                    "handle_seconds": {"distribution": "fixed", "value": 1},
                }
            ]
        },
        InvalidType,
        "queue[0].arrivals_per_hour",
        id="rate",
    ),
    pytest.param(
        {
            "queue": [
                {
                    "name": "q",
                    "agents": 2,
                    "arrivals_per_hour": 1,
                    "handle_seconds": {"distribution": "fixed", "value": 1},
                    "outcomes": {"live_voice": 0.5},
                }
            ]
        },
        InvalidInput,
        "queue[0].outcomes",
        id="shares",
    ),
    pytest.param(
        {
            "queue": [
                {
                    "name": "q",
                    "agents": 2,
                    "arrivals_per_hour": 1,
                    "handle_seconds": {"distribution": "fixed", "value": 1},
                    "outcomes": {"voicemail": 1.0},
                }
            ]
        },
        UnknownField,
        "queue[0].outcomes.voicemail",
        id="outcome",
    ),
    pytest.param(
        {
            "queue": [
                {
                    "name": "q",
                    "agents": 2,
                    "arrivals_per_hour": 1,
                    "handle_seconds": {"distribution": "fixed", "value": 1},
                    "callback_offer": {"after_wait_seconds": 5, "accept": 2},
                }
            ]
        },
        InvalidInput,
        "queue[0].callback_offer.accept",
        id="accept",
    ),
    pytest.param(
        {
            "queue": [
                {
                    "name": "q",
                    "agents": 2,
                    "arrivals_per_hour": 1,
                    "handle_seconds": {"distribution": "fixed", "value": 1},
                    "agentz": 3,
                }
            ]
        },
        UnknownField,
        "queue[0].agentz",
        id="typo",
    ),
]


@pytest.mark.parametrize(("data", "error", "field"), BAD)
def test_a_bad_workload_names_the_key(
    data: dict[str, Any], error: type[DialbackError], field: str
) -> None:
    with pytest.raises(error) as raised:
        parse_workload(data)
    assert raised.value.field == field


def test_shifts_and_rates_per_interval_are_read(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text(
        "[simulation]\nhours = 2\nwarmup_minutes = 0\n[[queue]]\nname = 'q'\n"
        "arrivals_per_hour = [60, 0, 120, 30]\n"
        "handle_seconds = { distribution = 'lognormal', mean = 100, sd = 50 }\n"
        "[[queue.shift]]\nstart = 0\nend = 1\nagents = 2\n"
        "[[queue.shift]]\nstart = 1\nend = 2\nagents = 4\n"
    )
    workload = load_workload(path)
    (queue,) = workload.queues
    assert [s.agents for s in queue.shifts] == [2, 4]
    assert queue.arrival_rate(0.6) == 0 and queue.arrival_rate(1.2) == 120
    _, figures = simulate(workload)
    assert figures["queues"]["q"]["offered"] > 0


def test_cli_refuses_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[simulation\n")
    result = CliRunner().invoke(app, ["simulate", str(path)])
    assert result.exit_code == 2 and "invalid_input" in result.output


def test_waiting_over_day_obeys_littles_law() -> None:
    """The time-average number waiting is arrivals per second x mean wait (L = lambda W), from
    the same timeline; checked over the whole day with nobody left waiting at the end."""
    data = {
        "simulation": {"hours": 6, "warmup_minutes": 0, "seed": 3},
        "queue": [
            {
                "name": "q",
                "mode": "AgentFirst",
                "agents": 10,
                "arrivals_per_hour": [100, 100, 150, 150, 100, 100] + [0] * 6,
                "handle_seconds": {"distribution": "exponential", "mean": 300},
                "patience_seconds": {"distribution": "exponential", "mean": 300},
            }
        ],
    }
    sim, figures = simulate(parse_workload(data), timeline=True)
    series = sim.waiting_over_day(step=600)["q"]
    assert (
        series["hours"][:3] == pytest.approx([0.0, 1 / 6, 2 / 6], abs=1e-6)
        and len(series["hours"]) == 36
    )
    assert series["callback"] == [0.0] * 36
    area = sum(series["voice"]) * 600  # caller-seconds spent waiting
    waits = [o.value for o in sim.observations() if o.name == "tWait"]  # answered or not
    assert len(waits) == figures["queues"]["q"]["offered"] > 300
    assert figures["queues"]["q"]["abandoned"] > 0
    assert area == pytest.approx(sum(waits), rel=1e-4)  # the series is rounded to 1e-6
    busier = sum(series["voice"][6:12])  # hour 1..2 at 150/h against hour 0..1 at 100/h
    assert busier > sum(series["voice"][:6])
    assert series["voice"][-1] == 0.0  # arrivals stop after 3 hours; the queue drains


def test_simulate_report_draws_the_waiting_queue(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["simulate", str(HERE / "workload.toml"), "--report", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r" / "report.html").read_text()
    image = tmp_path / "r" / "support-waiting.png"
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.name in page
    assert "cfc_offered" in page and "mean_wait_seconds" in page
