"""What a hostile or careless client found after the first hardening pass (issue 12): forms
that are not UTF-8, digits that are not ASCII, token lifetimes past the year 9999, live pages
that outlived their token or multiplied without bound, a Content-Encoding read as plain JSON,
and an unexpected failure answered as plain text. Each is a 4xx in our error shape now (or,
for a failure of ours, a 500 in it), and the service keeps taking callbacks afterwards."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from dialback.store.repository import hash_token
from dialback.web.session import STREAMS_PER_PRINCIPAL

from .conftest import Service, eventually, ok, serve
from .test_api import callback, make_agent, make_queue


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Service]:
    running = serve(str(tmp_path / "dialback.db"), speed=50.0)
    yield running
    running.stop()


def shaped(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """``r`` is a ``status`` refusal in our error shape (with ``code`` when given)."""
    assert r.status_code == status, r.text[:300]
    body: dict[str, Any] = r.json()
    assert body["status"] == status and isinstance(body["message"], str)
    if code is not None:
        assert body["code"] == code, body
    return body


def sign_in(service: Service, token: str) -> httpx.Client:
    """A browser-like client signed in with ``token``, sending the session's CSRF header."""
    c = httpx.Client(base_url=service.url, timeout=20)
    service.clients.append(c)
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/signin").text)
    assert csrf is not None
    signed = c.post("/signin", data={"csrf": csrf.group(1), "token": token})
    assert signed.status_code == 303, signed.text
    session = re.search(r'"X-CSRF-Token": "([^"]+)"', c.get(signed.headers["location"]).text)
    assert session is not None
    c.headers["X-CSRF-Token"] = session.group(1)
    return c


def still_serving(service: Service) -> None:
    queue = make_queue(service.admin)
    callback(service.admin, queue)


def test_forms_that_are_not_utf8_are_refused_not_failed(web: Service) -> None:
    """POST /signin and /signout with bytes that are not UTF-8 (raw, or %-escaped) were 500s."""
    form = {"content-type": "application/x-www-form-urlencoded"}
    anonymous = httpx.Client(base_url=web.url, timeout=20)
    web.clients.append(anonymous)
    for raw in (b"\xff\xfe", b"csrf=%ff&token=x", "csrf=\xe9".encode("latin-1")):
        r = anonymous.post("/signin", content=raw, headers=form)
        assert r.status_code == 422, (raw, r.status_code, r.text[:200])
        assert "not UTF-8" in r.text
    c = sign_in(web, web.store.create_token("admin"))
    for path in ("/signout", "/callbacks/reschedule", "/agent/status"):
        r = c.post(path, content=b"csrf=\xff", headers=form)
        assert 400 <= r.status_code < 500, (path, r.status_code)
    assert c.get("/").status_code == 200  # still signed in: the bad posts changed nothing
    still_serving(web)


def test_an_agents_dial_takes_only_ascii_digits(web: Service) -> None:
    """``numberIndex`` of "²" (``str.isdigit`` says yes, ``int`` says no) or of 5,000 digits
    was a 500 from the agent desktop's dial button."""
    queue = make_queue(web.admin)
    agent = make_agent(web.admin, queue, on_queue=False)
    conversation, _ = callback(web.admin, queue)
    c = sign_in(web, web.store.create_token("agent", agent))
    for index in ("²", "٣", "9" * 5000, "1e3", "-1"):
        r = c.post(f"/agent/interactions/{conversation}/dial", data={"numberIndex": index})
        assert r.status_code == 422, (index, r.status_code, r.text[:200])
    still_serving(web)


def test_token_lifetimes_stay_within_the_calendar(service: Service) -> None:
    """``expiresIn: 9999999d`` (year 29405) stored the token, failed its answer, and then every
    ``GET /api/v2/tokens`` and ``dialback token list`` failed too. Now it is refused, and a row
    stored that far ahead before (by an older version) still lists."""
    c = service.admin
    for given in ("9999999d", "3651d", "87601h"):
        shaped(c.post("/api/v2/tokens", json={"role": "supervisor", "expiresIn": given}), 422)
    shaped(
        c.post("/api/v2/tokens", json={"role": "supervisor", "expiresIn": "\uff11h"}), 422
    )  # fullwidth 1
    assert ok(c.post("/api/v2/tokens", json={"role": "supervisor", "expiresIn": "3650d"}))
    far = service.store.create_token("supervisor", expires_at=1e12)  # the year 33658
    listed = ok(c.get("/api/v2/tokens"))["entities"]
    mine = next(t for t in listed if t["id"] == hash_token(far)[: len(t["id"])])
    assert mine["dateExpires"] == "9999-12-31T23:59:59.999Z"
    still_serving(service)


