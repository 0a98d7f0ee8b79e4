"""Helpers for tests that run several ``dialback serve`` nodes on one PostgreSQL (issue 17):
start a node on port 0 and read the address it reports, read the carrier logs, and a TCP proxy
between a node and PostgreSQL that a test can stop."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dialback.store import tables

from .conftest import eventually

LISTENING = re.compile(r"dialback node (\S+) listening on (http://\S+)")


@dataclass
class Node:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    output: Path
    killed_at: float | None = None


def start_node(db: str, name: str, folder: Path, *extra: str) -> Node:
    """``dialback serve --port 0`` as a process; returns once it answers ``/healthz``."""
    log, output = folder / f"carrier-{name}.jsonl", folder / f"serve-{name}.log"
    command = [
        sys.executable,
        "-m",
        "dialback.cli",
        "serve",
        "--db",
        db,
        "--port",
        "0",
        "--node-id",
        name,
        "--carrier-log",
        str(log),
        *extra,
    ]
    with output.open("ab") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )

    def reported() -> str | None:
        assert process.poll() is None, output.read_text()
        found = LISTENING.search(output.read_text()) if output.exists() else None
        return found.group(2) if found else None

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            assert process.poll() is None, output.read_text()
            return False

    try:
        url = eventually(reported, timeout=60, what=f"node {name} to report its address")
        eventually(healthy, timeout=60, what=f"node {name} to start")
    except BaseException:  # a node that did not start is not left running
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        raise
    return Node(name, process, url, log, output)


def start_nodes(db: str, names: list[str], folder: Path, *extra: str) -> list[Node]:
    """Several nodes started together; if one fails, those that started are stopped too."""
    with ThreadPoolExecutor(len(names)) as pool:
        futures = [pool.submit(start_node, db, n, folder, *extra) for n in names]
    started = [f.result() for f in futures if f.exception() is None]
    failed = [f.exception() for f in futures if f.exception() is not None]
    if failed:
        for node in started:
            os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(timeout=30)
        raise failed[0]  # type: ignore[misc]
    return started


def records(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def in_flight(log: Path) -> set[str]:
    placed: set[str] = set()
    for record in records(log):
        if record["event"] == "place":
            placed.add(record["dial_id"])
        elif record["event"] in ("result", "cancel"):
            placed.discard(record["dial_id"])
    return placed


@dataclass(frozen=True)
class Dial:
    dial_id: str
    callback: str
    attempt: int
    node: str
    placed: float
    ended: float


def dials(nodes: list[Node], stopped_at: float) -> list[Dial]:
    """Every dial of every node's carrier, from its placing to its result or cancel; a dial of
    a killed node ends when it was killed, one still ringing at the end when the test stopped."""
    found: list[Dial] = []
    for node in nodes:
        placed: dict[str, dict[str, Any]] = {}
        ended: dict[str, float] = {}
        for record in records(node.log):
            if record["event"] == "place":
                placed[record["dial_id"]] = record
            elif record["event"] in ("result", "cancel"):
                ended.setdefault(record["dial_id"], record["at"])
        for dial_id, r in placed.items():
            end = ended.get(dial_id, node.killed_at or stopped_at)
            found.append(Dial(dial_id, r["callback"], r["attempt"], node.name, r["at"], end))
    return found


def overlapping(found: list[Dial]) -> list[tuple[Dial, Dial]]:
    """Pairs of dials of one callback whose times overlap (R-CF-9)."""
    by_callback: dict[str, list[Dial]] = defaultdict(list)
    for d in found:
        by_callback[d.callback].append(d)
    pairs = []
    for attempts in by_callback.values():
        attempts.sort(key=lambda d: d.placed)
        for before, after in itertools.pairwise(attempts):
            if after.placed < before.ended:
                pairs.append((before, after))
    return pairs


@dataclass
class Proxy:
    """A TCP proxy on loopback to ``target``. ``stop`` closes its port and every connection, as
    a network cut the node's kernel hears of (its next use of a connection fails); ``freeze``
    keeps every connection open and forwards nothing, as a silent cut (its queries hang)."""

    target: tuple[str, int]
    listener: socket.socket = field(init=False)
    sockets: list[socket.socket] = field(default_factory=list)
    stopped: bool = False
    frozen: bool = False

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        port: int = self.listener.getsockname()[1]
        return port

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.frozen:
                self.sockets.append(client)  # held open, never answered
                continue
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            if self.stopped:  # stopped while we connected
                self._close()
                return
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if not self.frozen:  # frozen: received (and so acknowledged), then dropped
                    sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def freeze(self) -> None:
        self.frozen = True

    def stop(self) -> None:
        self.stopped = True
        self.listener.close()
        self._close()

    def _close(self) -> None:
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def stored_and_closed(engine: Engine) -> tuple[set[str], dict[str, str | None]]:
    """The ids of the stored interactions and each dial's stored outcome; then the test's own
    engine is disposed (called from a ``finally``: also when the test fails, so no connection
    is left for a later test's garbage collection to warn about)."""
    try:
        with engine.connect() as c:
            rows, segs = tables.interactions, tables.segments
            stored = set(c.execute(sa.select(rows.c.id)).scalars())
            query = sa.select(segs.c.dial_id, segs.c.outcome).where(segs.c.dial_id.is_not(None))
            outcomes = {row.dial_id: row.outcome for row in c.execute(query)}
    finally:
        engine.dispose()
    return stored, outcomes
