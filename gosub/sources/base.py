"""The source interface: what gosub needs from a code host, in git's terms only.

A source knows tags, refs, commits, files and archives of one repository. It knows nothing
of Go: the module rules live in :mod:`gosub.modrepo`. GitHub's REST API is one
implementation (:mod:`gosub.sources.github`), the git command another
(:mod:`gosub.sources.git`: any remote git can fetch, a local repository included).

Errors: a source raises :class:`gosub.errors.NotFoundError` for a missing repository,
ref, commit or file, and the :class:`gosub.errors.UpstreamError` family for failures.
"""

from __future__ import annotations

import hashlib
import io
import random
import shutil
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal, Protocol


@dataclass(frozen=True)
class Commit:
    """A commit: its full SHA and its committer time (UTC), the time Go reports."""

    sha: str
    time: datetime


@dataclass(frozen=True)
class ArchiveFile:
    """One entry of an archived directory.

    ``path`` is relative to the archived subdirectory, slash-separated. ``kind`` is
    "file" for regular files, "symlink" for symbolic links and "other" for anything else
    git archives (submodule placeholders). A regular file's bytes are ``size`` bytes at
    ``offset`` in the local file ``local``.
    """

    path: str
    kind: Literal["file", "symlink", "other"]
    size: int
    local: Path | None
    offset: int = 0  # where the bytes start in ``local`` (members share one spool file)

    def open(self) -> IO[bytes]:
        """A reader of the file's bytes."""
        if self.local is None:
            raise OSError(f"{self.path}: a {self.kind} has no content")
        fh = self.local.open("rb")
        fh.seek(self.offset)
        return io.BufferedReader(_Slice(fh, self.size), 1 << 16)


class _Slice(io.RawIOBase):
    """At most ``size`` bytes of an open file, from its current position."""

    def __init__(self, fh: IO[bytes], size: int) -> None:
        self._fh = fh
        self._left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        n = self._fh.readinto(view[: min(len(view), self._left)])  # type: ignore[attr-defined]
        self._left -= n
        return int(n)

    def close(self) -> None:
        self._fh.close()
        super().close()


@dataclass
class Archive:
    """A subdirectory of a commit as ``git archive`` with Go's settings writes it
    (export-ignore and export-subst turned off, every other attribute applied),
    spooled to a private temporary directory that :meth:`close` removes.

    ``extras`` holds the raw blobs (no attribute conversion, like ``git cat-file blob``)
    of the extra repository paths the caller asked for; ``None`` when absent.
    """

    root: Path
    files: list[ArchiveFile] = field(default_factory=list)
    extras: dict[str, bytes | None] = field(default_factory=dict)
    # Paths (relative to the subdirectory) whose bytes are known to be exactly the git
    # blob named, unconverted: what a caller may check other reads of the same file by.
    blobs: dict[str, str] = field(default_factory=dict)

    def close(self) -> None:
        """Delete the spooled files."""
        shutil.rmtree(self.root, ignore_errors=True)


