"""``goproxy(base, config)``: the GOPROXY protocol for one module, as an ASGI app.

Serves, under ``base``: ``MODULE/@v/list``, ``MODULE/@v/VERSION.info|.mod|.zip`` and
``MODULE/@latest`` (paths and versions in Go's ``!x`` case encoding). Everything else
goes to ``fallback`` (another ASGI app) or gets a 404 saying why. This module only routes
and translates errors; the Go rules live in :mod:`gosub.modrepo`.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from gosub import module as gomodule
from gosub import pseudo, semver
from gosub.cache import DiskStore, ProcessCache, Store, StoredZip, ZipStore
from gosub.config import GoproxyConfig
from gosub.errors import (
    BadRequestError,
    GosubError,
    NotFoundError,
    RateLimitedError,
    UpstreamTimeoutError,
)
from gosub.github import DEFAULT_API_URL, GitHubClient, GitHubSource, RetryPolicy
from gosub.modrepo import ModuleRepo

log = logging.getLogger("gosub")

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"
# Presigned URLs signed with a Lambda role's session credentials die with the session;
# 15 minutes is plenty for one download.
REDIRECT_EXPIRES = 900
NOT_FOUND_CACHE = "public, max-age=60"
TEXT = "text/plain; charset=utf-8"
# Go module paths are at most a few hundred characters; anything much longer is abuse.
MAX_REQUEST_PATH = 2048


@dataclass
class Shared:
    """Process-wide state several apps may share: the GitHub client and the caches."""

    client: GitHubClient
    cache: ProcessCache
    zips: ZipStore
    store: Store | None = None  # the persistent tier, when configured
    # Zips larger than this are answered with a 307 to the store's URL for them (an S3
    # presigned GET) when the store can give one; None: always inline.
    inline_max_bytes: int | None = None
    # The default time limit of one request, for apps not given their own.
    request_timeout: float = 300.0


def github_settings(env: Mapping[str, str] | None) -> tuple[str | None, str | None]:
    """``(token, api_url)`` from ``env`` (default ``os.environ``; ``{}`` disables)."""
    env = os.environ if env is None else env
    token = env.get("GITHUB_TOKEN") or None
    api_url = env.get("GITHUB_API_URL") or None
    return token, api_url


def make_shared(
    env: Mapping[str, str] | None = None,
    *,
    api_url: str | None = None,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
    zip_dir: str | None = None,
    max_zip_bytes: int = 2 << 30,
    cache_dir: str | None = None,
    store: Store | None = None,
    inline_max_bytes: int | None = None,
    request_timeout: float = 300.0,
) -> Shared:
    """Build the shared client and caches from ``env`` (GITHUB_TOKEN, GITHUB_API_URL);
    the persistent tier is ``store``, else a :class:`DiskStore` at ``cache_dir``."""
    token, env_api = github_settings(env)
    client = GitHubClient(
        api_url=api_url or env_api or DEFAULT_API_URL, token=token, timeout=timeout, retry=retry
    )
    if store is None and cache_dir:
        store = DiskStore(cache_dir)
    zips = ZipStore(zip_dir, max_bytes=max_zip_bytes)
    return Shared(client, ProcessCache(), zips, store, inline_max_bytes, request_timeout)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _respond(
    request: Request, body: bytes, media_type: str, cache_control: str, status: int = 200
) -> Response:
    etag = _etag(body)
    headers = {"Cache-Control": cache_control, "ETag": etag}
    if status == 200 and etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        return Response(b"", status_code=status, media_type=media_type, headers=headers)
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def _stale(response: Response, reason: str | None) -> Response:
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


def _zip_response(request: Request, stored: StoredZip, handle: Any) -> Response:
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


class GoproxyApp:
    """The ASGI app :func:`goproxy` returns."""

    def __init__(
        self,
        base: str,
        config: GoproxyConfig,
        shared: Shared,
        *,
        fallback: ASGIApp | None = None,
        owns_shared: bool = False,
        request_timeout: float | None = None,
    ) -> None:
        self.base = "/" + base.strip("/") + "/" if base.strip("/") else "/"
        self.request_timeout = (
            shared.request_timeout if request_timeout is None else request_timeout
        )
        self.config = config
        self.shared = shared
        self.fallback = fallback
        self._owns = owns_shared
        self.source = GitHubSource(shared.client, config.owner, config.repo)
        self.repo_url = f"https://{config.host}/{config.owner}/{config.repo}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        if scope["type"] != "http":
            if self.fallback is not None:
                await self.fallback(scope, receive, send)
            return
        request = Request(scope, receive)
        if request.query_params.get("go-get") == "1" and self.config.module:
            page = self._vanity(request)
            if page is not None:
                await page(scope, receive, send)
                return
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        if not path.startswith(self.base) and root and path.startswith(root):
            # Mounted (Starlette's Mount keeps the full path and sets root_path): the
            # base may be given relative to the mount point.
            path = path[len(root) :] or "/"
        if not path.startswith(self.base):
            await self._not_ours(scope, receive, send, f"{path} is outside {self.base}")
            return
        response = await self.handle(request, path[len(self.base) :])
        if isinstance(response, str):
            await self._not_ours(scope, receive, send, response)
            return
        await response(scope, receive, send)

    def _vanity(self, request: Request) -> Response | None:
        """The ``?go-get=1`` page for the configured module (or a package in it): a
        ``go-import`` tag of kind ``mod`` naming this proxy, so one deployment is both
        the vanity host and the proxy (cmd/go/internal/vcs discovery.go)."""
        module = self.config.module
        host = request.headers.get("host", "").split(":", 1)[0].lower()
        import_path = host + request.url.path.rstrip("/")
        if module is None or not (import_path == module or import_path.startswith(module + "/")):
            return None
        scheme = request.headers.get("x-forwarded-proto", request.url.scheme)
        authority = request.headers.get("host", host)
        proxy_url = f"{scheme}://{authority}{self.base.rstrip('/')}"
        content = html.escape(f"{module} mod {proxy_url}", quote=True)
        body = (
            "<!DOCTYPE html>\n<html><head>\n"
            f'<meta name="go-import" content="{content}">\n'
            f"</head><body>go get {html.escape(module)}</body></html>\n"
        )
        return Response(
            body, media_type="text/html; charset=utf-8", headers={"Cache-Control": SHORT}
        )

    async def _not_ours(self, scope: Scope, receive: Receive, send: Send, why: str) -> None:
        if self.fallback is not None:
            await self.fallback(scope, receive, send)
            return
        resp = Response(
            f"not found: {why}; this server is a Go module proxy for "
            f"{self.config.module or self.config.repo_path} (GOPROXY=<this URL>{self.base})\n",
            status_code=404,
            media_type=TEXT,
            headers={"Cache-Control": NOT_FOUND_CACHE},
        )
        await resp(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aclose(self) -> None:
        """Release the client and spool directory if this app created them."""
        if self._owns:
            await self.shared.client.aclose()
            self.shared.zips.close()

    async def handle(self, request: Request, rest: str) -> Response | str:
        """Answer one proxy request (``rest`` is the path below ``base``), or say why
        it is not a request for this module."""
        if len(rest) > MAX_REQUEST_PATH:
            return error_response(
                BadRequestError(
                    f"bad request: the path is {len(rest)} characters long; module paths and "
                    f"versions together are at most {MAX_REQUEST_PATH}"
                )
            )
        if "/@v/" in rest:
            escaped, _, file = rest.partition("/@v/")
        elif rest.endswith("/@latest"):
            escaped, file = rest[: -len("/@latest")], "@latest"
        elif "/@gosub/" in rest:
            escaped, _, command = rest.partition("/@gosub/")
            file = "@gosub/" + command
        else:
            return f"{rest!r} is not a Go module proxy request"
        if self.config.module is not None:
            # Compare in escaped form: a path that is not this module (even one that is
            # not a valid module path) belongs to the fallback.
            if escaped != gomodule.escape_path(self.config.module):
                return f"module {escaped} is not served here (only {self.config.module})"
            path = self.config.module
        else:
            try:
                path = gomodule.unescape_path(escaped)
            except ValueError as exc:
                if self.fallback is not None:
                    return f"{escaped!r} is not a module path"
                return error_response(
                    BadRequestError(
                        f"bad module path {escaped!r} in the request: {exc} (module paths use "
                        "Go's case encoding: '!x' for 'X')"
                    )
                )
        if request.method not in ("GET", "HEAD"):
            return Response(
                "method not allowed: a Go module proxy answers GET and HEAD\n",
                status_code=405,
                media_type=TEXT,
                headers={"Allow": "GET, HEAD"},
            )
        try:
            with anyio.fail_after(self.request_timeout):
                return await self._serve(request, path, file)
        except TimeoutError:
            log.warning(
                "%s %s: gave up after %s s", request.method, request.url.path, self.request_timeout
            )
            return error_response(
                UpstreamTimeoutError(
                    f"gosub gave up after {self.request_timeout:g} s building the answer "
                    "(GitHub is slow or the module is very large); try again"
                )
            )
        except GosubError as exc:
            log.info("%s %s: %d %s", request.method, request.url.path, exc.status, exc.message)
            return error_response(exc)
        except Exception:
            log.exception("internal error serving %s", request.url.path)
            return Response(
                "internal error in gosub; the server log has the details\n",
                status_code=500,
                media_type=TEXT,
                headers={"Cache-Control": "no-store"},
            )

    def repo_for(self, path: str) -> ModuleRepo:
        """The module repository serving module ``path``."""
        return ModuleRepo(
            self.config,
            self.source,
            path,
            cache=self.shared.cache,
            zips=self.shared.zips,
            repo_url=self.repo_url,
            store=self.shared.store,
        )

    async def _serve(self, request: Request, path: str, file: str) -> Response:
        repo = self.repo_for(path)
        if file == "list":
            versions, stale = await repo.versions_or_stale()
            body = "".join(v + "\n" for v in versions).encode()
            return _stale(_respond(request, body, TEXT, SHORT), stale)
        if file == "@latest":
            info, stale = await repo.latest_or_stale()
            body = info.to_json(self.repo_url, repo.code_dir)
            return _stale(_respond(request, body, "application/json", SHORT), stale)
        if file == "@gosub/tags":
            tags = await self.source.list_tags("")
            return _respond(request, "".join(t + "\n" for t in tags).encode(), TEXT, SHORT)
        if file == "@gosub/rate_limit":
            # GitHub's own answer: counts and reset times, never the token.
            data = await self.shared.client.get_json("/rate_limit", what="rate limit")
            body = json.dumps(data).encode() + b"\n"
            return _respond(request, body, "application/json", "no-store")
        if file.startswith("@gosub/"):
            raise NotFoundError(
                f"unknown gosub command {file!r}: expected @gosub/tags or @gosub/rate_limit"
            )
        escaped, dot, ext = file.rpartition(".")
        if not dot or ext not in ("info", "mod", "zip") or "/" in escaped:
            raise NotFoundError(
                f"unknown proxy request {file!r}: expected list, VERSION.info, VERSION.mod "
                "or VERSION.zip"
            )
        try:
            version = gomodule.unescape_version(escaped)
        except ValueError as exc:
            raise BadRequestError(f"bad version {escaped!r} in the request: {exc}") from exc
        if ext == "info":
            info = await repo.stat(version)
            stable = version == info.version and (
                semver.canonical(version) != "" or pseudo.is_pseudo_version(version)
            )
            return _respond(
                request,
                info.to_json(self.repo_url, repo.code_dir),
                "application/json",
                IMMUTABLE if stable else SHORT,
            )
        if ext == "mod":
            data = await repo.go_mod(version)
            return _respond(request, data, TEXT, IMMUTABLE)
        if self.shared.inline_max_bytes is not None and self.shared.store is not None:
            found = await repo.zip_size(version)
            if found is not None and found[0] > self.shared.inline_max_bytes:
                url = await self.shared.store.url_for(found[1], expires=REDIRECT_EXPIRES)
                if url is not None:
                    # Too big to answer inline (Lambda's 6 MB response limit): the go
                    # command follows the redirect to the store.
                    return RedirectResponse(url, 307, headers={"Cache-Control": "no-store"})
        stored = await repo.zip(version)
        handle = await anyio.to_thread.run_sync(open, stored.path, "rb")
        return _zip_response(request, stored, handle)


def goproxy(
    base: str,
    config: GoproxyConfig,
    *,
    env: Mapping[str, str] | None = None,
    fallback: ASGIApp | None = None,
    shared: Shared | None = None,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
    request_timeout: float | None = None,
) -> GoproxyApp:
    """An ASGI app serving the GOPROXY protocol for ``config``'s module under ``base``.

    ``env`` is read for ``GITHUB_TOKEN`` and ``GITHUB_API_URL`` (default ``os.environ``;
    pass ``{}`` to ignore the environment). Requests outside ``base`` or for another
    module go to ``fallback`` when given, else get a 404 that says why. ``shared`` lets
    several apps share one GitHub client and cache. ``request_timeout`` bounds the time
    spent on one request (default: the shared setting, 300 s).
    """
    owns = shared is None
    if shared is None:
        _token, env_api = github_settings(env)
        api_url = env_api
        if api_url is None and config.host != "github.com":
            # GitHub Enterprise Server serves its REST API under /api/v3.
            api_url = f"https://{config.host}/api/v3"
        shared = make_shared(env, api_url=api_url, timeout=timeout, retry=retry)
    return GoproxyApp(
        base,
        config,
        shared,
        fallback=fallback,
        owns_shared=owns,
        request_timeout=request_timeout,
    )
