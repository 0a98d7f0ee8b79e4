"""dialback's simulator against SimPy on the same M/M/c model, in one run (issue 5).

Run by hand (not part of the tests):

    .venv/bin/python bench/sim_vs_simpy.py                     # 50 agents, load 0.9, 200k customers
    .venv/bin/python bench/sim_vs_simpy.py --customers 20000   # quicker

Three runs, each timed from the first event to the last; dialback's time includes reading its
figures (issue 16), building the model is left out of both:

1. SimPy: a ``Resource`` of ``agents`` servers, Poisson arrivals, exponential handle times; the
   textbook model, with nothing but the wait recorded.
2. dialback, the same M/M/c: agent-first queue, no callbacks, nobody abandons; every event goes
   through the engine (its public method per event kind, the simulator as its sink), and the
   queue metrics are kept as the segments close.
   A bare Python loop (a heap, a counter, a FIFO; no engine) runs the same model too: the
   ceiling for any CPython simulator that handles customers one event at a time.
3. dialback, the full customer-first model: the same arrivals and agents, callers who accept a
   callback offer after 60 s (half of them), patience, pacing modifier 5, a carrier with the
   outcome mix of the issue's workload.

Both simulators report the mean wait and P(wait), and the Erlang C values are printed beside
them, so the reader sees the three runs model the same queue. Target (issue 16): dialback's
M/M/c at least as fast as SimPy's (>= 1.0x customers/s) and the customer-first model >= 0.9x,
in the same run. Which build of dialback ran (mypyc-compiled or pure Python) is printed.
"""

from __future__ import annotations

import argparse
import collections
import heapq
import math
import os
import platform
import random
import sys
import time
from collections.abc import Generator
from typing import Any

import simpy

from dialback.sim.model import Simulation
from dialback.sim.workload import parse_workload


def erlang_c(agents: int, offered: float, mean: float) -> tuple[float, float]:
    """P(wait) and mean wait of M/M/c with ``offered`` Erlangs and mean handle ``mean``."""
    term, total = 1.0, 1.0
    for k in range(1, agents):
        term *= offered / k
        total += term
    last = term * offered / agents * agents / (agents - offered)
    p_wait = last / (total + last)
    return p_wait, p_wait * mean / (agents - offered)


def with_simpy(customers: int, agents: int, rate: float, mean: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=agents)
    waits: list[float] = []

    def customer() -> Generator[Any, Any, None]:
        arrived = env.now
        with servers.request() as turn:
            yield turn
            waits.append(env.now - arrived)
            yield env.timeout(rng.expovariate(1 / mean))

    def source() -> Generator[Any, Any, None]:
        for _ in range(customers):
            yield env.timeout(rng.expovariate(rate))
            env.process(customer())

    env.process(source())
    started = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - started
    return {
        "customers": len(waits),
        "seconds": elapsed,
        "mean_wait": sum(waits) / len(waits),
        "p_wait": sum(1 for w in waits if w > 0) / len(waits),
    }


def bare_loop(customers: int, agents: int, rate: float, mean: float, seed: int) -> dict[str, Any]:
    """The least a Python simulator of this M/M/c can do: a heap of events, a count of free
    agents and a FIFO of arrival times; no engine, no timeline, no metrics. Its speed is the
    ceiling of any simulator written in CPython that handles customers one event at a time."""
    rng = random.Random(seed)
    heap: list[tuple[float, int, bool]] = []
    t = 0.0
    for n in range(customers):
        t += rng.expovariate(rate)
        heap.append((t, n, True))
    heapq.heapify(heap)
    free, waiting, waits, n = agents, collections.deque[float](), [], customers
    started = time.perf_counter()
    while heap:
        now, _, arrival = heapq.heappop(heap)
        if arrival and not free:
            waiting.append(now)
            continue
        if arrival:
            free -= 1
            waits.append(0.0)
        elif waiting:
            waits.append(now - waiting.popleft())
        else:
            free += 1
            continue
        n += 1
        heapq.heappush(heap, (now + rng.expovariate(1 / mean), n, False))
    elapsed = time.perf_counter() - started
    return {
        "customers": len(waits),
        "seconds": elapsed,
        "mean_wait": sum(waits) / len(waits),
        "p_wait": sum(1 for w in waits if w > 0) / len(waits),
    }


