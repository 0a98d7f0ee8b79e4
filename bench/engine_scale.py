"""How much one event costs the engine as agents and waiting callbacks grow.

Run by hand (not part of the tests):

    .venv/bin/python bench/engine_scale.py                      # the whole matrix
    .venv/bin/python bench/engine_scale.py --agents 10000 --waiting 1000000 --mode both

For each (mode, agents, waiting) it builds a queue where every agent is busy and ``waiting``
callbacks wait, then measures a steady stream of events that keeps those numbers constant:

- agent-first: an agent ends its callback, wraps up (and so takes the head of the queue), and
  accepts the alert; a new callback arrives; now and then a waiting one is cancelled.
- customer-first: a dial resolves (so the pacing evaluation dials the next head); a new
  callback arrives; now and then a waiting one is cancelled.

Each ``Engine.handle`` call is timed with ``perf_counter_ns``; the report gives p50, p99 and max
per event, and the figures are printed as a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from dialback.domain.effects import Effect, OfferToAgent, PlaceCall
from dialback.domain.engine import Engine
from dialback.domain.events import (
    AgentEndedCallback,
    AgentJoinedQueue,
    AgentPresenceChanged,
    AgentRegistered,
    AlertAccepted,
    CallbackDisconnected,
    CallbackRequested,
    DialCompleted,
    Event,
    QueueConfigured,
    WrapUpCompleted,
)
from dialback.domain.model import (
    AgentId,
    CallbackRequest,
    ConversationId,
    DialId,
    DialResult,
    InteractionId,
    Outcome,
    Presence,
    QueueId,
)
from dialback.domain.settings import parse_queue

Q = QueueId("q")
NUMBERS = ("+14155550100",)


@dataclass
class Bench:
    engine: Engine
    now: float = 0.0
    n: int = 0
    samples: list[int] | None = None

    def send(self, event: Event) -> list[Effect]:
        self.now += 0.001
        if self.samples is None:
            return self.engine.handle(event, self.now)
        start = time.perf_counter_ns()
        effects = self.engine.handle(event, self.now)
        self.samples.append(time.perf_counter_ns() - start)
        return effects

    def new_callback(self) -> tuple[InteractionId, list[Effect]]:
        self.n += 1
        callback = InteractionId(f"cb{self.n}")
        request = CallbackRequest(Q, NUMBERS)
        return callback, self.send(CallbackRequested(callback, ConversationId(callback), request))


def build(mode: str, agents: int, waiting: int) -> tuple[Bench, dict[AgentId, InteractionId]]:
    body: dict[str, object] = {"callingPartyNumber": "+14155550199"}
    if mode == "customer-first":
        body["mediaSettings"] = {
            "callback": {"mode": "CustomerFirst", "pacingModifier": 10, "pacingTrigger": "Pace"}
        }
    bench = Bench(Engine(rng=random.Random(1)))
    bench.send(QueueConfigured(Q, parse_queue(body)))
    holding: dict[AgentId, InteractionId] = {}
    for i in range(agents):
        agent = AgentId(f"a{i}")
        bench.send(AgentRegistered(agent))
        bench.send(AgentJoinedQueue(agent, Q))
        bench.send(AgentPresenceChanged(agent, Presence.ON_QUEUE))
    # Agent-first: the first callbacks keep every agent busy; customer-first: they are the
    # dials in flight (cap = agents with modifier 10 and the Pace trigger).
    for _ in range(agents):
        _, effects = bench.new_callback()
        for effect in effects:
            if isinstance(effect, OfferToAgent):
                bench.send(AlertAccepted(effect.agent_id, effect.interaction_id))
                holding[effect.agent_id] = effect.interaction_id
    for _ in range(waiting):
        bench.new_callback()
    return bench, holding


def agent_first_cycle(bench: Bench, holding: dict[AgentId, InteractionId]) -> Iterator[None]:
    agents = sorted(holding)
    rng = random.Random(2)
    i = 0
    while True:
        agent = agents[i % len(agents)]
        i += 1
        bench.send(AgentEndedCallback(agent, holding[agent]))
        effects = bench.send(WrapUpCompleted(agent, holding[agent], "done"))
        offer = next(e for e in effects if isinstance(e, OfferToAgent))
        bench.send(AlertAccepted(agent, offer.interaction_id))
        holding[agent] = offer.interaction_id
        bench.new_callback()
        if i % 10 == 0:  # a cancelled waiting callback, and its replacement
            victim = InteractionId(f"cb{rng.randrange(bench.n - 1000, bench.n)}")
            if victim in bench.engine.interactions and victim not in holding.values():
                bench.send(CallbackDisconnected(victim))
                bench.new_callback()
        yield


def customer_first_cycle(bench: Bench) -> Iterator[None]:
    in_flight = [DialId(d) for d in sorted(bench.engine.dials)]
    rng = random.Random(2)
    i = 0
    while True:
        dial = in_flight.pop(0)
        effects = bench.send(DialCompleted(dial, DialResult(Outcome.NO_ANSWER, 487)))
        in_flight += [e.dial_id for e in effects if isinstance(e, PlaceCall)]
        bench.new_callback()
        i += 1
        if i % 10 == 0:
            victim = InteractionId(f"cb{rng.randrange(bench.n - 1000, bench.n)}")
            interaction = bench.engine.interactions.get(victim)
            if interaction is not None and interaction.dial_id is None:
                bench.send(CallbackDisconnected(victim))
                bench.new_callback()
        yield


def measure(mode: str, agents: int, waiting: int, cycles: int) -> dict[str, float]:
    started = time.perf_counter()
    bench, holding = build(mode, agents, waiting)
    setup = time.perf_counter() - started
    assert len(bench.engine.interactions) >= waiting
    cycle = (
        agent_first_cycle(bench, holding) if mode == "agent-first" else customer_first_cycle(bench)
    )
    for _ in range(min(cycles, 200)):  # warm up
        next(cycle)
    bench.samples = []
    for _ in range(cycles):
        next(cycle)
    samples = sorted(bench.samples)
    per_us = [s / 1000 for s in samples]
    return {
        "events": len(samples),
        "p50": statistics.median(per_us),
        "p99": per_us[int(len(per_us) * 0.99) - 1],
        "max": per_us[-1],
        "mean": statistics.fmean(per_us),
        "setup_s": setup,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="*", default=[10, 100, 1_000, 10_000])
    parser.add_argument("--waiting", type=int, nargs="*", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--mode", choices=["agent-first", "customer-first", "both"], default="both")
    parser.add_argument("--cycles", type=int, default=5_000)
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after the setup")
    args = parser.parse_args()
    modes = ["agent-first", "customer-first"] if args.mode == "both" else [args.mode]
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor()}")
    print(f"command: {' '.join(sys.argv)}")
    print("| mode | agents | waiting | events | p50 µs | p99 µs | max µs | mean µs | setup s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mode in modes:
        for waiting in args.waiting:
            for agents in args.agents:
                gc.collect()
                if args.gc_freeze:
                    gc.unfreeze()
                r = measure(mode, agents, waiting, args.cycles)
                print(
                    f"| {mode} | {agents:,} | {waiting:,} | {r['events']:,} | {r['p50']:.1f} | "
                    f"{r['p99']:.1f} | {r['max']:.0f} | {r['mean']:.1f} | {r['setup_s']:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
