"""Tokens you can manage (issue 12): expiry, revocation effective at once (API and CLI),
checked creation, idempotency keys per principal, capped agent priorities, /metrics behind a
token, and the demo's admin token kept across restarts."""

from __future__ import annotations

import re
import time

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from dialback.cli import app
from dialback.service.tokens import AGENT_TOKEN_SECONDS, Tokens
from dialback.store import tables

from . import postgres
from .conftest import Service, ok, pg_admin_url, serve
from .test_api import CUSTOMER, make_agent, make_queue

CALLBACKS = "/api/v2/conversations/callbacks"
runner = CliRunner()


def bearer(service: Service, token: str) -> httpx.Client:
    client = httpx.Client(
        base_url=service.url, headers={"Authorization": f"Bearer {token}"}, timeout=20
    )
    service.clients.append(client)
    return client


def test_a_revoked_token_is_refused_on_the_next_request(service: Service) -> None:
    made = ok(service.admin.post("/api/v2/tokens", json={"role": "supervisor"}))
    assert made["dateExpires"] is None
    supervisor = bearer(service, made["token"])
    ok(supervisor.get("/api/v2/routing/queues"))  # known now (and formerly cached)
    listed = ok(service.admin.get("/api/v2/tokens"))["entities"]
    assert made["id"] in [t["id"] for t in listed] and "token" not in listed[0]
    ok(service.admin.delete(f"/api/v2/tokens/{made['id']}"))
    r = supervisor.get("/api/v2/routing/queues")
    assert (r.status_code, r.json()["code"]) == (401, "unauthorized")
    r = service.admin.delete(f"/api/v2/tokens/{made['id']}")
    assert (r.status_code, r.json()["code"]) == (404, "token_not_found")


def test_the_cli_lists_and_revokes_and_the_running_service_obeys(service: Service) -> None:
    db = str(service.store.engine.url.render_as_string(hide_password=False))
    db = db.replace("postgresql+psycopg://", "postgresql://").replace("sqlite:///", "")
    created = runner.invoke(app, ["token", "create", "--role", "supervisor", "--db", db])
    assert created.exit_code == 0, created.output
    token = created.output.strip()
    client = bearer(service, token)
    ok(client.get("/api/v2/routing/queues"))
    listed = runner.invoke(app, ["token", "list", "--db", db])
    assert listed.exit_code == 0, listed.output
    ours = Tokens(service.store).holder(token)
    assert ours is not None
    token_id = ours.scope.removeprefix("token:")
    line = next(line for line in listed.output.splitlines() if line.startswith(token_id))
    assert line.split("\t")[1:3] == ["supervisor", "-"]
    revoked = runner.invoke(app, ["token", "revoke", token_id, "--db", db])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v2/routing/queues").status_code == 401
    again = runner.invoke(app, ["token", "revoke", token_id, "--db", db])
    assert again.exit_code == 2 and "no token" in again.output


def test_token_creation_checks_the_user_and_the_role(service: Service) -> None:
    db = str(service.store.engine.url.render_as_string(hide_password=False))
    db = db.replace("postgresql+psycopg://", "postgresql://").replace("sqlite:///", "")
    queue = make_queue(service.admin)
    agent = make_agent(service.admin, queue)
    for args, complaint in [
        (["--role", "agent", "--user", "nobody"], "no user nobody"),
        (["--role", "admin", "--user", agent], "bound to no user"),
        (["--role", "agent"], "needs the agent's user id"),
        (["--role", "root"], "role is admin"),
        (["--role", "agent", "--user", agent, "--expires-in", "soon"], "a duration"),
    ]:
        refused = runner.invoke(app, ["token", "create", *args, "--db", db])
        assert refused.exit_code == 2 and complaint in refused.output, refused.output
    r = service.admin.post("/api/v2/tokens", json={"role": "admin", "userId": agent})
    assert (r.status_code, r.json()["code"]) == (422, "role_mismatch")
    r = service.admin.post("/api/v2/tokens", json={"role": "agent", "userId": "nobody"})
    assert (r.status_code, r.json()["code"]) == (404, "agent_not_found")
    made = ok(service.admin.post("/api/v2/tokens", json={"role": "agent", "userId": agent}))
    row = next(t for t in Tokens(service.store).list() if t.id == made["id"])
    assert row.expires_at is not None
    assert abs(row.expires_at - row.created_at - AGENT_TOKEN_SECONDS) < 5  # default expiry
    ok(bearer(service, made["token"]).get(f"/api/v2/users/{agent}"))


def test_an_expired_token_is_refused(service: Service) -> None:
    token = service.store.create_token("supervisor", expires_at=time.time() + 3600)
    ok(bearer(service, token).get("/api/v2/routing/queues"))
    gone = service.store.create_token("supervisor", expires_at=time.time() - 1)
    r = bearer(service, gone).get("/api/v2/routing/queues")
    assert (r.status_code, r.json()["code"]) == (401, "unauthorized")


def test_a_foreign_idempotency_key_never_returns_another_principals_conversation(
    service: Service,
) -> None:
    queue = make_queue(service.admin)
    ann = make_agent(service.admin, queue, "Ann", on_queue=False)
    bob = make_agent(service.admin, queue, "Bob", on_queue=False)
    body = {"queueId": queue, "callbackNumbers": [CUSTOMER]}
    key = {"Idempotency-Key": "order-1"}
    as_ann, as_bob = service.client("agent", ann), service.client("agent", bob)
    first = ok(as_ann.post(CALLBACKS, json=body, headers=key))
    assert ok(as_ann.post(CALLBACKS, json=body, headers=key)) == first  # a retry by Ann
    other = ok(as_bob.post(CALLBACKS, json=body, headers=key))
    assert other["conversation"]["id"] != first["conversation"]["id"]
    admin_one = ok(service.admin.post(CALLBACKS, json=body, headers=key))
    admin_two = ok(service.client("admin").post(CALLBACKS, json=body, headers=key))
    ids = {first["conversation"]["id"], other["conversation"]["id"]}
    assert admin_one["conversation"]["id"] not in ids
    assert admin_two["conversation"]["id"] not in ids | {admin_one["conversation"]["id"]}


