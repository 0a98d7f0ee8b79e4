"""``dialback serve --sip`` as the telephony end-to-end tests run it: on SQLite, bound to port 0
(the URL it prints is read back), dialing through a sipp trunk."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from ..integration.conftest import eventually
from .processes import launch

# A request's own timeout (the tests wait for conditions with ``eventually``): generous, since a
# CI machine may be busy (a fresh-clone run beside a CPU-bound process read a 5 s timeout out of
# the analytics details once; issue 12).
SLOW_MACHINE = 60.0


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def dialback(*args: str) -> list[str]:
    return [sys.executable, "-m", "dialback.cli", *args]


@contextmanager
def serve_sip(folder: Path, trunk_port: int, *extra: str) -> Iterator[tuple[str, str]]:
    """``dialback serve --sip sip:127.0.0.1:<trunk_port>`` (plus ``extra`` options); yields
    (url, admin token) once it answers ``/healthz``, and prints the end of its log when done."""
    folder.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{folder / 'dialback.db'}"
    token = subprocess.run(
        dialback("token", "create", "--role", "admin", "--db", db),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    output = folder / "serve.log"

    def start() -> tuple[subprocess.Popen[bytes], Path]:
        command = dialback(
            "serve", "--db", db, "--port", "0", "--sip", f"sip:127.0.0.1:{trunk_port}",
            "--ring-timeout", "15", *extra,
        )  # fmt: skip
        with output.open("wb") as sink:  # each attempt's own log
            process = subprocess.Popen(
                command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )
        return process, output

    # the service binds port 0 and prints the address it got, so no port is chosen for it
    process = launch(start, lambda text: "Application startup complete" in text, "dialback", 1, 60)
    bound = re.search(r"listening on (http://\S+)", output.read_text())
    assert bound is not None, output.read_text()
    url = bound.group(1)

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            assert process.poll() is None, output.read_text()
            return False

    try:
        eventually(healthy, timeout=60, what="dialback serve --sip to start")
        yield url, token
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        print(output.read_text()[-3000:])
