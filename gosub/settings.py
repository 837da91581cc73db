"""Deployment settings: a TOML file plus environment overrides, and the one function that
builds the whole ASGI app from them (used by ``gosub serve``, ``handlers/asgi.py`` and the
Lambda handler alike).

Example ``gosub.toml``::

    [server]
    host = "0.0.0.0"
    port = 8080
    shared = true            # serve the URL-configured gosub app at shared_base
    shared_base = "/"
    owners = ["acme"]        # shared mode: only these owners' repositories
    allow_private = false    # shared mode: never serve private repositories

    git_hosts = ["git.example.com"]  # the git source: only these hosts ("file": local)
    git_timeout = 120        # the git source: seconds per git command
    offline = false          # true: never contact a code host or the upstream
    upstream = "https://proxy.golang.org"  # modules nothing else covers (checked, kept)
    sumdb_proxy = ""         # "https://sum.golang.org": relay /sumdb/ (default: 404)

    [[module]]               # any number of fixed modules (goproxy mode)
    module = "example.com/lib"
    url = "https://github.com/acme/lib"
    directory = "go"
    tag_prefix = "lib-go-"
    base = "/go/"
    # forge = "git"          # github, gitlab or git (default: inferred from url)

    [[mirror]]               # read-only trees served as is, after modules and shared
    path = "/var/lib/athens"
    layout = "athens"        # or "goproxy" (a static GOPROXY, GOMODCACHE cache/download)

Environment: ``GOSUB_CONFIG`` (the file), ``GOSUB_HOST``, ``GOSUB_PORT``,
``GOSUB_OWNERS`` (comma-separated), ``GOSUB_CACHE_DIR`` (the disk cache, default
``~/.cache/gosub``; empty to disable), ``GOSUB_CACHE_BUCKET`` and ``GOSUB_CACHE_PREFIX``
(an S3 bucket as the persistent tier instead of the directory; boto3's own settings,
such as ``AWS_ENDPOINT_URL_S3``, apply), ``GOSUB_INLINE_MAX_BYTES`` (zips larger than
this are answered with a 307 to a presigned URL of the bucket's copy),
``GOSUB_REQUEST_TIMEOUT`` (seconds per request, default 300), ``GOSUB_ZIP_CACHE_BYTES``
(the local spool of built zips, default 2 GiB), ``GOSUB_GIT_HOSTS`` (comma-separated),
``GOSUB_GIT_TIMEOUT``, ``GOSUB_WATCH_INTERVAL`` (seconds between watch passes, default
600, 0 off), ``GOSUB_OFFLINE``, ``GOSUB_UPSTREAM``, ``GOSUB_SUMDB_PROXY``,
``GITHUB_TOKEN``, ``GITHUB_API_URL``.
With no file and no modules, gosub serves the shared URL-configured app at ``/``.
"""

from __future__ import annotations

import asyncio
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from gosub.config import GoproxyConfig
from gosub.errors import ConfigError
from gosub.store import Store
from gosub.web import Shared, goproxy, make_shared
from gosub.web.budget import ClientBudgets
from gosub.web.ops import OpsApp
from gosub.web.shared import LIST_TTL
from gosub.web.urlconfig import gosub

_SERVER_KEYS = {
    "host",
    "port",
    "shared",
    "shared_base",
    "owners",
    "forge_hosts",
    "log_level",
    "log_format",
    "memory_bytes",
    "client_burst",
    "client_rate",
    "trust_proxy_headers",
    "allow_private",
    "cache_dir",
    "cache_bucket",
    "cache_prefix",
    "inline_max_bytes",
    "request_timeout",
    "list_ttl",
    "zip_cache_bytes",
    "git_hosts",
    "git_timeout",
    "watch_interval",
    # offline and Athens-compatible (issue 12)
    "offline",
    "upstream",
    "sumdb_proxy",
}
_MODULE_KEYS = {"module", "url", "directory", "tag_prefix", "tag_suffix", "forge", "base"}
_MIRROR_KEYS = {"path", "layout"}


