"""Several nodes (issue 17): the door a follower forwards events through, and which node owns
what (``GET /api/v2/dialback/cluster``, for the dashboard)."""

from __future__ import annotations

import asyncio
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from dialback.api.auth import Auth, Role
from dialback.api.common import JsonBody, object_body, runtime
from dialback.api.errors import Forbidden
from dialback.service.forward import PATH, SECRET_HEADER, decode_submission, encode_accepted
from dialback.service.node import NodeRuntime, cluster

router = APIRouter(tags=["cluster"])


@router.post(PATH, include_in_schema=False)
async def forwarded_event(
    request: Request,
    body: JsonBody,
    secret: Annotated[str, Header(alias=SECRET_HEADER)] = "",
) -> dict[str, Any]:
    """An event a follower forwards to this node, the shard's leader."""
    node = runtime(request)
    if not isinstance(node, NodeRuntime) or not secrets.compare_digest(secret, node.secret):
        raise Forbidden("not a node of this cluster")
    event, idempotent = decode_submission(object_body(body))
    return encode_accepted(await node.submit_here(event, idempotent=idempotent))


@router.get("/api/v2/dialback/cluster")
async def cluster_status(request: Request, who: Auth) -> dict[str, Any]:
    """Nodes, shards, their leaseholders and epochs (by the database's clock)."""
    who.require(Role.SUPERVISOR)
    return await asyncio.to_thread(cluster, runtime(request))