def test_agents_priorities_are_capped_by_the_queue(service: Service) -> None:
    queue = make_queue(service.admin)
    agent = make_agent(service.admin, queue, on_queue=False)
    as_agent = service.client("agent", agent)
    body = {"queueId": queue, "callbackNumbers": [CUSTOMER], "routingData": {"priority": 5}}
    r = as_agent.post(CALLBACKS, json=body)
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (
        403,
        "forbidden",
        "routingData.priority",
    )
    ok(service.client("supervisor").post(CALLBACKS, json=body))
    ok(service.admin.put(f"/api/v2/routing/queues/{queue}", json={"maxAgentCallbackPriority": 5}))
    ok(as_agent.post(CALLBACKS, json=body))
    r = service.admin.put(f"/api/v2/routing/queues/{queue}", json={"maxAgentCallbackPriority": -1})
    assert (r.status_code, r.json()["field"]) == (422, "maxAgentCallbackPriority")


def test_metrics_need_a_supervisor_or_admin_token(service: Service) -> None:
    anonymous = httpx.get(f"{service.url}/metrics")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "unauthorized")
    queue = make_queue(service.admin)
    agent = make_agent(service.admin, queue, on_queue=False)
    assert service.client("agent", agent).get("/metrics").status_code == 403
    found = service.client("supervisor").get("/metrics")
    assert found.status_code == 200 and "dialback_events_total" in found.text


def test_the_demo_keeps_its_admin_token_until_it_is_revoked(service: Service) -> None:
    tokens = Tokens(service.store)
    first = tokens.demo_admin()
    assert tokens.demo_admin() == first  # a restart on the same database
    ok(bearer(service, first).get("/api/v2/routing/queues"))
    holder = tokens.holder(first)
    assert holder is not None
    tokens.revoke(holder.scope.removeprefix("token:"))
    second = tokens.demo_admin()
    assert second != first
    ok(bearer(service, second).get("/api/v2/routing/queues"))


def test_a_page_session_ends_when_its_token_is_revoked(service: Service) -> None:
    page = httpx.Client(base_url=service.url, timeout=20)
    service.clients.append(page)
    form = page.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    made = ok(service.admin.post("/api/v2/tokens", json={"role": "supervisor"}))
    signed = page.post("/signin", data={"csrf": csrf.group(1), "token": made["token"]})
    assert signed.status_code == 303, signed.text
    assert page.get("/").status_code == 200
    ok(service.admin.delete(f"/api/v2/tokens/{made['id']}"))
    after = page.get("/")
    assert after.status_code in (302, 303, 307) and after.headers["location"].startswith("/signin")


def test_nodes_starting_together_keep_one_demo_token_and_revoke_the_others(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: ``serve --demo`` nodes starting together on a new database each found no demo
    token, made one and stored it; all but the first failed to start (a unique key on ``meta``).
    Now a late one takes the token stored first and revokes the one it made."""
    tokens = Tokens(service.store)
    chosen = tokens.demo_admin()  # the node that stored first
    before = len(tokens.list())
    read = service.store.meta

    def insert_only(key: str, value: str) -> None:  # set_meta's delete ran before that store
        monkeypatch.setattr(service.store, "meta", read)
        with service.store.engine.begin() as c:
            c.execute(tables.meta.insert().values(key=key, value=value))

    monkeypatch.setattr(service.store, "meta", lambda key: None)  # read before the first stored
    monkeypatch.setattr(service.store, "set_meta", insert_only)
    assert tokens.demo_admin() == chosen
    monkeypatch.undo()
    assert len(tokens.list()) == before  # the late one's own token was revoked
    ok(bearer(service, chosen).get("/api/v2/routing/queues"))


def test_token_lookups_go_on_after_their_connection_is_cut() -> None:
    """Issue 17: on PostgreSQL the API looks tokens up on a connection of its own (on the event
    loop, no thread); when the database drops it (a restart, an idle timeout), the next lookup
    opens another rather than failing the request. (SQLite looks them up through the pool.)"""
    with postgres.fresh_database(pg_admin_url()) as url:
        service = serve(url)
        try:
            ok(service.admin.get("/api/v2/routing/queues"))  # the lookups' connection is open
            cut = sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                "current_database() AND pid <> pg_backend_pid() AND query LIKE :q"
            )
            with service.store.engine.connect() as c:
                killed = c.execute(cut, {"q": "%FROM api_tokens WHERE token_hash = ANY%"}).all()
            assert killed, "no token lookup connection found to cut"
            ok(service.admin.get("/api/v2/routing/queues"))  # answered on a new connection
            r = httpx.get(
                f"{service.url}/api/v2/routing/queues", headers={"Authorization": "Bearer x"}
            )
            assert (r.status_code, r.json()["code"]) == (401, "unauthorized")
        finally:
            service.stop()


def test_token_lookups_connect_as_the_service_does() -> None:
    """The lookups' own connection is made from the same settings as SQLAlchemy's (issue 17):
    a database URL with ``options`` (``-c search_path=…``, percent-encoded, with a space)
    reaches PostgreSQL as it does for every other query."""
    with postgres.fresh_database(pg_admin_url()) as url:
        service = serve(f"{url}?options=-c%20statement_timeout%3D5000")
        try:
            ok(service.admin.get("/api/v2/routing/queues"))
        finally:
            service.stop()