def with_dialback(workload: dict[str, Any], seed: int) -> dict[str, Any]:
    sim = Simulation(parse_workload(workload), seed)
    started = time.perf_counter()
    sim.run()
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    figures = sim.figures()["queues"]["q"]
    reading = time.perf_counter() - started
    return {
        "customers": figures["offered"],
        "seconds": elapsed + reading,
        "figures_seconds": reading,
        "mean_wait": figures["mean_wait_seconds"],
        "p_wait": figures["p_wait"],
        "dials": figures["dials"],
        "callbacks": figures["callbacks_requested"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--load", type=float, default=0.9)
    parser.add_argument("--handle", type=float, default=300.0, help="mean handle seconds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rate = args.load * args.agents / args.handle  # arrivals per second
    hours = args.customers / rate / 3600
    mmc = {
        "name": "q",
        "mode": "AgentFirst",
        "agents": args.agents,
        "arrivals_per_hour": rate * 3600,
        "handle_seconds": {"distribution": "exponential", "mean": args.handle},
    }
    full = mmc | {
        "mode": "CustomerFirst",
        "pacing_modifier": 5,
        "patience_seconds": {"distribution": "exponential", "mean": 120},
        "callback_offer": {"after_wait_seconds": 60, "accept": 0.5},
        "outcomes": {
            "live_voice": 0.7,
            "answering_machine": 0.15,
            "no_answer": 0.1,
            "busy": 0.05,
        },
    }
    simulation = {"hours": hours, "warmup_minutes": 0, "seed": args.seed}
    import dialback.domain.core

    build = "pure Python" if dialback.domain.core.__file__.endswith(".py") else "mypyc"
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}; "
        f"dialback build: {build}; command: {' '.join(sys.argv)}"
    )
    p_wait, mean_wait = erlang_c(args.agents, args.load * args.agents, args.handle)
    print(
        f"M/M/{args.agents}, load {args.load}, mean handle {args.handle:g} s, "
        f"{args.customers:,} customers ({hours:.1f} simulated hours); "
        f"Erlang C: mean wait {mean_wait:.2f} s, P(wait) {p_wait:.3f}"
    )
    simpy_run = with_simpy(args.customers, args.agents, rate, args.handle, args.seed)
    floor = bare_loop(args.customers, args.agents, rate, args.handle, args.seed)
    plain = with_dialback({"simulation": simulation, "queue": [mmc]}, args.seed)
    callbacks = with_dialback({"simulation": simulation, "queue": [full]}, args.seed)
    base = simpy_run["customers"] / simpy_run["seconds"]
    print(
        "| model | simulator | customers | seconds | customers/s | x SimPy "
        "| mean wait s | P(wait) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for model, name, run in (
        ("M/M/c", "SimPy", simpy_run),
        ("M/M/c", "bare Python loop (no engine)", floor),
        ("M/M/c", "dialback", plain),
        ("customer-first", "dialback", callbacks),
    ):
        speed = run["customers"] / run["seconds"]
        print(
            f"| {model} | {name} | {run['customers']:,} | {run['seconds']:.1f} | "
            f"{speed:,.0f} | {speed / base:.3f} | {run['mean_wait']:.2f} | {run['p_wait']:.3f} |"
        )
    for label, run in (("M/M/c", plain), ("customer-first", callbacks)):
        print(
            f"dialback {label}: figures read in {run['figures_seconds']:.3f} s (included); "
            f"{run['callbacks']:,} callbacks, {run['dials']:,} dials"
        )
    assert math.isclose(plain["p_wait"], p_wait, rel_tol=0.2), "the M/M/c runs are not M/M/c"


if __name__ == "__main__":
    main()
