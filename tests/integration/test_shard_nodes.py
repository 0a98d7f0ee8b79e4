"""Two ``dialback serve`` nodes and two shards on one PostgreSQL (issue 17), on loopback.

Each node leads one shard (its fair share: ceil(2 shards / 2 nodes)); a write through either
node reaches the leader of the shard it names, so each callback is dialed by its own shard's
leader. The leader of one shard is killed with ``kill -9`` while it has a dial in flight: the
other node takes that shard within the lease time (the database's clock), no accepted callback
is lost, and no callback has two dials at once in the carriers' logs (R-CF-9).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dialback.store import tables
from dialback.store.db import connect
from dialback.store.leases import list_leases

from . import postgres
from .cluster import Node, dials, in_flight, overlapping, records, start_nodes, stored_and_closed
from .conftest import eventually, pg_admin_url
from .test_nodes import admin_token, db_now

LEASE = 4.0
POLL = min(1.0, LEASE / 8)
# Issue 17: a dead node's shards are led again within 10 s. The design gives LEASE + POLL (about
# 4.5 s here, printed); the bound leaves the rest of the 10 s to a machine busy with other work,
# where a surviving node's poll can come late.
TAKE_OVER_BOUND = 10.0
pytestmark = pytest.mark.timeout(240)


def node_args() -> list[str]:
    # no answer or busy: dials end without an agent, and each callback waits 60 s to retry
    mix = ["--carrier-mix", "NO_ANSWER=3,BUSY=1", "--speed", "20"]
    return ["--lease-seconds", str(LEASE), "--snapshot-events", "300", *mix]


def holders(engine: Engine) -> dict[str, tuple[str, float]]:
    """Each led shard's leaseholder and when it took the shard (database clock)."""
    return {
        r.shard: (r.node_id, r.acquired_at.timestamp())
        for r in list_leases(engine)
        if r.node_id and r.seconds_left > 0 and r.acquired_at is not None
    }


class Client:
    """Requests through the nodes alive, in turn; a 503 (a shard between leaders, a node
    killed) is retried elsewhere with the same ``Idempotency-Key``."""

    def __init__(self, nodes: list[Node], token: str) -> None:
        self.nodes, self.headers = nodes, {"Authorization": f"Bearer {token}"}
        self.turn = 0
        self.lock = threading.Lock()

    def send(self, method: str, path: str, body: Any = None, *, via: Node | None = None) -> Any:
        key = uuid.uuid4().hex

        def attempt() -> Any:
            with self.lock:
                alive = [n for n in self.nodes if n.killed_at is None]
                node = via or alive[self.turn % len(alive)]
                self.turn += 1
            headers = {**self.headers, "Idempotency-Key": key}
            try:
                r = httpx.request(method, node.url + path, json=body, headers=headers, timeout=15)
            except httpx.HTTPError:
                return None
            if r.status_code == 503:
                return None
            assert r.status_code == 200, (node.name, r.status_code, r.text)
            return r.json() or True

        return eventually(attempt, timeout=60, what=f"{method} {path} to be accepted")


def setup_shard(client: Client, shard: str | None, agents: int, via: Node) -> str:
    """A queue and its agents on queue, all through ``via`` (which reads its own writes; another
    node's replica may be a poll behind)."""
    body: dict[str, Any] = {
        "name": f"queue {shard}",
        "callingPartyNumber": "+14155550199",
        "mediaSettings": {"callback": {"mode": "CustomerFirst", "maxRetryCount": 3}},
    }
    if shard is not None:
        body["shard"] = shard
    queue = str(client.send("POST", "/api/v2/routing/queues", body, via=via)["id"])
    for i in range(agents):
        user = {"name": f"agent {i} of {shard}", **({"shard": shard} if shard else {})}
        agent = client.send("POST", "/api/v2/users", user, via=via)["id"]
        members = [{"id": agent}]
        client.send("POST", f"/api/v2/routing/queues/{queue}/members", members, via=via)
        client.send("PUT", f"/api/v2/users/{agent}/routingstatus", {"status": "IDLE"}, via=via)
    return queue


