"""A served dialback over real HTTP on loopback, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn

from dialback.domain.model import Outcome
from dialback.service.runtime import Runtime
from dialback.service.shards import Shards
from dialback.store.db import connect, migrate
from dialback.store.repository import Store
from dialback.telephony.simulated import SimulatedCarrier
from dialback.web import create_app

from . import postgres

T = TypeVar("T")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_admin_url: list[str | None] = []


def pg_admin_url() -> str:
    if not _admin_url:
        _admin_url.append(postgres.admin_url())
    url = _admin_url[0]
    if url is None:
        message = (
            "NO POSTGRESQL: set DIALBACK_TEST_PG_URL, run one on 127.0.0.1:5432, or install "
            "Debian's postgresql; the PostgreSQL half of the integration tests was SKIPPED"
        )
        if IN_CI:
            pytest.fail(message)  # in CI a missing component is a failure, never a skip
        pytest.skip(message)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL for each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "dialback.db")
        return
    with postgres.fresh_database(pg_admin_url()) as url:
        yield url


def eventually(
    check: Callable[[], T | None], timeout: float = 15.0, what: str = "the condition"
) -> T:
    """Poll ``check`` until it returns something truthy (waiting on the condition, not a guess)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class Service:
    url: str
    store: Store
    runtime: Runtime
    admin: httpx.Client
    server: uvicorn.Server
    thread: threading.Thread
    clients: list[httpx.Client] = field(default_factory=list)
    app: Any = None

    def app_shards(self) -> Shards:
        """The runtimes of every shard the app runs (issue 17)."""
        found: Shards = self.app.state.runtime
        return found

    @property
    def server_loop(self) -> asyncio.AbstractEventLoop:
        """The event loop the served app runs in (to run coroutines next to the runtime)."""
        loop: asyncio.AbstractEventLoop = self.runtime.loop
        return loop

    def client(self, role: str = "admin", user: str | None = None) -> httpx.Client:
        token = self.store.create_token(role, user)
        made = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=20
        )
        self.clients.append(made)
        return made

    def stop(self) -> None:
        for made in [self.admin, *self.clients]:
            made.close()
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.store.engine.dispose()


def serve(db: str, mix: dict[Outcome, float] | None = None, speed: float = 200.0) -> Service:
    engine = connect(db)
    migrate(engine)
    store = Store(engine)
    runtime = Runtime(
        store,
        lambda report: SimulatedCarrier(
            report, random.Random(7), mix=mix or {Outcome.LIVE_VOICE: 1.0}, speed=speed
        ),
    )
    listener = socket.create_server(("127.0.0.1", 0))  # bound here: no port chosen, then lost
    port = listener.getsockname()[1]
    app = create_app(runtime)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    eventually(lambda: server.started, what="the server to start")
    token = store.create_token("admin")
    admin = httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=20,
    )
    return Service(f"http://127.0.0.1:{port}", store, runtime, admin, server, thread, app=app)


@pytest.fixture
def service(database: str) -> Iterator[Service]:
    running = serve(database)
    yield running
    running.stop()


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()