@dataclass(frozen=True)
class ModuleSettings:
    """One fixed module and where it is mounted."""

    config: GoproxyConfig
    base: str


@dataclass(frozen=True)
class MirrorSettings:
    """A read-only tree served as is: Athens' disk storage or a static GOPROXY."""

    path: str
    layout: str  # "athens" or "goproxy"


@dataclass(frozen=True)
class Settings:
    """Everything a gosub deployment is configured with."""

    host: str = "127.0.0.1"
    port: int = 8080
    shared: bool = True
    shared_base: str = "/"
    owners: tuple[str, ...] | None = None
    # shared mode: the code hosts served, HOST or HOST=github|gitlab (github.com only)
    forge_hosts: tuple[str, ...] = ("github.com",)
    # Per-client budget of upstream requests: a burst, refilled per second (None: 0.5
    # when the shared server is on, else off; 0: off). Behind that many proxies that
    # append to X-Forwarded-For, trust_proxy_headers takes the client from it.
    memory_bytes: int = 256 << 20  # in-process caches: results, listings, file contents
    client_burst: float = 100
    client_rate: float | None = None
    trust_proxy_headers: int = 0
    log_level: str = "info"  # debug, info, warning, error
    log_format: str = "text"  # text or json (one object a line)
    allow_private: bool = False
    modules: tuple[ModuleSettings, ...] = field(default_factory=tuple)
    cache_dir: str = ""  # the persistent disk tier ("" = none)
    cache_bucket: str = ""  # the persistent tier in S3 instead ("" = none)
    cache_prefix: str = ""  # key prefix inside the bucket
    inline_max_bytes: int | None = None  # bigger zips: 307 to the bucket (None = inline)
    request_timeout: float = 300.0  # seconds one request may take before a 504
    list_ttl: float = LIST_TTL  # seconds a revalidated list/@latest is reused (0: never)
    zip_cache_bytes: int = 2 << 30  # local spool of built zips (LRU)
    git_hosts: tuple[str, ...] | None = None  # git source: only these hosts (None = any)
    git_timeout: float = 120.0  # git source: seconds one git command may take
    watch_interval: float = 600.0  # seconds between watch passes (0 = no watch loop)
    # -- offline and Athens-compatible (issue 12) --
    offline: bool = False  # never contact a code host or the upstream: serve the store
    upstream: str = ""  # a GOPROXY URL for modules nothing else covers ("" = none)
    sumdb_proxy: str = ""  # relay /sumdb/HOST/... to this checksum database ("" = 404)
    mirrors: tuple[MirrorSettings, ...] = field(default_factory=tuple)


def _module(entry: Any, index: int) -> ModuleSettings:
    where = f"[[module]] #{index + 1}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = set(entry) - _MODULE_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
            f"expected {', '.join(sorted(_MODULE_KEYS))}"
        )
    if "url" not in entry:
        raise ConfigError(f"{where}: url is required")
    base = entry.get("base", "/")
    if not isinstance(base, str) or not base.startswith("/"):
        raise ConfigError(f"{where}: base must be a URL path starting with '/'")
    try:
        config = GoproxyConfig(
            url=entry["url"],
            module=entry.get("module"),
            directory=entry.get("directory", ""),
            tag_prefix=entry.get("tag_prefix", "v"),
            tag_suffix=entry.get("tag_suffix", ""),
            forge=entry.get("forge"),
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return ModuleSettings(config, base)


def _mirror(entry: Any, index: int) -> MirrorSettings:
    where = f"[[mirror]] #{index + 1}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = set(entry) - _MIRROR_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; expected path, layout"
        )
    path, layout = entry.get("path"), entry.get("layout", "goproxy")
    if not isinstance(path, str) or not path:
        raise ConfigError(f"{where}: path (a directory) is required")
    if layout not in ("athens", "goproxy"):
        raise ConfigError(f'{where}: layout must be "athens" or "goproxy", not {layout!r}')
    return MirrorSettings(path, layout)


