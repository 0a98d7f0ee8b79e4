"""Several shards in one process (issue 17), on SQLite and PostgreSQL: queues name their shard,
agents are put in one when registered, each shard has its own log and engine, and a restart
rebuilds each from its own log. (Several nodes: ``test_shard_nodes.py``.)"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from dialback.api.genesys import iso
from dialback.domain.events import CustomerHungUp, LockoutsShared
from dialback.service import shards
from dialback.store import tables
from dialback.store.snapshots import shard_names

from .conftest import Service, eventually, ok, serve

CALLER = "+14155550199"


def queue_body(shard: str | None, mode: str = "CustomerFirst", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"Support {shard}",
        "callingPartyNumber": CALLER,
        "mediaSettings": {"callback": {"mode": mode}},
        **extra,
    }
    if shard is not None:
        body["shard"] = shard
    return body


def make_queue(
    c: httpx.Client, shard: str | None, mode: str = "CustomerFirst", **extra: Any
) -> str:
    body = queue_body(shard, mode, **extra)
    return str(ok(c.post("/api/v2/routing/queues", json=body))["id"])


def make_agent(c: httpx.Client, shard: str | None) -> str:
    body: dict[str, Any] = {"name": f"Agent {shard}"}
    if shard is not None:
        body["shard"] = shard
    return str(ok(c.post("/api/v2/users", json=body))["id"])


def refused(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["code"]


def decisions(service: Service, callback_id: str) -> list[str]:
    """The reasons of the pacing decisions taken on a callback (R-CF-4), oldest first."""
    p = tables.pacing_decisions
    with service.store.engine.connect() as db:
        found = db.execute(
            sa.select(p.c.reason).where(p.c.callback_id == callback_id).order_by(p.c.id)
        )
        return [str(reason) for reason in found.scalars()]


def logged(service: Service) -> dict[str, set[str]]:
    """The kinds of event in each shard's log."""
    e = tables.events
    with service.store.engine.connect() as c:
        rows = c.execute(sa.select(e.c.shard, e.c.kind)).all()
    found: dict[str, set[str]] = {}
    for shard, kind in rows:
        found.setdefault(shard, set()).add(kind)
    return found


