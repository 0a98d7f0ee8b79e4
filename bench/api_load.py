"""Callback creations per second over HTTP, with 32 concurrent clients.

Run by hand (not part of the tests):

    .venv/bin/python bench/api_load.py --db sqlite
    .venv/bin/python bench/api_load.py --db postgresql://postgres@127.0.0.1:5432/test

Starts ``dialback serve`` as its own process on a fresh database (a new PostgreSQL database is
created and dropped; a SQLite file in a temporary folder), creates a queue, then sends
``POST /api/v2/conversations/callbacks`` from ``--clients`` concurrent connections for
``--seconds`` with ``wrk`` (Debian's package; its C load generator leaves the CPU to the
server) and reports throughput and latency percentiles. Without ``wrk`` on the PATH it falls back
to an httpx client in Python, which is itself the bottleneck on 2 cores (the report says which
tool ran). Target (issue 4): >= 1,000 creations/s on PostgreSQL with p99 < 50 ms on the 2-core
machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

import httpx
import psycopg


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def dialback(*args: str) -> list[str]:
    return [sys.executable, "-m", "dialback.cli", *args]


async def load(url: str, token: str, queue: str, requests: int, clients: int) -> list[float]:
    latencies: list[float] = []
    counter = iter(range(requests))
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(c: httpx.AsyncClient) -> None:
        for i in counter:
            body = {"queueId": queue, "callbackNumbers": [f"+1415555{2000 + i % 7000:04d}"]}
            start = time.perf_counter()
            response = await c.post("/api/v2/conversations/callbacks", json=body)
            latencies.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text

    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as c:
        await asyncio.gather(*(client(c) for _ in range(clients)))
    return latencies


def run(db: str, seconds: int, clients: int) -> dict[str, Any]:
    port = free_port()
    token = subprocess.run(
        dialback("token", "create", "--db", db), check=True, capture_output=True, text=True
    ).stdout.strip()
    server = subprocess.Popen(
        dialback("serve", "--db", db, "--port", str(port)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        queue = httpx.post(
            f"{url}/api/v2/routing/queues", json={"name": "load"}, headers=headers
        ).json()["id"]
        asyncio.run(load(url, token, queue, 300, clients))  # warm up
        if shutil.which("wrk"):
            return with_wrk(url, token, queue, seconds, clients)
        started = time.perf_counter()
        latencies = sorted(asyncio.run(load(url, token, queue, seconds * 200, clients)))
        elapsed = time.perf_counter() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return {
        "tool": "httpx",
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "max": latencies[-1] * 1000,
    }


def _duration(value: str) -> float:
    """wrk's ``12.3ms``, ``850.00us`` or ``1.2s`` in milliseconds."""
    found = re.fullmatch(r"([\d.]+)(us|ms|s)", value)
    assert found, value
    number, unit = float(found.group(1)), found.group(2)
    return {"us": number / 1000, "ms": number, "s": number * 1000}[unit]


def with_wrk(url: str, token: str, queue: str, seconds: int, clients: int) -> dict[str, Any]:
    script = os.path.join(os.path.dirname(__file__), "callback.lua")
    env = {**os.environ, "DIALBACK_TOKEN": token, "DIALBACK_QUEUE": queue}
    command = ["wrk", "-t", "1", "-c", str(clients), "-d", f"{seconds}s", "--latency", "-s", script]
    target = url + "/api/v2/conversations/callbacks"
    report = subprocess.run(
        [*command, target], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert "Non-2xx" not in report, report
    rate = re.search(r"Requests/sec:\s+([\d.]+)", report)
    latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", report)
    p50 = re.search(r"50%\s+(\S+)", report)
    p99 = re.search(r"99%\s+(\S+)", report)
    assert rate and latency and p50 and p99, report
    return {
        "tool": "wrk",
        "rate": float(rate.group(1)),
        "p50": _duration(p50.group(1)),
        "p99": _duration(p99.group(1)),
        "max": _duration(latency.group(3)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", help="'sqlite' or a postgresql:// admin URL")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs; command: {' '.join(sys.argv)}"
    )
    if args.db == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            result = run(f"{folder}/load.db", args.seconds, args.clients)
    else:
        name = f"dialback_load_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.db, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        try:
            result = run(f"{args.db.rsplit('/', 1)[0]}/{name}", args.seconds, args.clients)
        finally:
            with psycopg.connect(args.db, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print("| database | tool | seconds | clients | creations/s | p50 ms | p99 ms | max ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    kind = "SQLite" if args.db == "sqlite" else "PostgreSQL"
    print(
        f"| {kind} | {result['tool']} | {args.seconds} | {args.clients} | {result['rate']:.0f} | "
        f"{result['p50']:.1f} | {result['p99']:.1f} | {result['max']:.0f} |"
    )


if __name__ == "__main__":
    main()
