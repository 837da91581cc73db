"""The persistent tier as a best-effort cache: a failing store (S3 unreachable, a full or
read-only disk, a name the file system refuses) is a miss and a warning, never a failed
request; gosub keeps serving from the code host and memory."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from gosub.errors import UpstreamError
from gosub.store.base import Store

log = logging.getLogger("gosub.store")

# The failures a store raises: the file system's, boto's (wrapped as UpstreamError by
# S3Store), and a key the store cannot hold.
_FAILURES = (OSError, UpstreamError, ValueError)


class GuardedStore:
    """Wraps a :class:`Store`: reads that fail return "absent", writes that fail are
    skipped; each is logged (at most once a minute per operation)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self._warned: dict[str, float] = {}

    def _warn(self, op: str, key: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned.get(op, -1e9) >= 60:
            self._warned[op] = now
            log.warning("persistent store %s of %s failed (serving without it): %s", op, key, exc)

    async def get(self, key: str) -> bytes | None:
        try:
            return await self.inner.get(key)
        except _FAILURES as exc:
            self._warn("read", key, exc)
            return None

    async def put(self, key: str, data: bytes) -> None:
        try:
            await self.inner.put(key, data)
        except _FAILURES as exc:
            self._warn("write", key, exc)

    async def size(self, key: str) -> int | None:
        try:
            return await self.inner.size(key)
        except _FAILURES as exc:
            self._warn("read", key, exc)
            return None

    async def get_file(self, key: str, dest: Path) -> bool:
        try:
            return await self.inner.get_file(key, dest)
        except _FAILURES as exc:
            self._warn("read", key, exc)
            return False

    async def put_file(self, key: str, src: Path) -> None:
        try:
            await self.inner.put_file(key, src)
        except _FAILURES as exc:
            self._warn("write", key, exc)

    def local_path(self, key: str) -> Path | None:
        try:
            return self.inner.local_path(key)
        except _FAILURES as exc:
            self._warn("read", key, exc)
            return None

    async def url_for(self, key: str, *, expires: int = 900) -> str | None:
        try:
            return await self.inner.url_for(key, expires=expires)
        except _FAILURES as exc:
            self._warn("presign", key, exc)
            return None

    async def list_after(self, prefix: str, start_after: str, limit: int) -> list[str]:
        """Not guarded: an empty listing would pass for "nothing there", so a failure
        is the caller's to report."""
        return await self.inner.list_after(prefix, start_after, limit)
