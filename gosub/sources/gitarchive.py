"""Reading a ``git archive`` tarball: pick one subdirectory out of it, spooled to disk.

GitHub's tarballs are ``git archive --format=tar`` output with one top-level directory
(``owner-repo-sha7/``); a local repository's ``git archive`` gives the same layout. This
module streams such a tarball once, keeps only what the caller needs (the files under a
subdirectory, a few extra paths and every ``.gitattributes`` that can apply to them) and
writes kept file bodies to numbered files in a private directory, so memory stays bounded
and no archive path is ever used as a local path.

While streaming, it also hashes every entry the way git does and rebuilds the root tree
object's id (:class:`TreeHasher`). When that id equals the commit's tree, the tarball is
provably the commit's tree, byte for byte: nothing was left out by ``export-ignore``
(a ``.gitattributes`` included), nothing altered by ``export-subst``, end-of-line or
ident conversion, or by GitHub's optional Git LFS substitution. Only when it differs
does the caller need the tree listing to find out what.

Everything here is synchronous (tarfile is); callers run it in a worker thread.
"""

from __future__ import annotations

import gzip
import hashlib
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from gosub.sources.base import ArchiveFile

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
    # The git object id of the archive's root tree, as rebuilt from its entries; None
    # when the archive holds something whose object id it cannot tell (a submodule).
    tree_sha: str | None = None
    # Object ids of the kept files' archived bytes, by path relative to the subdirectory.
    blob_shas: dict[str, str] = field(default_factory=dict)


class TreeHasher:
    """Rebuilds git tree object ids from archive entries (object format: git's
    object-file.c and tree.c; entry order: tree.c base_name_compare, where a directory
    sorts as if its name ended in "/")."""

    def __init__(self) -> None:
        # directory (b"" = root) → {name: (mode, raw 20-byte id)}
        self._dirs: dict[bytes, dict[bytes, tuple[bytes, bytes | None]]] = {b"": {}}
        self.unknown = False  # an entry whose object id the archive does not give

    def _parent(self, path: bytes) -> tuple[bytes, bytes]:
        d, _, name = path.rpartition(b"/")
        self._ensure_dir(d)
        return d, name

    def _ensure_dir(self, d: bytes) -> None:
        while d not in self._dirs:
            self._dirs[d] = {}
            parent, _, name = d.rpartition(b"/")
            self._dirs.setdefault(parent, {})[name] = (b"40000", None)
            d = parent

    def add_dir(self, path: bytes) -> None:
        """A directory entry (git archive also writes one for a submodule)."""
        self._ensure_dir(path)

    def add_blob(self, path: bytes, mode: bytes, sha: bytes) -> None:
        """A file or symlink with its blob id."""
        d, name = self._parent(path)
        self._dirs[d][name] = (mode, sha)

    def root(self, gitlinks: Mapping[bytes, bytes] | None = None) -> str | None:
        """The root tree's object id, or None when it cannot be known.

        ``gitlinks`` maps submodule paths to their commit ids (raw 20 bytes), as a tree
        listing gives them: git archive writes a submodule as an empty directory, whose
        id the archive alone cannot tell."""
        if self.unknown:
            return None
        links = gitlinks or {}
        done: dict[bytes, bytes] = {}
        # Deepest directories first, so every subtree's id is known when needed.
        for d in sorted(self._dirs, key=lambda x: -x.count(b"/") - (1 if x else 0)):
            entries = self._dirs[d]
            if d and not entries:
                if d in links:
                    continue  # a submodule: its parent records the commit id
                return None  # an empty directory: a submodule, whose commit id is unknown
            body = bytearray()
            kinds: dict[bytes, bytes | None] = {}  # name → its path when a subtree
            for name, (mode, _) in entries.items():
                path = d + b"/" + name if d else name
                kinds[name] = path if mode == b"40000" and path not in links else None
            for name in sorted(entries, key=lambda n: n + b"/" if kinds[n] is not None else n):
                mode, sha = entries[name]
                if sha is None:
                    sub = kinds[name]
                    if sub is not None:
                        sha = done[sub]
                    else:
                        path = d + b"/" + name if d else name
                        mode, sha = b"160000", links[path]
                body += mode + b" " + name + b"\0" + sha
            done[d] = hashlib.sha1(b"tree %d\0" % len(body) + body).digest()
        return done[b""].hex()