def create_callbacks(client: Client, queues: list[str], count: int, tag: str) -> list[str]:
    def one(i: int) -> str:
        body = {
            "queueId": queues[i % len(queues)],
            "callbackNumbers": [f"+1415555{2000 + i % 8000:04d}"],
            "callbackUserName": f"{tag}-{i}",
        }
        found = client.send("POST", "/api/v2/conversations/callbacks", body)
        return str(found["callbackIdentifiers"][0]["id"])

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def shard_of_callbacks(engine: Engine) -> dict[str, str]:
    """Each stored callback's shard, by the log its creation is in."""
    e = tables.events
    with engine.connect() as c:
        rows = c.execute(
            sa.select(e.c.shard, e.c.payload).where(e.c.kind == "CallbackRequested")
        ).all()
    return {row.payload["callback_id"]: row.shard for row in rows}


def test_two_nodes_lead_a_shard_each_and_one_takes_the_others_after_a_kill(
    tmp_path: Path,
) -> None:
    began = time.monotonic()

    def phase(what: str) -> None:
        print(f"\n{time.monotonic() - began:6.1f} s  {what}", flush=True)

    with postgres.fresh_database(pg_admin_url()) as db:
        token = admin_token(db)
        nodes = start_nodes(db, ["a", "b"], tmp_path, *node_args())
        engine = connect(db)
        client = Client(nodes, token)
        accepted: list[str] = []
        try:
            main = setup_shard(client, None, 2, nodes[0])
            east = setup_shard(client, "east", 2, nodes[1])
            phase("two queues in two shards")

            def one_each() -> dict[str, tuple[str, float]] | None:
                found = holders(engine)
                led = {holder for holder, _ in found.values()}
                return found if set(found) == {"all", "east"} and len(led) == 2 else None

            led = eventually(one_each, timeout=6 * LEASE, what="each node to lead one shard")
            phase(f"each node leads one shard: {led}")
            for node in nodes:  # every node shows every shard's leaseholder

                def cluster_view(node: Node = node) -> Any:
                    view = httpx.get(
                        f"{node.url}/api/v2/dialback/cluster", headers=client.headers, timeout=10
                    ).json()
                    # a node opens its replica of a shard it does not lead when its poll of
                    # the shards' names finds it: soon after, not at once
                    return view if len(view["selfShards"]) == 2 else None

                view = eventually(cluster_view, timeout=6 * LEASE, what="both shards on each node")
                shown = {s["shard"]: s["leaseholder"] for s in view["shards"]}
                assert shown == {s: holder for s, (holder, _) in led.items()}
                assert {s["shard"] for s in view["selfShards"]} == {"all", "east"}
            accepted += create_callbacks(client, [main, east], 200, "a")
            phase("200 callbacks through both nodes")

            by_name = {n.name: n for n in nodes}
            east_leader = by_name[led["east"][0]]
            other = next(n for n in nodes if n is not east_leader)
            shards = shard_of_callbacks(engine)

            def dialed_by_their_leaders() -> bool:
                placed = {
                    n.name: {r["callback"] for r in records(n.log) if r["event"] == "place"}
                    for n in nodes
                }
                east_dialed = placed[east_leader.name]
                ok = all(shards[cb] == "east" for cb in east_dialed)
                ok = ok and all(shards[cb] == "all" for cb in placed[other.name])
                return ok and bool(east_dialed) and bool(placed[other.name])

            eventually(dialed_by_their_leaders, timeout=30, what="each leader to dial its own")
            phase("each shard's callbacks dialed by its leader")

            more: list[str] = []
            creating = threading.Thread(
                target=lambda: more.extend(create_callbacks(client, [main, east], 100, "b"))
            )
            creating.start()
            eventually(
                lambda: in_flight(east_leader.log), timeout=30, what="a dial in flight on east"
            )
            os.killpg(east_leader.process.pid, signal.SIGKILL)
            killed = db_now(engine)
            east_leader.killed_at = time.time()
            east_leader.process.wait(timeout=10)
            phase(f"killed {east_leader.name}, the leader of east")

            def taken() -> float | None:
                found = holders(engine).get("east")
                return found[1] if found and found[0] == other.name else None

            acquired = eventually(taken, timeout=4 * LEASE, what="the other node to take east")
            take_over = acquired - killed
            phase(f"{other.name} took east {take_over:.2f} s after the kill (database clock)")
            creating.join(timeout=120)
            assert not creating.is_alive()
            accepted += more

            def east_dialed_again() -> bool:
                shards.update(shard_of_callbacks(engine))
                return any(
                    r["event"] == "place"
                    and r["at"] > (east_leader.killed_at or 0)
                    and shards.get(r["callback"]) == "east"
                    for r in records(other.log)
                )

            eventually(east_dialed_again, timeout=30, what="east's callbacks to be dialed again")
            assert holders(engine)["all"][0] == other.name  # still leads its own
        finally:
            for node in nodes:
                if node.killed_at is None:
                    os.killpg(node.process.pid, signal.SIGTERM)
                    node.process.wait(timeout=30)
            stopped = time.time()
            stored, outcomes = stored_and_closed(engine)
        print(f"\ntake-over of east after kill -9: {take_over:.2f} s")
        assert take_over <= TAKE_OVER_BOUND, take_over
        assert len(accepted) == 300 == len(set(accepted))
        assert set(accepted) <= stored, "an accepted callback was lost"
        found = dials(nodes, stopped)
        assert len({d.dial_id for d in found}) == len(found), "a dial id was placed twice"
        assert not overlapping(found), overlapping(found)[:3]
        lost = [d for d in found if d.node == east_leader.name and d.ended == east_leader.killed_at]
        assert lost, "the kill came with no dial in flight"
        # the new leader ended every east dial lost in the kill with ERROR, never re-dialing it
        assert all(outcomes.get(d.dial_id) == "ERROR" for d in lost if shards[d.callback] == "east")


