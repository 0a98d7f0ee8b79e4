"""The API's documentation, served by dialback itself (issue 12).

- ``/docs`` (Swagger UI) and ``/redoc`` load their scripts from ``/docs-assets``, the files of the
  ``fastapi-offline`` package (FastAPI's own self-hosting recipe, packaged): no CDN, so they work
  on a contact center's closed network.
- ``/openapi.json`` declares the bearer scheme (so "Try it out" sends the token), the request
  bodies with the bounds of ``domain.limits``, and our error shape for every refusal, in place of
  FastAPI's validation shape that dialback never sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

from dialback.api.body import READS_JSON_BODY, json_body, optional_json_body
from dialback.api.errors import STATUSES
from dialback.domain.limits import (
    INTEGERS,
    LIST,
    LISTS,
    STRINGS,
    TEXT,
)

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs-assets"


def install(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Serve ``/docs``, ``/redoc`` and their assets, and document the API truthfully
    (``routers``: those included in ``app``, whose bodies are described)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            # no badge fetched from the public validator
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} API",
            redoc_js_url=f"{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _schema(app, routers)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


ERROR = {
    "type": "object",
    "description": "Every refusal (Genesys' error shape; `field` names the input at fault).",
    "required": ["status", "code", "message"],
    "properties": {
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable across releases"},
        "message": {"type": "string"},
        "field": {"type": "string"},
        "messageParams": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _schema(app: FastAPI, routers: Sequence[APIRouter]) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=(
            "Send `Authorization: Bearer <token>` (`dialback token create`). Every error has the "
            "`Error` shape with a stable `code`; bodies are JSON (415 otherwise), at most the "
            "configured size (413), and every string, list and number is bounded (422)."
        ),
        routes=app.routes,
    )
    components = schema.setdefault("components", {})
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Error"] = ERROR
    bodies = _bodies([route for router in routers for route in router.routes])
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _document(operation, public=path == "/healthz")
            body = bodies.get((path, method.upper()))
            if body is not None:
                operation["requestBody"] = {
                    "required": body[1],
                    "content": {"application/json": {"schema": body[0]}},
                }
    return schema


def _document(operation: dict[str, Any], public: bool) -> None:
    """Our error shape for every status an operation may answer, and the bearer scheme."""
    responses = operation.setdefault("responses", {})
    error = {"$ref": "#/components/schemas/Error"}
    for status in sorted({s for _, s in STATUSES}):
        if public and status in (401, 403):
            continue
        responses[str(status)] = {
            "description": "refused",
            "content": {"application/json": {"schema": error}},
        }
    if not public:
        operation["security"] = [{"bearer": []}]


def _bodies(routes: Sequence[BaseRoute]) -> dict[tuple[str, str], tuple[dict[str, Any], bool]]:
    """(path, method) -> (JSON schema of the body, required) for the routes taking one."""
    found: dict[tuple[str, str], tuple[dict[str, Any], bool]] = {}
    for route in routes:
        if not isinstance(route, APIRoute):
            continue
        calls = {d.call for d in route.dependant.dependencies}
        if route.endpoint in READS_JSON_BODY:
            calls.add(json_body)
        if json_body in calls or optional_json_body in calls:
            required = json_body in calls
            body = BODIES.get(route.path, {"type": "object", "maxProperties": 100})
            for method in route.methods or ():
                found[(route.path, method)] = (body, required)
    return found


def _string(name: str) -> dict[str, Any]:
    return {"type": "string", "maxLength": STRINGS.get(name, TEXT)}


def _integer(name: str) -> dict[str, Any]:
    low, high = INTEGERS.get(name, (-(2**31), 2**31 - 1))
    return {"type": "integer", "minimum": low, "maximum": high}


def _object(*names: str, **more: Any) -> dict[str, Any]:
    props: dict[str, Any] = {n: _string(n) for n in names}
    props.update(more)
    return {"type": "object", "properties": props}


_ID = {"type": "object", "properties": {"id": _string("id")}}
_CALLBACK = _object(
    "queueId",
    "callbackUserName",
    "callbackScheduledTime",
    "scriptId",
    "countryCode",
    "callerId",
    "callerIdName",
    callbackNumbers={
        "type": "array",
        "items": _string("callbackNumbers[]"),
        "minItems": 1,
        "maxItems": LISTS["callbackNumbers"],
    },
    routingData=_object(
        "queueId",
        "languageId",
        priority=_integer("priority"),
        preferredAgentIds={"type": "array", "items": _string("id"), "maxItems": LIST},
        routingFlags={"type": "array", "items": _string("flag"), "maxItems": LIST},
        scoredAgents={
            "type": "array",
            "maxItems": LIST,
            "items": {"type": "object", "properties": {"agent": _ID, "score": {"type": "number"}}},
        },
    ),
    data={"type": "object", "additionalProperties": _string("data"), "maxProperties": 100},
    validateCallbackNumbers={"type": "boolean"},
    customerFirstCallbackDeliveryMode={
        "enum": ["UseQueueSetting", "UseAgentReservation", "NoAgentReservation"]
    },
)
_ANALYTICS = _object(
    "interval",
    "granularity",
    groupBy={"type": "array", "items": _string("groupBy"), "maxItems": 4},
    metrics={"type": "array", "items": _string("metric"), "maxItems": LIST},
)
BODIES: dict[str, dict[str, Any]] = {
    "/api/v2/conversations/callbacks": _CALLBACK,
    "/api/v2/conversations/{conversation_id}/participants/{participant_id}/callbacks": _CALLBACK,
    "/api/v2/routing/queues": _object(
        "name",
        "callingPartyNumber",
        "callingPartyName",
        mediaSettings={"type": "object"},
        agentOwnedRouting={"type": "object"},
        maxAgentCallbackPriority=_integer("priority"),
    ),
    "/api/v2/routing/queues/{queue_id}/members": {
        "type": "array",
        "items": {"type": "object", "required": ["id"], "properties": {"id": _string("id")}},
        "maxItems": LISTS["body"],
    },
    "/api/v2/routing/queues/{queue_id}/calls": _object(
        "callerNumber", "entryTime", priority=_integer("priority")
    ),
    "/api/v2/users": _object("name", "sipUri", capacity=_integer("capacity")),
    "/api/v2/users/{user_id}/routingstatus": {
        "type": "object",
        "properties": {"status": {"enum": ["IDLE", "OFF_QUEUE"]}},
    },
    "/api/v2/tokens": _object(
        "userId", "expiresIn", role={"enum": ["admin", "supervisor", "agent"]}
    ),
    "/api/v2/analytics/conversations/details/query": _ANALYTICS,
    "/api/v2/analytics/conversations/aggregates/query": _ANALYTICS,
}
