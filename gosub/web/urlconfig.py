"""The URL-configured proxy: ``gosub(base)`` reads each module's config from the URL.

The format is the original gosub's, so URLs already published in ``go-import`` tags and
``GOPROXY`` settings keep working::

    BASE + github.com/OWNER/REPO[:d=DIR&m=MODULE&p=PREFIX&s=SUFFIX]; + /MODULE/@v/...

The parameters are ``application/x-www-form-urlencoded`` (the original used JavaScript's
``URLSearchParams``), parameters equal to their defaults are omitted, and the first ``;``
ends the config. Unlike the original, values containing ``:``, ``;``, ``&``, ``=``, ``%`` or
``+`` round-trip: the config is split on the raw, still-encoded text, never on decoded
values.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, unquote_plus

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gosub.config import GoproxyConfig
from gosub.errors import ConfigError, GosubError, NotFoundError
from gosub.sources import RetryPolicy
from gosub.store import ProcessCache, ZipStore
from gosub.web import webpage
from gosub.web.proxy import GoproxyApp
from gosub.web.responses import first_header, text_error
from gosub.web.shared import LIST_TTL, Shared, make_shared

log = logging.getLogger("gosub")

_PARAMS = (("d", "directory"), ("m", "module"), ("p", "tag_prefix"), ("s", "tag_suffix"))
_DEFAULTS: dict[str, Any] = {"directory": "", "module": None, "tag_prefix": "v", "tag_suffix": ""}
# The form-urlencoded serializer (WHATWG URL standard) leaves only these bytes alone.
_SAFE = frozenset(b"*-._0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
EXAMPLE = "github.com/OWNER/REPO:d=go%2Fmylib&p=mylib-go-;"
MAX_CONFIG = 2048


def _form_encode(value: str) -> str:
    """application/x-www-form-urlencoded, exactly as ``URLSearchParams.toString()``."""
    out = []
    for b in value.encode("utf-8"):
        if b in _SAFE:
            out.append(chr(b))
        elif b == 0x20:
            out.append("+")
        else:
            out.append(f"%{b:02X}")
    return "".join(out)


# The forge of a host named in a URL config, unless the server's forge_hosts says
# otherwise; any other host is a GitHub Enterprise Server. Never "git": a URL must not
# make a shared server run git against a remote of the visitor's choosing.
KNOWN_FORGES = {"github.com": "github", "gitlab.com": "gitlab"}


def gosub_encode(config: GoproxyConfig) -> str:
    """The URL path segment that configures ``config`` (ends with ``;``)."""
    if config.forge not in ("github", "gitlab") or ":" in config.host:
        raise ConfigError(
            "the gosub URL format names GitHub and GitLab repositories (HOST/PATH, no port), "
            "not git remotes"
        )
    params = []
    for key, field in _PARAMS:
        value = getattr(config, field)
        if value is not None and value != _DEFAULTS[field]:
            params.append(f"{key}={_form_encode(value)}")
    query = ":" + "&".join(params) if params else ""
    return f"{config.host}/{config.path}{query};"


def gosub_decode(
    path: str, forges: Mapping[str, str] | None = None
) -> tuple[GoproxyConfig, str] | None:
    """Decode the config at the start of ``path`` (the raw, percent-encoded path):
    ``HOST/PATH[:PARAMS];``, where ``forges`` maps hosts to their forge (default
    :data:`KNOWN_FORGES`; other hosts are GitHub Enterprise Servers).

    Returns ``(config, used)`` where ``used`` is the consumed text including the ``;``,
    or ``None`` when ``path`` does not start with a gosub config. An invalid value
    raises :class:`gosub.errors.ConfigError` naming the field.
    """
    spec, semi, _ = path.partition(";")
    if not semi:
        return None
    if len(spec) > MAX_CONFIG:
        raise ConfigError(f"the config is {len(spec)} characters long; at most {MAX_CONFIG}")
    repo_part, colon, args = spec.partition(":")
    parts = repo_part.split("/")
    if len(parts) < 3 or not all(parts) or "." not in parts[0]:
        return None
    host = parts[0].lower()
    forge = {**KNOWN_FORGES, **(forges or {})}.get(host, "github")
    if forge == "github" and len(parts) != 3:
        raise ConfigError(f"{host} repositories are {host}/OWNER/REPO, not {repo_part}")
    kwargs: dict[str, Any] = {}
    if colon and args:
        for pair in args.split("&"):
            if not pair:
                continue
            key, _, raw = pair.partition("=")
            field = dict(_PARAMS).get(unquote_plus(key))
            if field is None:
                raise ConfigError(
                    f"unknown parameter {unquote_plus(key)!r} in the gosub URL: use d (directory), "
                    "m (module), p (tag prefix) or s (tag suffix)"
                )
            # URLSearchParams.get returns the first value of a repeated parameter.
            kwargs.setdefault(field, unquote_plus(raw, errors="strict"))
    # Always a forge API, never git: github.com/o/r.git must not read as a git remote.
    config = GoproxyConfig(url=f"https://{repo_part}", forge=forge, **kwargs)
    return config, spec + ";"


class GosubApp:
    """The ASGI app :func:`gosub` returns."""

    def __init__(
        self,
        base: str,
        shared: Shared,
        *,
        fallback: ASGIApp | None = None,
        owns_shared: bool = False,
        max_apps: int = 256,
        owners: Iterable[str] | None = None,
        allow_private: bool = False,
        visibility_ttl: float = 600.0,
        forge_hosts: Iterable[str] | None = None,
        reserve: float = 0.2,
    ) -> None:
        self.forges = forge_map(forge_hosts)
        self._decoded: OrderedDict[str, tuple[GoproxyConfig, str]] = OrderedDict()
        # Below this share of the token's hourly quota, only configs already known (with
        # a version served) are built: strangers cannot spend what known modules need.
        self.reserve = reserve
        self._known: OrderedDict[GoproxyConfig, None] = OrderedDict()
        self.base = "/" + base.strip("/") + "/" if base.strip("/") else "/"
        self.shared = shared
        self.owners = {o.lower() for o in owners} if owners is not None else None
        self.allow_private = allow_private
        self.visibility_ttl = visibility_ttl
        self._public: dict[tuple[str, str], tuple[float, bool]] = {}
        self.fallback = fallback
        self._owns = owns_shared
        self._apps: OrderedDict[tuple[GoproxyConfig, str], GoproxyApp] = OrderedDict()
        # sha256(client token) → that client's own GitHub client and caches.
        self._client_caches: OrderedDict[str, Shared] = OrderedDict()
        self._closing: set[asyncio.Future[None]] = set()
        # Requests in flight per client key: an evicted client's connections are closed
        # only once none uses them.
        self._in_use: dict[str, int] = {}
        self._evicted: dict[str, Shared] = {}
        self._max_apps = max_apps

    def _decode(self, rest: str) -> tuple[GoproxyConfig, str] | None:
        """:func:`gosub_decode` of the path, remembered per config text (bounded): the
        config is parsed and validated once, not on every request."""
        spec, semi, _ = rest.partition(";")
        if not semi:
            return None
        hit = self._decoded.get(spec)
        if hit is not None:
            self._decoded.move_to_end(spec)
            return hit
        decoded = gosub_decode(rest, self.forges)
        if decoded is not None:
            self._decoded[spec] = decoded
            while len(self._decoded) > 4096:
                self._decoded.popitem(last=False)
        return decoded

    def app_for(self, config: GoproxyConfig, client_key: str = "") -> GoproxyApp:
        """The (reused) goproxy app serving ``config`` with the server's client and
        caches, or (``client_key``) with a client's own token and caches."""
        shared = self._client_caches[client_key] if client_key else self.shared
        key = (config, client_key)
        app = self._apps.get(key)
        if app is None:
            app = GoproxyApp(self.base + gosub_encode(config), config, shared)
            self._apps[key] = app
            while len(self._apps) > self._max_apps:
                self._apps.popitem(last=False)
        self._apps.move_to_end(key)
        return app

    def _client_key(self, request: Request) -> str:
        """A client's own GitHub token (HTTP Basic auth on the GOPROXY URL, as the go
        command sends from URL credentials or .netrc) gets its own client and caches:
        what it fetches is never served to anyone else. Returns the key of that client's
        caches (a digest of the token), or "" for requests without one."""
        auth = first_header(request, b"authorization")
        if not auth:
            return ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() != "basic" or not value:
            return ""
        try:
            _user, _, token = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        if not token:
            return ""
        key = hashlib.sha256(token.encode()).hexdigest()
        shared = self._client_caches.get(key)
        if shared is None:
            shared = Shared(
                self.shared.sources.with_token(token),
                ProcessCache(max_entries=2000, max_bytes=8 << 20),
                ZipStore(max_bytes=256 << 20),
                list_ttl=self.shared.list_ttl,
            )
            self._client_caches[key] = shared
            while len(self._client_caches) > 32:
                old_key, old = self._client_caches.popitem(last=False)
                for app_key in [k for k in self._apps if k[1] == old_key]:
                    del self._apps[app_key]
                self._evicted[old_key] = old
                self._close_if_idle(old_key)
        self._client_caches.move_to_end(key)
        return key

    def _close_if_idle(self, key: str) -> None:
        """Close an evicted client's connections once no request uses them."""
        if self._in_use.get(key) or key not in self._evicted:
            return
        task = asyncio.ensure_future(_close(self._evicted.pop(key)))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    for client_shared in self._client_caches.values():
                        await _close(client_shared)
                    if self._owns:
                        await self.shared.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        # Decode from the raw path: values may hold %3B (;) or %26 (&), which a decoded
        # path would turn into separators.
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if raw else scope.get("path", "")
        root = scope.get("root_path", "")
        if not path.startswith(self.base) and root and path.startswith(root):
            path = path[len(root) :] or "/"
        if not path.startswith(self.base):
            await self._reject(scope, receive, send, 404, f"{path} is outside {self.base}")
            return
        rest = path[len(self.base) :]
        if rest == "" and scope.get("method") in ("GET", "HEAD"):
            await self._page(scope, receive, send)
            return
        try:
            decoded = self._decode(rest)
        except (ConfigError, UnicodeDecodeError) as exc:
            await self._reject(scope, receive, send, 400, f"bad request: bad gosub config: {exc}")
            return
        if decoded is None:
            await self._reject(
                scope,
                receive,
                send,
                404,
                "this is a gosub server: the path must start with a module config such as "
                f"{self.base}{EXAMPLE}/MODULE/@v/list (github.com/OWNER/REPO, then optional "
                "d=DIRECTORY, m=MODULE, p=TAG_PREFIX, s=TAG_SUFFIX, form-encoded, ended by ';')",
            )
            return
        config, used = decoded
        if config.host not in self.forges:
            await self._reject(
                scope,
                receive,
                send,
                404,
                f"this gosub server does not serve repositories on {config.host} "
                f"(it serves {', '.join(sorted(self.forges))})",
            )
            return
        module_rest = rest[len(used) :]
        if not module_rest.startswith("/"):
            await self._reject(scope, receive, send, 404, f"expected /MODULE/@v/... after {used!r}")
            return
        # The module part is an ordinary GOPROXY path: percent-decode it as servers do.
        request = Request(scope, receive)
        client_key = self._client_key(request)
        if client_key and config.forge != "github":
            await self._reject(
                scope,
                receive,
                send,
                400,
                "bad request: a token in the GOPROXY URL is a GitHub token; this server "
                f"reads {config.host} with its own credentials only (drop the token)",
            )
            return
        if not client_key:
            refusal = await self._refusal(config)
            if refusal is not None:
                await self._reject(scope, receive, send, *refusal)
                return
        elif self.owners is not None and _owner(config) not in self.owners:
            await self._reject(
                scope, receive, send, 403, f"forbidden: {config.owner} is not served here"
            )
            return
        app = self.app_for(config, client_key)
        if (
            not client_key
            and config not in self._known
            and self.shared.sources.quota_low(self.reserve)
        ):
            await self._reject(
                scope,
                receive,
                send,
                429,
                "too many requests: this server's GitHub quota is low, so it is keeping what "
                "is left for modules it already serves; try again later, or run your own gosub",
                headers={"Retry-After": "600"},
            )
            return
        self._in_use[client_key] = self._in_use.get(client_key, 0) + 1
        try:
            response = await app.handle(request, unquote(module_rest[1:]))
            if (
                not isinstance(response, str)
                and response.status_code in (200, 304)
                and not client_key
            ):
                self._known[config] = None
                self._known.move_to_end(config)
                while len(self._known) > 10_000:
                    self._known.popitem(last=False)
            if isinstance(response, str):
                await self._reject(scope, receive, send, 404, response, private=bool(client_key))
                return
            if client_key:
                _private(response)
            # Raw: no answer here carries a Vary yet, and a headers view costs a scan.
            response.raw_headers.append((b"vary", b"Authorization"))
            await response(scope, receive, send)
        finally:
            self._in_use[client_key] -= 1
            if not self._in_use[client_key]:
                del self._in_use[client_key]
                self._close_if_idle(client_key)

    async def _page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The web page that builds gosub URLs (with a server-side version check)."""
        request = Request(scope, receive)
        params = webpage.normalize(request.query_params)
        scheme = request.headers.get("x-forwarded-proto", request.url.scheme)
        origin_base = f"{scheme}://{request.headers.get('host', request.url.netloc)}{self.base}"

        async def list_versions(config: GoproxyConfig, module: str) -> list[str]:
            refusal = await self._refusal(config)
            if refusal is not None:
                raise GosubError(refusal[1], status=refusal[0])
            return await self.app_for(config).repo_for(module).versions()

        def encode(config: GoproxyConfig) -> str:
            if config.host not in self.forges:
                raise ConfigError(
                    f"this gosub server does not serve repositories on {config.host} "
                    f"(it serves {', '.join(sorted(self.forges))})"
                )
            return gosub_encode(config)

        async def inspect(config: GoproxyConfig, module: str, versions: list[str]) -> list[str]:
            return await webpage.module_warnings(self.app_for(config).repo_for(module), versions)

        result = await webpage.compute(origin_base, params, encode, list_versions, inspect)
        body = webpage.render(origin_base, params, result)
        await Response(
            body, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"}
        )(scope, receive, send)

    async def _refusal(self, config: GoproxyConfig) -> tuple[int, str] | None:
        """Why this shared server will not serve ``config``'s repository, if it won't.

        A shared server must not turn its token into everyone's key to the private
        repositories that token can read: unless ``allow_private``, only public
        repositories are served (checked when the server has a token; without one,
        GitHub shows nothing else), optionally only for allowed owners.
        """
        if self.owners is not None and _owner(config) not in self.owners:
            return 403, (
                f"forbidden: this gosub server only serves repositories of "
                f"{', '.join(sorted(self.owners))}; {config.owner} is not one of them"
            )
        if self.allow_private or not self.shared.sources.has_token:
            return None
        key = (config.owner.lower(), config.repo.lower())
        now = time.monotonic()
        known = self._public.get(key)
        if known is None or now - known[0] > self.visibility_ttl:
            try:
                public = await self.app_for(config).source.is_public()
            except NotFoundError:
                public = False
            except GosubError as exc:
                return exc.status, exc.message
            known = (now, public)
            self._public[key] = known
        if not known[1]:
            return 404, (
                f"{config.repo_path} is not a public repository; this shared gosub server "
                "serves public repositories only"
            )
        return None

    async def _reject(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        status: int,
        why: str,
        *,
        private: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        if self.fallback is not None and status == 404:
            await self.fallback(scope, receive, send)
            return
        response = text_error(status, ("not found: " if status == 404 else "") + why, headers)
        if private:
            _private(response)
        response.headers["Vary"] = "Authorization"
        await response(scope, receive, send)


def forge_map(hosts: Iterable[str] | None) -> dict[str, str]:
    """The hosts a shared server serves, each with its forge: entries ``HOST`` (forge
    from :data:`KNOWN_FORGES`, else GitHub Enterprise) or ``HOST=FORGE`` (github or
    gitlab; never git). Default: github.com only."""
    out: dict[str, str] = {}
    for entry in ["github.com"] if hosts is None else hosts:
        host, _, forge = entry.strip().lower().partition("=")
        forge = forge or KNOWN_FORGES.get(host, "github")
        if not host or forge not in ("github", "gitlab"):
            raise ConfigError(f"forge_hosts entry {entry!r}: expected HOST or HOST=github|gitlab")
        out[host] = forge
    return out


def _owner(config: GoproxyConfig) -> str:
    """The owner an ``owners`` allowlist names: the user, organisation or top group."""
    return config.path.split("/", 1)[0].lower()


def _private(response: Response) -> None:
    """An answer built with a client's own token: no shared cache (a CDN) may keep it for
    anyone else."""
    control = response.headers.get("cache-control", "")
    if "no-store" not in control:
        kept = [d.strip() for d in control.split(",") if d.strip() and d.strip() != "public"]
        response.headers["Cache-Control"] = ", ".join(["private", *kept])


async def _close(shared: Shared) -> None:
    await shared.aclose()


def gosub(
    base: str = "/",
    *,
    env: Mapping[str, str] | None = None,
    fallback: ASGIApp | None = None,
    shared: Shared | None = None,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
    owners: Iterable[str] | None = None,
    allow_private: bool = False,
    forge_hosts: Iterable[str] | None = None,
    list_ttl: float = LIST_TTL,
) -> GosubApp:
    """An ASGI app serving any GitHub module whose config is encoded in the URL:
    ``BASE + gosub_encode(config) + "/" + MODULE/@v/...``.

    ``env`` is read for ``GITHUB_TOKEN`` and ``GITHUB_API_URL`` (default ``os.environ``;
    ``{}`` ignores the environment). Paths that are not gosub URLs go to ``fallback``
    when given, else get a 404 explaining the format. Only public repositories are
    served unless ``allow_private``; ``owners`` restricts the served owners;
    ``forge_hosts`` lists the code hosts served (default github.com only; see
    :func:`forge_map`). Without ``shared``, a revalidated list or ``@latest`` is
    served again for ``list_ttl`` seconds.
    """
    owns = shared is None
    if shared is None:
        shared = make_shared(env, timeout=timeout, retry=retry, list_ttl=list_ttl)
    return GosubApp(
        base,
        shared,
        fallback=fallback,
        owns_shared=owns,
        owners=owners,
        allow_private=allow_private,
        forge_hosts=forge_hosts,
    )


__all__ = ["GosubApp", "gosub", "gosub_decode", "gosub_encode"]
