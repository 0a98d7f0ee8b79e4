"""The REST API over real HTTP, on SQLite and PostgreSQL (issue 4)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import sqlalchemy as sa

from dialback.api.genesys import iso
from dialback.demo.center import DemoCenter
from dialback.store import tables

from .conftest import Service, eventually, ok, serve

CALLER = "+14155550199"
CUSTOMER = "+14155552671"


def make_queue(c: httpx.Client, **callback: Any) -> str:
    body: dict[str, Any] = {"name": "Support", "callingPartyNumber": CALLER}
    if callback:
        body["mediaSettings"] = {"callback": callback}
    queue: dict[str, Any] = ok(c.post("/api/v2/routing/queues", json=body))
    return str(queue["id"])


def make_agent(c: httpx.Client, queue: str, name: str = "Ann", on_queue: bool = True) -> str:
    user = ok(c.post("/api/v2/users", json={"name": name, "email": f"{name}@example.com"}))
    ok(c.post(f"/api/v2/routing/queues/{queue}/members", json=[{"id": user["id"]}]))
    if on_queue:
        ok(c.put(f"/api/v2/users/{user['id']}/routingstatus", json={"status": "IDLE"}))
    return str(user["id"])


def callback(c: httpx.Client, queue: str, **extra: Any) -> tuple[str, str]:
    body = {"queueId": queue, "callbackNumbers": [CUSTOMER], **extra}
    found = ok(c.post("/api/v2/conversations/callbacks", json=body))
    return found["conversation"]["id"], found["callbackIdentifiers"][0]["id"]


def count(service: Service, table: sa.Table) -> int:
    with service.store.engine.connect() as c:
        return int(c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_queues_are_created_read_listed_and_updated(service: Service) -> None:
    c = service.admin
    queue = make_queue(c, mode="CustomerFirst", pacingModifier=3)
    found = ok(c.get(f"/api/v2/routing/queues/{queue}"))
    assert found["mediaSettings"]["callback"]["mode"] == "CustomerFirst"
    assert found["mediaSettings"]["callback"]["pacingModifier"] == 3
    updated = ok(
        c.put(
            f"/api/v2/routing/queues/{queue}",
            json={"mediaSettings": {"callback": {"maxRetryCount": 2}}},
        )
    )
    assert updated["mediaSettings"]["callback"]["maxRetryCount"] == 2
    assert updated["mediaSettings"]["callback"]["pacingModifier"] == 3  # kept
    listed = ok(c.get("/api/v2/routing/queues"))
    assert [q["id"] for q in listed["entities"]] == [queue] and listed["total"] == 1


def test_r_q_2_conflicts_are_422_with_a_stable_code_in_either_order(service: Service) -> None:
    c = service.admin
    first = make_queue(c, mode="CustomerFirst")
    r = c.put(f"/api/v2/routing/queues/{first}", json={"voicemailEnabled": True})
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["field"]) == (
        "customer_first_with_voicemail",
        "voicemailEnabled",
    )
    second = ok(c.post("/api/v2/routing/queues", json={"name": "vm", "voicemailEnabled": True}))[
        "id"
    ]
    r = c.put(
        f"/api/v2/routing/queues/{second}",
        json={"mediaSettings": {"callback": {"mode": "CustomerFirst"}}},
    )
    assert (r.status_code, r.json()["code"]) == (422, "customer_first_with_voicemail")
    assert (
        ok(c.get(f"/api/v2/routing/queues/{second}"))["mediaSettings"]["callback"]["mode"]
        == "AgentFirst"
    )


def test_customer_first_callback_is_dialed_answered_and_reaches_the_agent(service: Service) -> None:
    c = service.admin
    queue = make_queue(c, mode="CustomerFirst")
    agent = make_agent(c, queue)
    conversation, cb = callback(c, queue, callbackUserName="Ada", callerIdName="Acme")
    me = service.client("agent", agent)

    def alerted() -> bool:
        work = ok(me.get(f"/api/v2/users/{agent}/interactions"))["entities"]
        return any(w["id"] == cb and w["state"] == "alerting" for w in work)

    eventually(alerted, what="the answered callback to alert the agent")
    ok(me.post(f"/api/v2/users/{agent}/interactions/{cb}/accept"))
    ok(me.post(f"/api/v2/users/{agent}/interactions/{cb}/hangup"))
    ok(me.post(f"/api/v2/users/{agent}/interactions/{cb}/wrapup", json={"code": "sold"}))
    found = ok(c.get(f"/api/v2/conversations/callbacks/{conversation}"))
    customer = found["participants"][0]
    assert customer["callbackNumbers"] == [CUSTOMER] and customer["callbackUserName"] == "Ada"
    assert (customer["state"], customer["endReason"], customer["wrapupCode"]) == (
        "ended",
        "HANDLED",
        "sold",
    )
    details = ok(c.get(f"/api/v2/analytics/conversations/{conversation}/details"))
    purposes = {p["purpose"] for p in details["participants"]}
    assert purposes == {"acd", "dialer", "customer", "agent"}
    assert details["stitched"]["dials"][0]["outcome"] == "LIVE_VOICE"
    decisions = ok(c.get(f"/api/v2/routing/queues/{queue}/pacing/decisions"))["entities"]
    assert decisions[-1]["decision"] == "dialed" and decisions[-1]["callbackId"] == cb


def test_agent_first_flow_and_an_agent_token_acts_only_for_itself(service: Service) -> None:
    c = service.admin
    queue = make_queue(c)
    ann = make_agent(c, queue, "Ann")
    bob = make_agent(c, queue, "Bob", on_queue=False)
    _, cb = callback(c, queue)
    as_ann, as_bob = service.client("agent", ann), service.client("agent", bob)
    r = as_bob.post(f"/api/v2/users/{ann}/interactions/{cb}/accept")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = as_bob.post(f"/api/v2/users/{bob}/interactions/{cb}/accept")
    assert (r.status_code, r.json()["code"]) == (409, "not_offered_to_agent")
    ok(as_ann.post(f"/api/v2/users/{ann}/interactions/{cb}/accept"))
    ok(as_ann.post(f"/api/v2/users/{ann}/interactions/{cb}/dial", json={}))
    assert as_ann.post("/api/v2/routing/queues", json={"name": "x"}).status_code == 403
    assert httpx.get(f"{service.url}/api/v2/routing/queues").status_code == 401


def test_reschedule_disconnect_and_a_connected_callback_is_409(service: Service) -> None:
    c = service.admin
    queue = make_queue(c, mode="CustomerFirst")
    conversation, cb = callback(c, queue)  # nobody on queue: it waits
    later = iso(service.runtime.clock() + 3600)
    ok(
        c.patch(
            "/api/v2/conversations/callbacks",
            json={"conversationId": conversation, "callbackScheduledTime": later},
        )
    )
    found = ok(c.get(f"/api/v2/conversations/callbacks/{conversation}"))["participants"][0]
    assert (found["state"], found["callbackScheduledTime"]) == ("scheduled", later)
    ok(c.patch(f"/api/v2/conversations/callbacks/{conversation}", json={"state": "disconnected"}))
    assert (
        ok(c.get(f"/api/v2/conversations/callbacks/{conversation}"))["participants"][0]["endReason"]
        == "CANCELLED"
    )
    r = c.patch(f"/api/v2/conversations/callbacks/{conversation}", json={"state": "disconnected"})
    assert (r.status_code, r.json()["code"]) == (404, "interaction_not_found")
    agent = make_agent(c, queue)
    second, cb2 = callback(c, queue)
    me = service.client("agent", agent)
    eventually(
        lambda: any(
            w["id"] == cb2 for w in ok(me.get(f"/api/v2/users/{agent}/interactions"))["entities"]
        )
    )
    r = c.patch(
        "/api/v2/conversations/callbacks",
        json={"conversationId": second, "callbackScheduledTime": later},
    )
    assert (r.status_code, r.json()["code"]) == (409, "callback_already_connected")
    third, _ = callback(c, make_queue(c))
    bulk = ok(
        c.post(
            "/api/v2/conversations/callbacks/bulk/disconnect",
            json={
                "callbackDisconnectIdentifiers": [
                    {"conversationId": third},
                    {"conversationId": "nope"},
                ]
            },
        )
    )
    assert [r["status"] for r in bulk["results"]] == [200, 404]


def test_idempotency_key_makes_a_retried_create_create_nothing_new(service: Service) -> None:
    c = service.admin
    queue = make_queue(c)
    body = {"queueId": queue, "callbackNumbers": [CUSTOMER]}
    headers = {"Idempotency-Key": "order-42"}
    first = ok(c.post("/api/v2/conversations/callbacks", json=body, headers=headers))
    before = count(service, tables.interactions)
    again = ok(c.post("/api/v2/conversations/callbacks", json=body, headers=headers))
    assert again == first
    assert count(service, tables.interactions) == before == 1
    r = c.post(
        "/api/v2/conversations/callbacks", json={**body, "callbackUserName": "x"}, headers=headers
    )
    assert (r.status_code, r.json()["code"]) == (409, "idempotency_key_reused")


BAD = [
    (
        "malformed JSON",
        "post",
        "/api/v2/conversations/callbacks",
        b"{not json",
        400,
        "malformed_json",
    ),
    (
        "unknown queue",
        "post",
        "/api/v2/conversations/callbacks",
        {"queueId": "nope", "callbackNumbers": [CUSTOMER]},
        404,
        "queue_not_found",
    ),
    (
        "invalid number",
        "post",
        "/api/v2/conversations/callbacks",
        {"queueId": "$Q", "callbackNumbers": ["12"]},
        422,
        "invalid_phone_number",
    ),
    (
        "foreign national format",
        "post",
        "/api/v2/conversations/callbacks",
        {"queueId": "$Q", "callbackNumbers": ["020 7946 0958"]},
        422,
        "invalid_phone_number",
    ),
    (
        "beyond 30 days",
        "post",
        "/api/v2/conversations/callbacks",
        {
            "queueId": "$Q",
            "callbackNumbers": [CUSTOMER],
            "callbackScheduledTime": "2099-01-01T00:00:00Z",
        },
        422,
        "scheduled_time_too_far_ahead",
    ),
    (
        "owned beyond the window",
        "post",
        "/api/v2/conversations/callbacks",
        {
            "routingData": {
                "queueId": "$O",
                "routingFlags": ["AGENT_OWNED_CALLBACK"],
                "scoredAgents": [{"agent": {"id": "$A"}, "score": 100}],
            },
            "callbackNumbers": [CUSTOMER],
            "callbackScheduledTime": "$LATER",
        },
        422,
        "value_out_of_range",
    ),
    (
        "pacing modifier 0",
        "post",
        "/api/v2/routing/queues",
        {"name": "p", "mediaSettings": {"callback": {"pacingModifier": 0}}},
        422,
        "value_out_of_range",
    ),
    (
        "pacing modifier 11",
        "post",
        "/api/v2/routing/queues",
        {"name": "p", "mediaSettings": {"callback": {"pacingModifier": 11}}},
        422,
        "value_out_of_range",
    ),
    (
        "customer-first with voicemail",
        "post",
        "/api/v2/routing/queues",
        {
            "name": "p",
            "voicemailEnabled": True,
            "mediaSettings": {"callback": {"mode": "CustomerFirst"}},
        },
        422,
        "customer_first_with_voicemail",
    ),
    (
        "a typo in a setting",
        "post",
        "/api/v2/routing/queues",
        {"name": "p", "mediaSettings": {"callback": {"pacingModifer": 3}}},
        422,
        "unknown_field",
    ),
    ("a list for a body", "post", "/api/v2/users", [1, 2], 422, "invalid_type"),
]


def test_bad_input_is_a_4xx_with_its_stable_code_and_changes_nothing(service: Service) -> None:
    c = service.admin
    queue = make_queue(c)
    owned = ok(
        c.post(
            "/api/v2/routing/queues",
            json={
                "name": "owned",
                "agentOwnedRouting": {
                    "enableAgentOwnedCallbacks": True,
                    "maxOwnedCallbackDelayHours": 2,
                },
            },
        )
    )["id"]
    agent = make_agent(c, owned)
    later = iso(service.runtime.clock() + 3 * 3600)
    for name, method, path, payload, status, code in BAD:
        before = (
            count(service, tables.events),
            count(service, tables.interactions),
            count(service, tables.queues),
        )
        if isinstance(payload, bytes):
            r = c.request(
                method, path, content=payload, headers={"content-type": "application/json"}
            )
        else:
            text = httpx.Request("POST", "/", json=payload).content.decode()
            text = (
                text.replace("$Q", queue)
                .replace("$O", owned)
                .replace("$A", agent)
                .replace("$LATER", later)
            )
            r = c.request(method, path, content=text, headers={"content-type": "application/json"})
        assert (r.status_code, r.json()["code"]) == (status, code), f"{name}: {r.text}"
        after = (
            count(service, tables.events),
            count(service, tables.interactions),
            count(service, tables.queues),
        )
        assert after == before, f"{name} changed the database"


def test_keep_my_place_a_waiting_call_becomes_a_callback_with_its_entry_time(
    service: Service,
) -> None:
    c = service.admin
    queue = make_queue(c)
    entry = service.runtime.clock() - 300
    call = ok(
        c.post(
            f"/api/v2/routing/queues/{queue}/calls",
            json={"callerNumber": CUSTOMER, "entryTime": iso(entry), "priority": 2},
        )
    )
    callback(c, queue)  # a newer callback
    made = ok(
        c.post(
            f"/api/v2/conversations/{call['conversationId']}/participants/{call['participantId']}/callbacks",
            json={"callbackNumbers": [CUSTOMER]},
        )
    )
    cb = made["callbackIdentifiers"][0]["id"]
    agent = make_agent(c, queue)
    me = service.client("agent", agent)
    work = eventually(lambda: ok(me.get(f"/api/v2/users/{agent}/interactions"))["entities"])
    assert work[0]["id"] == cb  # the caller's place: ahead of the newer callback
    details = ok(c.get(f"/api/v2/analytics/conversations/{call['conversationId']}/details"))
    acd = next(p for p in details["participants"] if p["purpose"] == "acd")
    voice = next(s for s in acd["sessions"] if s["mediaType"] == "voice")
    assert voice["segments"][0]["disconnectType"] == "transfer"  # flowed out to the callback


def test_analytics_queries_and_monitoring(service: Service) -> None:
    c = service.admin
    queue = make_queue(c, mode="CustomerFirst")
    agent = make_agent(c, queue)
    _, cb = callback(c, queue)
    me = service.client("agent", agent)
    eventually(
        lambda: any(
            w["id"] == cb for w in ok(me.get(f"/api/v2/users/{agent}/interactions"))["entities"]
        )
    )
    ok(me.post(f"/api/v2/users/{agent}/interactions/{cb}/accept"))
    now = service.runtime.clock()
    interval = f"{iso(now - 3600)}/{iso(now + 3600)}"
    found = ok(c.post("/api/v2/analytics/conversations/details/query", json={"interval": interval}))
    assert found["totalHits"] == 1
    body = {
        "interval": interval,
        "granularity": "PT1H",
        "groupBy": ["queueId", "mediaType"],
        "metrics": ["nOffered", "tAnswered"],
    }
    aggregates = ok(c.post("/api/v2/analytics/conversations/aggregates/query", json=body))
    names = {m["metric"] for r in aggregates["results"] for d in r["data"] for m in d["metrics"]}
    assert names == {"nOffered", "tAnswered"}
    r = c.post(
        "/api/v2/analytics/conversations/aggregates/query", json={**body, "granularity": "PT10M"}
    )
    assert (r.status_code, r.json()["code"]) == (422, "value_out_of_range")
    assert ok(c.get("/healthz"))["status"] == "ok"
    metrics = c.get("/metrics").text
    assert 'dialback_events_total{kind="CallbackRequested"} 1.0' in metrics
    assert ok(c.get("/openapi.json"))["info"]["title"] == "dialback"


def test_restart_rebuilds_the_engine_and_ends_unknown_dials_with_error(database: str) -> None:
    first = serve(database, speed=0.001)  # dials never resolve before the restart
    c = first.admin
    queue = make_queue(c, mode="CustomerFirst")
    make_agent(c, queue)
    conversation, cb = callback(c, queue)
    waiting, _ = callback(c, queue)
    eventually(lambda: cb in first.runtime.engine.dials.values() or None, what="the dial")
    first.stop()
    second = serve(database)
    try:
        assert second.runtime.replayed_events > 0

        def ended() -> dict[str, Any] | None:
            body = ok(second.admin.get(f"/api/v2/conversations/callbacks/{conversation}"))
            customer: dict[str, Any] = body["participants"][0]
            return customer if customer["outcome"] else None

        found = eventually(ended, what="the unknown dial to end")
        assert (found["outcome"], found["endReason"]) == ("ERROR", "DIAL_OUTCOME")
        assert (
            ok(second.admin.get(f"/api/v2/conversations/callbacks/{waiting}"))["participants"][0][
                "state"
            ]
            != "ended"
        )
    finally:
        second.stop()


def test_the_demo_contact_center_works_against_the_service(database: str) -> None:
    running = serve(database, mix=None, speed=50)
    try:
        center = DemoCenter(
            running.runtime, speed=200, rng=random.Random(3), callbacks_per_minute=30
        )
        asyncio.run_coroutine_threadsafe(center.start(), running.server_loop).result(timeout=20)

        def handled() -> int:
            with running.store.engine.connect() as c:
                i = tables.interactions
                query = sa.select(sa.func.count()).where(i.c.end_reason == "HANDLED")
                return int(c.execute(query).scalar_one())

        assert eventually(lambda: handled() >= 3, timeout=60, what="demo agents to handle calls")
        queues = ok(running.admin.get("/api/v2/routing/queues"))["entities"]
        assert {q["name"] for q in queues} == {"Billing", "Support"}
    finally:
        running.stop()
