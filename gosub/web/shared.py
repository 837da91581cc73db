"""Process-wide state several apps share: the code-host clients and the cache tiers."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from gosub.sources import RetryPolicy, Sources
from gosub.store import DiskStore, GuardedStore, ProcessCache, Store, ZipStore
from gosub.store.index import IndexLog
from gosub.web.watch import RecentModules

# Seconds a revalidated list or @latest answer is served again before the code host is
# asked anew: a client polling (or a crowd asking at once) costs one revalidation per
# window. Far below the minute their Cache-Control lets any cache keep them.
LIST_TTL = 1.0


@dataclass
class Shared:
    """The sources (code-host clients) and caches of one process, for any number of apps."""

    sources: Sources
    cache: ProcessCache
    zips: ZipStore
    store: Store | None = None  # the persistent tier, when configured
    # Zips larger than this are answered with a 307 to the store's URL for them (an S3
    # presigned GET) when the store can give one; None: always inline.
    inline_max_bytes: int | None = None
    # The default time limit of one request, for apps not given their own.
    request_timeout: float = 300.0
    # The /index feed versions are recorded in (None: not recorded; always None for a
    # client's own token, whose versions nobody else may see).
    index: IndexLog | None = None
    # Modules served lately, for the watch (None: not watched; None for client tokens).
    recent: RecentModules | None = None
    # Seconds a revalidated list or @latest is served again (0: asked on every request).
    list_ttl: float = LIST_TTL

    async def aclose(self) -> None:
        """Close the clients and remove the zip spool."""
        await self.sources.aclose()
        self.zips.close()


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
    git_dir: str | None = None,
    git_timeout: float = 120.0,
    git_env: Mapping[str, str] | None = None,
    git_hosts: Collection[str] | None = None,
    memory_bytes: int = 256 << 20,
    list_ttl: float = LIST_TTL,
) -> Shared:
    """Build the shared clients and caches from ``env`` (``GITHUB_TOKEN``,
    ``GITHUB_API_URL``; default ``os.environ``, ``{}`` ignores it); the persistent tier
    is ``store``, else a :class:`DiskStore` at ``cache_dir``. The git source keeps its
    mirrors in ``git_dir`` (default: ``cache_dir``'s ``git/`` folder when there is a
    ``cache_dir``, else a temporary directory), runs each git command for at most
    ``git_timeout`` seconds, in ``git_env`` (default ``os.environ``), for remotes on
    ``git_hosts`` only when given. ``memory_bytes`` bounds what is kept in memory: half
    for results (info, go.mod, lists), half for the code hosts' listings and files.
    A revalidated list or ``@latest`` is reused for ``list_ttl`` seconds."""
    if git_dir is None and cache_dir:
        git_dir = os.path.join(cache_dir, "git")
    sources = Sources.from_env(
        env,
        api_url=api_url,
        timeout=timeout,
        retry=retry,
        git_dir=git_dir,
        git_timeout=git_timeout,
        git_env=git_env,
        git_hosts=git_hosts,
        memory_bytes=memory_bytes // 2,
    )
    if store is None and cache_dir:
        store = DiskStore(cache_dir)
    if store is not None and not isinstance(store, GuardedStore):
        store = GuardedStore(store)  # a failing store is a miss, never a failed request
    zips = ZipStore(zip_dir, max_bytes=max_zip_bytes)
    cache = ProcessCache(max_bytes=memory_bytes // 2)
    return Shared(sources, cache, zips, store, inline_max_bytes, request_timeout, list_ttl=list_ttl)
