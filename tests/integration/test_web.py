"""The pages over real HTTP without a browser (issue 13): sessions, CSRF, roles, the settings
form's errors, the live streams and the agent's actions. The browser tests (tests/e2e) drive
the same pages in Chromium; these run in-process so they also measure coverage."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialback.domain.settings import QueueSettings, parse_queue
from dialback.web import settings_form

from .conftest import Service, eventually, ok, serve
from .test_api import callback, make_agent, make_queue


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Service]:
    running = serve(str(tmp_path / "dialback.db"), speed=50.0)
    yield running
    running.stop()


def browser(service: Service, role: str = "admin", user: str | None = None) -> httpx.Client:
    """A signed-in client that behaves like a page: cookies, and the CSRF header htmx sends."""
    c = httpx.Client(base_url=service.url, timeout=20)
    service.clients.append(c)
    form = c.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    token = service.store.create_token(role, user)
    signed = c.post("/signin", data={"csrf": csrf.group(1), "token": token, "next": ""})
    assert signed.status_code == 303, signed.text
    session = re.search(r'"X-CSRF-Token": "([^"]+)"', c.get(signed.headers["location"]).text)
    assert session is not None
    c.headers["X-CSRF-Token"] = session.group(1)
    return c


def events(c: httpx.Client, path: str, wanted: int) -> list[tuple[str, str]]:
    """The first ``wanted`` server-sent events of a stream, as (name, data)."""
    found: list[tuple[str, str]] = []
    name, data = "", []
    with c.stream("GET", path) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").removeprefix(" "))
            elif not line and name:
                found.append((name, "\n".join(data)))
                name, data = "", []
                if len(found) >= wanted:
                    break
    return found


def test_sign_in_needs_a_known_token_and_the_forms_csrf(web: Service) -> None:
    c = httpx.Client(base_url=web.url, timeout=20)
    web.clients.append(c)
    assert c.get("/").headers["location"] == "/signin?next=/"
    page = c.get("/signin?next=//evil.example/")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    assert 'name="next" value=""' in page.text  # only a path of this site may follow
    assert "httponly" in page.headers["set-cookie"].lower()
    bad = c.post("/signin", data={"csrf": csrf.group(1), "token": "nope"})
    assert bad.status_code == 401
    assert "That token is not valid." in bad.text
    forged = c.post("/signin", data={"csrf": "forged", "token": web.store.create_token("admin")})
    assert forged.status_code == 403
    fresh = re.search(r'name="csrf" value="([^"]+)"', forged.text)
    assert fresh is not None
    token = web.store.create_token("supervisor")
    signed = c.post("/signin", data={"csrf": fresh.group(1), "token": token, "next": "/"})
    assert signed.status_code == 303
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert token not in cookie  # the browser keeps a session id, never the token
    assert c.get("/").status_code == 200
    assert c.post("/signout").status_code == 403  # no CSRF token
    page = c.get("/")
    session_csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert session_csrf is not None
    assert c.post("/signout", data={"csrf": session_csrf.group(1)}).status_code == 303
    assert c.get("/").status_code == 303


def test_settings_form_saves_what_changed_and_shows_the_servers_error(web: Service) -> None:
    queue = make_queue(web.admin)
    c = browser(web)
    page = c.get(f"/queues/{queue}/settings")
    assert page.status_code == 200
    assert "Agents can schedule a callback in advance for" in page.text
    assert "Range 1\u2013720 hours." in page.text
    shown = settings_form.values_of(
        parse_queue(ok(web.admin.get(f"/api/v2/routing/queues/{queue}")))
    )
    form = {k: "true" if v is True else str(v) for k, v in shown.items() if v is not False}
    form["csrf"] = c.headers["X-CSRF-Token"]
    form["mediaSettings.callback.mode"] = "CustomerFirst"
    form["mediaSettings.callback.liveVoiceReactionType"] = "TransferToFlow"
    refused = c.post(f"/queues/{queue}/settings", data=form)
    assert refused.status_code == 422
    assert 'id="f-mediaSettings-callback-liveVoiceFlow-id-error"' in refused.text
    assert "TransferToFlow needs a flow" in refused.text
    assert ok(web.admin.get(f"/api/v2/routing/queues/{queue}"))["mediaSettings"]["callback"][
        "mode"
    ] == ("AgentFirst")
    form["mediaSettings.callback.liveVoiceFlow.id"] = "flow-1"
    form["previewCampaignIds"] = ""
    form["defaultScripts.CALL.id"] = "script-inbound"
    saved = c.post(f"/queues/{queue}/settings", data=form)
    assert saved.status_code == 303
    assert "Saved." in c.get(saved.headers["location"]).text
    found = ok(web.admin.get(f"/api/v2/routing/queues/{queue}"))
    assert found["mediaSettings"]["callback"]["liveVoiceFlow"] == {"id": "flow-1"}
    assert found["defaultScripts"] == {"CALL": {"id": "script-inbound"}}
    assert c.post("/queues/nope/settings", data=form).status_code == 404
    assert c.get("/queues/nope/settings").status_code == 404
    supervisor = browser(web, "supervisor")
    assert supervisor.get(f"/queues/{queue}/settings").status_code == 403
    assert supervisor.post(f"/queues/{queue}/settings", data=form).status_code == 403


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, {}, id="nothing-changed"),
        pytest.param(
            {"previewCampaignIds": "c1, c2"}, {"previewCampaignIds": ["c1", "c2"]}, id="list"
        ),
        pytest.param(
            {"mediaSettings.callback.pacingModifier": "abc"},
            {"mediaSettings": {"callback": {"pacingModifier": "abc"}}},
            id="not-a-number-goes-to-the-domain",
        ),
        pytest.param(
            {"mediaSettings.callback.maxRetryCount": "2.0"},
            {"mediaSettings": {"callback": {"maxRetryCount": 2}}},
            id="whole-float",
        ),
        pytest.param(
            {"mediaSettings.callback.enableAutoAnswer": "true"},
            {"mediaSettings": {"callback": {"enableAutoAnswer": True}}},
            id="checkbox",
        ),
    ],
)
def test_settings_form_body_holds_only_the_changes(
    changes: dict[str, str], expected: dict[str, Any]
) -> None:
    current = QueueSettings()
    form = {
        path: "true" if value is True else str(value)
        for path, value in settings_form.values_of(current).items()
        if value is not False
    }
    form.update(changes)
    assert settings_form.body_from_form(list(form.items()), current) == expected
    assert settings_form.echo(list(form.items()))["name"] == ""


def test_dashboard_streams_queue_sections_and_todays_figures(web: Service) -> None:
    queue = make_queue(web.admin, mode="CustomerFirst")
    make_agent(web.admin, queue)
    callback(web.admin, queue)
    c = browser(web, "supervisor")
    page = c.get("/")
    assert f'sse-swap="queue-{queue}"' in page.text
    assert "Pacing now" in page.text
    found = dict(events(c, "/live/dashboard", 2))
    assert f"queue-{queue}" in found
    assert f"figures-{queue}" in found
    assert 'data-metric="offered"' in found[f"figures-{queue}"]
    assert "<svg" in found[f"figures-{queue}"]
    assert browser(web, "agent", "someone").get("/live/dashboard").status_code == 403


def test_supervisor_reschedules_and_cancels_through_the_api_checks(web: Service) -> None:
    queue = make_queue(web.admin)
    conversation, _ = callback(web.admin, queue)
    c = browser(web, "supervisor")
    far = c.post(
        "/callbacks/reschedule",
        data={"conversationId": conversation, "callbackScheduledTime": "2040-01-01T00:00:00Z"},
    )
    assert far.status_code == 422
    assert "error" in far.text
    moved = c.post(
        "/callbacks/reschedule",
        data={"conversationId": conversation, "callbackScheduledTime": "2000-01-01T00:00:00Z"},
    )
    assert moved.status_code == 200, moved.text
    assert c.post(f"/callbacks/{conversation}/cancel").status_code == 200
    assert c.post(f"/callbacks/{conversation}/cancel").status_code == 404  # it has ended


def test_agent_desk_takes_a_callback_from_alert_to_wrap_up(web: Service) -> None:
    queue = make_queue(web.admin, alertingTimeoutSeconds=300)
    ok(
        web.admin.put(
            f"/api/v2/routing/queues/{queue}",
            json={"agentOwnedRouting": {"enableAgentOwnedCallbacks": True}},
        )
    )
    agent = make_agent(web.admin, queue, on_queue=False)
    c = browser(web, "agent", agent)
    assert c.get("/").headers["location"] == "/agent"
    assert "Go on queue" in c.get("/agent").text
    assert c.post("/agent/status", data={"status": "IDLE"}).status_code == 200
    callback(web.admin, queue)

    def desk() -> str | None:
        found = dict(events(c, "/live/agent", 2))
        return found["desk"] if "Accept" in found.get("desk", "") else None

    html = eventually(desk, what="the alert on the desk")
    interaction = re.search(r'data-interaction="([^"]+)"', html)
    assert interaction is not None
    base = f"/agent/interactions/{interaction.group(1)}"
    assert c.post(f"{base}/accept").status_code == 200
    assert "Keep it mine" in c.get("/agent").text
    assert c.post(f"{base}/dial", data={"numberIndex": "0"}).status_code == 200
    eventually(lambda: "Connected to the customer" in c.get("/agent").text, what="live voice")
    assert c.post(f"{base}/hold").status_code == 200
    assert c.post(f"{base}/resume").status_code == 200
    assert c.post(f"{base}/hangup").status_code == 200
    assert c.post(f"{base}/end").status_code == 200
    assert "Wrap-up code" in c.get("/agent").text
    assert c.post(f"{base}/wrapup", data={"code": ""}).status_code == 422
    assert c.post(f"{base}/wrapup", data={"code": "resolved"}).status_code == 200
    assert c.post(f"{base}/reschedule", data={"owned": "true"}).status_code == 404
    assert c.post(f"{base}/fly").status_code == 404
    assert c.post("/agent/status", data={"status": "OFF_QUEUE"}).status_code == 200
    admin = browser(web)
    assert admin.get("/agent").status_code == 200  # admins may look: the desk says whose
    assert admin.post("/agent/status", data={"status": "IDLE"}).status_code == 403
    assert browser(web, "supervisor").get("/agent").status_code == 403


def test_agent_reschedules_an_owned_callback_within_the_window(web: Service) -> None:
    queue = make_queue(web.admin, alertingTimeoutSeconds=300)
    web.admin.put(
        f"/api/v2/routing/queues/{queue}",
        json={"agentOwnedRouting": {"enableAgentOwnedCallbacks": True}},
    )
    agent = make_agent(web.admin, queue)
    conversation, _ = callback(web.admin, queue)
    c = browser(web, "agent", agent)
    held = eventually(
        lambda: ok(web.admin.get(f"/api/v2/users/{agent}/interactions"))["entities"],
        what="the alert",
    )
    base = f"/agent/interactions/{held[0]['id']}"
    assert c.post(f"{base}/accept").status_code == 200
    later = {"callbackScheduledTime": "2099-01-01T00:00:00Z", "owned": "true"}
    assert c.post(f"{base}/reschedule", data=later).status_code == 422
    soon = parse_queue({}).agent_owned_routing.max_owned_callback_delay_hours
    assert soon == 168
    assert c.post(f"{base}/reschedule", data={"owned": "true"}).status_code == 200
    detail = ok(web.admin.get(f"/api/v2/conversations/callbacks/{conversation}"))
    assert detail["participants"][0]["state"] == "waiting"