def test_a_content_encoding_we_do_not_decode_is_415(service: Service) -> None:
    """A gzip-declared body was read as plain JSON (and acted on)."""
    r = service.admin.post(
        "/api/v2/routing/queues",
        content=b'{"name": "q"}',
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    shaped(r, 415, "unsupported_media_type")
    r = service.admin.post(
        "/api/v2/routing/queues",
        content=b'{"name": "q"}',
        headers={"content-type": "application/json", "content-encoding": "identity"},
    )
    assert r.status_code == 200, r.text


def test_an_unexpected_failure_is_a_500_in_our_shape(
    web: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last-resort handler: no plain-text "Internal Server Error", no internals named."""
    app: Any = web.server.config.loaded_app
    while not hasattr(app, "state"):  # uvicorn's wrappers (proxy headers, …)
        app = app.app

    def boom(*_: Any) -> Any:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(app.state.queries, "queues", boom)
    r = web.admin.get("/api/v2/routing/queues")
    body = shaped(r, 500, "internal_error")
    assert "secret" not in r.text and body["message"]
    monkeypatch.undo()
    still_serving(web)


def first_event(lines: Iterator[str]) -> None:
    for line in lines:
        if line.startswith("event:"):
            return
    raise AssertionError("the stream ended before its first event")


@pytest.mark.parametrize("how", ["revoke", "sign out"])
def test_an_open_live_page_ends_with_its_token_or_session(web: Service, how: str) -> None:
    """``/live/dashboard`` kept streaming the dashboard after its token was revoked (or its
    session signed out): revocation stopped new requests only."""
    created = ok(web.admin.post("/api/v2/tokens", json={"role": "supervisor"}))
    c = sign_in(web, created["token"])
    other = sign_in(web, web.store.create_token("supervisor"))  # another session, untouched
    queue = make_queue(web.admin)
    with c.stream("GET", "/live/dashboard") as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        first_event(lines)
        if how == "revoke":
            ok(web.admin.delete(f"/api/v2/tokens/{created['id']}"))
        else:
            assert c.post("/signout").status_code == 303
        began = time.monotonic()
        for _ in range(3):  # changes the dashboard would show
            callback(web.admin, queue)
        for _ in lines:  # ends by itself: bounded by the client's read timeout
            pass
        assert time.monotonic() - began < 15
    shaped(c.get("/live/dashboard"), 401, "unauthorized")
    with other.stream("GET", "/live/dashboard") as alive:
        assert alive.status_code == 200
        first_event(alive.iter_lines())


def test_live_pages_per_principal_are_bounded(web: Service) -> None:
    """One token held open any number of live pages, each re-rendering the dashboard."""
    token = web.store.create_token("supervisor")
    c = sign_in(web, token)
    second = sign_in(web, token)  # another session of the same token shares the bound
    with ExitStack() as open_pages:
        for i in range(STREAMS_PER_PRINCIPAL):
            page = open_pages.enter_context(
                (c if i % 2 else second).stream("GET", "/live/dashboard")
            )
            assert page.status_code == 200
        shaped(c.get("/live/dashboard"), 429, "too_many_streams")
        shaped(second.get("/live/dashboard"), 429, "too_many_streams")
        someone_else = sign_in(web, web.store.create_token("supervisor"))
        with someone_else.stream("GET", "/live/dashboard") as theirs:
            assert theirs.status_code == 200
    # all closed: the share comes back (the server sees each disconnect shortly after)
    eventually(
        lambda: c.get("/", headers={"accept": "text/html"}).status_code == 200 and _opens(c),
        what="a live page to open again",
    )
    still_serving(web)


def _opens(c: httpx.Client) -> bool:
    with c.stream("GET", "/live/dashboard") as page:
        return page.status_code == 200


def test_a_refused_live_page_answers_in_our_error_shape(web: Service) -> None:
    anonymous = httpx.Client(base_url=web.url, timeout=20)
    web.clients.append(anonymous)
    shaped(anonymous.get("/live/dashboard"), 401, "unauthorized")
    shaped(anonymous.get("/live/agent"), 401, "unauthorized")
    supervisor = sign_in(web, web.store.create_token("supervisor"))
    shaped(supervisor.get("/live/agent"), 403, "forbidden")
