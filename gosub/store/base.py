"""The persistent tier's interface (:class:`Store`) and its key layout: a static GOPROXY
per source identity (``NAMESPACE/ESCAPED_MODULE/@v/NAME``)."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from pathlib import Path
from typing import Protocol


class Store(Protocol):
    """The persistent tier behind the in-process caches: immutable module files kept
    across restarts and shared between instances (:class:`DiskStore`, and
    ``gosub.store.s3.S3Store``).

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

    async def list_after(self, prefix: str, start_after: str, limit: int) -> list[str]:
        """Up to ``limit`` keys directly below the folder ``prefix`` (ending in ``/``)
        that sort after ``start_after`` (a full key, or ``""``), ascending in byte
        order: S3's ListObjectsV2 ``StartAfter``, a directory listing on disk. Failures
        raise (a listing has no "absent" to fall back on)."""
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