def test_a_node_that_joins_gets_its_share_from_a_node_leading_every_shard(
    tmp_path: Path,
) -> None:
    with postgres.fresh_database(pg_admin_url()) as db:
        token = admin_token(db)
        (a,) = start_nodes(db, ["a"], tmp_path, *node_args())
        nodes = [a]
        engine = connect(db)
        client = Client(nodes, token)
        try:
            setup_shard(client, None, 1, a)
            setup_shard(client, "east", 1, a)

            def a_leads_both() -> bool:
                return {s: h for s, (h, _) in holders(engine).items()} == {"all": "a", "east": "a"}

            eventually(a_leads_both, timeout=6 * LEASE, what="a to lead both shards alone")
            (b,) = start_nodes(db, ["b"], tmp_path, *node_args())
            nodes.append(b)
            joined = time.monotonic()

            def one_each() -> bool:
                led = {s: h for s, (h, _) in holders(engine).items()}
                return led == {"all": "a", "east": "b"}  # a keeps the default shard

            eventually(one_each, timeout=6 * LEASE, what="a to hand east to b")
            print(f"\nb led east {time.monotonic() - joined:.2f} s after it answered")
            assert "hands shard east back" in a.output.read_text()
            listed = subprocess_nodes(db)
            assert "all" in listed and "east" in listed
        finally:
            for node in nodes:
                os.killpg(node.process.pid, signal.SIGTERM)
                node.process.wait(timeout=30)
            engine.dispose()


def subprocess_nodes(db: str) -> str:
    """``dialback nodes``' table."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "dialback.cli", "nodes", "--db", db]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout
