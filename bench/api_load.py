"""Callback creations per second over HTTP, from 32 concurrent clients, on 1, 2 and 3 nodes
against a bare FastAPI + PostgreSQL insert endpoint (issues 4 and 17).

Run by hand (not part of the tests):

    .venv/bin/python bench/api_load.py --db postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/api_load.py --db sqlite

On PostgreSQL it measures, one after the other in the same run, each on a fresh database (a new
database is created and dropped for each): the bare endpoint (``bench/bare_insert.py``: one
table, one INSERT per POST, as its own process), then ``dialback serve`` as 1, 2 and 3 nodes
(``--nodes``), each node its own process with ``--port 0`` (the bench reads the address it
prints). The clients spread their connections evenly over the nodes; a node that does not lead
forwards the write to the one that does (docs/decisions.md, issue 17). ``--nodes 2x2`` is two
nodes and two shards: a queue in each shard, and each node's connections post to the queue of
the shard it leads (``1x2``: one node leading both). Each setup gets the same load: a queue is
created, every node is warmed up, then
``POST /api/v2/conversations/callbacks`` with the same JSON body is sent from ``--clients``
connections for ``--seconds`` with ``wrk`` (Debian's package; one thread per node, each thread's
connections on its node, ``bench/callback.lua``) and the rows the run created are counted in the
database. Without ``wrk`` on the PATH it falls back to an httpx client in Python, which is itself
the bottleneck on 2 cores (the report says which tool ran). ``--rounds 3`` repeats the whole
sequence, so a neighbour's load on a shared machine shows as spread between rounds rather than
as a difference between setups.

Targets: issue 4, >= 1,000 creations/s on PostgreSQL with p99 < 50 ms (one node); issue 17, at
least half the bare endpoint's creations/s with one node, and more with two nodes than with one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

BENCH = Path(__file__).resolve().parent
LISTENING = re.compile(r"listening on (http://\S+)")
CALLBACKS = "/api/v2/conversations/callbacks"


def dialback(*args: str) -> list[str]:
    return [sys.executable, "-m", "dialback.cli", *args]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    output: Path


def start(command: list[str], output: Path, seconds: float = 60) -> Server:
    """Start a server process that binds port 0 and prints ``listening on URL``; wait (bounded)
    until it answers ``/healthz``."""
    with output.open("ab") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + seconds
    url: str | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[:4]} exited: {output.read_text()[-3000:]}")
        if url is None:
            found = LISTENING.search(output.read_text())
            url = found.group(1) if found else None
        else:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return Server(process, url, output)
        time.sleep(0.05)
    stop([Server(process, url or "", output)])
    raise RuntimeError(f"{command[:4]} did not start: {output.read_text()[-3000:]}")


def stop(servers: list[Server]) -> None:
    for server in servers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGTERM)
    for server in servers:
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=30)


def body(queue: str, i: int = 0) -> dict[str, Any]:
    return {"queueId": queue, "callbackNumbers": [f"+1415555{2000 + i % 7000:04d}"]}


def until_created(url: str, token: str, queue: str, seconds: float = 60) -> None:
    """Post through ``url`` until a creation succeeds (bounded): a node answers 503 while no
    node leads yet."""
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    response: httpx.Response | None = None
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.post(f"{url}{CALLBACKS}", json=body(queue), headers=headers)
            if response.status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"no creation through {url}: {response and response.text}")


def create_queue(url: str, token: str, seconds: float = 60, shard: str | None = None) -> str:
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    response: httpx.Response | None = None
    settings = {"name": "load", **({"shard": shard} if shard else {})}
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.post(
                f"{url}/api/v2/routing/queues", json=settings, headers=headers, timeout=30
            )
            if response.status_code == 200:
                queue: str = response.json()["id"]
                return queue
        time.sleep(0.1)
    raise RuntimeError(f"no queue through {url}: {response and response.text}")


async def load(
    urls: list[str], token: str, queues: list[str], requests: int, clients: int
) -> list[float]:
    """``requests`` creations from ``clients`` coroutines, client i on node i modulo their
    number, posting to ``queues[i]`` (the queue of a shard that node leads); the latency of
    each."""
    latencies: list[float] = []
    counter = iter(range(requests))
    headers = {"Authorization": f"Bearer {token}"}
    per_node = max(1, clients // len(urls))
    limits = httpx.Limits(max_connections=per_node, max_keepalive_connections=per_node)

    async def client(c: httpx.AsyncClient, queue: str) -> None:
        for i in counter:
            start = time.perf_counter()
            response = await c.post(CALLBACKS, json=body(queue, i))
            latencies.append(time.perf_counter() - start)
            assert response.status_code == 200, response.text

    async with contextlib.AsyncExitStack() as stack:
        sessions = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=u, headers=headers, limits=limits, timeout=30)
            )
            for u in urls
        ]
        await asyncio.gather(
            *(client(sessions[i % len(urls)], queues[i % len(urls)]) for i in range(clients))
        )
    return latencies


def measure(
    urls: list[str], token: str, queues: list[str], seconds: int, clients: int
) -> dict[str, Any]:
    if shutil.which("wrk"):
        return with_wrk(urls, token, queues, seconds, clients)
    started = time.perf_counter()
    latencies = sorted(asyncio.run(load(urls, token, queues, seconds * 200, clients)))
    elapsed = time.perf_counter() - started
    return {
        "tool": "httpx",
        "requests": len(latencies),
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


def with_wrk(
    urls: list[str], token: str, queues: list[str], seconds: int, clients: int
) -> dict[str, Any]:
    script = BENCH / "callback.lua"
    targets = ",".join(u.removeprefix("http://") for u in urls)
    env = {
        **os.environ,
        "DIALBACK_TOKEN": token,
        "DIALBACK_QUEUE": queues[0],
        "DIALBACK_QUEUES": ",".join(queues),
        "DIALBACK_TARGETS": targets,
    }
    threads = str(len(urls))
    command = ["wrk", "-t", threads, "-c", str(clients), "-d", f"{seconds}s", "--latency"]
    report = subprocess.run(
        [*command, "-s", str(script), urls[0] + CALLBACKS],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "Non-2xx" not in report, report
    assert "Socket errors" not in report, report
    rate = re.search(r"Requests/sec:\s+([\d.]+)", report)
    total = re.search(r"(\d+) requests in", report)
    latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", report)
    p50 = re.search(r"^\s+50%\s+(\S+)$", report, re.MULTILINE)  # the latency distribution
    p99 = re.search(r"^\s+99%\s+(\S+)$", report, re.MULTILINE)
    assert rate and total and latency and p50 and p99, report
    return {
        "tool": "wrk",
        "requests": int(total.group(1)),
        "rate": float(rate.group(1)),
        "p50": _duration(p50.group(1)),
        "p99": _duration(p99.group(1)),
        "max": _duration(latency.group(3)),
    }


def cpu_seconds(servers: list[Server]) -> list[float]:
    """User and system CPU each server process used so far (Linux ``/proc``), every thread."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = []
    for server in servers:
        fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        used.append((int(fields[11]) + int(fields[12])) / ticks)  # utime, stime
    return used


