"""Genesys' real-time APIs over real HTTP (issue 18): EWT, queue observations, active callbacks
and the callback offer advice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dialback.api.genesys import iso

from .conftest import Service, eventually, ok
from .test_api import CUSTOMER, callback, make_agent, make_queue


def _queue_with_a_line(service: Service) -> tuple[str, str, list[dict[str, Any]]]:
    """One agent on queue holding the first of three calls; two calls wait behind."""
    c = service.admin
    queue = make_queue(c)
    agent = make_agent(c, queue)
    calls = [
        ok(
            c.post(
                f"/api/v2/routing/queues/{queue}/calls",
                json={"callerNumber": CUSTOMER, "entryTime": iso(service.runtime.clock() - 60 + k)},
            )
        )
        for k in range(3)
    ]
    me = service.client("agent", agent)
    eventually(lambda: ok(me.get(f"/api/v2/users/{agent}/interactions"))["entities"])
    return queue, agent, calls


def _by_formula(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["formula"]: r for r in body["results"]}


def test_ewt_gives_best_with_an_interval_and_the_simple_formulas(service: Service) -> None:
    queue, _agent, calls = _queue_with_a_line(service)
    c = service.admin
    new = _by_formula(ok(c.get(f"/api/v2/routing/queues/{queue}/estimatedwaittime")))
    assert set(new) == {"BEST", "SIMPLE", "ABANDON"}
    assert {r["intent"] for r in new.values()} == {"CALL"}
    assert new["SIMPLE"]["estimatedWaitTimeSeconds"] == 900  # (2 ahead + 1) x 300 s prior / 1
    best = new["BEST"]
    interval = best["estimatedWaitTimeInterval"]
    assert interval["lowSeconds"] <= best["estimatedWaitTimeSeconds"] <= interval["highSeconds"]
    assert interval["coverage"] == 0.8 and best["runs"] >= 8

    medians = []
    for call in calls[1:]:
        found = _by_formula(
            ok(
                c.get(
                    f"/api/v2/routing/queues/{queue}/estimatedwaittime",
                    params={"conversationId": call["conversationId"]},
                )
            )
        )
        medians.append(found["BEST"]["estimatedWaitTimeSeconds"])
        assert found["SIMPLE"]["estimatedWaitTimeSeconds"] == 300 * len(medians)
    assert medians[0] < medians[1] < best["estimatedWaitTimeSeconds"]  # the order is the wait's


def test_ewt_by_media_type_and_its_refusals(service: Service) -> None:
    queue, _agent, _calls = _queue_with_a_line(service)
    c = service.admin
    base = f"/api/v2/routing/queues/{queue}/mediatypes"
    call = _by_formula(ok(c.get(f"{base}/call/estimatedwaittime")))
    assert call["BEST"]["intent"] == "CALL"
    later = _by_formula(ok(c.get(f"{base}/callback/estimatedwaittime")))["BEST"]
    assert later["intent"] == "CALLBACK"
    assert 0 < later["estimatedDialTimeSeconds"] <= later["estimatedWaitTimeSeconds"] + 60
    r = c.get(f"{base}/email/estimatedwaittime")
    assert (r.status_code, r.json()["code"]) == (422, "invalid_choice")
    r = c.get("/api/v2/routing/queues/nope/estimatedwaittime")
    assert (r.status_code, r.json()["code"]) == (404, "queue_not_found")
    r = c.get(
        f"/api/v2/routing/queues/{queue}/estimatedwaittime", params={"conversationId": "nope"}
    )
    assert (r.status_code, r.json()["code"]) == (404, "interaction_not_found")


def test_queue_observations_group_by_queue_and_media_type(service: Service) -> None:
    queue, _agent, _calls = _queue_with_a_line(service)
    body = {
        "filter": {"type": "or", "predicates": [{"dimension": "queueId", "value": queue}]},
        "metrics": [
            *("oWaiting", "oAlerting", "oInteracting", "oLongestWaiting"),
            *("oOnQueueUsers", "oOffQueueUsers", "oUserRoutingStatuses"),
        ],
        "detailMetrics": ["oWaiting"],
    }
    found = ok(service.admin.post("/api/v2/analytics/queues/observations/query", json=body))
    groups = {tuple(sorted(r["group"].items())): r["data"] for r in found["results"]}
    voice = {d["metric"]: d for d in groups[(("mediaType", "voice"), ("queueId", queue))]}
    assert voice["oWaiting"]["stats"]["count"] == 2
    assert len(voice["oWaiting"]["observations"]) == 2
    assert voice["oAlerting"]["stats"]["count"] + voice["oInteracting"]["stats"]["count"] == 1
    assert voice["oLongestWaiting"]["stats"]["calculatedMetricValue"] >= 50_000
    callbacks = {d["metric"]: d for d in groups[(("mediaType", "callback"), ("queueId", queue))]}
    assert callbacks["oWaiting"]["stats"]["count"] == 0
    users = groups[(("queueId", queue),)]
    statuses = {
        d["qualifier"]: d["stats"]["count"] for d in users if d["metric"] == "oUserRoutingStatuses"
    }
    assert statuses == {"IDLE": 0, "INTERACTING": 1, "NOT_RESPONDING": 0, "OFF_QUEUE": 0}
    off = next(d for d in users if d["metric"] == "oOffQueueUsers")
    assert off["stats"]["count"] == 0
    r = service.admin.post("/api/v2/analytics/queues/observations/query", json={"metrics": []})
    assert (r.status_code, r.json()["code"]) == (422, "missing_field")
    bad = {**body, "metrics": ["oNope"]}
    r = service.admin.post("/api/v2/analytics/queues/observations/query", json=bad)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_choice")


def test_active_callbacks_for_supervisors_and_an_agent_s_own(service: Service) -> None:
    c = service.admin
    queue = make_queue(c)
    conversation, cb = callback(c, queue)
    listing = ok(c.get("/api/v2/conversations/callbacks"))
    assert listing["total"] == 1
    (entity,) = listing["entities"]
    assert entity["id"] == conversation and entity["participants"][0]["id"] == cb
    assert entity["participants"][0]["callbackNumbers"] == [CUSTOMER]
    stranger = make_agent(c, queue, "Bob", on_queue=False)
    assert (
        ok(service.client("agent", stranger).get("/api/v2/conversations/callbacks"))["total"] == 0
    )
    ann = make_agent(c, queue, "Ann")
    me = service.client("agent", ann)
    eventually(lambda: ok(me.get("/api/v2/conversations/callbacks"))["total"] == 1)


def test_callback_offer_advice_says_no_when_it_cannot_be_honoured_before_closing(
    service: Service,
) -> None:
    queue, _agent, _calls = _queue_with_a_line(service)
    c = service.admin
    url = f"/api/v2/routing/queues/{queue}/callbackoffer"
    yes = ok(c.get(url, params={"minEstimatedWaitSeconds": 10}))
    assert yes["offer"] is True and yes["reasons"] == []
    assert yes["expectedCallbackInterval"]["start"] <= yes["expectedCallbackTime"]
    closing = iso(service.runtime.clock() + 30)
    no = ok(c.get(url, params={"minEstimatedWaitSeconds": 10, "closesAt": closing}))
    assert no["offer"] is False and no["reasons"] == ["not_before_closing"]
    short = ok(c.get(url, params={"minEstimatedWaitSeconds": 86_400}))
    assert short["offer"] is False and "wait_below_threshold" in short["reasons"]


def _closing_within_two_minutes(now: float) -> tuple[str, str, dict[str, Any]]:
    """A zone, its local weekday name and an ``openingHours`` that opened at local midnight
    today and closes at the next whole minute at least a minute away. Of UTC and UTC+12 one
    is at least 12 h from midnight, so the day's hours never cross it."""
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    for zone in ("UTC", "Etc/GMT-12"):
        local = datetime.fromtimestamp(now, ZoneInfo(zone))
        end = (local + timedelta(minutes=2)).replace(second=0, microsecond=0)
        if end.date() == local.date():
            day = days[local.weekday()]
            return (
                zone,
                end.astimezone(UTC).isoformat(),
                {day: {"start": "00:00", "end": f"{end:%H:%M}"}},
            )
    raise AssertionError("unreachable: two zones 12 h apart")


