"""The watch: re-list watched modules so that a pushed tag reaches the ``/index`` feed (and
so a private pkgsite) without any client asking for it.

Watched are the configured ``[[module]]`` entries and, in shared mode, the configs served
recently (:class:`RecentModules`: at most 256, each seen within a week, kept in the
persistent tier so a scheduled pass on another instance, as on Lambda, knows them too).
A pass lists each module's versions (``@v/list``: GitHub's list endpoints are revalidated
with ETags, so an unchanged repository costs a free 304) and resolves every version it has
not seen before in this process (``.info``), which records a new one in the feed.

:class:`Watcher.run` loops every ``interval`` seconds (a lifespan task of ``gosub serve``
and ``handlers.asgi``; :func:`with_watch`); :meth:`Watcher.run_once` is one pass (the
Lambda handler runs it on an EventBridge schedule).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gosub.config import GoproxyConfig
from gosub.errors import ConfigError, GosubError
from gosub.modrepo import ModuleRepo
from gosub.store import Store

if TYPE_CHECKING:
    from gosub.web.shared import Shared

log = logging.getLogger("gosub.watch")

WATCH_PREFIX = "index/watch/"
MAX_RECENT = 256
RECENT_SECONDS = 7 * 86400
_REFRESH = 3600.0  # a served config's record is rewritten at most this often
_FIELDS = ("url", "module", "directory", "tag_prefix", "tag_suffix", "forge")


def _config_doc(config: GoproxyConfig, path: str, when: float) -> dict[str, Any]:
    doc: dict[str, Any] = {f: getattr(config, f) for f in _FIELDS}
    doc["path"] = path
    doc["served"] = when
    return doc


def _digest(config: GoproxyConfig, path: str) -> str:
    return hashlib.sha256(repr((config.identity, path)).encode()).hexdigest()[:40]


class RecentModules:
    """The modules a shared server served lately (never with a client's own token:
    those apps' ``Shared`` has none)."""

    def __init__(self, store: Store | None = None, *, max_entries: int = MAX_RECENT) -> None:
        self.store = store
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[GoproxyConfig, str], float] = OrderedDict()
        self._written: dict[tuple[GoproxyConfig, str], float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def touch(self, config: GoproxyConfig, path: str) -> None:
        """Note that ``config`` served module ``path`` now (called per request)."""
        key = (config, path)
        now = time.time()
        self._entries[key] = now
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        if self.store is None or now - self._written.get(key, 0.0) < _REFRESH:
            return
        self._written[key] = now
        try:
            task = asyncio.get_running_loop().create_task(self._persist(config, path, now))
        except RuntimeError:
            return  # no loop (a synchronous caller): memory only
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _persist(self, config: GoproxyConfig, path: str, when: float) -> None:
        assert self.store is not None
        body = json.dumps(_config_doc(config, path, when)).encode()
        try:
            await self.store.put(WATCH_PREFIX + _digest(config, path), body)
        except Exception as exc:  # best effort
            log.warning("could not remember %s for the watch: %s", path, exc)

    async def modules(self) -> list[tuple[GoproxyConfig, str]]:
        """The recent modules, newest first: this process's and the store's."""
        found: dict[tuple[GoproxyConfig, str], float] = dict(self._entries)
        if self.store is not None:
            cutoff = time.time() - RECENT_SECONDS
            try:
                keys = await self.store.list_after(WATCH_PREFIX, "", 10 * self.max_entries)
            except Exception as exc:
                log.warning("could not list the watched modules: %s", exc)
                keys = []
            for key in keys:
                try:
                    doc = json.loads(await self.store.get(key) or b"")
                    config = GoproxyConfig(**{f: doc[f] for f in _FIELDS})
                    when = float(doc["served"])
                    path = str(doc["path"])
                except (ValueError, KeyError, TypeError, ConfigError, OSError, GosubError):
                    continue
                if when >= cutoff:
                    found[(config, path)] = max(when, found.get((config, path), 0.0))
        ordered = sorted(found.items(), key=lambda item: -item[1])
        return [k for k, _ in ordered[: self.max_entries]]


class Watcher:
    """Re-lists the watched modules every ``interval`` seconds (0: never by itself)."""

    def __init__(
        self,
        shared: Shared,
        modules: Sequence[tuple[GoproxyConfig, str]] = (),
        *,
        interval: float = 600.0,
        recent: RecentModules | None = None,
    ) -> None:
        self.shared = shared
        self.modules = list(modules)
        self.interval = interval
        self.recent = recent
        self._known: set[tuple[GoproxyConfig, str, str]] = set()

    async def watched(self) -> list[tuple[GoproxyConfig, str]]:
        """The configured modules, then the recently served ones."""
        out = list(dict.fromkeys(self.modules))
        if self.recent is not None:
            out.extend(m for m in await self.recent.modules() if m not in out)
        return out

    def _repo(self, config: GoproxyConfig, path: str) -> ModuleRepo:
        source = self.shared.sources.open(config)
        return ModuleRepo(
            config,
            source,
            path,
            cache=self.shared.cache,
            zips=self.shared.zips,
            repo_url=source.url,
            store=self.shared.store,
            index=self.shared.index,
        )

    async def run_once(self) -> int:
        """One pass over every watched module; the number of versions new to this
        process. A module that fails is logged and skipped."""
        new = 0
        for config, path in await self.watched():
            try:
                repo = self._repo(config, path)
                for version in await repo.versions():
                    if (config, path, version) in self._known:
                        continue
                    await repo.stat(version)  # records it in the feed when new
                    self._known.add((config, path, version))
                    new += 1
            except Exception as exc:  # one module must not stop the watch
                log.warning("watch: %s (%s) failed: %s", path, config.url, exc)
        return new

    async def run(self) -> None:
        """Pass after pass, ``interval`` seconds apart, until cancelled."""
        if self.interval <= 0:
            return
        while True:
            started = time.monotonic()
            try:
                count = await self.run_once()
                log.info(
                    "watch pass: %d new version(s) in %.1f s", count, time.monotonic() - started
                )
            except Exception:
                log.exception("watch pass failed")
            await asyncio.sleep(max(1.0, self.interval - (time.monotonic() - started)))


class WatchApp:
    """``app`` with the watch as a lifespan task: started at startup, cancelled at
    shutdown (servers without lifespan, such as Lambda's mangum, never start it)."""

    def __init__(self, app: ASGIApp, watcher: Watcher) -> None:
        self.app = app
        self.watcher = watcher
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def receive_watching() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup" and self._task is None:
                self._task = asyncio.get_running_loop().create_task(self.watcher.run())
            elif message["type"] == "lifespan.shutdown" and self._task is not None:
                self._task.cancel()
                self._task = None
            return message

        await self.app(scope, receive_watching, send)


def with_watch(app: ASGIApp, watcher: Watcher) -> WatchApp:
    """``app`` running ``watcher`` while it is up."""
    return WatchApp(app, watcher)


__all__ = ["RecentModules", "WatchApp", "Watcher", "with_watch"]
