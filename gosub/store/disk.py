"""The persistent tier on local disk, laid out as a static GOPROXY."""

from __future__ import annotations

import bisect
import os
import shutil
import tempfile
import time
from pathlib import Path

import anyio
import anyio.to_thread


def _file_mode() -> int:
    """0666 less the process's umask: store files are readable as a ``GOPROXY=file://``
    by whoever the umask lets read them, like files any other program writes."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()
_RACY_NS = 1_000_000_000


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
        # folder → (its mtime, when listed, its sorted file names), for list_after
        self._listings: dict[Path, tuple[int, int, list[str]]] = {}

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

    async def list_after(self, prefix: str, start_after: str, limit: int) -> list[str]:
        folder = self.path(prefix.rstrip("/"))

        def listing() -> list[str]:
            names = self._sorted_names(folder)
            if start_after.startswith(prefix):
                i = bisect.bisect_right(names, start_after[len(prefix) :])
            else:
                i = 0 if start_after < prefix else len(names)
            return [prefix + n for n in names[i : i + limit]]

        return await anyio.to_thread.run_sync(listing)

    def _sorted_names(self, folder: Path) -> list[str]:
        """The folder's file names, sorted; reused while the folder is unchanged. A
        poller (pkgsite reading /index) lists the feed every few seconds: without this,
        each page of each poll read and sorted the whole directory."""
        try:
            mtime = os.stat(folder).st_mtime_ns
        except FileNotFoundError:
            return []
        cached = self._listings.get(folder)
        # A directory's mtime ticks coarsely: a listing made within a second of the last
        # change may have missed a later change in the same tick, so it is not reused.
        if cached is not None and cached[0] == mtime and cached[1] - mtime > _RACY_NS:
            return cached[2]
        listed_at = time.time_ns()
        with os.scandir(folder) as entries:
            names = sorted(
                e.name for e in entries if not e.name.startswith(".tmp-") and e.is_file()
            )
        self._listings[folder] = (mtime, listed_at, names)
        while len(self._listings) > 4:  # the feed and the watch list: a few folders
            self._listings.pop(next(iter(self._listings)))
        return names

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
            os.chmod(tmp, _FILE_MODE)  # mkstemp's 0600, as the umask would have it
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
            os.chmod(tmp, _FILE_MODE)  # mkstemp's 0600, as the umask would have it
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
