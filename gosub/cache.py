"""In-process caching: immutable results memoised, concurrent work coalesced, zips spooled.

A module version, once served, is immutable (its h1: sum is in everyone's go.sum), so
results computed for a canonical version are kept for the life of the process:

- :meth:`ProcessCache.once` runs a coroutine once per key; concurrent callers share the
  same run (coalescing), successes are remembered (bounded LRU by entry count),
  failures are not;
- :class:`ZipStore` keeps built zips as files in a spool directory, bounded in bytes,
  evicting the least recently used, written via temp file + rename so a partial zip is
  never visible.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ProcessCache:
    """Memoise immutable results and coalesce concurrent computations, per key."""

    def __init__(self, *, max_entries: int = 20_000) -> None:
        self.max_entries = max_entries
        self._done: OrderedDict[Hashable, Any] = OrderedDict()
        self._running: dict[Hashable, asyncio.Future[Any]] = {}

    async def once(
        self, key: Hashable, factory: Callable[[], Awaitable[T]], *, remember: bool = True
    ) -> T:
        """The result of ``factory()`` for ``key``: from memory if known, shared with a
        concurrent caller if one is computing it, else computed now. With
        ``remember=False`` only concurrent callers share the result."""
        if key in self._done:
            self._done.move_to_end(key)
            return self._done[key]  # type: ignore[no-any-return]
        running = self._running.get(key)
        if running is not None:
            result: T = await asyncio.shield(running)
            return result
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._running[key] = fut
        try:
            result = await factory()
        except BaseException as exc:
            fut.set_exception(exc)
            # Nobody may be waiting; don't let asyncio warn about an unretrieved error.
            fut.exception()
            raise
        else:
            fut.set_result(result)
            if remember:
                self._done[key] = result
                while len(self._done) > self.max_entries:
                    self._done.popitem(last=False)
            return result
        finally:
            del self._running[key]


@dataclass(frozen=True)
class StoredZip:
    """A built zip on local disk."""

    path: Path
    size: int
    sha256: str


class ZipStore:
    """Built zips kept as files, bounded in total bytes (LRU eviction)."""

    def __init__(self, directory: str | Path | None = None, *, max_bytes: int = 2 << 30) -> None:
        self._own = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="gosub-zips-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, StoredZip] = OrderedDict()
        self._total = 0

    def get(self, key: Hashable) -> StoredZip | None:
        """The stored zip for ``key``, if still present."""
        z = self._entries.get(key)
        if z is None:
            return None
        if not z.path.exists():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return z

    def new_temp(self) -> Path:
        """A fresh temporary path in the store's directory to build a zip into."""
        fd, name = tempfile.mkstemp(prefix=".tmp-", suffix=".zip", dir=self.directory)
        os.close(fd)
        return Path(name)

    def add(self, key: Hashable, temp: Path, sha256: str) -> StoredZip:
        """Move a finished zip from ``temp`` into the store (atomic rename)."""
        final = self.directory / (hashlib.sha256(repr(key).encode()).hexdigest() + ".zip")
        os.replace(temp, final)
        if key in self._entries:
            self._drop(key)
        z = StoredZip(final, final.stat().st_size, sha256)
        self._entries[key] = z
        self._total += z.size
        while self._total > self.max_bytes and len(self._entries) > 1:
            oldest = next(iter(self._entries))
            self._drop(oldest, unlink=True)
        return z

    def _drop(self, key: Hashable, *, unlink: bool = False) -> None:
        z = self._entries.pop(key)
        self._total -= z.size
        if unlink:
            # A response still streaming it keeps its open file handle; unlinking is safe.
            z.path.unlink(missing_ok=True)

    def close(self) -> None:
        """Remove the directory if the store created it."""
        if self._own:
            shutil.rmtree(self.directory, ignore_errors=True)


class DiskStore:
    """The persistent tier: immutable module files on local disk, laid out as a static
    GOPROXY (``NAMESPACE/ESCAPED_MODULE/@v/ESCAPED_VERSION.info|.mod|.zip``), so a
    namespace directory works as ``GOPROXY=file:///ROOT/NAMESPACE``.

    ``NAMESPACE`` is a digest of everything that determines the bytes served (repository,
    directory, tag naming, module pin), so two configs never share entries. Every write
    goes to a temporary file in the same directory and is renamed into place: a crash or
    a failed build never leaves a truncated file that would be served later.
    Synchronous (callers run it in a worker thread).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def namespace(identity: Hashable) -> str:
        """The directory name for a source identity."""
        return hashlib.sha256(repr(identity).encode()).hexdigest()[:20]

    def path(self, namespace: str, module: str, name: str) -> Path:
        """Where ``name`` (``list`` or ``VERSION.ext``, already escaped) of ``module``
        (an escaped module path) lives."""
        return self.root / namespace / module / "@v" / name

    def read(self, namespace: str, module: str, name: str) -> bytes | None:
        """The stored bytes, or ``None``."""
        try:
            return self.path(namespace, module, name).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, namespace: str, module: str, name: str, data: bytes) -> None:
        """Store ``data`` atomically."""
        dest = self.path(namespace, module, name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def write_file(self, namespace: str, module: str, name: str, src: Path) -> Path:
        """Store a copy of ``src`` atomically; returns the stored path."""
        dest = self.path(namespace, module, name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dest.parent)
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return dest
