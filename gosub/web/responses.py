"""The HTTP edge in one place: how gosub answers (bodies, cache headers, ETags, HEAD,
304s) and how a :class:`~gosub.errors.GosubError` becomes the text/plain error the go
command prints to its user."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gosub.errors import GosubError, RateLimitedError
from gosub.store import StoredZip

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"
# Presigned URLs signed with a Lambda role's session credentials die with the session;
# 15 minutes is plenty for one download.
REDIRECT_EXPIRES = 900
NOT_FOUND_CACHE = "public, max-age=60"
TEXT = "text/plain; charset=utf-8"


def etag_of(body: bytes) -> str:
    """A strong ETag for a body: a digest of its bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def respond(
    request: Request, body: bytes, media_type: str, cache_control: str, status: int = 200
) -> Response:
    """``body`` with its ETag and ``cache_control``: a 304 when the client has it, no
    body (but its Content-Length) for HEAD."""
    etag = etag_of(body)
    headers = {"Cache-Control": cache_control, "ETag": etag}
    if status == 200 and etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(b"", status_code=status, media_type=media_type, headers=headers)
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def mark_stale(response: Response, reason: str | None) -> Response:
    """Mark a last-good answer given because the code host failed (stale-if-error): the
    ``Gosub-Stale`` header says why, and nothing downstream may keep it."""
    if reason is not None:
        # A header value is one line of latin-1; the reason may have neither.
        one_line = " ".join(reason.split())[:300]
        response.headers["Gosub-Stale"] = one_line.encode("ascii", "replace").decode()
        response.headers["Warning"] = '110 gosub "Response is Stale"'
        response.headers["Cache-Control"] = "no-store"
    return response


def error_response(exc: GosubError) -> Response:
    """A text/plain error the go command shows to its user."""
    headers: dict[str, str] = {}
    if exc.status in (404, 410):
        headers["Cache-Control"] = NOT_FOUND_CACHE
    else:
        headers["Cache-Control"] = "no-store"
    if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    body = exc.message
    if exc.status in (404, 410) and not body.startswith("not found"):
        body = "not found: " + body
    return Response(body + "\n", status_code=exc.status, media_type=TEXT, headers=headers)


def zip_response(request: Request, stored: StoredZip, handle: Any) -> Response:
    """A built zip streamed from its open file ``handle`` (closed when done), immutable,
    with its SHA-256 as ETag."""
    etag = '"' + stored.sha256[:32] + '"'
    headers = {
        "Cache-Control": IMMUTABLE,
        "ETag": etag,
        "Content-Length": str(stored.size),
    }
    if etag in request.headers.get("if-none-match", "") or request.method == "HEAD":
        handle.close()
        status = 304 if request.method != "HEAD" else 200
        if status == 304:
            headers.pop("Content-Length")
        return Response(b"", status_code=status, media_type="application/zip", headers=headers)

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while chunk := await anyio.to_thread.run_sync(handle.read, 1 << 20):
                yield chunk
        finally:
            handle.close()

    return StreamingResponse(chunks(), media_type="application/zip", headers=headers)


def text_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A plain-text error answer that no cache keeps beyond a minute (404) or at all."""
    hdrs = {"Cache-Control": NOT_FOUND_CACHE if status == 404 else "no-store", **(headers or {})}
    return Response(message.rstrip("\n") + "\n", status_code=status, media_type=TEXT, headers=hdrs)


def method_not_allowed() -> Response:
    """405 for anything but GET and HEAD."""
    return text_error(
        405,
        "method not allowed: a Go module proxy answers GET and HEAD",
        {"Allow": "GET, HEAD"},
    )


def internal_error() -> Response:
    """500 without details (they go to the server log, never to the client)."""
    return text_error(500, "internal error in gosub; the server log has the details")
