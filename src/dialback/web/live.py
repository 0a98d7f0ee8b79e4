"""Live pages: the runtime says when something changed; each open page gets fresh HTML.

``Changes`` is a runtime listener (called after each commit, ``Runtime.listeners``) that only
counts and wakes the waiting streams: rendering happens in the streams, at most every
``min_interval`` seconds, and a section is sent only when its HTML differs from what that page
has. Ages and countdowns tick in the browser (``data-since``, ``data-until``), so an unchanged
queue sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from dialback.domain.effects import Effect
from dialback.domain.events import Event

Alive = Callable[[], Awaitable[bool]]
"""Whether a stream's page may still be sent (its session open, its token valid)."""
Render = Callable[[], Awaitable[dict[str, str]]]
"""Sections of a page, by SSE event name, as HTML. A ``layout`` section holds the others'
places: the page loaded with it, and reloads itself when it changes (a queue was added,
renamed or changed mode), since new places cannot receive sections sent before they exist."""


class Changes:
    """A version number bumped by every committed event, and a way to wait for the next one."""

    def __init__(self) -> None:
        self.version = 0
        self._changed = asyncio.Event()

    def __call__(self, _at: float, _event: Event, _effects: list[Effect]) -> None:
        self.version += 1
        self._changed.set()

    async def wait(self, after: int, seconds: float) -> None:
        """Until the version passes ``after``, or ``seconds`` have passed."""
        if self.version > after:
            return
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._changed.wait()


async def stream(
    changes: Changes,
    render: Render,
    *,
    min_interval: float = 0.3,
    refresh: float = 15.0,
    layout: str | None = None,
    alive: Alive | None = None,
    check_every: float = 2.0,
) -> AsyncIterator[dict[str, str]]:
    """SSE messages (``{"event": name, "data": html}``) for one page: everything once, then
    each section whose HTML changed, after each change (and every ``refresh`` seconds, for
    what moves with time alone, such as the day's chart). The stream ends as soon as ``alive``
    says no, asked before each render and at least every ``check_every`` seconds (issue 12:
    a signed-out session or a revoked token stops its open pages too, not only new requests)."""
    sent: dict[str, str] = {} if layout is None else {"layout": layout}
    loop = asyncio.get_running_loop()
    while alive is None or await alive():
        seen = changes.version
        for name, html in (await render()).items():
            if sent.get(name) == html:
                continue
            sent[name] = html
            yield {"event": name, "data": html}
        deadline = loop.time() + refresh
        while changes.version == seen and (left := deadline - loop.time()) > 0:
            await changes.wait(seen, min(left, check_every))
            if alive is not None and not await alive():
                return
        await asyncio.sleep(min_interval)
