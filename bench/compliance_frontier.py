"""Issue 14 (docs/compliance.md, R-X-19): pacing to an abandonment budget against fixed pacing
modifiers 1-10 (without a reserved agent) and fixed modifiers with a reserved agent, on light,
heavy and overloaded days, on common random numbers. Prints a Markdown table for
bench/RESULTS.md.

    .venv/bin/python bench/compliance_frontier.py [--replications 20] [--hours 4]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from dialback.sim.sweep import BUDGET, sweep

LOADS = {  # agents, calls per hour, live-answer share
    "light": (20, 230, 0.8),
    "heavy": (20, 290, 0.7),
    "overloaded": (20, 340, 0.5),
}


def day(name: str, hours: float, **extra: Any) -> dict[str, Any]:
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
    return {"simulation": {"hours": hours, "warmup_minutes": 20, "seed": 14}, "queue": [queue]}


def cell(interval: dict[str, float], digits: int = 4) -> str:
    mean, low, high = (f"{interval[k]:.{digits}f}" for k in ("mean", "low", "high"))
    return f"{mean} [{low}, {high}]"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=20)
    parser.add_argument("--hours", type=float, default=4)
    args = parser.parse_args()
    print("| load | pacing | abandoned-call rate | agent occupancy | mean wait s |")
    print("|---|---|---:|---:|---:|")
    for name in LOADS:
        started = time.monotonic()
        free = sweep(
            day(name, args.hours),
            list(range(1, 11)),
            ["CustomerFirst"],
            args.replications,
            workers=2,
            budget=True,
        )
        held = sweep(
            day(name, args.hours, customer_first_delivery_mode="UseAgentReservation"),
            [1, 10],
            ["CustomerFirst"],
            args.replications,
            workers=2,
        )
        rows = [(r, "") for r in free["queues"][name]]
        rows += [(r, " reserved") for r in held["queues"][name]]
        for row, note in rows:
            p = row["pacing_modifier"]
            label = "**budget 3%**" if p == BUDGET else f"fixed {p:g}{note}"
            print(
                f"| {name} | {label} | {cell(row['abandon_rate'])} | "
                f"{cell(row['agent_occupancy'])} | {row['mean_wait_seconds']['mean']:.1f} |"
            )
        print(f"<!-- {name}: {time.monotonic() - started:.0f} s -->")


if __name__ == "__main__":
    main()
