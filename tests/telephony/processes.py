"""Starting and stopping the real components the telephony tests run (by PID, on loopback)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def wait_ready(
    process: subprocess.Popen[bytes], log: Path, ready: Callable[[str], bool], name: str
) -> None:
    """Wait (10 s at most) until ``ready`` holds for the process's log; fail if it exits."""
    deadline = time.monotonic() + 10
    while not ready(log.read_text(errors="replace")):
        assert process.poll() is None, f"{name} exited: {log.read_text()}"
        assert time.monotonic() < deadline, f"{name} did not start: {log.read_text()}"
        time.sleep(0.05)


def stop(process: subprocess.Popen[bytes], seconds: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``seconds``."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
