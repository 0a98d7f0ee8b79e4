"""Several nodes (issue 17): the door a follower forwards events through, and which node owns
what (``GET /api/v2/dialback/cluster``, for the dashboard)."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from dialback.api.auth import Auth, Role
from dialback.api.common import JsonBody, object_body, runtime
from dialback.api.errors import Forbidden, MalformedJson, error_body
from dialback.domain.errors import DialbackError
from dialback.domain.limits import check_json
from dialback.service.forward import (
    BATCH_PATH,
    PATH,
    SECRET_HEADER,
    decode_submission,
    encode_accepted,
)
from dialback.service.node import cluster
from dialback.service.runtime import ServiceUnavailable

router = APIRouter(tags=["cluster"])
log = logging.getLogger("dialback.cluster")


@router.post(PATH, include_in_schema=False)
async def forwarded_event(
    request: Request,
    body: JsonBody,
    secret: Annotated[str, Header(alias=SECRET_HEADER)] = "",
) -> dict[str, Any]:
    """An event a follower forwards to this node, the shard's leader."""
    node = runtime(request)
    if not node.secret or not secrets.compare_digest(secret, node.secret):
        raise Forbidden("not a node of this cluster")
    event, idempotent, shard = decode_submission(object_body(body))
    return encode_accepted(await node.submit_here(event, idempotent=idempotent, shard=shard))


@router.post(BATCH_PATH, include_in_schema=False)
async def forwarded_events(
    request: Request, secret: Annotated[str, Header(alias=SECRET_HEADER)] = ""
) -> dict[str, Any]:
    """Events a follower forwards together, one JSON object a line (each within the limits of
    a request body): each submitted at once, answered in order with its first answer or its
    error (``service/forward.py``)."""
    node = runtime(request)
    if not node.secret or not secrets.compare_digest(secret, node.secret):
        raise Forbidden("not a node of this cluster")
    decoded = []
    for i, line in enumerate(line for line in (await request.body()).split(b"\n") if line.strip()):
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            raise MalformedJson(f"line {i + 1} is not valid JSON") from None
        check_json(value, "")
        decoded.append(decode_submission(object_body(value)))
    answers = await asyncio.gather(
        *(
            node.submit_here(event, idempotent=idempotent, shard=shard)
            for event, idempotent, shard in decoded
        ),
        return_exceptions=True,
    )
    results: list[dict[str, Any]] = []
    for answer in answers:
        if isinstance(answer, DialbackError):
            results.append({"error": error_body(answer)})
        elif isinstance(answer, BaseException):
            log.error("a forwarded event failed", exc_info=answer)
            results.append({"error": error_body(ServiceUnavailable("the event failed"))})
        else:
            results.append(encode_accepted(answer))
    return {"results": results}


@router.get("/api/v2/dialback/cluster")
async def cluster_status(request: Request, who: Auth) -> dict[str, Any]:
    """Nodes, shards, their leaseholders and epochs (by the database's clock)."""
    who.require(Role.SUPERVISOR)
    return await asyncio.to_thread(cluster, runtime(request))
