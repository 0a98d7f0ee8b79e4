"""A batch the database refuses stops nothing (issue 12): on SQLite and PostgreSQL, a trigger
makes the database itself refuse every event carrying a marker, mid-load. The runtime rebuilds
its engine from the log, answers the offending request with a coded 422, commits the others and
keeps taking events; no accepted callback is lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import httpx
import sqlalchemy as sa

from dialback.store import tables
from dialback.store.repository import Idempotent, Step, Store

from .conftest import Service, eventually, ok
from .test_api import CUSTOMER, make_agent, make_queue

CALLBACKS = "/api/v2/conversations/callbacks"
POISON = "POISON-4711"
CLIENTS, EACH = 6, 20


def poison_the_log(service: Service) -> None:
    """A trigger that makes the database refuse any event whose payload holds ``POISON``."""
    with service.store.engine.begin() as c:
        if c.dialect.name == "postgresql":
            c.execute(
                sa.text(
                    "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.payload::text LIKE '%{POISON}%' THEN RAISE EXCEPTION 'poisoned'; "
                    "END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            c.execute(
                sa.text(
                    "CREATE TRIGGER poison BEFORE INSERT ON events "
                    "FOR EACH ROW EXECUTE FUNCTION poison()"
                )
            )
        else:
            c.execute(
                sa.text(
                    "CREATE TRIGGER poison BEFORE INSERT ON events "
                    f"WHEN NEW.payload LIKE '%{POISON}%' "
                    "BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
                )
            )


def create(client: httpx.Client, queue: str, name: str, key: str) -> httpx.Response:
    """One creation, retried (bounded) while the service answers 503 with ``Retry-After``."""
    body = {"queueId": queue, "callbackNumbers": [CUSTOMER], "callbackUserName": name}
    for _ in range(100):
        r = client.post(
            "/api/v2/conversations/callbacks", json=body, headers={"Idempotency-Key": key}
        )
        if r.status_code != 503:
            return r
        assert r.json()["code"] == "service_unavailable"
        assert int(r.headers["Retry-After"]) >= 1
        time.sleep(0.05)  # a client's back-off between retries, shortened for the test
    raise AssertionError("the service stayed unavailable")


def test_a_refused_event_is_isolated_and_nothing_accepted_is_lost(service: Service) -> None:
    queue = make_queue(service.admin)
    agent = make_agent(service.admin, queue)
    poison_the_log(service)
    accepted: list[str] = []
    refused: list[dict[str, Any]] = []
    unexpected: list[str] = []
    lock = threading.Lock()

    def load(n: int) -> None:
        client = service.client("supervisor")
        for i in range(EACH):
            name = POISON if i % 7 == 3 else f"customer {n}-{i}"
            r = create(client, queue, name, f"load-{n}-{i}")
            with lock:
                if r.status_code == 200:
                    accepted.append(r.json()["conversation"]["id"])
                elif r.status_code == 422 and name == POISON:
                    refused.append(r.json())
                else:
                    unexpected.append(f"{name}: {r.status_code} {r.text}")

    threads = [threading.Thread(target=load, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not unexpected
    poisoned = sum(1 for i in range(EACH) if i % 7 == 3) * CLIENTS
    assert len(refused) == poisoned
    assert {r["code"] for r in refused} == {"event_not_stored"}
    assert len(accepted) == CLIENTS * EACH - poisoned
    assert service.runtime.recoveries >= 1
    # every accepted callback is stored and readable, none of the refused ones is
    for conversation in accepted:
        ok(service.admin.get(f"/api/v2/conversations/callbacks/{conversation}"))
    with service.store.engine.connect() as c:
        stored = c.execute(sa.select(tables.interactions.c.request)).scalars().all()
    names = [r["user_name"] for r in stored if r is not None]
    assert POISON not in names and len(names) == len(accepted)
    # and the service goes on: a normal callback is accepted and offered to the agent
    eventually(
        lambda: create(service.admin, queue, "after", "after").status_code == 200,
        timeout=5,
        what="the service to take events again",
    )
    assert ok(service.admin.get("/healthz"))["status"] == "ok"
    offered = eventually(
        lambda: ok(service.admin.get(f"/api/v2/users/{agent}/interactions"))["entities"],
        what="a callback offered to the agent",
    )
    assert offered[0]["state"] == "alerting"


class Flaky(Store):
    """The service's store over the same database, which can be made to fail as a database
    that stopped answering does."""

    down = False

    def _check(self) -> None:
        if self.down:
            raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("down"))

    def commit(self, steps: Sequence[Step]) -> None:
        self._check()
        super().commit(steps)

    def ping(self) -> None:
        self._check()
        super().ping()

    def seed(self) -> int:
        self._check()
        return super().seed()

    def idempotent(self, scope: str, key: str) -> Idempotent | None:
        self._check()
        return super().idempotent(scope, key)


def test_a_database_outage_is_answered_503_and_the_service_recovers_by_itself(
    service: Service,
) -> None:
    queue = make_queue(service.admin)
    agent = make_agent(service.admin, queue)
    flaky = Flaky(service.store.engine)
    service.runtime.store = flaky
    flaky.down = True
    body = {"queueId": queue, "callbackNumbers": [CUSTOMER], "callbackUserName": "waited"}
    caught = service.admin.post(CALLBACKS, json=body)  # in the batch that failed
    assert caught.status_code == 503 and int(caught.headers["Retry-After"]) >= 1
    refused = service.admin.post(CALLBACKS, json=body)  # while the engine cannot be rebuilt
    assert refused.json()["code"] == "service_unavailable"
    assert int(refused.headers["Retry-After"]) >= 1
    assert ok(service.admin.get("/healthz"))["status"] == "recovering"
    keyed = service.admin.post(CALLBACKS, json=body, headers={"Idempotency-Key": "during"})
    assert keyed.status_code == 503 and "Retry-After" in keyed.headers
    flaky.down = False  # the database is back: no one restarts anything

    def taken() -> httpx.Response | None:
        r = service.admin.post(CALLBACKS, json=body)
        return r if r.status_code == 200 else None

    accepted = eventually(taken, timeout=10, what="events accepted again")
    conversation = accepted.json()["conversation"]["id"]
    assert ok(service.admin.get("/healthz"))["status"] == "ok"
    participants = ok(service.admin.get(f"{CALLBACKS}/{conversation}"))["participants"]
    assert participants[0]["callbackUserName"] == "waited"
    offered = eventually(
        lambda: ok(service.admin.get(f"/api/v2/users/{agent}/interactions"))["entities"],
        what="a callback offered after the outage",
    )
    assert offered[0]["state"] == "alerting"
