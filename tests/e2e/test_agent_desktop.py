"""The agent desktop in a browser: an agent-first callback from alert to wrap-up, by keyboard
where it matters, and the dashboard's figures agreeing with the analytics API afterwards
(SPEC §6, R-AF-1..4); an agent sees and acts on nothing but its own interactions."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from ..integration.conftest import ok
from .conftest import Pages, Server, screenshot, wait_for

FIRST, SECOND = "+14155552673", "+14155552674"


def _api_figures(server: Server, queue: str, interval: str) -> dict[str, Any]:
    body = {"interval": interval, "granularity": "PT30M", "groupBy": ["queueId"]}
    answer = ok(server.admin.post("/api/v2/analytics/conversations/aggregates/query", json=body))
    counts: dict[str, Any] = {"offered": 0, "answered": 0, "abandoned": 0}
    names = {"nOffered": "offered", "tAnswered": "answered", "tAbandon": "abandoned"}
    for result in answer["results"]:
        if result["group"].get("queueId") != queue:
            continue
        for data in result["data"]:
            for metric in data["metrics"]:
                if metric["metric"] in names:
                    counts[names[metric["metric"]]] += metric["stats"]["count"]
    return counts


def _page_figures(page: Page, queue: str) -> dict[str, Any]:
    tiles = page.locator(f"#figures-{queue} [data-metric][data-value]")
    found = {
        tiles.nth(i).get_attribute("data-metric"): tiles.nth(i).get_attribute("data-value")
        for i in range(tiles.count())
    }
    return {k: int(found[k] or 0) for k in ("offered", "answered", "abandoned")}


def test_r_af_2_agent_accepts_dials_talks_disconnects_and_wraps_up_from_the_desktop(
    server: Server, pages: Pages
) -> None:
    queue = server.queue("Billing desk", alertingTimeoutSeconds=300)
    agent = server.agent(queue, "Hana Ito")
    desk = pages.signed_in(server.token("agent", agent))
    assert desk.url.endswith("/agent")  # an agent's home is the desktop
    expect(desk.locator("[data-status]")).to_have_text("Off queue")
    desk.get_by_role("button", name="Go on queue").click()
    expect(desk.locator("[data-status]")).to_have_text("Idle")

    conversation = server.callback(queue, FIRST, SECOND, name="Oskar Lind")
    item = desk.locator("article.desk-item")
    expect(item).to_have_attribute("data-state", "alerting")
    expect(item).to_contain_text("Oskar Lind")
    expect(item.locator("[data-until]")).to_have_text(
        re.compile(r"^\d+:\d\d$")
    )  # the countdown ticks
    screenshot(desk, "agent-alerting")
    accept = item.get_by_role("button", name="Accept")
    accept.focus()
    desk.keyboard.press("Enter")  # keyboard usable

    expect(item).to_have_attribute("data-state", "connected")
    expect(item.get_by_label(FIRST)).to_be_checked()  # the next number to try
    screenshot(desk, "agent-dial")
    item.get_by_label(SECOND).check()
    item.get_by_role("button", name="Dial").click()
    expect(item.locator("[data-progress]")).to_contain_text("Connected to the customer")
    screenshot(desk, "agent-connected")
    item.get_by_role("button", name="Disconnect").click()
    expect(item.locator("[data-outcome]")).to_have_text("live voice")
    item.get_by_role("button", name="Finish callback").click()
    expect(item).to_have_attribute("data-state", "acw")
    item.get_by_label("Wrap-up code").select_option("resolved")
    item.get_by_role("button", name="Done").click()
    expect(desk.locator("article.desk-item")).to_have_count(0)
    expect(desk.get_by_text("Waiting for the next callback")).to_be_visible()
    screenshot(desk, "agent-desktop")

    detail = ok(server.admin.get(f"/api/v2/conversations/callbacks/{conversation}"))
    customer = detail["participants"][0]
    assert customer["wrapupCode"] == "resolved"
    assert customer["state"] == "ended"

    board = pages.signed_in(server.token("supervisor"))
    interval = board.locator(f"#figures-{queue} [data-interval]").get_attribute("data-interval")
    assert interval

    def agreeing() -> dict[str, Any] | None:
        api = _api_figures(server, queue, interval)
        shown = _page_figures(board, queue)
        return shown if shown == api and api["answered"] >= 1 else None

    shown = wait_for(agreeing, what="the dashboard's figures to match the analytics API")
    assert shown["offered"] >= 1


def test_an_agents_pages_show_and_touch_only_its_own_interactions(
    server: Server, pages: Pages
) -> None:
    queue = server.queue("Claims", alertingTimeoutSeconds=300)
    mine, theirs = server.agent(queue, "Ada"), server.agent(queue, "Ben", on_queue=True)
    conversation = server.callback(queue, FIRST, name="Rosa Diaz")
    offered = wait_for(lambda: [i for i in server.held(theirs) if i["state"] == "alerting"])
    interaction = offered[0]["id"]

    page = pages.signed_in(server.token("agent", mine))
    expect(page.get_by_text("You are off queue")).to_be_visible()
    assert interaction not in page.content()
    assert "Rosa Diaz" not in page.content()

    def post(path: str, csrf: bool = True) -> dict[str, Any]:
        result: dict[str, Any] = page.evaluate(
            """async ([path, csrf]) => {
                 const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"];
                 const r = await fetch(path, {method: "POST",
                   headers: csrf ? {"X-CSRF-Token": token} : {}});
                 return {status: r.status, text: await r.text()};
               }""",
            [path, csrf],
        )
        return result

    for action in ("accept", "dial", "reschedule", "end"):
        refused = post(f"/agent/interactions/{interaction}/{action}")
        assert refused["status"] == 409, refused
    assert post(f"/agent/interactions/{interaction}/accept", csrf=False)["status"] == 403
    assert post(f"/callbacks/{conversation}/cancel")["status"] == 403  # supervisors only
    assert [i["state"] for i in server.held(theirs)] == ["alerting"]  # untouched

    for path in ("/live/dashboard", f"/queues/{queue}/settings"):
        response = page.request.get(f"{server.url}{path}")
        assert response.status == 403, path
    page.goto(f"{server.url}/")
    assert page.url.endswith("/agent")  # the dashboard is not an agent's
