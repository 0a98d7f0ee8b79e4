"""A real ``dialback serve`` process on loopback and Debian's Chromium driven by Playwright.

The server binds port 0 and the tests read the port it got from its log. The browser is the
system's (``/usr/bin/chromium``, installed by ``./scripts/test``), never a downloaded one; in CI a
missing browser is a failure, elsewhere the tests skip and say why. Every request a page makes is
recorded, and a test fails if one leaves dialback.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from ..integration.conftest import IN_CI, eventually, ok

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CALLER = "+14155550199"
SPEED = 3.0  # the simulated carrier answers in 6 s / SPEED


def dialback(*args: str) -> list[str]:
    return [sys.executable, "-m", "dialback.cli", *args]


@dataclass
class Server:
    url: str
    db: str
    process: subprocess.Popen[bytes]
    admin: httpx.Client
    clients: list[httpx.Client] = field(default_factory=list)

    def token(self, role: str, user: str | None = None) -> str:
        args = ["token", "create", "--role", role, "--db", self.db]
        if user is not None:
            args += ["--user", user]
        done = subprocess.run(dialback(*args), check=True, capture_output=True, text=True)
        return done.stdout.strip()

    def client(self, role: str, user: str | None = None) -> httpx.Client:
        made = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {self.token(role, user)}"},
            timeout=60,
        )
        self.clients.append(made)
        return made

    # --- setting up a contact center through the API ------------------------------------------
    def queue(self, name: str, **callback: Any) -> str:
        body: dict[str, Any] = {"name": name, "callingPartyNumber": CALLER}
        if callback:
            body["mediaSettings"] = {"callback": callback}
        return str(ok(self.admin.post("/api/v2/routing/queues", json=body))["id"])

    def agent(self, queue: str, name: str, on_queue: bool = False) -> str:
        user = ok(self.admin.post("/api/v2/users", json={"name": name}))
        ok(self.admin.post(f"/api/v2/routing/queues/{queue}/members", json=[{"id": user["id"]}]))
        if on_queue:
            self.status(user["id"], "IDLE")
        return str(user["id"])

    def status(self, user: str, status: str) -> None:
        ok(self.admin.put(f"/api/v2/users/{user}/routingstatus", json={"status": status}))

    def callback(self, queue: str, *numbers: str, name: str = "Dana Whitfield") -> str:
        body = {"queueId": queue, "callbackNumbers": list(numbers), "callbackUserName": name}
        found = ok(self.admin.post("/api/v2/conversations/callbacks", json=body))
        return str(found["conversation"]["id"])

    def held(self, user: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = ok(self.admin.get(f"/api/v2/users/{user}/interactions"))[
            "entities"
        ]
        return found


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One served dialback for the e2e session (each test makes its own queues and agents)."""
    where = tmp_path_factory.mktemp("serve")
    db, log = str(where / "dialback.db"), where / "serve.log"
    subprocess.run(dialback("migrate", "--db", db), check=True, capture_output=True)
    admin_token = subprocess.run(
        dialback("token", "create", "--role", "admin", "--db", db),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    command = dialback(
        "serve",
        "--db",
        db,
        "--port",
        "0",
        "--speed",
        str(SPEED),
        "--carrier-mix",
        "LIVE_VOICE=1",
    )
    with log.open("ab") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )

    def bound() -> str | None:
        assert process.poll() is None, log.read_text()
        text = log.read_text()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", text)
        return found.group(1) if found and "Application startup complete" in text else None

    url = eventually(bound, timeout=60, what="dialback serve to bind a port")
    admin = httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=60
    )
    running = Server(url, db, process, admin)
    try:
        yield running
    finally:
        for made in [admin, *running.clients]:
            made.close()
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one module. Not for the session: Playwright's sync API keeps an asyncio
    loop running in the main thread while it is open, and every later test that calls
    ``asyncio.run`` (the telephony tests) would fail with "cannot be called from a running
    event loop"."""
    if not CHROMIUM.exists():
        message = (
            f"NO BROWSER: {CHROMIUM} is missing (apt-get install chromium, as ./scripts/test "
            "does); the browser tests were SKIPPED"
        )
        if IN_CI:
            pytest.fail(message)  # in CI a missing component is a failure, never a skip
        pytest.skip(message)
    with sync_playwright() as playwright:
        yield _launch(playwright)


def _launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@dataclass
class Pages:
    """Browser contexts (one per person) whose every request is recorded."""

    server: Server
    browser: Browser
    requests: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)

    def page(self) -> Page:
        context = self.browser.new_context(viewport={"width": 1400, "height": 1000})
        context.on("request", lambda request: self.requests.append(request.url))
        context.set_default_timeout(60_000)  # a hang guard: the waits are for conditions
        self.contexts.append(context)
        return context.new_page()

    def signed_in(self, token: str, path: str = "/") -> Page:
        page = self.page()
        page.goto(f"{self.server.url}{path}")
        page.get_by_label("Token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return page

    def outside(self) -> list[str]:
        """Requests that left dialback (anything but its own origin)."""
        return [u for u in self.requests if not u.startswith(self.server.url + "/")]


@pytest.fixture
def pages(server: Server, browser: Browser) -> Iterator[Pages]:
    made = Pages(server, browser)
    yield made
    for context in made.contexts:
        context.close()
    assert made.requests, "the pages made no request at all"
    assert made.outside() == [], "a page loaded a URL outside dialback"


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for(check: Any, timeout: float = 60.0, what: str = "the condition") -> Any:
    return eventually(check, timeout=timeout, what=what)


def now() -> float:
    return time.time()
