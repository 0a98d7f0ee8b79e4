"""Three ``dialback serve`` nodes on one PostgreSQL (issue 17), on loopback.

1,000 callbacks go in through all three nodes while the demo's virtual agents work; the leader
is killed with ``kill -9`` while dials are in flight, later the next leader too. No accepted
callback is lost, no two dials of one callback overlap in the carriers' logs (R-CF-9), and the
shard is led again within the lease time (measured from the database's clock). A node cut off
from PostgreSQL (a TCP proxy the test stops) places no dial once its lease could have expired.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dialback.store import tables
from dialback.store.db import connect
from dialback.store.leases import list_leases

from . import postgres
from .cluster import (
    Node,
    Proxy,
    dials,
    in_flight,
    overlapping,
    records,
    start_node,
    start_nodes,
    stored_and_closed,
)
from .conftest import eventually, pg_admin_url

LEASE = 4.0  # seconds (the default is 8; shorter here to keep the test short)
POLL = min(1.0, LEASE / 8)  # how often a follower tries to take the shard
# Issue 17: a dead node's shards are led again within 10 s. The design gives LEASE + POLL (about
# 4.5 s here, printed); the bound leaves the rest of the 10 s to a machine busy with other work,
# where a surviving node's poll can come late.
TAKE_OVER_BOUND = 10.0
CALLBACKS = (400, 300, 300)  # before the first kill, around it, around the second
pytestmark = pytest.mark.timeout(240)


def node_args() -> list[str]:
    # snapshots every 300 events: a take-over loads one and replays only the tail
    lease = ["--lease-seconds", str(LEASE), "--snapshot-events", "300"]
    return ["--demo", "--speed", "20", *lease]


def admin_token(db: str) -> str:
    command = [sys.executable, "-m", "dialback.cli", "token", "create", "--db", db]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def leader(engine: Engine) -> tuple[str, float] | None:
    """The node leading the shard and when it took it (epoch seconds, database clock)."""
    for row in list_leases(engine):
        if row.node_id and row.seconds_left > 0 and row.acquired_at is not None:
            return row.node_id, row.acquired_at.timestamp()
    return None


def db_now(engine: Engine) -> float:
    with engine.connect() as c:
        return float(c.execute(sa.text("SELECT extract(epoch FROM now())")).scalar_one())


def create_callbacks(nodes: list[Node], token: str, count: int, tag: str) -> list[str]:
    """``count`` callbacks, round-robin over the nodes alive; a request that fails (a node
    killed, a shard between leaders) is retried with the same Idempotency-Key elsewhere."""
    headers = {"Authorization": f"Bearer {token}"}

    def one(i: int) -> str:
        key = f"{tag}-{i}-{uuid.uuid4().hex[:8]}"
        body = {"queueId": "support", "callbackNumbers": [f"+1415555{2000 + i % 8000:04d}"]}
        tries = [0]

        def attempt() -> str | None:
            alive = [n for n in nodes if n.killed_at is None]
            node = alive[(i + tries[0]) % len(alive)]
            tries[0] += 1
            try:
                r = httpx.post(
                    f"{node.url}/api/v2/conversations/callbacks",
                    json=body,
                    headers={**headers, "Idempotency-Key": key},
                    timeout=15,
                )
            except httpx.HTTPError:
                return None
            if r.status_code == 200:
                found: str = r.json()["callbackIdentifiers"][0]["id"]
                return found
            assert r.status_code == 503, r.text  # only "no leader just now" may be retried
            return None

        return eventually(attempt, timeout=60, what=f"callback {tag}-{i} to be accepted")

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def kill_leader(engine: Engine, nodes: list[Node]) -> tuple[Node, float]:
    """kill -9 the leader while it has a dial in flight; returns it and the database's time."""
    name, _ = eventually(lambda: leader(engine), what="a leader")
    node = next(n for n in nodes if n.name == name)
    eventually(lambda: in_flight(node.log), timeout=30, what=f"a dial in flight on {name}")
    os.killpg(node.process.pid, signal.SIGKILL)
    killed = db_now(engine)
    node.killed_at = time.time()
    node.process.wait(timeout=10)
    return node, killed