def test_queues_and_agents_are_grouped_in_shards_and_each_shard_keeps_its_own_log(
    database: str,
) -> None:
    service = serve(database)
    try:
        c = service.admin
        east, west, default = make_queue(c, "east"), make_queue(c, "west"), make_queue(c, None)
        assert ok(c.get(f"/api/v2/routing/queues/{east}"))["shard"] == "east"
        assert "shard" not in ok(c.get(f"/api/v2/routing/queues/{default}"))
        # a queue's shard never changes; the rest of its settings do
        r = c.put(f"/api/v2/routing/queues/{east}", json={"shard": "west"})
        assert refused(r) == (409, "shard_fixed")
        ok(c.put(f"/api/v2/routing/queues/{east}", json={"name": "East"}))
        assert ok(c.get(f"/api/v2/routing/queues/{east}"))["shard"] == "east"
        # an agent is in one shard, fixed when it is registered; only its shard's queues take it
        ann, bob, cy = make_agent(c, "east"), make_agent(c, "west"), make_agent(c, None)
        r = c.post("/api/v2/users", json={"name": "Dee", "shard": "north"})
        assert refused(r) == (404, "shard_not_found")
        r = c.post("/api/v2/users", json={"name": "Dee", "shard": "no spaces"})
        assert refused(r) == (422, "invalid_shard")
        r = c.post(f"/api/v2/routing/queues/{east}/members", json=[{"id": ann}, {"id": bob}])
        assert refused(r) == (409, "agent_in_other_shard")
        assert r.json()["messageParams"]["field"] == "body[1].id"
        assert ok(c.get(f"/api/v2/routing/queues/{east}/members"))["entities"] == []  # nothing
        for queue, agent in ((east, ann), (west, bob), (default, cy)):
            ok(c.post(f"/api/v2/routing/queues/{queue}/members", json=[{"id": agent}]))
            ok(c.put(f"/api/v2/users/{agent}/routingstatus", json={"status": "IDLE"}))
        r = c.post(f"/api/v2/routing/queues/{default}/members", json=[{"id": ann}])
        assert refused(r) == (409, "agent_in_other_shard")
        # callbacks of each shard are dialed and reach the shard's agent (R-CF-2)
        made = {}
        for queue, agent in ((east, ann), (west, bob), (default, cy)):
            body = {"queueId": queue, "callbackNumbers": ["+14155552671"]}
            found = ok(c.post("/api/v2/conversations/callbacks", json=body))
            made[agent] = found["callbackIdentifiers"][0]["id"]
        for agent, callback in made.items():
            me = service.client("agent", agent)

            def alerted(
                me: httpx.Client = me, agent: str = agent, callback: str = callback
            ) -> bool:
                work = ok(me.get(f"/api/v2/users/{agent}/interactions"))["entities"]
                return any(w["id"] == callback and w["state"] == "alerting" for w in work)

            eventually(alerted, what=f"callback {callback} to alert {agent}")
        # a callback cannot move to a queue of another shard
        body = {"queueId": east, "callbackNumbers": ["+14155552672"]}
        later = ok(c.post("/api/v2/conversations/callbacks", json=body))
        ok(c.put(f"/api/v2/users/{cy}/routingstatus", json={"status": "OFF_QUEUE"}))
        # the do-not-call list reaches every shard
        change = {"action": "Add", "phoneNumbers": ["+14155550100"]}
        ok(c.patch("/api/v2/outbound/dnclists/main/phonenumbers", json=change))
        logs = logged(service)
        assert set(logs) == {"all", "east", "west"}
        assert all("DncUpdated" in kinds for kinds in logs.values())
        assert "CallbackRequested" in logs["east"] and "AgentRegistered" in logs["west"]
        engines = {s: r.engine for s, r in service.app_shards().runtimes.items()}
        assert later["callbackIdentifiers"][0]["id"] in engines["east"].interactions
        assert ann in engines["east"].agents and ann not in engines["all"].agents
        queues = {s: set(e.queues) for s, e in engines.items()}
        assert queues == {"all": {default}, "east": {east}, "west": {west}}
    finally:
        service.stop()
    again = serve(database)  # each shard rebuilt from its own log
    try:
        engines = {s: r.engine for s, r in again.app_shards().runtimes.items()}
        assert {s: set(e.queues) for s, e in engines.items()} == queues
        assert bob in engines["west"].agents and bob not in engines["east"].agents
        assert set(ok(again.admin.get(f"/api/v2/users/{ann}"))) >= {"id", "routingStatus"}
    finally:
        again.stop()


def test_r_x_7_a_shard_named_after_a_dnc_change_starts_with_the_list_of_the_day(
    database: str,
) -> None:
    """The do-not-call list is logged in every shard's log; a shard that did not exist when a
    number was listed is brought up to the stored list when it opens, so its callbacks to that
    number are refused as the default shard's are (found by a cold review: it started empty)."""
    service = serve(database)
    try:
        c = service.admin
        listed, kept = "+14155550123", "+14155550124"
        change = {"action": "Add", "phoneNumbers": [listed, kept]}
        ok(c.patch("/api/v2/outbound/dnclists/main/phonenumbers", json=change))
        change = {"action": "Remove", "phoneNumbers": [kept]}
        ok(c.patch("/api/v2/outbound/dnclists/main/phonenumbers", json=change))
        default, east = make_queue(c, None), make_queue(c, "east")  # east is named after it
        for queue in (default, east):
            body = {"queueId": queue, "callbackNumbers": [listed]}
            r = c.post("/api/v2/conversations/callbacks", json=body)
            assert refused(r) == (422, "number_on_dnc"), queue
            body = {"queueId": queue, "callbackNumbers": [kept]}
            ok(c.post("/api/v2/conversations/callbacks", json=body))
        # a shard's name fits the keys kept per shard (at most 40 characters)
        body = {"name": "Long", "shard": "x" * 41}
        assert refused(c.post("/api/v2/routing/queues", json=body)) == (422, "invalid_shard")
        make_queue(c, "y" * 40)
    finally:
        service.stop()


