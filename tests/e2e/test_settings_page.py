"""The queue settings page in a browser: the server's errors beside their fields, nothing saved
on an error, and what the page saves is what the API returns (SPEC §2, R-Q-2)."""

from __future__ import annotations

from playwright.sync_api import expect

from ..integration.conftest import ok
from .conftest import Pages, Server, screenshot

CB = "mediaSettings.callback"
MACHINE_FLOW = "#f-mediaSettings-callback-answeringMachineFlow-id"


def test_admin_sets_customer_first_and_transfer_to_flow_needs_a_flow(
    server: Server, pages: Pages
) -> None:
    queue = server.queue("Renewals")
    page = pages.signed_in(server.token("admin"), f"/queues/{queue}/settings")
    expect(page.get_by_role("heading", name="Callback settings: Renewals")).to_be_visible()

    page.get_by_label("Callback mode", exact=True).select_option("CustomerFirst")
    page.get_by_label("Pacing Modifier", exact=True).fill("7")
    expect(page.locator("tr.current")).to_have_attribute("data-modifier", "7")
    expect(page.locator(MACHINE_FLOW)).to_be_hidden()  # revealed only for TransferToFlow
    page.get_by_label("Answering Machine", exact=True).select_option("TransferToFlow")
    expect(page.locator(MACHINE_FLOW)).to_be_visible()
    page.get_by_role("button", name="Save settings").click()

    # The field's error, in the server's words: the same message the API gives for this body.
    api = server.admin.put(
        f"/api/v2/routing/queues/{queue}",
        json={"mediaSettings": {"callback": {"answeringMachineReactionType": "TransferToFlow"}}},
    )
    assert api.status_code == 422
    error = page.locator("#f-mediaSettings-callback-answeringMachineFlow-id-error")
    expect(error).to_have_text(api.json()["message"])
    expect(page.locator(MACHINE_FLOW)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert").first).to_contain_text("Nothing was saved")
    expect(page.get_by_label("Pacing Modifier", exact=True)).to_have_value(
        "7"
    )  # the form as posted
    screenshot(page, "settings-error")
    unchanged = ok(server.admin.get(f"/api/v2/routing/queues/{queue}"))["mediaSettings"]["callback"]
    assert unchanged["mode"] == "AgentFirst"
    assert unchanged["pacingModifier"] == 10
    assert unchanged["answeringMachineReactionType"] == "HangUp"

    page.locator(MACHINE_FLOW).fill("flow-machine-message")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    saved = ok(server.admin.get(f"/api/v2/routing/queues/{queue}"))["mediaSettings"]["callback"]
    assert saved["mode"] == "CustomerFirst"
    assert saved["pacingModifier"] == 7
    assert saved["answeringMachineReactionType"] == "TransferToFlow"
    assert saved["answeringMachineFlow"] == {"id": "flow-machine-message"}
    expect(page.locator("tr.current")).to_have_attribute("data-modifier", "7")
    expect(page.locator(MACHINE_FLOW)).to_have_value("flow-machine-message")
    screenshot(page, "settings")


def test_r_q_2_voicemail_on_a_customer_first_queue_is_refused_beside_the_field(
    server: Server, pages: Pages
) -> None:
    queue = server.queue("Collections", mode="CustomerFirst")
    page = pages.signed_in(server.token("admin"), f"/queues/{queue}/settings")
    page.get_by_label("Voicemail (dialback)").check()
    page.get_by_label("Maximum retries").fill("25")  # also out of range: the first error wins
    page.get_by_label("Maximum retries").fill("3")
    page.get_by_role("button", name="Save settings").click()
    error = page.locator("#f-voicemailEnabled-error")
    expect(error).to_contain_text("CustomerFirst callbacks cannot be used with voicemail")
    assert ok(server.admin.get(f"/api/v2/routing/queues/{queue}"))["voicemailEnabled"] is False

    page.get_by_label("Voicemail (dialback)").uncheck()
    page.get_by_label("Maximum retries").fill("25")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#f-mediaSettings-callback-maxRetryCount-error")).to_have_text(
        "25 is outside 0..20"
    )
    found = ok(server.admin.get(f"/api/v2/routing/queues/{queue}"))
    assert found["mediaSettings"]["callback"]["maxRetryCount"] == 0


def test_settings_need_the_admin_role(server: Server, pages: Pages) -> None:
    queue = server.queue("Audit")
    page = pages.signed_in(server.token("supervisor"), f"/queues/{queue}/settings")
    expect(page.get_by_text("the supervisor role may not do this")).to_be_visible()
    expect(page.get_by_label("Callback mode", exact=True)).to_have_count(0)


def test_the_pages_load_nothing_from_outside_dialback(server: Server, pages: Pages) -> None:
    queue = server.queue("Offline")
    agent = server.agent(queue, "Lee")
    for token, path in (
        (server.token("admin"), f"/queues/{queue}/settings"),
        (server.token("supervisor"), "/"),
        (server.token("agent", agent), "/agent"),
    ):
        page = pages.signed_in(token, path)
        expect(page.locator("main")).to_be_visible()
        assert page.evaluate("typeof htmx") == "object"  # the scripts came from dialback
    loaded = {url.removeprefix(server.url) for url in pages.requests}
    assert {"/static/htmx.min.js", "/static/htmx-sse.js", "/static/app.css"} <= loaded
    assert {"/live/dashboard", "/live/agent"} <= loaded
    assert pages.outside() == []