def blob_hasher(size: int) -> hashlib._Hash:
    """A SHA-1 primed with git's blob header, to feed the blob's bytes into."""
    return hashlib.sha1(b"blob %d\0" % size)


def applies_to(attr_path: str, subdir: str, extras: Iterable[str]) -> bool:
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
    gitlinks: Mapping[str, str] | None = None,
) -> Extracted:
    """Stream a (gzipped) ``git archive`` tarball and keep the files under ``subdir``.

    Regular files under ``subdir`` and the listed ``extras`` are written below ``dest``.
    Directory entries (which is also how git archives a submodule) are not files, as
    cmd/go's coderepo.go Zip skips names ending in "/". Every entry is hashed into
    :attr:`Extracted.tree_sha`, with the submodule commit ids ``gitlinks`` gives
    (repository path → hex id; a tree listing has them). Raises
    :class:`ArchiveFormatError` on a truncated or malformed tarball and
    :class:`ArchiveTooLargeError` past ``max_bytes`` of kept content.
    """
    dest.mkdir(parents=True, exist_ok=True)
    extras = list(extras)
    extra_set = set(extras)
    prefix = subdir + "/" if subdir else ""
    out = Extracted()
    tree = TreeHasher()
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
                if rel.endswith("/"):
                    rel = rel.rstrip("/")
                    member_is_dir = True
                else:
                    member_is_dir = member.isdir()
                if rel == "":
                    continue
                brel = rel.encode("utf-8", "surrogateescape")
                if member_is_dir:
                    tree.add_dir(brel)
                    continue
                in_subdir = rel.startswith(prefix)
                is_attr = rel == ".gitattributes" or rel.endswith("/.gitattributes")
                wanted_attr = is_attr and applies_to(rel, subdir, extras)
                keep = in_subdir or rel in extra_set or wanted_attr
                sub_rel = rel[len(prefix) :]
                if member.issym():
                    target = member.linkname.encode("utf-8", "surrogateescape")
                    h = blob_hasher(len(target))
                    h.update(target)
                    tree.add_blob(brel, b"120000", h.digest())
                    if in_subdir:
                        out.files.append(ArchiveFile(sub_rel, "symlink", len(target), None))
                        out.blob_shas[sub_rel] = h.hexdigest()
                    continue
                if not member.isreg():
                    tree.unknown = True  # git archive writes no such entry
                    if in_subdir:
                        out.files.append(ArchiveFile(sub_rel, "other", 0, None))
                    continue
                src = tf.extractfile(member)
                if src is None:  # pragma: no cover - isreg() members always have data
                    continue
                h = blob_hasher(member.size)
                mode = b"100755" if member.mode & 0o100 else b"100644"
                if not keep:
                    # Read through (the stream must be read anyway), only hashing.
                    n = 0
                    while chunk := src.read(_CHUNK):
                        h.update(chunk)
                        n += len(chunk)
                    if n != member.size:
                        raise ArchiveFormatError(f"archive entry {rel!r} is truncated")
                    tree.add_blob(brel, mode, h.digest())
                    continue
                total += member.size
                if total > max_bytes:
                    raise ArchiveTooLargeError(f"the files to package exceed {max_bytes} bytes")
                # One spool file for every kept member: creating thousands of small
                # files costs more than everything else here.
                offset = spool.tell()
                while chunk := src.read(_CHUNK):
                    h.update(chunk)
                    spool.write(chunk)
                if spool.tell() - offset != member.size:
                    raise ArchiveFormatError(f"archive entry {rel!r} is truncated")
                tree.add_blob(brel, mode, h.digest())
                entry = ArchiveFile(sub_rel, "file", member.size, spool_path, offset)
                if in_subdir:
                    out.files.append(entry)
                    out.blob_shas[sub_rel] = h.hexdigest()
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
    links = {
        p.encode("utf-8", "surrogateescape"): bytes.fromhex(sha)
        for p, sha in (gitlinks or {}).items()
    }
    out.tree_sha = tree.root(links)
    return out
