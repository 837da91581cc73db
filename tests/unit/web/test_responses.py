"""The prepared answers gosub keeps for immutable files are the answers it builds."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from gosub.store import ProcessCache
from gosub.store.memory import weight
from gosub.web.responses import IMMUTABLE, TEXT, etag_of, prepare, respond, serve_ready

BODY = b"module example.test/m\n\ngo 1.22\n"


def request(method: str, headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": method, "headers": raw, "path": "/"})


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("GET", {}),
        ("HEAD", {}),
        ("GET", {"If-None-Match": etag_of(BODY)}),
        ("GET", {"If-None-Match": f'"other", {etag_of(BODY)}'}),
        ("HEAD", {"If-None-Match": etag_of(BODY)}),
        ("GET", {"If-None-Match": '"other"'}),
    ],
)
def test_ready_answer_is_respond(method: str, headers: dict[str, str]) -> None:
    ready = prepare(BODY, TEXT, IMMUTABLE)
    want = respond(request(method, headers), BODY, TEXT, IMMUTABLE)
    got = serve_ready(request(method, headers), ready)
    assert (got.status_code, got.body, got.raw_headers) == (
        want.status_code,
        want.body,
        want.raw_headers,
    )


def test_ready_headers_are_each_responses_own() -> None:
    ready = prepare(BODY, TEXT, IMMUTABLE)
    first = serve_ready(request("GET"), ready)
    first.headers["Vary"] = "Authorization"
    first.headers["Cache-Control"] = "private"
    again = serve_ready(request("GET"), ready)
    assert "vary" not in again.headers and again.headers["cache-control"] == IMMUTABLE


def test_ready_answers_count_against_the_cache_bound() -> None:
    ready = prepare(b"x" * 10_000, TEXT, IMMUTABLE)
    assert weight(ready) > 10_000
    cache = ProcessCache(max_bytes=50_000)
    for i in range(20):
        cache.put(("ready", i), ready)
    assert cache.size <= 50_000
