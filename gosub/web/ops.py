"""The outermost app of a deployment: health, readiness and metrics at the server root,
one access log line per request, and the process's clean start and shutdown.

- ``/healthz``: liveness, no upstream call;
- ``/readyz``: 200 when the persistent store answers, else 503 saying why;
- ``/metrics``: :mod:`gosub.metrics` in the Prometheus text format.

The access line (logger ``gosub.access``) has the decoded path (never the query string
or any header), the status, the duration, the deepest cache tier reached and the
upstream requests made.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gosub import metrics, upstream
from gosub.errors import RateLimitedError
from gosub.store import DiskStore, GuardedStore
from gosub.web.budget import ClientBudgets
from gosub.web.responses import TEXT
from gosub.web.shared import Shared

log = logging.getLogger("gosub")
access = logging.getLogger("gosub.access")

# Leftovers older than this (a crashed process's archive spools, store temporaries) are
# removed at startup: no request lives that long.
STALE_SECONDS = 3600


def request_kind(path: str, query: bytes) -> str:
    """The metrics label of a request: list, latest, info, mod, zip, vanity, page, ..."""
    if b"go-get=1" in query:
        return "vanity"
    if path.endswith("/@v/list"):
        return "list"
    if path.endswith("/@latest"):
        return "latest"
    for ext in ("info", "mod", "zip"):
        if path.endswith("." + ext) and "/@v/" in path:
            return ext
    if "/@gosub/" in path:
        return "debug"
    if path in ("", "/"):
        return "page"
    return "other"


class OpsApp:
    """Wraps the deployment's app chain (see :func:`gosub.settings.build_app`)."""

    def __init__(
        self,
        app: ASGIApp,
        shared: Shared,
        *,
        describe: str = "",
        budgets: ClientBudgets | None = None,
    ) -> None:
        self.app = app
        self.shared = shared
        self.describe = describe
        self.budgets = budgets or ClientBudgets(rate=0)
        self._announced = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._announced:
            self._announce()
        path: str = scope.get("path", "")
        if path == "/healthz":
            await Response("ok\n", media_type=TEXT, headers={"Cache-Control": "no-store"})(
                scope, receive, send
            )
            return
        if path == "/readyz":
            await (await self._ready())(scope, receive, send)
            return
        if path == "/metrics":
            body = await anyio.to_thread.run_sync(metrics.render)
            await Response(
                body,
                media_type="text/plain; version=0.0.4; charset=utf-8",
                headers={"Cache-Control": "no-store"},
            )(scope, receive, send)
            return
        await self._logged(scope, receive, send)

    async def _logged(self, scope: Scope, receive: Receive, send: Send) -> None:
        stats, token = metrics.begin()
        status = 500
        client = self.budgets.client(scope)
        wait = self.budgets.wait(client)

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        def refusal(what: str) -> Exception:
            metrics.inc(metrics.REFUSED)
            return RateLimitedError(
                f"this server's budget of code-host requests for {client} is used up "
                f"({what} is not cached); try again in {wait} s",
                retry_after=wait,
            )

        try:
            if wait:
                with upstream.forbidden(refusal):
                    await self.app(scope, receive, sending)
            else:
                await self.app(scope, receive, sending)
        finally:
            self.budgets.charge(client, stats.upstream)
            metrics.end(token)
            path = scope.get("path", "")
            kind = request_kind(path, scope.get("query_string", b""))
            metrics.inc(metrics.REQUESTS, kind, str(status))
            metrics.inc(metrics.TIER_HITS, stats.tier)
            ms = (time.monotonic() - stats.started) * 1000
            access.info(
                "%s %s %d %.1fms tier=%s upstream=%d",
                scope.get("method", ""),
                path,
                status,
                ms,
                stats.tier,
                stats.upstream,
                extra={
                    "method": scope.get("method", ""),
                    "path": path,
                    "status": status,
                    "duration_ms": round(ms, 1),
                    "tier": stats.tier,
                    "upstream_requests": stats.upstream,
                    "kind": kind,
                },
            )

    async def _ready(self) -> Response:
        reason = await _store_problem(self.shared)
        if reason is None:
            return Response("ready\n", media_type=TEXT, headers={"Cache-Control": "no-store"})
        return Response(
            f"not ready: {reason}\n",
            status_code=503,
            media_type=TEXT,
            headers={"Cache-Control": "no-store"},
        )

    def _announce(self) -> None:
        self._announced = True
        if self.describe:
            log.info("gosub starting: %s", self.describe, extra={"startup": self.describe})

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._announce()
                await anyio.to_thread.run_sync(sweep, self.shared)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # The zip spool and temporary git mirrors go with the process.
                await self.shared.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _store_problem(shared: Shared) -> str | None:
    """Why the persistent store cannot be used, or ``None`` (no store: nothing to fail)."""
    store: Any = shared.store
    if isinstance(store, GuardedStore):
        store = store.inner  # its failures, not the guard's "absent"
    if store is None:
        return None
    if isinstance(store, DiskStore):
        root = store.root
        if not root.is_dir() or not os.access(root, os.W_OK | os.X_OK):
            return f"the cache directory {root} is not a writable directory"
        return None
    try:
        await store.size("gosub-readyz")  # one HEAD: reachable, credentials accepted
    except Exception as exc:  # any failure means not ready; the reason is shown
        return f"the persistent store does not answer: {exc}"
    return None


def sweep(shared: Shared) -> None:
    """Remove what a crashed gosub left behind: its temporary archive and zip spool
    directories in the temporary directory, and ``.tmp-*`` files in the disk store,
    older than :data:`STALE_SECONDS` (gosub's own names only)."""
    now = time.time()
    tmp = Path(tempfile.gettempdir())
    mine = {shared.zips.directory.resolve()}
    for entry in tmp.glob("gosub-*"):
        try:
            if (
                entry.is_dir()
                and entry.resolve() not in mine
                and entry.stat().st_uid == os.getuid()
                and now - entry.stat().st_mtime > STALE_SECONDS
                and _stale_spool(entry)
            ):
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue
    store: Any = shared.store
    if isinstance(store, GuardedStore):
        store = store.inner
    if isinstance(store, DiskStore):
        for temp in store.root.rglob(".tmp-*"):
            try:
                if now - temp.stat().st_mtime > STALE_SECONDS:
                    temp.unlink()
            except OSError:
                continue


def _stale_spool(directory: Path) -> bool:
    """A spool directory whose owning process is gone (zip spools record their pid)."""
    owner = directory / ".pid"
    try:
        pid = int(owner.read_text())
    except (OSError, ValueError):
        return True  # an archive spool of one request: age alone decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
