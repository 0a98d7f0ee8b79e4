"""A client no one here wrote: Genesys Cloud's official Python SDK, pointed at dialback."""

from __future__ import annotations

from typing import Any

import PureCloudPlatformClientV2 as genesys  # type: ignore[import-untyped]

from dialback.api.genesys import iso

from .conftest import Service


def test_the_official_genesys_sdk_drives_dialback_unchanged(service: Service) -> None:
    client: Any = genesys.api_client.ApiClient(host=service.url)
    token = service.store.create_token("admin")
    client.access_token = token
    genesys.configuration.access_token = token

    callback_settings = genesys.CallbackMediaSettings()
    callback_settings.mode = "CustomerFirst"
    callback_settings.pacing_modifier = 5.0
    callback_settings.max_retry_count = 2
    media = genesys.QueueMediaSettings()
    media.callback = callback_settings
    body = genesys.CreateQueueRequest()
    body.name = "Support"
    body.media_settings = media
    body.calling_party_number = "+14155550199"
    queue = genesys.RoutingApi(client).post_routing_queues(body)
    assert queue.media_settings.callback.mode == "CustomerFirst"
    assert queue.media_settings.callback.pacing_modifier == 5.0

    conversations = genesys.ConversationsApi(client)
    command = genesys.CreateCallbackCommand()
    command.queue_id = queue.id
    command.callback_numbers = ["+14155552671"]
    command.callback_user_name = "Ada"
    created = conversations.post_conversations_callbacks(command)
    assert created.conversation.id and created.callback_identifiers[0].id

    found = conversations.get_conversations_callback(created.conversation.id)
    customer = found.participants[0]
    assert (customer.purpose, customer.callback_numbers) == ("customer", ["+14155552671"])
    assert customer.callback_user_name == "Ada"

    later = iso(service.runtime.clock() + 7200)
    patch = genesys.PatchCallbackRequest()
    patch.conversation_id = created.conversation.id
    patch.callback_scheduled_time = later
    patched = conversations.patch_conversations_callbacks(patch)
    assert patched.conversation.id == created.conversation.id
    again = conversations.get_conversations_callback(created.conversation.id).participants[0]
    assert again.callback_scheduled_time.strftime("%H:%M") == later[11:16]

    query = genesys.ConversationAggregationQuery()
    now = service.runtime.clock()
    query.interval = f"{iso(now - 3600)}/{iso(now + 3600)}"
    query.group_by = ["queueId"]
    query.metrics = ["nOffered"]
    result = genesys.AnalyticsApi(client).post_analytics_conversations_aggregates_query(query)
    (row,) = result.results
    assert row.group == {"queueId": queue.id}
    assert row.data[0].metrics[0].metric == "nOffered"
    assert row.data[0].metrics[0].stats.count == 1
