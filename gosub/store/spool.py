"""The local zip spool: built zips kept as files in a directory, bounded in bytes,
evicting the least recently used, moved in by rename so a partial zip is never visible."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path


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
        if self._own:
            # Lets a later gosub tell a crashed process's spool from a running one's.
            (self.directory / ".pid").write_text(str(os.getpid()))
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
