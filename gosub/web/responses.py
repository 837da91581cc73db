"""The HTTP edge in one place: how gosub answers (bodies, cache headers, ETags, HEAD,
304s) and how a :class:`~gosub.errors.GosubError` becomes the text/plain error the go
command prints to its user."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

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


RawHeaders = tuple[tuple[bytes, bytes], ...]


@dataclass(frozen=True, slots=True)
class Ready:
    """An answer prepared once (a version's ``.info`` or ``.mod``, or a revalidated
    ``list`` for a moment): its body, ETag and the raw headers of its 200, HEAD and 304
    forms, exactly as :func:`respond` gives them, so serving it again builds nothing but
    the response object. Held in the process cache, whose byte bound counts the body and
    the headers. ``fresh_until`` (``time.monotonic()``) ends a changing answer's reuse;
    ``None``: immutable."""

    body: bytes
    etag: str
    get: RawHeaders
    head: RawHeaders
    not_modified: RawHeaders
    fresh_until: float | None = None

    def fresh(self, now: float) -> bool:
        """Whether this answer may still be served as it is at ``now``."""
        return self.fresh_until is None or now < self.fresh_until


def prepare(
    body: bytes, media_type: str, cache_control: str, *, fresh_until: float | None = None
) -> Ready:
    """The :class:`Ready` form of a 200 answer :func:`respond` would give."""
    etag = etag_of(body)
    headers = {"Cache-Control": cache_control, "ETag": etag}
    head_headers = {**headers, "Content-Length": str(len(body))}
    return Ready(
        body,
        etag,
        tuple(Response(body, media_type=media_type, headers=headers).raw_headers),
        tuple(Response(b"", media_type=media_type, headers=head_headers).raw_headers),
        tuple(Response(status_code=304, headers=headers).raw_headers),
        fresh_until,
    )


class _Prepared(Response):
    """A response from raw parts, skipping Response's rendering and header building.
    Its header list is its own (callers may add headers, e.g. ``Vary``)."""

    def __init__(self, status: int, body: bytes, raw_headers: RawHeaders) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        self.raw_headers = list(raw_headers)


def first_header(request: Request, name: bytes) -> str:
    """The first ``name`` header (lower case; as ``request.headers.get`` gives it, ""
    when absent), read from the scope without building a Headers object: for the hot
    path."""
    for key, value in request.scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _if_none_match(request: Request) -> str:
    return first_header(request, b"if-none-match")


def serve_ready(request: Request, ready: Ready) -> Response:
    """``ready`` as :func:`respond` answers it: a 304 when the client has it, no body
    (but its Content-Length) for HEAD."""
    if ready.etag in _if_none_match(request):
        return _Prepared(304, b"", ready.not_modified)
    if request.method == "HEAD":
        return _Prepared(200, b"", ready.head)
    return _Prepared(200, ready.body, ready.get)


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


# Zips up to this size are read in one go (one worker-thread hop, one send); larger
# ones stream in chunks of this size, so a request holds at most this much in memory.
ZIP_CHUNK = 4 << 20


def _read_small(stored: StoredZip) -> bytes | None:
    """The whole zip when it fits one chunk (else ``None``), in a worker thread."""
    if stored.size > ZIP_CHUNK:
        return None
    with open(stored.path, "rb") as fh:
        return fh.read()


async def zip_response(request: Request, stored: StoredZip) -> Response:
    """A built zip from local disk, immutable, with its SHA-256 as ETag: read in one
    piece when small, else streamed in large chunks (the file is opened before
    answering, so a missing file is an error, not a cut answer)."""
    etag = '"' + stored.sha256[:32] + '"'
    headers = {
        "Cache-Control": IMMUTABLE,
        "ETag": etag,
        "Content-Length": str(stored.size),
    }
    if etag in _if_none_match(request) or request.method == "HEAD":
        status = 304 if request.method != "HEAD" else 200
        if status == 304:
            headers.pop("Content-Length")
        return Response(b"", status_code=status, media_type="application/zip", headers=headers)
    whole = await anyio.to_thread.run_sync(_read_small, stored)
    if whole is not None:
        return Response(whole, media_type="application/zip", headers=headers)
    handle = await anyio.to_thread.run_sync(open, stored.path, "rb")

    async def chunks() -> AsyncIterator[bytes]:
        try:
            while chunk := await anyio.to_thread.run_sync(handle.read, ZIP_CHUNK):
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
