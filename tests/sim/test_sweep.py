"""``dialback sweep``: combinations in parallel processes, means with 95% intervals."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from dialback.cli import app
from dialback.sim.sweep import Run, interval, pacing_range, run_one, sweep

HERE = Path(__file__).parent


def test_pacing_ranges() -> None:
    assert pacing_range("1-3,5,2.5") == [1.0, 2.0, 2.5, 3.0, 5.0]


def test_interval_is_a_students_t_interval() -> None:
    found = interval([1.0, 2.0, 3.0])
    assert found["mean"] == 2.0
    assert found["high"] - found["mean"] == 4.303 * 1.0 / 3**0.5  # t(2), sd 1, n 3


def test_sweep_runs_every_combination_with_common_seeds() -> None:
    data = tomllib.loads((HERE / "workload.toml").read_text())
    data["simulation"]["hours"] = 1
    summary = sweep(data, [1.0, 10.0], ["AgentFirst", "CustomerFirst"], 2, workers=2)
    rows = summary["queues"]["support"]
    assert [(r["mode"], r["pacing_modifier"]) for r in rows] == [
        ("AgentFirst", 1.0),
        ("AgentFirst", 10.0),
        ("CustomerFirst", 1.0),
        ("CustomerFirst", 10.0),
    ]
    for row in rows:
        for name in ("service_level", "mean_wait_seconds", "cfc_abandon_rate", "agent_occupancy"):
            assert row[name]["low"] <= row[name]["mean"] <= row[name]["high"]
    # one replication in the pool is the same as one run here (seed 1000 + 0)
    alone = run_one(data, Run("CustomerFirst", 10.0, 0, 1000))["support"]
    assert alone["agent_occupancy"] <= 1


def test_cli_sweep_writes_json(tmp_path: Path) -> None:
    workload = tmp_path / "w.toml"
    text = (HERE / "workload.toml").read_text().replace("hours = 8", "hours = 1")
    workload.write_text(text)
    out = tmp_path / "sweep.json"
    result = CliRunner().invoke(
        app,
        [
            "sweep",
            str(workload),
            "--pacing",
            "5",
            "--modes",
            "CustomerFirst",
            "--replications",
            "2",
            "--workers",
            "2",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["queues"]["support"][0]["replications"] == 2


def test_report_writes_plots_and_a_page(tmp_path: Path) -> None:
    from dialback.sim.report import PLOTS, write_report

    data = tomllib.loads((HERE / "workload.toml").read_text())
    data["simulation"]["hours"] = 1
    summary = sweep(data, [2.0, 8.0], ["AgentFirst", "CustomerFirst"], 2, workers=2)
    page = write_report(summary, tmp_path / "report")
    text = page.read_text()
    for name in PLOTS:
        image = tmp_path / "report" / f"support-{name}.png"
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert image.name in text
    assert text.count("<tr>") == 1 + 4  # header and one row per mode and modifier
    waiting = tmp_path / "report" / "support-waiting.png"
    assert waiting.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and waiting.name in text
    for row in summary["queues"]["support"]:
        series = row["waiting_over_day"]
        assert len(series["hours"]) == len(series["mean"]) == 6  # 1.5 h in 15-minute intervals
        assert all(v >= 0 for v in series["mean"]) and max(series["mean"]) > 0


def test_sweep_on_a_dask_cluster_gives_the_local_answer() -> None:
    """``--dask SCHEDULER``: a real ``distributed`` scheduler and worker on loopback run the same
    replications (same seeds) as the local process pool, so the summaries are equal."""
    from distributed import LocalCluster

    data = tomllib.loads((HERE / "workload.toml").read_text())
    data["simulation"]["hours"] = 1
    local = sweep(data, [3.0], ["CustomerFirst"], 2, workers=2)
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        seen: list[tuple[int, int]] = []
        remote = sweep(
            data,
            [3.0],
            ["CustomerFirst"],
            2,
            dask=address,
            progress=lambda done, total: seen.append((done, total)),
        )
    assert remote == local
    assert seen == [(1, 2), (2, 2)]
