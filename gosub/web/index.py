"""What a private pkgsite needs from its proxy, as one ASGI wrapper around the deployment's
app (:func:`pkgsite_edge`):

- ``GET /index?since=TIME&limit=N`` at the server root, index.golang.org's feed
  (:mod:`gosub.store.index`): JSON lines, ascending, ``since`` inclusive, ``limit``
  default and maximum 2000. pkgsite never checks the status and decodes the body to EOF,
  so every answer it can use is a 200 of JSON lines (empty when nothing is new), and a
  failing store is a 503 with an empty body (a text body would fail its decoder);
- ``Disable-Module-Fetch: true`` (pkgsite, goproxy, proxy.golang.org): the request is
  answered from the caches alone, and whatever is not there is a 404 without a code-host
  request (:func:`gosub.upstream.forbidden`). Such error answers are ``no-store``: a CDN
  keying on the URL alone must not keep them for ordinary clients.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gosub import upstream
from gosub.errors import NotFoundError
from gosub.store.index import MAX_LIMIT, IndexLog, encode_feed, parse_time

log = logging.getLogger("gosub.index")

# strconv.ParseBool's true values (goproxy/goproxy reads the header with it).
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}


def fetch_disabled(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the request carries ``Disable-Module-Fetch: true``."""
    for name, value in headers:
        if name.lower() == b"disable-module-fetch":
            return value.decode("latin-1").strip() in _TRUE
    return False


def _not_cached(what: str) -> Exception:
    return NotFoundError(
        f"not found: {what}: not in gosub's cache, and fetching is disabled "
        "(Disable-Module-Fetch: true)"
    )


@contextlib.contextmanager
def cache_only(disabled: bool) -> Iterator[None]:
    """Bar code-host requests in the block when ``disabled``."""
    if not disabled:
        yield
        return
    with upstream.forbidden(_not_cached):
        yield


class PkgsiteEdge:
    """The ASGI app :func:`pkgsite_edge` returns."""

    def __init__(self, app: ASGIApp, index: IndexLog | None, *, path: str = "/index") -> None:
        self.app = app
        self.index = index
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.index is not None and scope.get("path") == self.path:
            response = await self.feed(scope)
            await response(scope, receive, send)
            return
        if not fetch_disabled(scope.get("headers", [])):
            await self.app(scope, receive, send)
            return

        async def send_uncacheable(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"cache-control"]
                message = {**message, "headers": [*headers, (b"cache-control", b"no-store")]}
            await send(message)

        with cache_only(True):
            await self.app(scope, receive, send_uncacheable)

    async def feed(self, scope: Scope) -> Response:
        """The ``/index`` answer."""
        assert self.index is not None
        if scope.get("method") not in ("GET", "HEAD"):
            return Response(b"", 405, headers={"Allow": "GET, HEAD"})
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        since, limit = 0, MAX_LIMIT
        try:
            if query.get("since", [""])[0]:
                since = parse_time(query["since"][0])
            if query.get("limit", [""])[0]:
                limit = int(query["limit"][0])
                if limit < 1:
                    raise ValueError("limit must be at least 1")
        except ValueError as exc:
            return Response(
                f"bad request: {exc} (since=RFC 3339 time, limit=1..{MAX_LIMIT})\n",
                400,
                media_type="text/plain; charset=utf-8",
                headers={"Cache-Control": "no-store"},
            )
        try:
            entries = await self.index.read(since, min(limit, MAX_LIMIT))
        except Exception as exc:  # any store failure: pkgsite retries later
            log.warning("/index: the store failed: %s", exc)
            return Response(b"", 503, headers={"Cache-Control": "no-store", "Retry-After": "60"})
        return Response(
            encode_feed(entries),
            200,
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )


def pkgsite_edge(app: ASGIApp, index: IndexLog | None) -> PkgsiteEdge:
    """``app`` with ``/index`` (when ``index`` is given) and ``Disable-Module-Fetch``."""
    return PkgsiteEdge(app, index)


__all__ = ["PkgsiteEdge", "cache_only", "fetch_disabled", "pkgsite_edge"]