def test_issue_18_callback_offer_follows_the_queue_s_stored_rule(service: Service) -> None:
    """Issue 18 item 4: the rule is the queue's ``callbackOffer`` setting; a request parameter
    overrides the threshold for one question."""
    queue, _agent, _calls = _queue_with_a_line(service)
    c = service.admin
    url = f"/api/v2/routing/queues/{queue}/callbackoffer"

    def store(**rule: Any) -> None:
        ok(c.put(f"/api/v2/routing/queues/{queue}", json={"callbackOffer": rule}))

    store(minEstimatedWaitSeconds=10)
    yes = ok(c.get(url))
    assert (yes["offer"], yes["reasons"], yes["minEstimatedWaitSeconds"]) == (True, [], 10)
    assert yes["closesAt"] is None  # the default hours never close
    store(minEstimatedWaitSeconds=86_400)
    high = ok(c.get(url))
    assert (high["offer"], high["reasons"]) == (False, ["wait_below_threshold"])
    assert ok(c.get(url, params={"minEstimatedWaitSeconds": 10}))["offer"] is True  # override
    store(minEstimatedWaitSeconds=10, enabled=False)
    assert ok(c.get(url))["reasons"] == ["offer_disabled"]

    zone, closing, today = _closing_within_two_minutes(service.runtime.clock())
    store(enabled=True, timeZone=zone, openingHours=today)
    soon = ok(c.get(url))
    assert (soon["offer"], soon["reasons"]) == (False, ["not_before_closing"])
    assert datetime.fromisoformat(
        soon["closesAt"].replace("Z", "+00:00")
    ) == datetime.fromisoformat(closing)
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    store(openingHours=dict.fromkeys(days, False))
    shut = ok(c.get(url))
    assert (shut["offer"], shut["closesAt"]) == (False, None)
    assert "queue_closed" in shut["reasons"]
    reopened = ok(c.get(url, params={"closesAt": iso(service.runtime.clock() + 86_400)}))
    assert reopened["offer"] is True  # closesAt overrides the stored hours

    r = c.put(f"/api/v2/routing/queues/{queue}", json={"callbackOffer": {"timeZone": "Mars/Base"}})
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (
        422,
        "invalid_choice",
        "callbackOffer.timeZone",
    )
    r = c.get(url, params={"minEstimatedWaitSeconds": -1})
    assert (r.status_code, r.json()["code"]) == (422, "value_out_of_range")
    shown = ok(c.get(f"/api/v2/routing/queues/{queue}"))["callbackOffer"]
    assert (shown["minEstimatedWaitSeconds"], shown["timeZone"]) == (10, zone)
