"""Docs that work offline and tell the truth (issue 12)."""

from __future__ import annotations

import re

import httpx
import schemathesis

from .conftest import Service, ok

EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=(:]\s*["']?(?:https?:)?//""", re.IGNORECASE)


def test_docs_pages_name_no_external_url_and_their_assets_are_served(service: Service) -> None:
    for page in ("/docs", "/redoc"):
        html = httpx.get(f"{service.url}{page}").text
        assert "cdn" not in html.lower() and "fonts.googleapis" not in html
        assert not EXTERNAL.search(html), html
        assert not re.search(r"https?://", html), html
        assets = re.findall(r"""(?:src|href)=["'](/[^"']+)["']""", html)
        assert assets, html
        for asset in assets:
            r = httpx.get(f"{service.url}{asset}")
            assert r.status_code == 200 and len(r.content) > 1000, asset
    assert "/openapi.json" in httpx.get(f"{service.url}/docs").text


def test_openapi_declares_the_bearer_scheme_our_errors_and_request_bodies(
    service: Service,
) -> None:
    schema = ok(httpx.get(f"{service.url}/openapi.json"))
    assert schema["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert schema["components"]["schemas"]["Error"]["required"] == ["status", "code", "message"]
    create = schema["paths"]["/api/v2/conversations/callbacks"]["post"]
    assert create["security"] == [{"bearer": []}]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["callbackNumbers"]["maxItems"] == 10
    for status in ("400", "401", "403", "404", "409", "413", "415", "422", "503"):
        assert create["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    assert "security" not in schema["paths"]["/healthz"]["get"]
    loaded = schemathesis.openapi.from_dict(schema)  # parses and resolves as a valid schema
    assert len([r.ok() for r in loaded.get_all_operations()]) >= 20  # type: ignore[union-attr]
