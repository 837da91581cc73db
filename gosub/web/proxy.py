"""``goproxy(base, config)``: the GOPROXY protocol for one module, as an ASGI app.

Serves, under ``base``: ``MODULE/@v/list``, ``MODULE/@v/VERSION.info|.mod|.zip`` and
``MODULE/@latest`` (paths and versions in Go's ``!x`` case encoding). Everything else
goes to ``fallback`` (another ASGI app) or gets a 404 saying why. This module only routes
and translates errors; the Go rules live in :mod:`gosub.modrepo`.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import time
from collections.abc import Mapping
from urllib.parse import quote

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gosub import deadline
from gosub.config import GoproxyConfig
from gosub.errors import BadRequestError, GosubError, NotFoundError, UpstreamTimeoutError
from gosub.golang import module as gomodule
from gosub.golang import pseudo, semver
from gosub.golang.module import InvalidPathError, InvalidVersionError
from gosub.modrepo import PREFETCH_ARCHIVE, ModuleRepo
from gosub.sources import RetryPolicy
from gosub.web.responses import (
    IMMUTABLE,
    REDIRECT_EXPIRES,
    SHORT,
    TEXT,
    Ready,
    error_response,
    internal_error,
    mark_stale,
    method_not_allowed,
    prepare,
    respond,
    serve_ready,
    text_error,
    zip_response,
)
from gosub.web.shared import LIST_TTL, Shared, make_shared

log = logging.getLogger("gosub")

# Go module paths are at most a few hundred characters; anything much longer is abuse.
MAX_REQUEST_PATH = 2048


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
        self.source = shared.sources.open(config)
        self.repo_url = self.source.url
        self._identity = config.identity  # a tuple built per call otherwise
        self._escaped_module = gomodule.escape_path(config.module) if config.module else None

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
            page = await self._vanity(request)
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

    async def _vanity(self, request: Request) -> Response | None:
        """The ``?go-get=1`` page for the configured module (or a package in it): a
        ``go-import`` tag of kind ``mod`` naming this proxy, so one deployment is both
        the vanity host and the proxy (cmd/go/internal/vcs discovery.go), and a
        ``go-source`` tag for pkgsite's source links (it skips ``mod`` go-imports)."""
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
            f"{await self._go_source(module)}"
            f"</head><body>go get {html.escape(module)}</body></html>\n"
        )
        return Response(
            body, media_type="text/html; charset=utf-8", headers={"Cache-Control": SHORT}
        )

    async def _go_source(self, module: str) -> str:
        """``<meta name="go-source">`` naming the repository's tree and blob URLs at the
        latest version's tag (the default branch when there is none) and the module's
        directory; "" for a forge without web URLs (the git source)."""
        if self.config.forge not in ("github", "gitlab"):
            return ""
        ref = "HEAD"
        try:
            with anyio.fail_after(10):
                info = await self.repo_for(module).latest()
            if info.ref and info.ref.startswith("refs/tags/"):
                ref = info.ref.removeprefix("refs/tags/")
        except Exception as exc:  # the page still serves go-import
            log.info("go-source for %s: no latest version (%s); using HEAD", module, exc)
        web = self.repo_url.rstrip("/") + ("/-" if self.config.forge == "gitlab" else "")
        where = "/".join(p for p in (quote(ref, safe="/"), self.config.directory) if p)
        content = html.escape(
            f"{module} {self.repo_url} {web}/tree/{where}{{/dir}} "
            f"{web}/blob/{where}{{/dir}}/{{file}}#L{{line}}",
            quote=True,
        )
        return f'<meta name="go-source" content="{content}">\n'

    async def _not_ours(self, scope: Scope, receive: Receive, send: Send, why: str) -> None:
        if self.fallback is not None:
            await self.fallback(scope, receive, send)
            return
        resp = text_error(
            404,
            f"not found: {why}; this server is a Go module proxy for "
            f"{self.config.module or self.config.repo_path} (GOPROXY=<this URL>{self.base})",
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
            await self.shared.aclose()

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
            if escaped != self._escaped_module:
                return f"module {escaped} is not served here (only {self.config.module})"
            path = self.config.module
        else:
            try:
                path = _unescape_path(escaped)
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
            return method_not_allowed()
        # The hot path: a version's prepared .info or .mod (or a list revalidated a
        # moment ago), before any time limit, deadline or repository object is set up.
        ready = self._ready(path, file)
        if ready is not None:
            return serve_ready(request, ready)
        try:
            # The deadline lets the code-host client fit its attempts into what is left.
            with anyio.fail_after(self.request_timeout), deadline.deadline(self.request_timeout):
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
        except (InvalidVersionError, InvalidPathError) as exc:
            # Go's rules refused something in the request: a refusal, as Go gives it.
            log.info("%s %s: refused: %s", request.method, request.url.path, exc)
            return error_response(NotFoundError(f"{path}: {exc}"))
        except Exception:
            log.exception("internal error serving %s", request.url.path)
            return internal_error()

    def repo_for(self, path: str) -> ModuleRepo:
        """The module repository serving module ``path``."""
        recent = self.shared.recent
        config = self.config
        return ModuleRepo(
            self.config,
            self.source,
            path,
            cache=self.shared.cache,
            zips=self.shared.zips,
            repo_url=self.repo_url,
            store=self.shared.store,
            index=self.shared.index,
            # The watch re-lists modules that have versions: junk configs are not kept.
            on_versions=(lambda: recent.touch(config, path)) if recent is not None else None,
        )

    async def _serve(self, request: Request, path: str, file: str) -> Response:
        # A version's .info and .mod never change: their answer is prepared once and
        # kept (bounded, in the process cache that holds the client's other results),
        # and served again before anything else is built.
        ready = self._ready(path, file)
        if ready is not None:
            return serve_ready(request, ready)
        repo = self.repo_for(path)
        if file == "list":
            versions, stale = await repo.versions_or_stale()
            body = "".join(v + "\n" for v in versions).encode()
            return self._changing(request, path, file, body, TEXT, stale)
        if file == "@latest":
            info, stale = await repo.latest_or_stale()
            body = info.to_json(self.repo_url, repo.code_dir)
            return self._changing(request, path, file, body, "application/json", stale)
        if file == "@gosub/tags":
            tags = await self.source.list_tags("")
            return respond(request, "".join(t + "\n" for t in tags).encode(), TEXT, SHORT)
        if file == "@gosub/rate_limit":
            # The host's own answer: counts and reset times, never the token.
            limits = await self.source.rate_limit()
            if limits is None:
                raise NotFoundError(f"{self.source.display_name} has no rate limit")
            body = json.dumps(limits).encode() + b"\n"
            return respond(request, body, "application/json", "no-store")
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
        # Not for a .mod alone: the go command's module graph asks many versions' .mod
        # and few of their zips, and a tarball each would waste quota and bandwidth.
        prefetching = PREFETCH_ARCHIVE.set(ext != "mod")
        try:
            return await self._serve_version(request, repo, path, file, version, ext)
        finally:
            PREFETCH_ARCHIVE.reset(prefetching)

    def _ready(self, path: str, file: str) -> Ready | None:
        """The prepared answer for ``file`` of module ``path`` while it may be served."""
        ready = self.shared.cache.get(("ready", self._identity, path, file))
        if isinstance(ready, Ready) and ready.fresh(time.monotonic()):
            return ready
        return None

    def _changing(
        self,
        request: Request,
        path: str,
        file: str,
        body: bytes,
        media_type: str,
        stale: str | None,
    ) -> Response:
        """A ``list`` or ``@latest`` answer: a fresh one is kept ready for
        ``shared.list_ttl`` seconds (see :data:`~gosub.web.shared.LIST_TTL`); a stale
        one (the code host failed) is never kept."""
        if stale is not None:
            return mark_stale(respond(request, body, media_type, SHORT), stale)
        ttl = self.shared.list_ttl
        if ttl <= 0:
            return respond(request, body, media_type, SHORT)
        ready = prepare(body, media_type, SHORT, fresh_until=time.monotonic() + ttl)
        self.shared.cache.put(("ready", self._identity, path, file), ready)
        return serve_ready(request, ready)

    async def _serve_version(
        self, request: Request, repo: ModuleRepo, path: str, file: str, version: str, ext: str
    ) -> Response:
        """A version's .info, .mod or .zip (part of :meth:`_serve`)."""
        ready_key = ("ready", self._identity, path, file)
        if ext == "info":
            info = await repo.stat(version)
            stable = version == info.version and (
                semver.canonical(version) != "" or pseudo.is_pseudo_version(version)
            )
            body = info.to_json(self.repo_url, repo.code_dir)
            if not stable:
                return respond(request, body, "application/json", SHORT)
            ready = prepare(body, "application/json", IMMUTABLE)
            self.shared.cache.put(ready_key, ready)
            return serve_ready(request, ready)
        if ext == "mod":
            ready = prepare(await repo.go_mod(version), TEXT, IMMUTABLE)
            self.shared.cache.put(ready_key, ready)
            return serve_ready(request, ready)
        if self.shared.inline_max_bytes is not None and self.shared.store is not None:
            found = await repo.zip_size(version)
            if found is not None and found[0] > self.shared.inline_max_bytes:
                url = await self.shared.store.url_for(found[1], expires=REDIRECT_EXPIRES)
                if url is not None:
                    # Too big to answer inline (Lambda's 6 MB response limit): the go
                    # command follows the redirect to the store.
                    return RedirectResponse(url, 307, headers={"Cache-Control": "no-store"})
        return await zip_response(request, await repo.zip(version))


@functools.lru_cache(maxsize=4096)
def _unescape_path(escaped: str) -> str:
    """:func:`gosub.golang.module.unescape_path`, remembered (it runs per request)."""
    return gomodule.unescape_path(escaped)


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
    list_ttl: float = LIST_TTL,
) -> GoproxyApp:
    """An ASGI app serving the GOPROXY protocol for ``config``'s module under ``base``.

    ``env`` is read for ``GITHUB_TOKEN`` and ``GITHUB_API_URL`` (default ``os.environ``;
    pass ``{}`` to ignore the environment). Requests outside ``base`` or for another
    module go to ``fallback`` when given, else get a 404 that says why. ``shared`` lets
    several apps share one GitHub client and cache. ``request_timeout`` bounds the time
    spent on one request (default: the shared setting, 300 s). Without ``shared``, a
    revalidated list or ``@latest`` is served again for ``list_ttl`` seconds.
    """
    owns = shared is None
    if shared is None:
        shared = make_shared(env, timeout=timeout, retry=retry, list_ttl=list_ttl)
    return GoproxyApp(
        base,
        config,
        shared,
        fallback=fallback,
        owns_shared=owns,
        request_timeout=request_timeout,
    )
