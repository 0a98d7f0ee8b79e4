"""How much better than SIMPLE any estimator can be on an M/M/c queue (issue 18).

Run by hand:

    .venv/bin/python bench/ewt_ceiling.py [--rho 0.8 0.9 0.917 0.95]

In an M/M/c queue served in FIFO order with nobody abandoning, a caller who finds all c agents
busy and j callers waiting ahead waits for j + 1 departures; with every agent busy, departures
come at rate c/AHT whatever the agents' elapsed times (memoryless), so the wait is
Gamma(j + 1, c/AHT) and nothing else about the queue tells more. Its mean, (j + 1) x AHT / c, is
exactly SIMPLE; the estimate with the least mean absolute error is its median. So the best any
estimator (the forward simulation included, even with the true distributions) can do is the
median's MAE, and its gain over SIMPLE is ``1 - MAE(median) / MAE(mean)``. By PASTA an arrival
who waits finds j waiting with probability (1 - rho) rho^j, which weights the positions. The
ratio does not depend on c or AHT (they only scale the wait).
"""

from __future__ import annotations

import argparse
import math


def _gamma_p(n: float, x: float) -> float:
    """The regularized lower incomplete gamma P(n, x) (series, or Lentz's continued fraction)."""
    if x <= 0:
        return 0.0
    log_front = -x + n * math.log(x) - math.lgamma(n)
    if x < n + 1:
        term = total = 1.0 / n
        k = n
        for _ in range(10_000):
            k += 1
            term *= x / k
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return total * math.exp(log_front)
    tiny = 1e-300
    b = x + 1 - n
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - n)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < 1e-15:
            break
    return 1 - math.exp(log_front) * h


def _mae(n: int, a: float) -> float:
    """E|X - a| for X ~ Gamma(n, 1): (n - a) + 2 (a P(n, a) - n P(n + 1, a))."""
    return (n - a) + 2 * (a * _gamma_p(n, a) - n * _gamma_p(n + 1, a))


def _median(n: int) -> float:
    low, high = max(0.0, n - 1.0), float(n)
    for _ in range(80):
        mid = (low + high) / 2
        low, high = (mid, high) if _gamma_p(n, mid) < 0.5 else (low, mid)
    return (low + high) / 2


def by_position(n: int) -> tuple[float, float]:
    """(MAE around the mean, MAE around the median) for the n-th departure, in units of
    AHT / c."""
    return _mae(n, float(n)), _mae(n, _median(n))


def ceiling(rho: float, tail: float = 1e-12) -> float:
    """The best possible gain over SIMPLE, over the waiting arrivals of an M/M/c at load rho."""
    mean_total = median_total = 0.0
    j, weight = 0, 1 - rho
    while weight > tail:
        at_mean, at_median = by_position(j + 1)
        mean_total += weight * at_mean
        median_total += weight * at_median
        j, weight = j + 1, weight * rho
    return 1 - median_total / mean_total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rho", type=float, nargs="*", default=[0.8, 0.9, 0.917, 0.95, 0.98])
    args = parser.parse_args()
    print("| departures waited for (ahead + 1) | MAE of SIMPLE | MAE of the median | gain |")
    print("|---:|---:|---:|---:|")
    for n in (1, 2, 3, 5, 10, 20, 50):
        at_mean, at_median = by_position(n)
        print(f"| {n} | {at_mean:.4f} | {at_median:.4f} | {1 - at_median / at_mean:.1%} |")
    print("\n| load rho | best possible gain over SIMPLE (waiting arrivals, PASTA) |")
    print("|---:|---:|")
    for rho in args.rho:
        print(f"| {rho:g} | {ceiling(rho):.1%} |")


if __name__ == "__main__":
    main()
