"""The supervisor dashboard in a browser: it follows a customer-first callback live, without a
reload, and its actions go through the API's checks (SPEC §7, R-CF-4, R-C-5)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from dialback.web import views

from ..integration.conftest import ok
from .conftest import Pages, Server, now, screenshot, wait_for

# Every state a row shows, as the page saw it: recorded in the page on each DOM change, so a
# short state between two polls is not missed.
WATCH_ROW = """conversation => {
  window.__seen = [];
  window.__loaded = performance.timeOrigin;
  const look = () => {
    const row = document.querySelector(`tr[data-conversation="${conversation}"]`);
    const state = row ? row.dataset.state : null;
    if (state && window.__seen[window.__seen.length - 1] !== state) window.__seen.push(state);
  };
  new MutationObserver(look).observe(document.body, {subtree: true, childList: true});
  look();
}"""


def seen(page: Page) -> list[str]:
    found: list[str] = page.evaluate("window.__seen")
    return found


def test_r_cf_4_supervisor_watches_a_customer_first_callback_reach_an_agent_live(
    server: Server, pages: Pages
) -> None:
    queue = server.queue("Priority care", mode="CustomerFirst", pacingModifier=10)
    ok(
        server.admin.put(
            f"/api/v2/routing/queues/{queue}",
            json={"defaultScripts": {"CALL": {"id": "script-priority-care"}}},
        )
    )
    agent = server.agent(queue, "Grace")  # off queue: the callback waits
    desk = pages.signed_in(server.token("agent", agent))
    page = pages.signed_in(server.token("supervisor"))
    expect(page.get_by_role("heading", name="Priority care")).to_be_visible()
    conversation = server.callback(queue, "+14155552671", name="Noor Haddad")
    page.evaluate(WATCH_ROW, conversation)
    row = page.locator(f'tr[data-conversation="{conversation}"]')
    expect(row).to_have_attribute("data-state", "waiting")
    expect(row).to_contain_text("Noor Haddad")
    section = page.locator(f'section[data-queue="{queue}"]')
    expect(section.locator(".decisions")).to_contain_text("No agent on queue")
    ewt = section.locator("[data-ewt]")  # issue 18 item 5: nobody on queue, nobody answers
    expect(ewt).to_have_attribute("data-beyond", "", timeout=60_000)
    expect(ewt).to_contain_text("over 6:00:00")

    server.status(agent, "IDLE")  # pacing dials; the carrier answers with a live voice
    expect(row).to_have_attribute("data-state", "converted", timeout=60_000)
    expect(section.locator(".decisions")).to_contain_text("Dialed")
    # R-Q-3: the customer-first call reaches the agent's desk marked, with the CALL script.
    item = desk.locator("article.desk-item")
    expect(item).to_have_attribute("data-state", "alerting")
    expect(item.locator("[data-customer-first]")).to_be_visible()
    expect(item.locator("[data-script]")).to_have_text("script-priority-care")
    item.get_by_role("button", name="Accept").click()
    expect(item.locator("[data-progress]")).to_contain_text("Connected to the customer")
    screenshot(desk, "agent-customer-first")
    expect(row).to_have_attribute("data-state", "with agent")
    expect(row).to_contain_text("Grace")
    expect(section.locator(f'[data-agent="{agent}"]')).to_contain_text("Interacting")

    # Issue 18 item 5: the queue's EWT (BEST's median) with its 80% interval. Now one agent
    # is busy with a call that just began and nobody waits: a new caller waits for the rest of
    # that handle time (prior: exponential, mean 300 s). The tile shows a cached estimate (up
    # to EWT_FRESH_SECONDS old), so wait for one made since the agent took the call.
    busy_since = now()

    def estimated() -> list[Any] | None:
        found: list[Any] = ewt.evaluate(
            "e => [+e.dataset.at, +e.dataset.seconds, +e.dataset.low, +e.dataset.high,"
            " e.textContent]"
        )
        return found if found[0] >= busy_since else None

    _at, median, low, high, shown = wait_for(estimated, what="an estimate made with the agent busy")
    assert 0 < median < 3600 and low <= median <= high < 4 * 3600, (median, low, high)
    assert views.seconds(median) in shown and "80%" in shown, shown

    states = seen(page)
    order = ["waiting", "dialing", "converted", "with agent"]
    assert [s for s in states if s in order] == order, states
    assert page.evaluate("window.__loaded === performance.timeOrigin")  # never reloaded
    screenshot(page, "dashboard")


def _cancellable(server: Server, name: str) -> tuple[str, str]:
    queue = server.queue(name)  # agent-first, nobody on queue: callbacks wait
    return queue, server.callback(queue, "+14155552672", name="Ivo Marsh")


def test_r_c_5_supervisor_reschedules_and_cancels_a_callback_from_the_dashboard(
    server: Server, pages: Pages
) -> None:
    queue, conversation = _cancellable(server, "Returns")
    page = pages.signed_in(server.token("supervisor"))
    row = page.locator(f'tr[data-conversation="{conversation}"]')
    expect(row).to_have_attribute("data-state", "waiting")

    row.get_by_role("button", name="Reschedule").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("New time").fill("2031-01-01T09:00")  # beyond 30 days: R-C-2
    dialog.get_by_role("button", name="Reschedule").click()
    expect(page.locator("#flash")).to_contain_text("30 days")
    dialog.get_by_label("New time").press("Escape")

    row.get_by_role("button", name="Reschedule").click()  # the default: in 30 minutes
    dialog.get_by_role("button", name="Reschedule").click()
    expect(page.locator("#flash")).to_contain_text("Callback rescheduled.")
    expect(row).to_have_attribute("data-state", "scheduled")
    found: Any = ok(server.admin.get(f"/api/v2/conversations/callbacks/{conversation}"))
    assert found["participants"][0]["state"] == "scheduled"

    page.once("dialog", lambda confirm: confirm.accept())
    row.get_by_role("button", name="Cancel").click()
    expect(page.locator("#flash")).to_contain_text("Callback cancelled.")
    expect(row).to_have_count(0)
