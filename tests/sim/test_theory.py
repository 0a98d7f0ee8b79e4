"""The simulator against queueing theory: with callbacks off and nobody abandoning the model is
M/M/c (Erlang C); with exponential patience it is M/M/c+M (Erlang A). The formulas are computed
here, not copied.

P(abandon) is held to 3% (its run-to-run spread at 300 hours is about 1%: seeds 20-27 landed
-1.3% to +1.5% off Erlang A). The mean wait and P(wait) are held to Erlang C by 99.9% batch-means
confidence intervals, each also narrow enough to mean something: a fixed tolerance on either is
wider than its run-to-run spread only past about a million customers per set (measured: the mean
wait 6.9% off with 96k customers at c=5, load 0.8; P(wait) up to 4.2% off with 100k at c=10,
load 0.7), which would take minutes per set. The run lengths are sized so that the intervals'
widths stay under their bounds with margin (seeds 300-307 and 500-504, issue 16).
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import pytest

from dialback.sim.model import simulate
from dialback.sim.workload import parse_workload


def erlang_c(c: int, lam: float, mu: float) -> tuple[float, float]:
    """(P(wait), mean wait in queue) of M/M/c."""
    a = lam / mu
    rho = a / c
    below = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) / (1 - rho)
    p_wait = top / (below + top)
    return p_wait, p_wait / (c * mu - lam)


def erlang_a_abandon(c: int, lam: float, mu: float, theta: float, states: int = 2000) -> float:
    """P(abandon) of M/M/c+M from the stationary law of its birth-death chain."""
    p = [1.0]
    for n in range(1, states):
        p.append(p[-1] * lam / (min(n, c) * mu + max(n - c, 0) * theta))
    total = sum(p)
    return sum(max(n - c, 0) * theta * pn / total for n, pn in enumerate(p)) / lam


def batch_means_interval(values: list[float], batches: int = 30) -> tuple[float, float]:
    """A 99.9% confidence interval of the mean of a correlated series (waits in order)."""
    size = len(values) // batches
    means = [statistics.fmean(values[i * size : (i + 1) * size]) for i in range(batches)]
    t_999 = 3.659  # Student's t, 29 degrees of freedom, two-sided 99.9%
    half = t_999 * statistics.stdev(means) / math.sqrt(batches)
    centre = statistics.fmean(means)
    return centre - half, centre + half


def queue(**fields: Any) -> dict[str, Any]:
    return {
        "name": "q",
        "handle_seconds": {"distribution": "exponential", "mean": fields.pop("mean")},
        **fields,
    }


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("agents", "per_hour", "mean", "hours", "seed"),
    [
        pytest.param(2, 60, 60, 1100, 11, id="c2-load0.5"),
        pytest.param(5, 42, 300, 3600, 12, id="c5-load0.7"),
        pytest.param(10, 420, 60, 480, 13, id="c10-load0.7"),
    ],
)
def test_without_callbacks_or_abandons_the_model_matches_erlang_c(
    agents: int, per_hour: float, mean: float, hours: float, seed: int
) -> None:
    workload = parse_workload(
        {
            "simulation": {"hours": hours, "warmup_minutes": 120, "seed": seed},
            "queue": [queue(agents=agents, arrivals_per_hour=per_hour, mean=mean)],
        }
    )
    sim, figures = simulate(workload, timeline=True)  # the waits in order, for batch means
    q = figures["queues"]["q"]
    p_wait, wait = erlang_c(agents, per_hour / 3600, 1 / mean)
    assert q["answered"] > 60_000
    assert q["abandoned"] == 0
    waits = [o.value for o in sim.observations() if o.name == "tWait"]
    waited = [1.0 if w > 0 else 0.0 for w in waits]
    assert statistics.fmean(waits) == pytest.approx(q["mean_wait_seconds"], abs=1e-5)
    assert statistics.fmean(waited) == pytest.approx(q["p_wait"], abs=1e-6)
    low, high = batch_means_interval(waits)
    assert low <= wait <= high, (low, wait, high)
    assert high - low < 0.45 * wait  # narrow enough to mean something (measured: 0.18-0.31)
    low, high = batch_means_interval(waited)
    assert low <= p_wait <= high, (low, p_wait, high)
    assert high - low < 0.2 * p_wait  # measured: 0.08-0.14 at these run lengths


@pytest.mark.timeout(600)
def test_with_exponential_patience_abandons_match_erlang_a() -> None:
    agents, per_hour, mean, patience = 5, 330, 60, 90
    workload = parse_workload(
        {
            "simulation": {"hours": 300, "warmup_minutes": 60, "seed": 21},
            "queue": [
                queue(
                    agents=agents,
                    arrivals_per_hour=per_hour,
                    mean=mean,
                    patience_seconds={"distribution": "exponential", "mean": patience},
                )
            ],
        }
    )
    _, figures = simulate(workload)
    q = figures["queues"]["q"]
    simulated = q["abandoned"] / (q["answered"] + q["abandoned"])
    expected = erlang_a_abandon(agents, per_hour / 3600, 1 / mean, 1 / patience)
    assert q["answered"] + q["abandoned"] > 80_000
    assert simulated == pytest.approx(expected, rel=0.03)
