"""In-process caching: immutable results memoised, concurrent work coalesced, zips spooled.

A module version, once served, is immutable (its h1: sum is in everyone's go.sum), so
results computed for a canonical version are kept for the life of the process:

- :meth:`ProcessCache.once` runs a coroutine once per key; concurrent callers share the
  same run (coalescing), successes are remembered (LRU, bounded in entries and in
  estimated bytes), failures are not;
- :class:`ZipStore` keeps built zips as files in a spool directory, bounded in bytes,
  evicting the least recently used, written via temp file + rename so a partial zip is
  never visible.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")


def weight(value: object) -> int:
    """A rough size in bytes of a cached value, for the byte bound: the length of bytes
    and strings, summed over the fields of dataclasses and the items of containers, plus
    a fixed overhead per object."""
    if isinstance(value, bytes | bytearray | str):
        return 64 + len(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return 64 + sum(weight(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, list | tuple | set | frozenset):
        return 64 + sum(weight(v) for v in value)
    if isinstance(value, dict):
        return 64 + sum(weight(k) + weight(v) for k, v in value.items())
    return 64


class ProcessCache:
    """The in-process tier: memoised immutable results and coalesced concurrent
    computations, per key, LRU-bounded in entries and in (estimated) bytes."""

    def __init__(self, *, max_entries: int = 20_000, max_bytes: int = 64 << 20) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._done: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._running: dict[Hashable, asyncio.Future[Any]] = {}

    @property
    def size(self) -> int:
        """The estimated bytes held."""
        return self._bytes

    def get(self, key: Hashable) -> Any | None:
        """The remembered value for ``key``, or ``None``."""
        hit = self._done.get(key)
        if hit is None:
            return None
        self._done.move_to_end(key)
        return hit[0]

    def put(self, key: Hashable, value: Any) -> None:
        """Remember ``value`` for ``key``, evicting the least recently used past the
        bounds (a value larger than the whole byte bound is not kept)."""
        w = weight(value)
        old = self._done.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        if w > self.max_bytes:
            return
        self._done[key] = (value, w)
        self._bytes += w
        while len(self._done) > self.max_entries or self._bytes > self.max_bytes:
            _, (_, ow) = self._done.popitem(last=False)
            self._bytes -= ow

    async def once(
        self, key: Hashable, factory: Callable[[], Awaitable[T]], *, remember: bool = True
    ) -> T:
        """The result of ``factory()`` for ``key``: from memory if known, shared with a
        concurrent caller if one is computing it, else computed now. With
        ``remember=False`` only concurrent callers share the result."""
        hit = self._done.get(key)
        if hit is not None:
            self._done.move_to_end(key)
            return hit[0]  # type: ignore[no-any-return]
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
                self.put(key, result)
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


class Store(Protocol):
    """The persistent tier behind the in-process caches: immutable module files kept
    across restarts and shared between instances (:class:`DiskStore`, and
    ``gosub.s3store.S3Store``).

    A key is a slash-separated path in the GOPROXY URL space under a namespace,
    ``NAMESPACE/ESCAPED_MODULE/@v/ESCAPED_NAME`` (see :func:`store_key`), so the store's
    contents under one namespace are a valid static GOPROXY. Every write is atomic: a
    reader sees the whole object or nothing, never a truncated one.
    """

    async def get(self, key: str) -> bytes | None:
        """The stored bytes, or ``None`` when absent."""
        ...

    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` atomically (overwriting is allowed: contents are immutable)."""
        ...

    async def size(self, key: str) -> int | None:
        """The stored object's size in bytes, or ``None`` when absent."""
        ...

    async def get_file(self, key: str, dest: Path) -> bool:
        """Copy the object into the local file ``dest``; ``False`` when absent."""
        ...

    async def put_file(self, key: str, src: Path) -> None:
        """Store the contents of the local file ``src`` atomically."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A local file holding the object that may be served directly, if the store
        has one (the disk store); ``None`` otherwise."""
        ...

    async def url_for(self, key: str, *, expires: int = 900) -> str | None:
        """A URL that serves the object to anyone holding it for ``expires`` seconds
        (an S3 presigned GET), or ``None`` if the store cannot give one."""
        ...


def namespace(identity: Hashable) -> str:
    """The store namespace for a source identity: a digest of everything that determines
    the bytes served (repository, directory, tag naming, module pin), so two configs
    never share entries."""
    return hashlib.sha256(repr(identity).encode()).hexdigest()[:20]


def store_key(ns: str, escaped_module: str, name: str) -> str:
    """The key of ``name`` (``list`` or an escaped ``VERSION.info|.mod|.zip``) of a
    module (its escaped path) in namespace ``ns``."""
    return f"{ns}/{escaped_module}/@v/{name}"


class DiskStore:
    """The persistent tier on local disk, laid out as a static GOPROXY, so a namespace
    directory works as ``GOPROXY=file:///ROOT/NAMESPACE``.

    Every write goes to a temporary file in the same directory and is renamed into
    place: a crash or a failed build never leaves a truncated file that would be served
    later (stray ``.tmp-*`` files are never read). File work runs in a worker thread.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The file for ``key``."""
        parts = key.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"bad store key {key!r}")
        return self.root.joinpath(*parts)

    async def get(self, key: str) -> bytes | None:
        return await anyio.to_thread.run_sync(self._read, self.path(key))

    async def put(self, key: str, data: bytes) -> None:
        await anyio.to_thread.run_sync(self._write, self.path(key), data)

    async def size(self, key: str) -> int | None:
        try:
            return (await anyio.Path(self.path(key)).stat()).st_size
        except FileNotFoundError:
            return None

    async def get_file(self, key: str, dest: Path) -> bool:
        def copy() -> bool:
            try:
                shutil.copyfile(self.path(key), dest)
            except FileNotFoundError:
                return False
            return True

        return await anyio.to_thread.run_sync(copy)

    async def put_file(self, key: str, src: Path) -> None:
        await anyio.to_thread.run_sync(self._copy_in, self.path(key), src)

    def local_path(self, key: str) -> Path | None:
        path = self.path(key)
        return path if path.is_file() else None

    async def url_for(self, key: str, *, expires: int = 900) -> str | None:
        return None

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    @staticmethod
    def _write(dest: Path, data: bytes) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def _copy_in(dest: Path, src: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dest.parent)
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
