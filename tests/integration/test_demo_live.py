"""``dialback serve --demo`` at real speed: the virtual agents against the running service."""

from __future__ import annotations

import asyncio
import logging
import random
from pathlib import Path

import pytest

from dialback.demo.center import DemoCenter
from dialback.domain.effects import Effect
from dialback.domain.events import Event
from dialback.domain.facts import DialResolved

from .conftest import eventually, serve


def test_live_demo_agents_leave_auto_dial_to_the_engine(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """At speed 1 an agent's dial after accepting falls when Billing's auto-dial fires (both 5 s):
    the agents, told of the engine's timer, leave the dial to it; nothing is refused as
    ``dial_in_progress``."""
    caplog.set_level(logging.INFO, logger="dialback.runtime")
    running = serve(str(tmp_path / "dialback.db"), speed=50)
    try:
        center = DemoCenter(running.runtime, speed=1, rng=random.Random(5), callbacks_per_minute=60)
        agent_dials: list[DialResolved] = []

        def hear(_at: float, _event: Event, effects: list[Effect]) -> None:
            agent_dials.extend(
                e for e in effects if isinstance(e, DialResolved) and e.agent_id is not None
            )

        async def start() -> None:
            running.runtime.listeners.append(hear)
            await center.start()

        asyncio.run_coroutine_threadsafe(start(), running.server_loop).result(timeout=20)
        eventually(lambda: len(agent_dials) >= 2, timeout=40, what="two agent-first dials")
    finally:
        running.stop()
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert not [m for m in refused if "dial_in_progress" in m], refused
