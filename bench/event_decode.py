"""CPU per logged event for what a follower and a start do with each one (issue 17): parse its
JSON payload, decode it into the event (``store.codec.decode_event``) and apply it to an
engine. Run by hand (not part of the tests):

    .venv/bin/python bench/event_decode.py --events 20000      # the compiled domain, if built
    DIALBACK_PURE=1 .venv/bin/python bench/event_decode.py     # the pure-Python one

The events are callback creations in one queue, the kind that dominates a busy log. Times are
the process's CPU time (``time.process_time``), so other processes on the machine change them
less than they would wall time. Prints one Markdown table row.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from zoneinfo import ZoneInfo

import dialback.domain.core as core
from dialback.domain.engine import Engine
from dialback.domain.events import CallbackRequested, Event, QueueConfigured
from dialback.domain.model import CallbackRequest, ConversationId, InteractionId, QueueId
from dialback.domain.settings import parse_queue
from dialback.store.codec import decode_event, encode_event


def history(count: int) -> list[Event]:
    queue = QueueId("q1")
    events: list[Event] = [QueueConfigured(queue, parse_queue({"name": "Support"}))]
    for i in range(count):
        request = CallbackRequest(queue, (f"+1415555{i % 10_000:04d}",))
        events.append(CallbackRequested(InteractionId(f"cb{i}"), ConversationId(f"cv{i}"), request))
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    logged = [
        (kind, json.dumps(payload)) for kind, payload in map(encode_event, history(args.events))
    ]
    n = len(logged)
    start = time.process_time()
    parsed = [(kind, json.loads(text)) for kind, text in logged]
    parse_done = time.process_time()
    decoded = [decode_event(kind, payload) for kind, payload in parsed]
    decode_done = time.process_time()
    engine = Engine(rng=random.Random(1), zones=ZoneInfo)
    for i, event in enumerate(decoded):
        engine.handle(event, 1_000.0 + i / 1_000)
    apply_done = time.process_time()
    build = "pure" if core.__file__.endswith(".py") else "compiled"
    print(
        f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print("| build | events | JSON parse µs | decode µs | apply µs | total µs per event |")
    print("|---|---:|---:|---:|---:|---:|")
    parse, decode, apply = (
        1e6 * (b - a) / n
        for a, b in ((start, parse_done), (parse_done, decode_done), (decode_done, apply_done))
    )
    total = parse + decode + apply
    print(f"| {build} | {n} | {parse:.1f} | {decode:.1f} | {apply:.1f} | {total:.1f} |")


if __name__ == "__main__":
    main()
