"""Starting and stopping the real components the telephony tests run (by PID, on loopback)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

IN_USE = ("address already in use", "eaddrinuse", "address in use")


def launch(
    start: Callable[[], tuple[subprocess.Popen[bytes], Path]],
    ready: Callable[[str], bool],
    name: str,
    attempts: int = 5,
    timeout: float = 10,
) -> subprocess.Popen[bytes]:
    """Start a daemon on ports ``start`` chooses free, waiting until ``ready`` holds for its log.
    A port chosen free can be taken by another process before the daemon binds it (or be free
    for UDP and taken for TCP): when the log says "address already in use", or the daemon exits
    before it is ready, it is stopped and ``start`` chooses again, ``attempts`` times at most."""
    text = ""
    for _ in range(attempts):
        process, log = start()
        deadline = time.monotonic() + timeout
        while True:
            text = log.read_text(errors="replace")
            if any(marker in text.lower() for marker in IN_USE) or process.poll() is not None:
                break
            if ready(text):
                return process
            assert time.monotonic() < deadline, f"{name} did not start: {text}"
            time.sleep(0.05)  # polling the log for the condition, bounded by the deadline
        stop(process, 5)
        if not any(marker in text.lower() for marker in IN_USE):
            raise AssertionError(f"{name} exited: {text}")
    raise AssertionError(f"{name} found no free port in {attempts} attempts: {text}")


def wait_ready(
    process: subprocess.Popen[bytes], log: Path, ready: Callable[[str], bool], name: str
) -> None:
    """Wait (10 s at most) until ``ready`` holds for the log of a process that binds port 0
    (nothing to retry: the kernel chose its ports); fail if it exits first."""
    deadline = time.monotonic() + 10
    while not ready(log.read_text(errors="replace")):
        assert process.poll() is None, f"{name} exited: {log.read_text()}"
        assert time.monotonic() < deadline, f"{name} did not start: {log.read_text()}"
        time.sleep(0.05)  # polling the log for the condition, bounded by the deadline


def stop(process: subprocess.Popen[bytes], seconds: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``seconds``."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
