"""Dialing within the law through the API, on SQLite and PostgreSQL (issue 14,
docs/compliance.md): DNC lists, duplicates under concurrent requests, the partial unique index,
calling-window and caller-ID refusals."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import sqlalchemy as sa

from dialback.api.genesys import iso
from dialback.store import tables

from .conftest import Service, eventually, ok, serve

CALLER = "+14155550199"
CUSTOMER = "+14155552671"


def make_queue(c: httpx.Client, compliance: dict[str, Any], **callback: Any) -> str:
    body: dict[str, Any] = {
        "name": "Law",
        "callingPartyNumber": CALLER,
        "compliance": compliance,
        "mediaSettings": {"callback": callback},
    }
    return str(ok(c.post("/api/v2/routing/queues", json=body))["id"])


def create(c: httpx.Client, queue: str, number: str = CUSTOMER, **extra: Any) -> httpx.Response:
    body = {"queueId": queue, "callbackNumbers": [number], **extra}
    return c.post("/api/v2/conversations/callbacks", json=body)


def active_rows(service: Service) -> list[Any]:
    n = tables.callback_numbers
    with service.store.engine.connect() as c:
        return list(c.execute(sa.select(n).where(n.c.active.is_(True))).all())


def test_r_x_7_dnc_lists_are_changed_imported_exported_and_checked_at_creation(
    service: Service,
) -> None:
    c = service.admin
    queue = make_queue(c, {})
    ok(
        c.patch(
            "/api/v2/outbound/dnclists/internal/phonenumbers",
            json={"action": "Add", "phoneNumbers": ["(415) 555-2671"], "countryCode": "US"},
        )
    )
    refused = create(c, queue)
    assert (refused.status_code, refused.json()["code"]) == (422, "number_on_dnc")
    assert refused.json()["field"] == "callbackNumbers[0]"
    csv_body = "name,phoneNumber\nBob,+1 415 555 0100\nSue,4155550101\n"
    imported = c.post(
        "/api/v2/outbound/dnclists/national/import?countryCode=US",
        content=csv_body,
        headers={"Content-Type": "text/csv"},
    )
    assert ok(imported) == {"id": "national", "added": 2}
    exported = c.get("/api/v2/outbound/dnclists/national/export")
    assert exported.text == "phoneNumber\n+14155550100\n+14155550101\n"
    lists = ok(c.get("/api/v2/outbound/dnclists"))
    assert [(e["id"], e["size"]) for e in lists["entities"]] == [("internal", 1), ("national", 2)]
    ok(
        c.patch(
            "/api/v2/outbound/dnclists/internal/phonenumbers",
            json={"action": "Remove", "phoneNumbers": [CUSTOMER]},
        )
    )
    ok(create(c, queue))
    bad = c.post("/api/v2/outbound/dnclists/x/import", content="phoneNumber\n12\n")
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (
        422,
        "invalid_phone_number",
        "rows[0]",
    )


def test_r_x_8_a_number_listed_while_waiting_is_never_dialed(service: Service) -> None:
    c = service.admin
    queue = make_queue(c, {}, mode="CustomerFirst")
    conversation = ok(create(c, queue))["conversation"]["id"]  # no agent: it waits
    ok(
        c.patch(
            "/api/v2/outbound/dnclists/internal/phonenumbers",
            json={"action": "Add", "phoneNumbers": [CUSTOMER]},
        )
    )
    user = ok(c.post("/api/v2/users", json={"name": "Ann", "email": "ann@example.com"}))
    ok(c.post(f"/api/v2/routing/queues/{queue}/members", json=[{"id": user["id"]}]))
    ok(c.put(f"/api/v2/users/{user['id']}/routingstatus", json={"status": "IDLE"}))

    def ended() -> dict[str, Any] | None:
        found = ok(c.get(f"/api/v2/conversations/callbacks/{conversation}"))["participants"][0]
        return found if found["state"] == "ended" else None

    assert eventually(ended, what="the callback to end")["endReason"] == "DO_NOT_CALL"
    with service.store.engine.connect() as conn:
        kinds = conn.execute(sa.select(tables.compliance_records.c.kind)).scalars().all()
    assert kinds == ["dnc_blocked"]


async def _concurrently(service: Service, queue: str, count: int) -> list[httpx.Response]:
    token = service.store.create_token("admin")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=service.url, headers=headers, timeout=20) as c:
        body = {"queueId": queue, "callbackNumbers": [CUSTOMER]}
        return list(
            await asyncio.gather(
                *(c.post("/api/v2/conversations/callbacks", json=body) for _ in range(count))
            )
        )


def test_r_x_9_concurrent_requests_create_one_callback_and_the_rest_get_409(
    service: Service,
) -> None:
    queue = make_queue(service.admin, {"duplicateCallbacks": "Refuse"})
    answers = asyncio.run(_concurrently(service, queue, 12))
    created = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 409]
    assert (len(created), len(refused)) == (1, 11)
    first = created[0].json()["callbackIdentifiers"][0]["id"]
    for answer in refused:
        body = answer.json()
        assert body["code"] == "duplicate_callback"
        assert body["messageParams"]["existingCallbackId"] == first
    assert [row.callback_id for row in active_rows(service)] == [first]


def test_r_x_9_return_existing_answers_every_concurrent_request_with_the_one_callback(
    service: Service,
) -> None:
    queue = make_queue(service.admin, {"duplicateCallbacks": "ReturnExisting"})
    answers = asyncio.run(_concurrently(service, queue, 8))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["conversation"]["id"] for a in answers}) == 1
    assert len(active_rows(service)) == 1


def test_r_x_10_the_database_refuses_a_second_active_row_for_a_number_in_a_queue(
    database: str,
) -> None:
    running = serve(database)
    try:
        n = tables.callback_numbers
        row = {"queue_id": "q", "number": CUSTOMER, "claimed_at": 0.0}
        with running.store.engine.begin() as c:
            c.execute(n.insert().values(callback_id="a", active=True, **row))
            c.execute(n.insert().values(callback_id="old", active=False, **row))
        with pytest.raises(sa.exc.IntegrityError), running.store.engine.begin() as c:
            c.execute(n.insert().values(callback_id="b", active=True, **row))
        with running.store.engine.begin() as c:  # once released, the number is free
            c.execute(n.update().where(n.c.callback_id == "a").values(active=False))
            c.execute(n.insert().values(callback_id="b", active=True, **row))
    finally:
        running.stop()


def test_r_x_4_r_x_11_windows_and_caller_ids_are_refused_with_their_codes(
    service: Service,
) -> None:
    c = service.admin
    window = {"enabled": True, "days": {"saturday": False, "sunday": False}}
    queue = make_queue(c, {"callingWindow": window, "callerIdAllowlist": [CALLER]})
    ny = ZoneInfo("America/New_York")
    today = datetime.now(ny).date()
    sunday = today + timedelta(days=7 + (6 - today.weekday()) % 7)  # a Sunday 7..13 days ahead
    at_ten = datetime.combine(sunday, time(10, 0), tzinfo=ny)
    monday_eight = datetime.combine(sunday + timedelta(days=1), time(8, 0), tzinfo=ny)
    refused = create(c, queue, callbackScheduledTime=at_ten.isoformat(), calleeTimeZone=ny.key)
    body = refused.json()
    assert (refused.status_code, body["code"]) == (422, "outside_calling_window")
    assert body["messageParams"]["nextOpenTime"] == iso(monday_eight.timestamp())
    spoof = create(c, queue, callerId="+12125550000")
    assert (spoof.status_code, spoof.json()["code"]) == (422, "caller_id_not_allowed")
    unknown = create(c, queue, calleeTimeZone="Mars/Olympus")
    assert (unknown.status_code, unknown.json()["field"]) == (422, "calleeTimeZone")
    monday_ten = at_ten + timedelta(days=1)  # Monday; the zone from the number (415: LA)
    ok(create(c, queue, callbackScheduledTime=(monday_ten + timedelta(hours=3)).isoformat()))


def test_r_x_7_dnc_survives_a_restart(database: str) -> None:
    first = serve(database)
    queue = make_queue(first.admin, {})
    ok(
        first.admin.patch(
            "/api/v2/outbound/dnclists/internal/phonenumbers",
            json={"action": "Add", "phoneNumbers": [CUSTOMER]},
        )
    )
    first.stop()
    again = serve(database)
    try:
        refused = create(again.admin, queue)
        assert refused.json()["code"] == "number_on_dnc"
    finally:
        again.stop()


def test_r_x_13_abandonment_rates_are_in_the_analytics_api_and_on_metrics(
    service: Service,
) -> None:
    c = service.admin
    queue = make_queue(c, {}, mode="CustomerFirst", enableAutoAnswer=True)
    user = ok(c.post("/api/v2/users", json={"name": "Ann", "email": "ann@example.com"}))
    ok(c.post(f"/api/v2/routing/queues/{queue}/members", json=[{"id": user["id"]}]))
    ok(c.put(f"/api/v2/users/{user['id']}/routingstatus", json={"status": "IDLE"}))
    ok(create(c, queue))

    def accounted() -> dict[str, Any] | None:
        report: dict[str, Any] = ok(
            c.get(f"/api/v2/analytics/compliance/queues/{queue}/abandonment")
        )
        return report if report["us"]["liveAnswers"] else None

    report = eventually(accounted, what="the live answer to be accounted")
    assert report["us"] | {"from": None} == {
        "window": "Rolling30Days",
        "from": None,
        "liveAnswers": 1,
        "abandoned": 0,
        "rate": 0.0,
    }
    assert (report["uk"]["humanAgent"], report["uk"]["drops"], report["uk"]["rate"]) == (1, 0, 0.0)
    metrics = c.get("/metrics").text
    assert f'dialback_abandoned_call_rate{{queue="{queue}",rule="us_30d"}} 0.0' in metrics