def test_r_x_14_a_number_abandoned_in_one_shard_is_locked_out_in_every_shard(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R-X-14 across shards (issue 17): the lockout the west shard's engine sets after an
    abandoned call is logged in the other shards' logs, so the default shard holds its own
    callback to that number; a share lost before it was made (a crash between the commit and
    the share) is made good at the next start, before a callback that came due meanwhile is
    dialed (found by a cold review: the timers fired first)."""
    monkeypatch.setattr(shards, "LOCKOUT_CHECK_SECONDS", 3600.0)  # only the start repairs
    number, other = "+14155552681", "+14155552682"
    service = serve(database)
    try:
        c = service.admin
        west = make_queue(c, "west", compliance={"abandonment": {"lockoutHours": 72}})
        default = make_queue(c, None)
        bob = make_agent(c, "west")
        ok(c.post(f"/api/v2/routing/queues/{west}/members", json=[{"id": bob}]))
        ok(c.put(f"/api/v2/users/{bob}/routingstatus", json={"status": "IDLE"}))
        body = {"queueId": west, "callbackNumbers": [number]}
        made = ok(c.post("/api/v2/conversations/callbacks", json=body))
        callback = made["callbackIdentifiers"][0]["id"]
        me = service.client("agent", bob)

        def alerted() -> bool:  # the customer answered (simulated carrier: a live voice)
            work = ok(me.get(f"/api/v2/users/{bob}/interactions"))["entities"]
            return any(w["id"] == callback and w["state"] == "alerting" for w in work)

        eventually(alerted, what="the answered callback to alert the agent")
        runtimes = service.app_shards().runtimes
        hung_up = CustomerHungUp(callback)  # as the carrier reports it: abandoned
        asyncio.run_coroutine_threadsafe(
            service.app_shards().submit(hung_up, wait=True), service.server_loop
        ).result(timeout=20)

        def locked(shard: str, at: str) -> bool:
            guard = runtimes[shard].engine.guard
            return guard.lockout_until.get(at, 0.0) > service.runtime.clock()

        eventually(lambda: locked("all", number), what="the lockout to reach the default shard")
        until = runtimes["west"].engine.guard.lockout_until[number]
        assert runtimes["all"].engine.guard.lockout_until[number] == until
        assert until > service.runtime.clock() + 71 * 3600
        eventually(
            lambda: "LockoutsShared" in logged(service)["all"], what="the share to be committed"
        )
        # the default shard's callback to that number waits for the lockout's end (R-X-14)
        cy = make_agent(c, None)
        ok(c.post(f"/api/v2/routing/queues/{default}/members", json=[{"id": cy}]))
        ok(c.put(f"/api/v2/users/{cy}/routingstatus", json={"status": "IDLE"}))
        body = {"queueId": default, "callbackNumbers": [number]}
        held = ok(c.post("/api/v2/conversations/callbacks", json=body))
        held_id = held["callbackIdentifiers"][0]["id"]

        def reasons(callback_id: str) -> list[str]:
            return decisions(service, callback_id)

        eventually(lambda: reasons(held_id) != [], what="the default queue to decide")
        assert set(reasons(held_id)) == {"locked_out"}
        # a callback to another number comes due while the service is down, and the share of
        # that number's lockout never happened: only west's log has it
        later, dee = make_queue(c, None), make_agent(c, None)
        ok(c.post(f"/api/v2/routing/queues/{later}/members", json=[{"id": dee}]))
        ok(c.put(f"/api/v2/users/{dee}/routingstatus", json={"status": "IDLE"}))
        due = service.runtime.clock() + 8
        body = {"queueId": later, "callbackNumbers": [other], "callbackScheduledTime": iso(due)}
        made = ok(c.post("/api/v2/conversations/callbacks", json=body))
        scheduled = made["callbackIdentifiers"][0]["id"]
        shared = LockoutsShared(((other, until),))
        asyncio.run_coroutine_threadsafe(
            runtimes["west"].submit(shared, wait=True), service.server_loop
        ).result(timeout=20)
        assert not locked("all", other)
        assert reasons(scheduled) == [], "the machine was too slow: the callback came due"
    finally:
        service.stop()
    eventually(lambda: time.time() > due + 0.5, timeout=30, what="the callback to come due")
    again = serve(database)  # the start brings every shard up to the latest lockouts
    try:
        runtimes = again.app_shards().runtimes
        for shard in ("all", "west"):
            guard = runtimes[shard].engine.guard
            assert guard.active_lockouts(again.runtime.clock()) == {number: until, other: until}
        eventually(lambda: reasons(scheduled) != [], what="the due callback to be decided")
        assert set(reasons(scheduled)) == {"locked_out"}  # not dialed before the lockout came
    finally:
        again.stop()


def test_the_same_new_key_sent_to_two_shards_at_once_creates_one_callback_and_no_rebuild(
    database: str,
) -> None:
    """An ``Idempotency-Key`` is one principal's over the whole database. Two requests with the
    same new key whose callbacks go to two shards, sent at the same moment, take turns: one
    creates its callback, the other is told the key came with another body (409), and no
    shard's batch fails on the key (before: one engine was rebuilt, a 503 blip for everyone)."""
    service = serve(database)
    try:
        c = service.admin
        east, default = make_queue(c, "east", "AgentFirst"), make_queue(c, None, "AgentFirst")
        me = service.client("admin")
        pairs = 12
        gate = threading.Barrier(2)

        def post(queue: str, key: str) -> int:
            body = {"queueId": queue, "callbackNumbers": ["+14155552691"]}
            gate.wait(timeout=20)
            return me.post(
                "/api/v2/conversations/callbacks", json=body, headers={"Idempotency-Key": key}
            ).status_code

        with ThreadPoolExecutor(max_workers=2) as pool:
            for k in range(pairs):
                both = [pool.submit(post, queue, f"twice-{k}") for queue in (east, default)]
                assert sorted(f.result(timeout=30) for f in both) == [200, 409], k
        e = tables.events
        with service.store.engine.connect() as db:
            kinds = db.execute(sa.select(e.c.kind).where(e.c.kind == "CallbackRequested"))
            assert len(kinds.all()) == pairs
        runtimes = service.app_shards().runtimes
        assert {shard: r.recoveries for shard, r in runtimes.items()} == {"all": 0, "east": 0}
    finally:
        service.stop()


def test_active_callbacks_are_listed_oldest_first_over_every_shard(database: str) -> None:
    """The active callbacks list pages over every shard's engine in the order the callbacks
    took their places, not shard by shard."""
    service = serve(database)
    try:
        c = service.admin
        east, default = make_queue(c, "east", "AgentFirst"), make_queue(c, None, "AgentFirst")
        made = []
        for k in range(6):  # no agents: every one waits in its queue
            body = {"queueId": (east, default)[k % 2], "callbackNumbers": ["+14155552695"]}
            made.append(ok(c.post("/api/v2/conversations/callbacks", json=body))["conversation"])
        listed = []
        for number in (1, 2):
            found = ok(c.get(f"/api/v2/conversations/callbacks?pageSize=3&pageNumber={number}"))
            listed += [entity["id"] for entity in found["entities"]]
        assert listed == [conversation["id"] for conversation in made]
    finally:
        service.stop()


def test_a_refused_first_queue_names_no_shard(database: str) -> None:
    """A queue the engine refuses (an unknown fallback time zone) names no shard: agents cannot
    be put in it afterwards (found by a cold review: the shard stayed named)."""
    service = serve(database)
    try:
        c = service.admin
        window = {"enabled": True, "fallbackTimeZone": "Mars/Olympus_Mons"}
        body = queue_body("ghost", compliance={"callingWindow": window})
        r = c.post("/api/v2/routing/queues", json=body)
        assert r.status_code == 422, r.text
        assert r.json()["messageParams"]["field"] == "compliance.callingWindow.fallbackTimeZone"
        r = c.post("/api/v2/users", json={"name": "Dee", "shard": "ghost"})
        assert refused(r) == (404, "shard_not_found")
        assert "ghost" not in service.app_shards().runtimes
        assert "ghost" not in shard_names(service.store.engine)
        make_queue(c, "ghost")  # a queue that fits names it
        assert "ghost" in shard_names(service.store.engine)
    finally:
        service.stop()


def test_r_x_14_a_lockout_missing_in_a_running_shard_is_made_good_by_the_check(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A share that did not land while the service runs (a shard refusing it, a crash of the
    node that had to send it) is made good by the periodic check of the shards led here."""
    monkeypatch.setattr(shards, "LOCKOUT_CHECK_SECONDS", 0.2)
    service = serve(database)
    try:
        c = service.admin
        make_queue(c, "west")
        make_queue(c, None)
        runtimes = service.app_shards().runtimes
        until = service.runtime.clock() + 3600
        shared = LockoutsShared((("+14155552683", until),))
        asyncio.run_coroutine_threadsafe(
            runtimes["west"].submit(shared, wait=True), service.server_loop
        ).result(timeout=20)
        all_guard = runtimes["all"].engine.guard
        eventually(
            lambda: all_guard.lockout_until.get("+14155552683") == until,
            what="the check to log the lockout in the default shard",
        )
        eventually(lambda: "LockoutsShared" in logged(service)["all"], what="it to be logged")
    finally:
        service.stop()