def cpu_per_request(before: list[float], after: list[float], requests: int) -> str:
    """CPU milliseconds per request, in all and (several processes) process by process."""
    each = [(b - a) * 1000 / requests for a, b in zip(before, after, strict=True)]
    split = " (" + " + ".join(f"{e:.2f}" for e in each) + ")" if len(each) > 1 else ""
    return f"{sum(each):.2f}{split}"


def rows(db: str, table: str) -> int:
    with psycopg.connect(db) as c:
        found = c.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert found is not None
        return int(found[0])


def leaders(url: str, token: str) -> dict[str, str]:
    """Each led shard's leaseholder, as a node's ``/api/v2/dialback/cluster`` shows it."""
    headers = {"Authorization": f"Bearer {token}"}
    view = httpx.get(f"{url}/api/v2/dialback/cluster", headers=headers, timeout=10).json()
    return {s["shard"]: s["leaseholder"] for s in view["shards"] if s["leaseholder"]}


def balanced(
    url: str, token: str, shards: list[str], nodes: int, seconds: float = 60
) -> dict[str, str]:
    """Wait (bounded) until every shard is led and no node leads more than its share."""
    share = -(-len(shards) // nodes)
    deadline = time.monotonic() + seconds
    found: dict[str, str] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
            found = leaders(url, token)
            counts = [list(found.values()).count(n) for n in set(found.values())]
            if set(shards) <= set(found) and max(counts, default=0) <= share:
                return found
        time.sleep(0.2)
    raise RuntimeError(f"the shards were not shared out: {found}")


def run_nodes(
    db: str, nodes: int, seconds: int, clients: int, folder: Path, shards: int = 1
) -> dict[str, Any]:
    """``nodes`` dialback processes on ``db``, the load spread over them; with several
    ``shards`` (issue 17), one queue in each, and each node's connections post to the queue of
    a shard that node leads (as a balancer routing by queue would), so no write is forwarded."""
    token = subprocess.run(
        dialback("token", "create", "--db", db), check=True, capture_output=True, text=True
    ).stdout.strip()
    servers: list[Server] = []
    try:
        for i in range(nodes):
            command = dialback("serve", "--db", db, "--port", "0")
            if nodes > 1 or db.startswith("postgresql"):
                command += ["--node-id", f"node{i + 1}"]
            servers.append(start(command, folder / f"serve-{nodes}-{i + 1}.log"))
        urls = [s.url for s in servers]
        names = ["all", *(f"s{k + 1}" for k in range(1, shards))]
        queue_of = {s: create_queue(urls[0], token, shard=s) for s in names}
        led = dict.fromkeys(names, "node1")  # one node (SQLite: one process) leads every shard
        if shards > 1 and db.startswith("postgresql"):
            led = balanced(urls[0], token, names, nodes)
        # one (node, queue) pair per wrk thread: each node's connections on the queues of the
        # shards it leads, as evenly as the numbers allow
        mine = {
            i: [s for s in names if led.get(s) == f"node{i + 1}"] or names for i in range(nodes)
        }
        queues = []
        for k in range(max(nodes, shards)):
            owned = mine[k % nodes]
            queues.append(queue_of[owned[(k // nodes) % len(owned)]])
        urls = [urls[k % nodes] for k in range(len(queues))]
        for url, queue in zip(urls, queues, strict=True):  # each knows its queue and leader
            until_created(url, token, queue)
        asyncio.run(load(urls, token, queues, 300, clients))  # warm up, through every node
        before = rows(db, "interactions") if db.startswith("postgresql") else None
        cpu = cpu_seconds(servers)
        result = measure(urls, token, queues, seconds, clients)
        result["cpu"] = cpu_per_request(cpu, cpu_seconds(servers), result["requests"])
        if before is not None:
            result["rows"] = rows(db, "interactions") - before
    finally:
        stop(servers)
    return result


def run_bare(db: str, seconds: int, clients: int, folder: Path) -> dict[str, Any]:
    """The bare FastAPI + PostgreSQL endpoint, the same load."""
    server = start([sys.executable, str(BENCH / "bare_insert.py"), "--db", db], folder / "bare.log")
    try:
        until_created(server.url, "-", "load")
        asyncio.run(load([server.url], "-", ["load"], 300, clients))  # warm up
        before = rows(db, "bare_callbacks")
        cpu = cpu_seconds([server])
        result = measure([server.url], "-", ["load"], seconds, clients)
        result["cpu"] = cpu_per_request(cpu, cpu_seconds([server]), result["requests"])
        result["rows"] = rows(db, "bare_callbacks") - before
    finally:
        stop([server])
    return result


@contextlib.contextmanager
def fresh_database(admin: str) -> Iterator[str]:
    """A new PostgreSQL database for one run, dropped after it."""
    name = f"dialback_load_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def machine() -> str:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} CPUs, python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", help="'sqlite' or a postgresql:// admin URL")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument(
        "--nodes",
        default="1,2,3",
        help="setups to run (PostgreSQL): N nodes, or NxS for N nodes and S shards (2x2)",
    )
    parser.add_argument("--bare", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(f"{machine()}; command: {' '.join(sys.argv)}")
    postgres = args.db != "sqlite"
    setups: list[str] = (["bare"] if postgres and args.bare else []) + (
        [n.strip() for n in args.nodes.split(",")] if postgres else ["1"]
    )
    print(
        "| database | setup | round | tool | seconds | clients | load avg before | "
        "requests | rows created | creations/s | p50 ms | p99 ms | max ms | "
        "server CPU ms per creation (each node) |"
    )
    print("|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for round_ in range(1, args.rounds + 1):
        for setup in setups:
            load_before = os.getloadavg()[0]
            with tempfile.TemporaryDirectory() as temporary:
                folder = Path(temporary)
                if not postgres:
                    result = run_nodes(
                        str(folder / "load.db"), 1, args.seconds, args.clients, folder
                    )
                else:
                    with fresh_database(args.db) as db:
                        if setup == "bare":
                            result = run_bare(db, args.seconds, args.clients, folder)
                        else:
                            nodes, _, shards = setup.partition("x")
                            result = run_nodes(
                                db,
                                int(nodes),
                                args.seconds,
                                args.clients,
                                folder,
                                shards=int(shards or 1),
                            )
            name = "bare FastAPI + INSERT" if setup == "bare" else _name(setup)
            print(
                f"| {'PostgreSQL' if postgres else 'SQLite'} | {name} | {round_} | "
                f"{result['tool']} | {args.seconds} | {args.clients} | {load_before:.2f} | "
                f"{result['requests']} | {result.get('rows', '-')} | {result['rate']:.0f} | "
                f"{result['p50']:.1f} | {result['p99']:.1f} | {result['max']:.0f} | "
                f"{result['cpu']} |",
                flush=True,
            )


def _name(setup: str) -> str:
    nodes, _, shards = setup.partition("x")
    return f"dialback, {nodes} node(s), {shards or 1} shard(s)"


if __name__ == "__main__":
    main()
