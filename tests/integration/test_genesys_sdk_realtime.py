"""The official Genesys Python SDK, unchanged, reads EWT, runs a queue observation query and
lists active callbacks against dialback (issue 18)."""

from __future__ import annotations

from typing import Any

import PureCloudPlatformClientV2 as genesys  # type: ignore[import-untyped]

from dialback.api.genesys import iso

from .conftest import Service, eventually, ok
from .test_api import CUSTOMER, make_agent, make_queue


def test_the_genesys_sdk_reads_ewt_observations_and_active_callbacks(service: Service) -> None:
    c = service.admin
    queue = make_queue(c)
    agent = make_agent(c, queue)
    for k in range(3):
        entry = iso(service.runtime.clock() - 30 + k)
        ok(
            c.post(
                f"/api/v2/routing/queues/{queue}/calls",
                json={"callerNumber": CUSTOMER, "entryTime": entry},
            )
        )
    me = service.client("agent", agent)
    eventually(lambda: ok(me.get(f"/api/v2/users/{agent}/interactions"))["entities"])

    client: Any = genesys.api_client.ApiClient(host=service.url)
    token = service.store.create_token("admin")
    client.access_token = token
    genesys.configuration.access_token = token
    routing = genesys.RoutingApi(client)

    ewt = routing.get_routing_queue_estimatedwaittime(queue)
    formulas = {r.formula: r for r in ewt.results}
    assert set(formulas) == {"BEST", "SIMPLE", "ABANDON"}  # none is "outdated_sdk_version"
    assert formulas["BEST"].intent == "CALL"
    assert formulas["BEST"].estimated_wait_time_seconds > 0
    by_media = routing.get_routing_queue_mediatype_estimatedwaittime(queue, "callback")
    assert {r.intent for r in by_media.results} == {"CALLBACK"}

    predicate = genesys.QueueObservationQueryPredicate()
    predicate.dimension = "queueId"
    predicate.value = queue
    query_filter = genesys.QueueObservationQueryFilter()
    query_filter.type = "or"
    query_filter.predicates = [predicate]
    query = genesys.QueueObservationQuery()
    query.filter = query_filter
    query.metrics = ["oWaiting", "oOnQueueUsers", "oUserRoutingStatuses"]
    observed = genesys.AnalyticsApi(client).post_analytics_queues_observations_query(query)
    voice = next(r for r in observed.results if r.group == {"queueId": queue, "mediaType": "voice"})
    waiting = next(d for d in voice.data if d.metric == "oWaiting")
    assert waiting.stats.count == 2
    users = next(r for r in observed.results if r.group == {"queueId": queue})
    interacting = [d for d in users.data if d.qualifier == "INTERACTING"]
    assert {d.metric for d in interacting} == {"oOnQueueUsers", "oUserRoutingStatuses"}
    assert all(d.stats.count == 1 for d in interacting)

    conversations = genesys.ConversationsApi(client)
    command = genesys.CreateCallbackCommand()
    command.queue_id = queue
    command.callback_numbers = [CUSTOMER]
    created = conversations.post_conversations_callbacks(command)
    listing = conversations.get_conversations_callbacks()
    assert listing.total == 1
    assert listing.entities[0].id == created.conversation.id
    assert listing.entities[0].participants[0].queue.id == queue
