"""kill -9 in the middle of dispatching: nothing accepted is lost, nothing dialed twice at once.

``dialback serve --demo`` runs as a process on PostgreSQL with its simulated carrier writing every
placed call to a log. We create 500 callbacks through the API while the demo agents work, kill
the process while dials are in flight, restart it, and read the database and the carrier's log.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from dialback.store import tables
from dialback.store.db import connect

from . import postgres
from .conftest import eventually, pg_admin_url

CALLBACKS = 500
MAX_RETRIES = 2  # the demo's customer-first "support" queue


def dialback(*args: str) -> list[str]:
    return [sys.executable, "-m", "dialback.cli", *args]


def start(db: str, log: Path, output: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``dialback serve --demo`` on a port the system chooses (``--port 0``; the address is
    read from what it prints), healthy; the process and its address."""
    command = dialback(
        "serve",
        "--db",
        db,
        "--demo",
        "--speed",
        "20",
        "--port",
        "0",
        "--carrier-log",
        str(log),
    )
    before = output.stat().st_size if output.exists() else 0
    with output.open("ab") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    found: list[str] = []

    def healthy() -> bool:
        if not found:
            printed = output.read_bytes()[before:].decode(errors="replace")
            bound = re.search(r"listening on (http://\S+)", printed)
            if bound is None:
                assert process.poll() is None, output.read_text()
                return False
            found.append(bound.group(1))
        try:
            return httpx.get(f"{found[0]}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            assert process.poll() is None, output.read_text()
            return False

    eventually(healthy, timeout=60, what="dialback serve to start")
    return process, found[0]


def log_records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def in_flight(log: Path) -> bool:
    placed: set[str] = set()
    for record in log_records(log) if log.exists() else []:
        if record["event"] == "place":
            placed.add(record["dial_id"])
        elif record["event"] in ("result", "cancel"):
            placed.discard(record["dial_id"])
    return bool(placed)


def test_kill_9_mid_dispatch_loses_nothing_and_never_overlaps_dials(tmp_path: Path) -> None:
    with postgres.fresh_database(pg_admin_url()) as db:
        token = subprocess.run(
            dialback("token", "create", "--role", "admin", "--db", db),
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        log, output = tmp_path / "carrier.jsonl", tmp_path / "serve.log"
        process, url = start(db, log, output)
        headers = {"Authorization": f"Bearer {token}"}
        created: list[str] = []
        try:
            with httpx.Client(base_url=url, headers=headers, timeout=20) as c:
                for i in range(CALLBACKS):
                    body = {"queueId": "support", "callbackNumbers": [f"+1415555{2000 + i:04d}"]}
                    response = c.post("/api/v2/conversations/callbacks", json=body)
                    assert response.status_code == 200, response.text
                    created.append(response.json()["callbackIdentifiers"][0]["id"])
            eventually(lambda: in_flight(log), timeout=30, what="a dial in flight")
            os.killpg(process.pid, signal.SIGKILL)  # mid-dispatch: dials are in flight
            process.wait(timeout=10)
            with log.open("a") as marker:
                marker.write(json.dumps({"event": "restart"}) + "\n")
            process, _ = start(db, log, output)  # healthy once the lost dials are settled

            def dialing_again() -> bool:
                events = [r["event"] for r in log_records(log)]
                return "place" in events[events.index("restart") :]

            eventually(dialing_again, timeout=30, what="dispatch to go on after the restart")
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)

        engine = connect(db)
        with engine.connect() as db_connection:
            rows, segs = tables.interactions, tables.segments
            stored = (
                db_connection.execute(sa.select(rows.c.id).where(rows.c.id.in_(created)))
                .scalars()
                .all()
            )
            query = sa.select(segs.c.dial_id, segs.c.outcome).where(segs.c.dial_id.is_not(None))
            outcomes = {row.dial_id: row.outcome for row in db_connection.execute(query)}
        engine.dispose()
        assert len(set(stored)) == CALLBACKS  # every accepted callback is there

        records = log_records(log)
        restart = next(n for n, r in enumerate(records) if r["event"] == "restart")
        dials: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        ended: set[str] = set()
        for n, record in enumerate(records):
            if record["event"] == "place":
                dials[record["callback"]].append((n, record))
            elif record["event"] in ("result", "cancel"):
                ended.add(record["dial_id"])
        placed = [r["dial_id"] for rs in dials.values() for _, r in rs]
        assert len(placed) == len(set(placed)), "a dial id was placed twice"
        for callback, attempts in dials.items():
            assert [r["attempt"] for _, r in attempts] == list(range(1, len(attempts) + 1))
            if callback in created:
                assert len(attempts) <= 1 + MAX_RETRIES, f"{callback} dialed beyond the retry rule"
            for (n, before), (m, _after) in itertools.pairwise(attempts):
                if before["dial_id"] in ended:
                    continue  # it ended before the next one was placed (log order)
                # no result: it was in flight at the kill, and the next dial came after the
                # restart (the engine ended the lost one with ERROR; the retry rule redialed)
                assert n < restart < m, f"{callback}: two dials overlapped"
        lost = [
            r["dial_id"]
            for rs in dials.values()
            for n, r in rs
            if n < restart and r["dial_id"] not in ended
        ]
        assert lost, "the kill came with no dial in flight"
        # the engine ended every dial lost in the crash with ERROR, never re-dialing it blindly
        assert all(outcomes.get(dial) == "ERROR" for dial in lost), (lost, outcomes)
