"""The persistent tier on local disk, laid out as a static GOPROXY."""

from __future__ import annotations

import os
import shutil
import tempfile
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
