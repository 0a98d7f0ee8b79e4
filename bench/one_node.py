"""One node under ``bench/api_load.py``'s load, run after run, with its CPU split by thread and,
if asked, a py-spy profile (issue 17: where a creation's CPU goes, and A/B checks of a change).

Run by hand (not part of the tests), from the project root:

    .venv/bin/python bench/one_node.py --db postgresql://postgres@127.0.0.1:5432/test --runs 3
    .venv/bin/python bench/one_node.py --db ... --serve-args "--snapshot-events 0"
    .venv/bin/python bench/one_node.py --db ... --runs 1 --profile /tmp/node.raw

Each run: a fresh database, ``dialback serve`` as one node, a queue, 300 creations to warm up,
then ``wrk`` (32 connections, ``--seconds``) posting creations, as ``api_load.py`` does. It
prints creations/s, p99, the server's CPU per creation (user + system) and the CPU each of the
server's busy threads used over the whole run (the event loop is ``MainThread``; the writer's
commits and snapshots run in the pool's threads). ``--profile FILE`` records the server with
py-spy (``--gil --threads``, raw format: samples holding the GIL, so where one core's time
goes; py-spy slows the server, so a profiled run's rate is not comparable). An A/B comparison
of two trees should interleave their runs: the machine's speed drifts by 10-20 % within an
hour here.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the root

from bench import api_load


def thread_cpu(pid: int) -> list[tuple[str, float, float]]:
    """(name, user s, system s) of each thread of ``pid`` that used over half a second."""
    found = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir()):
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        user, system = int(fields[11]) / 100, int(fields[12]) / 100
        if user + system > 0.5:
            found.append(((task / "comm").read_text().strip(), user, system))
    return found


def py_spy() -> str:
    """py-spy beside this Python (``.venv/bin/pip install py-spy``), else on the PATH."""
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy") or "py-spy"


def process_cpu(pid: int) -> tuple[float, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / 100, int(fields[12]) / 100


def run(admin: str, seconds: int, serve_args: list[str], profile: str | None) -> None:
    with tempfile.TemporaryDirectory() as temporary, api_load.fresh_database(admin) as db:
        folder = Path(temporary)
        token = subprocess.run(
            api_load.dialback("token", "create", "--db", db),
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        command = api_load.dialback("serve", "--db", db, "--port", "0", "--node-id", "node1")
        server = api_load.start([*command, *serve_args], folder / "serve.log")
        try:
            queue = api_load.create_queue(server.url, token, shard="all")
            api_load.until_created(server.url, token, queue)
            asyncio.run(api_load.load([server.url], token, [queue], 300, 32))
            spy = None
            if profile:
                spy = subprocess.Popen(
                    [
                        py_spy(),
                        "record",
                        "--gil",
                        "--threads",
                        "-r",
                        "400",
                        "-d",
                        str(seconds),
                        "--format",
                        "raw",
                        "-o",
                        profile,
                        "--pid",
                        str(server.process.pid),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            before = process_cpu(server.process.pid)
            result = api_load.measure([server.url], token, [queue], seconds, 32)
            after = process_cpu(server.process.pid)
            n = result["requests"]
            user, system = ((b - a) * 1000 / n for a, b in zip(before, after, strict=True))
            print(
                f"{result['rate']:7.0f} creations/s  p99 {result['p99']:6.1f} ms  "
                f"CPU {user + system:.2f} ms per creation (user {user:.2f}, system {system:.2f})"
            )
            for name, user_s, system_s in thread_cpu(server.process.pid):
                print(f"    thread {name:<16} user {user_s:6.2f} s, system {system_s:5.2f} s")
            if spy is not None:
                spy.wait(timeout=seconds + 60)
        finally:
            api_load.stop([server])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a postgresql:// admin URL")
    parser.add_argument("--seconds", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serve-args", default="", help="more options for dialback serve")
    parser.add_argument("--profile", help="record the server with py-spy into this file")
    args = parser.parse_args()
    print(f"{api_load.machine()}; command: {' '.join(sys.argv)}")
    for _ in range(args.runs):
        run(args.db, args.seconds, args.serve_args.split(), args.profile)


if __name__ == "__main__":
    main()
