"""Reading a ``git archive`` tarball: pick one subdirectory out of it, spooled to disk.

GitHub's tarballs are ``git archive --format=tar`` output with one top-level directory
(``owner-repo-sha7/``); a local repository's ``git archive`` gives the same layout. This
module streams such a tarball once, keeps only what the caller needs (the files under a
subdirectory, a few extra paths and every ``.gitattributes`` that can apply to them) and
writes kept file bodies to numbered files in a private directory, so memory stays bounded
and no archive path is ever used as a local path.

Everything here is synchronous (tarfile is); callers run it in a worker thread.
"""

from __future__ import annotations

import gzip
import shutil
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from gosub.source import ArchiveFile

# A .gitattributes file larger than this is not something git itself reads sensibly;
# refuse rather than hold it in memory.
MAX_GITATTRIBUTES = 1 << 20
_CHUNK = 1 << 16


class ArchiveFormatError(Exception):
    """The tarball is truncated, corrupt or not laid out like ``git archive`` output."""


class ArchiveTooLargeError(Exception):
    """The files kept from the tarball exceed the caller's byte limit."""


@dataclass
class Extracted:
    """What :func:`extract_subdir` kept."""

    files: list[ArchiveFile] = field(default_factory=list)
    # Extra repository paths → their entry (path relative to the repository root).
    extras: dict[str, ArchiveFile] = field(default_factory=dict)
    # .gitattributes path in the repository → content.
    attributes: dict[str, bytes] = field(default_factory=dict)


def _applies(attr_path: str, subdir: str, extras: Iterable[str]) -> bool:
    """Whether a .gitattributes at ``attr_path`` can affect the subdirectory or extras:
    it sits in the subdirectory, in one of its ancestors, or in an extra's ancestor."""
    d = attr_path.rpartition("/")[0]
    if d == "" or subdir == "":
        return True
    # Inside the subdirectory, or an ancestor of it.
    if _within(d, subdir) or _within(subdir, d):
        return True
    return any(_within(e, d) for e in extras)


def _within(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or below it."""
    return path == directory or path.startswith(directory + "/")


def extract_subdir(
    tarball: IO[bytes],
    dest: Path,
    subdir: str,
    *,
    extras: Iterable[str] = (),
    max_bytes: int,
) -> Extracted:
    """Stream a (gzipped) ``git archive`` tarball and keep the files under ``subdir``.

    Regular files under ``subdir`` and the listed ``extras`` are written below ``dest``.
    Directory entries (which is also how git archives a submodule) are skipped, as
    cmd/go's coderepo.go Zip skips names ending in "/". Raises
    :class:`ArchiveFormatError` on a truncated or malformed tarball and
    :class:`ArchiveTooLargeError` past ``max_bytes`` of kept content.
    """
    dest.mkdir(parents=True, exist_ok=True)
    extras = list(extras)
    extra_set = set(extras)
    prefix = subdir + "/" if subdir else ""
    out = Extracted()
    top: str | None = None
    total = 0
    spool_path = dest / "spool"
    # tarfile's own gzip stream does not check the gzip trailer, so a truncated download
    # would silently end the archive early; GzipFile verifies length and CRC (EOFError).
    magic = tarball.read(2)
    tarball.seek(0)
    stream: IO[bytes] = (
        cast(IO[bytes], gzip.GzipFile(fileobj=tarball, mode="rb"))
        if magic == b"\x1f\x8b"
        else tarball
    )
    try:
        with (
            spool_path.open("w+b") as spool,
            tarfile.open(
                fileobj=stream, mode="r|", encoding="utf-8", errors="surrogateescape"
            ) as tf,
        ):
            for member in tf:
                name = member.name
                if member.type in (tarfile.XGLTYPE, tarfile.XHDTYPE):
                    continue
                if top is None:
                    top = name.split("/", 1)[0] + "/"
                if name.rstrip("/") == top.rstrip("/"):
                    continue
                if not name.startswith(top):
                    raise ArchiveFormatError("archive has more than one top-level directory")
                rel = name[len(top) :]
                if member.isdir() or rel.endswith("/") or rel == "":
                    continue
                in_subdir = rel.startswith(prefix)
                is_attr = rel == ".gitattributes" or rel.endswith("/.gitattributes")
                wanted_attr = is_attr and _applies(rel, subdir, extras)
                if not (in_subdir or rel in extra_set or wanted_attr):
                    continue
                sub_rel = rel[len(prefix) :]
                if member.issym() or member.islnk():
                    if in_subdir:
                        out.files.append(
                            ArchiveFile(sub_rel, "symlink", len(member.linkname), None)
                        )
                    continue
                if not member.isreg():
                    if in_subdir:
                        out.files.append(ArchiveFile(sub_rel, "other", 0, None))
                    continue
                total += member.size
                if total > max_bytes:
                    raise ArchiveTooLargeError(f"the files to package exceed {max_bytes} bytes")
                src = tf.extractfile(member)
                if src is None:  # pragma: no cover - isreg() members always have data
                    continue
                # One spool file for every kept member: creating thousands of small
                # files costs more than everything else here.
                offset = spool.tell()
                shutil.copyfileobj(src, spool, _CHUNK)
                if spool.tell() - offset != member.size:
                    raise ArchiveFormatError(f"archive entry {rel!r} is truncated")
                entry = ArchiveFile(sub_rel, "file", member.size, spool_path, offset)
                if in_subdir:
                    out.files.append(entry)
                if rel in extra_set:
                    out.extras[rel] = entry
                if wanted_attr:
                    if member.size > MAX_GITATTRIBUTES:
                        raise ArchiveFormatError(f"{rel} is larger than {MAX_GITATTRIBUTES} bytes")
                    spool.seek(offset)
                    out.attributes[rel] = spool.read(member.size)
                    spool.seek(0, 2)
            # Drain to the end so the gzip trailer (length, CRC) is verified.
            while stream.read(_CHUNK):
                pass
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        # zlib/gzip errors surface as OSError/EOFError; a cut-off stream as ReadError.
        raise ArchiveFormatError(f"archive is truncated or corrupt: {exc}") from exc
    if top is None:
        # An empty repository tree still has its top directory; nothing at all means
        # the download was empty.
        raise ArchiveFormatError("archive is empty")
    return out
