"""``dialback sweep``: a workload over pacing modifiers x callback modes x replications, run in
parallel on local processes (or on a Dask cluster), summarised as means with 95% confidence
intervals.

Replication ``r`` uses seed ``base * 1000 + r`` in every combination (common random numbers:
the same customers meet every pacing modifier, so differences between modifiers are sharper).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from dialback.sim.model import simulate
from dialback.sim.workload import parse_workload

FIGURES = (
    "service_level",
    "mean_wait_seconds",
    "cfc_abandon_rate",
    "agent_occupancy",
    "abandon_rate",  # R-X-12: live answers not connected within the threshold
)
BUDGET = "budget"  # issue 14: the pacing_modifier of a budget-mode row (R-X-16)

# Student's t, two-sided 95%, by degrees of freedom (1..30); the normal value beyond.
T_95 = [
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
]


@dataclass(frozen=True, slots=True)
class Run:
    mode: str
    pacing: float
    replication: int
    seed: int
    budget: bool = False  # R-X-16: AbandonmentBudget pacing instead of the modifier


def pacing_range(text: str) -> list[float]:
    """``1-10`` (whole steps), ``1,2.5,5`` or a mix: ``1-3,5``."""
    values: list[float] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        if high:
            values += [float(v) for v in range(int(low), int(high) + 1)]
        else:
            values.append(float(low))
    return sorted(set(values))


def run_one(data: Mapping[str, Any], run: Run) -> dict[str, dict[str, Any]]:
    """One simulation of the workload with every queue set to the run's mode and modifier: its
    figures, and ``waiting`` (mean number waiting, voice and callbacks, per 15 minutes)."""
    queues = [{**q, "mode": run.mode, "pacing_modifier": run.pacing} for q in data.get("queue", [])]
    if run.budget:
        queues = [{**q, "pacing_mode": "AbandonmentBudget"} for q in queues]
    workload = parse_workload({**data, "queue": queues})
    sim, figures = simulate(workload, seed=run.seed)
    series = sim.waiting_over_day()
    found = {}
    for name, q in figures["queues"].items():
        offered = q["cfc_offered"]
        waiting = series[name]
        found[name] = {
            "service_level": q["service_level"],
            "mean_wait_seconds": q["mean_wait_seconds"],
            "cfc_abandon_rate": q["cfc_abandoned"] / offered if offered else 0.0,
            "agent_occupancy": q["agent_occupancy"],
            "abandon_rate": q["abandon_rate"],
            "waiting": {
                "hours": waiting["hours"],
                "count": [
                    v + c for v, c in zip(waiting["voice"], waiting["callback"], strict=True)
                ],
            },
        }
    return found


def interval(values: list[float]) -> dict[str, float]:
    """Mean and 95% confidence interval of independent replications."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return {"mean": mean, "low": mean, "high": mean}
    df = len(values) - 1
    t = T_95[df - 1] if df <= len(T_95) else 1.96
    half = t * statistics.stdev(values) / math.sqrt(len(values))
    return {"mean": mean, "low": mean - half, "high": mean + half}


def sweep(
    data: Mapping[str, Any],
    pacing: Iterable[float],
    modes: Iterable[str],
    replications: int,
    *,
    workers: int | None = None,
    dask: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    budget: bool = False,
) -> dict[str, Any]:
    """Every mode x pacing modifier, plus with ``budget`` the budget mode (customer-first,
    R-X-16) as one more row whose ``pacing_modifier`` is ``"budget"``; all on the same seeds."""
    base = int(data.get("simulation", {}).get("seed", 1))
    runs = [
        Run(mode, p, r, base * 1000 + r)
        for mode in modes
        for p in pacing
        for r in range(replications)
    ]
    if budget:
        runs += [Run("CustomerFirst", 10.0, r, base * 1000 + r, True) for r in range(replications)]
    results = list(_execute(data, runs, workers, dask, progress))
    summary: dict[str, Any] = {}
    for queue in results[0][1]:
        rows = []
        for key in dict.fromkeys((r.mode, r.pacing, r.budget) for r in runs):
            mine = [res[queue] for run, res in results if (run.mode, run.pacing, run.budget) == key]
            mode, p, in_budget = key
            rows.append(
                {"mode": mode, "pacing_modifier": BUDGET if in_budget else p}
                | {"replications": len(mine)}
                | {name: interval([m[name] for m in mine]) for name in FIGURES}
                | {"waiting_over_day": _mean_series([m["waiting"] for m in mine])}
            )
        summary[queue] = rows
    return {"seed": base, "replications": replications, "queues": summary}


def _mean_series(series: list[dict[str, list[float]]]) -> dict[str, list[float]]:
    """The replications' mean number waiting per interval."""
    counts = [s["count"] for s in series]
    return {
        "hours": series[0]["hours"],
        "mean": [round(statistics.fmean(at), 6) for at in zip(*counts, strict=True)],
    }


def _execute(
    data: Mapping[str, Any],
    runs: list[Run],
    workers: int | None,
    dask: str | None,
    progress: Callable[[int, int], None] | None,
) -> Iterable[tuple[Run, dict[str, dict[str, Any]]]]:
    if dask:
        try:
            from distributed import Client
        except ImportError as missing:
            raise RuntimeError(
                "--dask needs Dask's distributed: pip install 'dialback[cluster]'"
            ) from missing

        with Client(dask) as client:  # type: ignore[no-untyped-call]
            futures = [client.submit(run_one, dict(data), run, pure=False) for run in runs]
            for i, (run, future) in enumerate(zip(runs, futures, strict=True)):
                yield run, future.result()
                if progress:
                    progress(i + 1, len(runs))
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = pool.map(run_one, [dict(data)] * len(runs), runs)
        for i, (run, result) in enumerate(zip(runs, done, strict=True)):
            yield run, result
            if progress:
                progress(i + 1, len(runs))