class Source(Protocol):
    """What gosub reads from a repository. Every method addresses commits by full SHA
    once a ref is resolved, so a moved tag cannot change bytes already served."""

    @property
    def display_name(self) -> str:
        """A human name for messages, such as ``github.com/owner/repo``."""
        ...

    @property
    def url(self) -> str:
        """The repository's URL, as the ``Origin`` of ``.info`` reports it."""
        ...

    async def is_public(self) -> bool:
        """Whether anyone may read the repository without credentials (a shared server
        serves only those with its own token)."""
        ...

    async def rate_limit(self) -> dict[str, Any] | None:
        """The host's rate-limit status for gosub's credentials, or ``None`` when the
        host has none; for debugging, never containing a secret."""
        ...

    async def list_tags(self, prefix: str) -> list[str]:
        """Names of the tags that start with ``prefix`` (no refs/tags/ part)."""
        ...

    async def tag_commits(self, prefix: str) -> dict[str, str]:
        """Tags that start with ``prefix``, mapped to the commit each points at
        (annotated tags peeled)."""
        ...

    async def resolve(self, ref: str) -> Commit:
        """Resolve a tag (``refs/tags/NAME``), branch, ``HEAD`` (the default branch) or
        full or abbreviated commit SHA to a commit; tags win over branches of the same
        name, as in git.

        A SHA resolves only to a commit reachable from a branch or tag the repository
        itself advertises: Go's direct mode fetches only those refs, so it answers
        ``unknown revision`` for anything else (an unreferenced commit, or one that exists
        only in a fork of the repository's network); :class:`NotFoundError` then."""
        ...

    async def read_file(self, commit: str, path: str, *, max_size: int) -> bytes | None:
        """The raw blob at ``path`` in ``commit``, or ``None`` when there is no file
        there. Larger than ``max_size`` raises :class:`gosub.errors.GoneError`."""
        ...

    async def is_ancestor(self, ancestor: str, commit: str) -> bool:
        """Whether ``ancestor`` (a ref or SHA) is ``commit`` or one of its ancestors."""
        ...

    def archive(
        self, commit: str, subdir: str, *, extras: Sequence[str] = ()
    ) -> AbstractAsyncContextManager[Archive]:
        """The files under ``subdir`` (empty: the whole tree) at ``commit``, as Go's
        ``git archive`` would produce them, plus the raw blobs of ``extras``."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and full jitter."""

    attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        return random.uniform(0, min(self.max_backoff, self.backoff * (2 ** (attempt - 1))))


def git_blob_id(data: bytes) -> str:
    """The git object id (SHA-1) of a blob holding ``data``: what a tree entry names."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Revalidated:
    """Listings kept for ``If-None-Match`` revalidation (request → ETag, parsed JSON,
    next page URL), shared by every API client of a process and bounded in bytes, so
    several code hosts' clients cannot add up. Parsed JSON takes several times its text:
    an answer counts as 8 times its body's length."""

    def __init__(self, max_bytes: int = 64 << 20, max_entries: int = 4096) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, tuple[str, Any, str | None, int]] = OrderedDict()
        self._bytes = 0

    @property
    def size(self) -> int:
        """The estimated bytes held."""
        return self._bytes

    def get(self, key: Hashable) -> tuple[str, Any, str | None] | None:
        """``(etag, data, next_url)`` last kept for ``key``, if any."""
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0], item[1], item[2]

    def put(self, key: Hashable, etag: str, data: Any, nxt: str | None, body_len: int) -> None:
        """Keep an answer (its body ``body_len`` bytes long), evicting the oldest."""
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= old[3]
        weight = 8 * body_len + 256
        if weight > self.max_bytes:
            return
        self._items[key] = (etag, data, nxt, weight)
        self._bytes += weight
        while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
            self._bytes -= self._items.popitem(last=False)[1][3]


class FileCache:
    """File contents read by commit (immutable), shared by every source of a process
    and bounded in bytes, so many repositories' large go.mod files cannot add up."""

    def __init__(self, max_bytes: int = 64 << 20, max_entries: int = 20_000) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, bytes | None] = OrderedDict()
        self._bytes = 0

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    @property
    def size(self) -> int:
        """The bytes held."""
        return self._bytes

    def get(self, key: Hashable) -> bytes | None:
        """The remembered contents (``None``: remembered as absent, or unknown)."""
        if key in self._items:
            self._items.move_to_end(key)
        return self._items.get(key)

    def put(self, key: Hashable, data: bytes | None) -> None:
        """Remember ``data`` (or its absence) for ``key``, evicting the oldest."""
        size = len(data or b"")
        if size > self.max_bytes:
            return
        old = self._items.pop(key, None)
        self._bytes -= len(old or b"")
        self._items[key] = data
        self._bytes += size
        while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
            _, gone = self._items.popitem(last=False)
            self._bytes -= len(gone or b"")