def test_three_nodes_and_two_kills_lose_no_callback_and_never_overlap_dials(
    tmp_path: Path,
) -> None:
    began = time.monotonic()

    def phase(what: str) -> None:
        print(f"\n{time.monotonic() - began:6.1f} s  {what}", flush=True)

    with postgres.fresh_database(pg_admin_url()) as db:
        token = admin_token(db)  # migrates the new database, too
        nodes = start_nodes(db, ["n1", "n2", "n3"], tmp_path, *node_args())
        engine = connect(db)
        accepted: list[str] = []
        take_overs: list[float] = []
        try:
            phase("three nodes up")

            def every_node_knows_the_demo_queue() -> bool:  # made by the leader's demo center,
                headers = {"Authorization": f"Bearer {token}"}  # then on each replica
                path = "/api/v2/routing/queues/support/estimatedwaittime"
                answers = [httpx.get(f"{n.url}{path}", headers=headers) for n in nodes]
                return all(a.status_code == 200 for a in answers)

            eventually(every_node_knows_the_demo_queue, timeout=30, what="the demo's queue")
            accepted += create_callbacks(nodes, token, CALLBACKS[0], "a")
            phase(f"{CALLBACKS[0]} callbacks accepted")
            for round_, count in enumerate(CALLBACKS[1:]):
                more: list[str] = []
                creating = threading.Thread(
                    target=lambda c=count, r=round_, into=more: into.extend(
                        create_callbacks(nodes, token, c, f"b{r}")
                    )
                )
                creating.start()
                killed, at = kill_leader(engine, nodes)
                phase(f"killed {killed.name}")

                def new_leader(gone: str = killed.name) -> tuple[str, float] | None:
                    found = leader(engine)
                    return found if found and found[0] != gone else None

                _, acquired = eventually(new_leader, timeout=4 * LEASE, what="a new leader")
                take_overs.append(acquired - at)
                phase("a new leader")
                creating.join(timeout=120)
                assert not creating.is_alive()
                accepted += more
                phase(f"{count} more callbacks accepted")
            last_kill = max(n.killed_at or 0 for n in nodes)
            survivor = next(n for n in nodes if n.killed_at is None)

            def dialing_again() -> bool:
                return any(
                    r["event"] == "place" and r["at"] > last_kill for r in records(survivor.log)
                )

            eventually(dialing_again, timeout=30, what="dispatch to go on after the kills")
            phase("dialing again")
            health = httpx.get(f"{survivor.url}/healthz", timeout=10).json()
            with engine.connect() as c:
                logged = c.execute(sa.select(sa.func.count()).select_from(tables.events))
                assert health["replayedEvents"] < logged.scalar_one()  # snapshot + tail
        finally:
            for node in nodes:
                if node.killed_at is None:
                    os.killpg(node.process.pid, signal.SIGTERM)
                    node.process.wait(timeout=30)
            stopped = time.time()
            stored, outcomes = stored_and_closed(engine)
        print(f"\ntake-over after kill -9 (database clock): {[round(t, 2) for t in take_overs]} s")
        assert all(t <= TAKE_OVER_BOUND for t in take_overs), take_overs
        assert len(accepted) == sum(CALLBACKS) == len(set(accepted))
        assert set(accepted) <= stored, "an accepted callback was lost"

        found = dials(nodes, stopped)
        assert len({d.dial_id for d in found}) == len(found), "a dial id was placed twice"
        assert not overlapping(found), overlapping(found)[:3]
        lost = [d for d in found if d.ended == nodes_killed_at(nodes, d.node)]
        assert lost, "no kill came with a dial in flight"
        # the new leader ended every dial lost in a kill with ERROR, never re-dialing it blindly
        assert all(outcomes.get(d.dial_id) == "ERROR" for d in lost), [
            (d.dial_id, outcomes.get(d.dial_id)) for d in lost
        ]


def nodes_killed_at(nodes: list[Node], name: str) -> float | None:
    return next(n.killed_at for n in nodes if n.name == name)


def the_same_answer_from_leader_and_follower(leader: Node, follower: Node, token: str) -> None:
    """A follower forwards an event and answers with the leader's refusal; both say who leads."""
    headers = {"Authorization": f"Bearer {token}"}
    path = "/api/v2/users/nobody/interactions/nothing/accept"
    here = httpx.post(follower.url + path, headers=headers, timeout=10)
    there = httpx.post(leader.url + path, headers=headers, timeout=10)
    assert here.status_code == there.status_code == 404
    assert here.json() == there.json()
    for node in (leader, follower):
        view = httpx.get(f"{node.url}/api/v2/dialback/cluster", headers=headers, timeout=10)
        assert view.json()["shards"][0]["leaseholder"] == leader.name
        assert view.json()["self"]["leading"] is (node is leader)


def stop(node: Node) -> None:
    """SIGTERM, and SIGKILL if it cannot finish (a node whose database hangs cannot)."""
    os.killpg(node.process.pid, signal.SIGTERM)
    try:
        node.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(node.process.pid, signal.SIGKILL)
        node.process.wait(timeout=10)


@pytest.mark.parametrize("cut_off", ["stop", "freeze"])
def test_a_node_cut_off_from_postgresql_places_no_dial_after_its_lease(
    tmp_path: Path, cut_off: str
) -> None:
    with postgres.fresh_database(pg_admin_url()) as db:
        token = admin_token(db)
        address = db.split("@", 1)[1].split("/", 1)[0]
        host, _, port = address.partition(":")
        proxy = Proxy((host, int(port or 5432)))
        through_proxy = db.replace(f"@{address}/", f"@127.0.0.1:{proxy.port}/")
        engine = connect(db)
        a = start_node(through_proxy, "a", tmp_path, *node_args())
        nodes = [a]
        try:
            eventually(lambda: (leader(engine) or ("",))[0] == "a", what="a to lead")
            b = start_node(db, "b", tmp_path, *node_args())
            nodes.append(b)
            the_same_answer_from_leader_and_follower(a, b, token)
            create_callbacks([b], token, 100, "p")  # through b, forwarded to a
            eventually(lambda: in_flight(a.log), timeout=30, what="a dial in flight on a")
            cut = time.time()
            proxy.stop() if cut_off == "stop" else proxy.freeze()
            eventually(
                lambda: (leader(engine) or ("",))[0] == "b", timeout=4 * LEASE, what="b to lead"
            )

            def b_dials() -> bool:
                return any(r["event"] == "place" and r["at"] > cut for r in records(b.log))

            eventually(b_dials, timeout=30, what="b to dial")
            eventually(lambda: "steps down" in a.output.read_text(), what="a to step down")
        finally:
            for node in nodes:
                stop(node)
            stopped = time.time()
            proxy.stop()
            engine.dispose()
        # a renewed its lease last before the cut: by the database it ended by cut + LEASE
        late = [r for r in records(a.log) if r["event"] == "place" and r["at"] > cut + LEASE]
        assert not late, late
        open_at_end = [d for d in dials([a], stopped) if d.ended > cut + LEASE]
        assert not open_at_end, "a left a dial ringing after its lease"
        assert not overlapping(dials(nodes, stopped))
