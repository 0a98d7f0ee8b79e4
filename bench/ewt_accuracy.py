"""EWT accuracy in the simulator (issue 18): the forward simulation against the simple formulas.

Run by hand:

    .venv/bin/python bench/ewt_accuracy.py [--runs 40] [--seeds 3] [--jobs 2] [WORKLOAD.toml ...]

Without workloads it runs the held-back set, ``bench/ewt_workloads/held_*.toml`` (the
``tune_*`` files are the ones the estimator was tuned on, and are never reported). For every
caller and every callback arriving after the warm-up that finds no idle agent, each estimator
predicts its wait at that moment (``sim/ewt_check.py``): ``BEST`` (median of the forward
simulation, ``--runs`` runs, with its 80% interval), ``SIMPLE`` and ``ABANDON``. Prints, as
Markdown for bench/RESULTS.md, per workload and kind the number scored, the mean actual wait, each
estimator's mean absolute error, how much lower BEST's is than the better simple formula's, the
80% interval's coverage and the cost per estimate (CPU time of the process, so that a busy
machine does not inflate it). Targets: MAE at least 30% lower than the best
simple formula; the 80% interval holding 75-85% of actual waits.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from dialback.sim.ewt_check import Prediction, check, summarise
from dialback.sim.workload import load_workload

HERE = Path(__file__).resolve().parent / "ewt_workloads"


def _one(
    job: tuple[str, int, int],
) -> tuple[str, list[Prediction], dict[str, Any], float]:
    path, seed_offset, runs = job
    started = time.perf_counter()
    workload = load_workload(Path(path))
    checker, summary = check(workload, seed=workload.seed + seed_offset, runs=runs)
    return path, list(checker.predictions.values()), summary, time.perf_counter() - started


def _row(name: str, kind: str, s: dict[str, Any], cost: str) -> str:
    if not s.get("n"):
        return f"| {name} | {kind} | 0 | | | | | | | | {cost} |"
    better = min(s["mae_simple"], s["mae_abandon"])
    gain = 1 - s["mae_best"] / better if better else 0.0
    return (
        f"| {name} | {kind} | {s['n']} | {s['unanswered']} | {s['mean_actual']:.0f} | "
        f"{s['mae_best']:.1f} | {s['mae_simple']:.1f} | {s['mae_abandon']:.1f} | "
        f"{gain:+.0%} | {s['coverage']:.0%} | {cost} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=40, help="forward runs per estimate")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument(
        "--seeds", type=int, default=1, help="days per workload (seeds seed, seed+1, ...)"
    )
    args = parser.parse_args()
    paths = [str(p) for p in args.workloads] or [str(p) for p in sorted(HERE.glob("held_*.toml"))]
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}; "
        f"command: {' '.join(sys.argv)}\n"
    )
    print(
        "| workload | kind | scored | unanswered | mean actual s | MAE BEST | MAE SIMPLE | "
        "MAE ABANDON | BEST vs best simple | 80% interval holds | CPU ms per estimate (per run) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    pooled: list[Prediction] = []
    jobs = [(p, k, args.runs) for p in paths for k in range(args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        done = list(pool.map(_one, jobs))
    for path in paths:
        days = [d for d in done if d[0] == path]
        predictions = [p for d in days for p in d[1]]
        name = Path(path).stem.removeprefix("held_")
        cpu = sum(d[2]["cpu_ms_per_estimate"] * d[2]["estimates"] for d in days)
        estimates = sum(d[2]["estimates"] for d in days)
        runs = sum(
            d[2]["cpu_ms_per_estimate"] / d[2]["cpu_ms_per_run"] * d[2]["estimates"]
            for d in days
            if d[2]["cpu_ms_per_run"]
        )
        cost = f"{cpu / max(estimates, 1):.0f} ({cpu / max(runs, 1):.1f})"
        for kind in ("all", "call", "callback"):
            found = summarise([p for p in predictions if kind in ("all", p.kind)])
            if kind != "all" and not found.get("n"):
                continue
            print(_row(name, kind, found, cost if kind == "all" else ""))
        pooled += predictions
    print(_row("**pooled**", "all", summarise(pooled), ""))
    total = sum(d[3] for d in done)
    print(f"\n{len(paths)} workloads x {args.seeds} days, {total:.0f} s of wall time in workers")


if __name__ == "__main__":
    main()