def _url_setting(key: str, value: Any, *, named: bool = False) -> str:
    """An http(s) URL, or "" (``named``: also NAME=URL)."""
    url = value
    if named and isinstance(value, str) and "=" in value.split("://", 1)[0]:
        url = value.partition("=")[2]
    if not isinstance(url, str) or (url and not url.startswith(("http://", "https://"))):
        raise ConfigError(f"[server] {key} must be an http(s) URL, not {value!r}")
    return str(value).rstrip("/")


def load_settings(
    env: Mapping[str, str] | None = None,
    path: str | Path | None = None,
    *,
    modules: Sequence[ModuleSettings] | None = None,
) -> Settings:
    """Read the TOML file (``path``, else ``GOSUB_CONFIG``, else none) and apply the
    environment overrides. Errors name the file and the key. ``modules`` (``gosub serve
    --url``) are served instead of any file's, with the same defaults and environment
    (the disk cache, ``GOSUB_PORT``...); they cannot be combined with a file."""
    env = os.environ if env is None else env
    if modules is not None and (path or env.get("GOSUB_CONFIG")):
        raise ConfigError(
            "--url serves one module without a settings file; drop --config (or "
            "GOSUB_CONFIG), or put the module in the file as a [[module]] table"
        )
    file = path or env.get("GOSUB_CONFIG")
    data: dict[str, Any] = {}
    if file:
        try:
            data = tomllib.loads(Path(file).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {file} is not valid TOML: {exc}") from exc
    unknown = set(data) - {"server", "module", "mirror"}
    if unknown:
        raise ConfigError(
            f"unknown section(s) {', '.join(sorted(unknown))}: use [server], [[module]] "
            "and [[mirror]]"
        )
    server = data.get("server", {})
    if not isinstance(server, dict):
        raise ConfigError("[server] must be a table")
    bad = set(server) - _SERVER_KEYS
    if bad:
        raise ConfigError(
            f"[server]: unknown key(s) {', '.join(sorted(bad))}; "
            f"expected {', '.join(sorted(_SERVER_KEYS))}"
        )
    tables = data.get("module", [])
    if not isinstance(tables, list):
        raise ConfigError("module must be an array of tables: [[module]]")
    served = (
        tuple(modules)
        if modules is not None
        else tuple(_module(m, i) for i, m in enumerate(tables))
    )
    owners = server.get("owners")
    if env.get("GOSUB_OWNERS"):
        owners = [o.strip() for o in env["GOSUB_OWNERS"].split(",") if o.strip()]
    if owners is not None and not (
        isinstance(owners, list) and all(isinstance(o, str) for o in owners)
    ):
        raise ConfigError("[server] owners must be a list of GitHub owner names")
    port: Any = env.get("GOSUB_PORT") or server.get("port", 8080)
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise ConfigError(f"port must be a number, not {port!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"port {port} is out of range")
    inline: Any = env.get("GOSUB_INLINE_MAX_BYTES") or server.get("inline_max_bytes")
    if inline is not None:
        inline = _number("inline_max_bytes", inline, int)
    request_timeout = _number(
        "request_timeout",
        env.get("GOSUB_REQUEST_TIMEOUT") or server.get("request_timeout", 300),
        float,
    )
    list_ttl = _number(
        "list_ttl", env.get("GOSUB_LIST_TTL") or server.get("list_ttl", LIST_TTL), float
    )
    zip_cache_bytes = _number(
        "zip_cache_bytes",
        env.get("GOSUB_ZIP_CACHE_BYTES") or server.get("zip_cache_bytes", 2 << 30),
        int,
    )
    git_hosts: Any = server.get("git_hosts")
    if env.get("GOSUB_GIT_HOSTS") is not None:
        git_hosts = [h.strip() for h in env["GOSUB_GIT_HOSTS"].split(",") if h.strip()]
    if git_hosts is not None and not (
        isinstance(git_hosts, list) and all(isinstance(h, str) for h in git_hosts)
    ):
        raise ConfigError('[server] git_hosts must be a list of host names (or "file")')
    git_timeout = _number(
        "git_timeout", env.get("GOSUB_GIT_TIMEOUT") or server.get("git_timeout", 120), float
    )
    forge_hosts: Any = server.get("forge_hosts", ["github.com"])
    if env.get("GOSUB_FORGE_HOSTS"):
        forge_hosts = [h.strip() for h in env["GOSUB_FORGE_HOSTS"].split(",") if h.strip()]
    if not (isinstance(forge_hosts, list) and all(isinstance(h, str) for h in forge_hosts)):
        raise ConfigError("[server] forge_hosts must be a list of host names")
    from gosub.web.urlconfig import forge_map

    forge_map(forge_hosts)  # refuses a bad entry now, not at the first request
    log_level = str(env.get("GOSUB_LOG_LEVEL") or server.get("log_level", "info")).lower()
    log_format = str(env.get("GOSUB_LOG_FORMAT") or server.get("log_format", "text")).lower()
    from gosub.logs import FORMATS, LEVELS

    if log_level not in LEVELS:
        raise ConfigError(f"log_level {log_level!r}: expected one of {', '.join(LEVELS)}")
    if log_format not in FORMATS:
        raise ConfigError(f"log_format {log_format!r}: expected one of {', '.join(FORMATS)}")
    settings = Settings(
        host=str(env.get("GOSUB_HOST") or server.get("host", "127.0.0.1")),
        port=port,
        shared=bool(server.get("shared", not served)),
        shared_base=str(server.get("shared_base", "/")),
        owners=tuple(owners) if owners is not None else None,
        forge_hosts=tuple(forge_hosts),
        log_level=log_level,
        log_format=log_format,
        memory_bytes=_number(
            "memory_bytes",
            env.get("GOSUB_MEMORY_BYTES") or server.get("memory_bytes", 256 << 20),
            int,
        ),
        client_burst=_number(
            "client_burst", env.get("GOSUB_CLIENT_BURST") or server.get("client_burst", 100), float
        ),
        client_rate=(
            None
            if (env.get("GOSUB_CLIENT_RATE") or server.get("client_rate")) is None
            else _number(
                "client_rate", env.get("GOSUB_CLIENT_RATE") or server.get("client_rate"), float
            )
        ),
        trust_proxy_headers=_proxy_hops(
            env["GOSUB_TRUST_PROXY_HEADERS"]
            if env.get("GOSUB_TRUST_PROXY_HEADERS")
            else server.get("trust_proxy_headers", False)
        ),
        allow_private=bool(server.get("allow_private", False)),
        modules=served,
        cache_dir=str(env.get("GOSUB_CACHE_DIR", server.get("cache_dir", default_cache_dir(env)))),
        cache_bucket=str(env.get("GOSUB_CACHE_BUCKET") or server.get("cache_bucket", "")),
        cache_prefix=str(env.get("GOSUB_CACHE_PREFIX") or server.get("cache_prefix", "")),
        inline_max_bytes=inline,
        request_timeout=request_timeout,
        list_ttl=list_ttl,
        zip_cache_bytes=zip_cache_bytes,
        git_hosts=tuple(git_hosts) if git_hosts is not None else None,
        git_timeout=git_timeout,
        watch_interval=_number(
            "watch_interval",
            env.get("GOSUB_WATCH_INTERVAL") or server.get("watch_interval", 600),
            float,
        ),
        **_offline_settings(data, server, env),
    )
    if settings.inline_max_bytes is not None and not settings.cache_bucket:
        raise ConfigError(
            "inline_max_bytes needs cache_bucket: big zips are redirected to the bucket"
        )
    return settings


def _offline_settings(
    data: dict[str, Any], server: dict[str, Any], env: Mapping[str, str]
) -> dict[str, Any]:
    """``offline``, ``upstream``, ``sumdb_proxy`` and the ``[[mirror]]`` tables
    (environment: ``GOSUB_OFFLINE``, ``GOSUB_UPSTREAM``, ``GOSUB_SUMDB_PROXY``)."""
    mirrors = data.get("mirror", [])
    if not isinstance(mirrors, list):
        raise ConfigError("mirror must be an array of tables: [[mirror]]")
    offline: Any = server.get("offline", False)
    if env.get("GOSUB_OFFLINE"):
        offline = env["GOSUB_OFFLINE"].strip().lower() in ("1", "true", "yes", "on")
    if not isinstance(offline, bool):
        raise ConfigError("[server] offline must be true or false")
    return {
        "offline": offline,
        "upstream": _url_setting(
            "upstream", env.get("GOSUB_UPSTREAM") or server.get("upstream", "")
        ),
        "sumdb_proxy": _url_setting(
            "sumdb_proxy",
            env.get("GOSUB_SUMDB_PROXY") or server.get("sumdb_proxy", ""),
            named=True,
        ),
        "mirrors": tuple(_mirror(m, i) for i, m in enumerate(mirrors)),
    }


def _proxy_hops(value: Any) -> int:
    """``trust_proxy_headers``: how many proxies in front append to X-Forwarded-For
    (``true``: one; ``false``: none, the connection's address is the client)."""
    if isinstance(value, str):
        word = value.strip().lower()
        value = {"true": 1, "yes": 1, "on": 1, "false": 0, "no": 0, "off": 0}.get(word, word)
    if isinstance(value, bool):
        return int(value)
    try:
        hops = int(value)
    except (TypeError, ValueError):
        hops = -1
    if not 0 <= hops <= 16 or isinstance(value, float):
        raise ConfigError(
            f"trust_proxy_headers must be true, false or the number of proxies in front "
            f"(0-16), not {value!r}"
        )
    return hops


def _number(key: str, value: Any, kind: type[int] | type[float]) -> Any:
    """A non-negative number setting (TOML number or environment string)."""
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be a number, not {value!r}") from None
    if number < 0:
        raise ConfigError(f"{key} must not be negative")
    return number


def default_cache_dir(env: Mapping[str, str]) -> str:
    """``$XDG_CACHE_HOME/gosub`` (default ``~/.cache/gosub``): a local disk cache."""
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gosub")


def build_app(settings: Settings, env: Mapping[str, str] | None = None) -> ASGIApp:
    """The deployment's ASGI app: every fixed module (goproxy mode, vanity pages
    included), then the shared URL-configured app, chained through ``fallback``; one
    GitHub client and cache for all."""
    env = os.environ if env is None else env
    store: Store | None = None
    if settings.cache_bucket:
        from gosub.store.s3 import S3Store  # boto3 only for those who use it

        store = S3Store(settings.cache_bucket, prefix=settings.cache_prefix)
    shared = make_shared(
        env,
        cache_dir=settings.cache_dir or None,
        store=store,
        inline_max_bytes=settings.inline_max_bytes,
        request_timeout=settings.request_timeout,
        list_ttl=settings.list_ttl,
        max_zip_bytes=settings.zip_cache_bytes,
        memory_bytes=settings.memory_bytes,
        git_timeout=settings.git_timeout,
        git_hosts=settings.git_hosts,
    )
    app: ASGIApp | None = _tail(
        settings, shared, on_new_version=lambda m, v: _index_later(shared, m, v)
    )
    if settings.shared:
        app = gosub(
            settings.shared_base,
            shared=shared,
            owners=settings.owners,
            forge_hosts=settings.forge_hosts,
            allow_private=settings.allow_private,
            fallback=app,
        )
    for m in reversed(settings.modules):
        app = goproxy(m.base, m.config, shared=shared, fallback=app)
    if app is None:
        raise ConfigError(
            "nothing to serve: add [[module]] or [[mirror]] entries, set [server] upstream, "
            "or set [server] shared = true"
        )
    if settings.offline:
        from gosub.web.mirror import offline

        app = offline(app)
    rate = settings.client_rate
    if rate is None:
        rate = 0.5 if settings.shared else 0.0
    budgets = ClientBudgets(
        burst=settings.client_burst, rate=rate, trust_proxy_headers=settings.trust_proxy_headers
    )
    app = _with_index(app, settings, shared, store)
    return OpsApp(app, shared, describe=describe(settings, shared), budgets=budgets)


def describe(settings: Settings, shared: Shared) -> str:
    """The startup line: what is served, the cache, the code-host API, whether a token
    is set (never the token)."""
    mode = []
    if settings.shared:
        mode.append(
            f"shared URL configs at {settings.shared_base} ({', '.join(settings.forge_hosts)})"
        )
    if settings.modules:
        mode.append(
            ", ".join(
                f"{m.config.module or m.config.repo_path} at {m.base}" for m in settings.modules
            )
        )
    if settings.cache_bucket:
        cache = f"s3://{settings.cache_bucket}/{settings.cache_prefix}"
    else:
        cache = settings.cache_dir or "memory only"
    for mirror in settings.mirrors:
        mode.append(f"{mirror.layout} mirror {mirror.path} (read-only)")
    if settings.upstream:
        mode.append(f"everything else from {settings.upstream}")
    if settings.sumdb_proxy:
        mode.append(f"/sumdb/ relayed to {settings.sumdb_proxy}")
    api = shared.sources.api_url or "per host (api.github.com for github.com)"
    token = "set" if shared.sources.has_token else "not set"
    line = f"serving {'; '.join(mode)}; cache {cache}; GitHub API {api}; GITHUB_TOKEN {token}"
    if settings.offline:
        line += "; OFFLINE: no code host or upstream is contacted, the cache answers alone"
    return line


def _index_later(shared: Shared, module: str, version: str) -> None:
    """The pass-through's new versions go into the /index feed (when there is one)."""
    index = shared.index
    if index is not None:
        task = asyncio.get_running_loop().create_task(index.record(module, version))
        _PENDING.add(task)
        task.add_done_callback(_PENDING.discard)


_PENDING: set[asyncio.Task[Any]] = set()


def _with_index(app: ASGIApp, settings: Settings, shared: Shared, store: Store | None) -> ASGIApp:
    """A private pkgsite's needs (README "Run a private pkgsite on gosub"): the /index
    feed and the watch, both in the persistent tier (none: neither), and
    Disable-Module-Fetch."""
    from gosub.store import DiskStore
    from gosub.store.index import IndexLog
    from gosub.web.index import pkgsite_edge
    from gosub.web.watch import RecentModules, Watcher, with_watch

    if store is None and settings.cache_dir:
        store = DiskStore(settings.cache_dir)  # unguarded: the feed reports failures
    if store is None:
        return pkgsite_edge(app, None)
    shared.index = IndexLog(store)
    if settings.shared:
        shared.recent = RecentModules(store)
    modules = [(m.config, m.config.module) for m in settings.modules if m.config.module]
    watcher = Watcher(shared, modules, interval=settings.watch_interval, recent=shared.recent)
    edge = pkgsite_edge(app, shared.index)
    return with_watch(edge, watcher)


# -- offline and Athens-compatible (issue 12) -----------------------------------------

# Called with (module, version) for each version the upstream pass-through stores for
# the first time: the hook for the /index feed.
NewVersionHook = Callable[[str, str], None]


def _tail(
    settings: Settings, shared: Shared, on_new_version: NewVersionHook | None = None
) -> ASGIApp | None:
    """The end of the chain, after the fixed modules and the shared app: the read-only
    mirrors in their order, then the upstream pass-through (with the /sumdb endpoints)."""
    if not settings.mirrors and not settings.upstream and not settings.sumdb_proxy:
        return None
    from gosub.web.mirror import mirror
    from gosub.web.passthrough import passthrough

    app: ASGIApp | None = None
    if settings.upstream or settings.sumdb_proxy:
        app = passthrough(
            settings.upstream or None,
            shared.store,
            sumdb_proxy=settings.sumdb_proxy or None,
            on_new_version=on_new_version,
        )
    for m in reversed(settings.mirrors):
        app = mirror(m.path, m.layout, fallback=app)
    return app


# -- end of offline and Athens-compatible ---------------------------------------------


__all__ = ["MirrorSettings", "ModuleSettings", "Settings", "build_app", "load_settings"]
