"""The ``h1:`` hashes of go.sum and the checksum database: a port of x/mod/sumdb/dirhash.

Sources: ``golang.org/x/mod/sumdb/dirhash/hash.go`` (``Hash1``, ``HashZip``) and
``cmd/go/internal/modfetch/fetch.go`` (``goModSum``), go1.27.3.

``h1:`` is ``"h1:" + base64(sha256(summary))`` where the summary has one line
``"<sha256 hex of content>  <name>\\n"`` per file, in byte order of the names. Contents
are streamed in chunks; nothing reads a whole file into memory.

Names are Go strings: a ``str`` with lone surrogates stands for bytes that are not UTF-8
(see :func:`gosub.golang.semver.go_bytes`); ordering and the summary use those bytes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from gosub.golang.semver import go_bytes

__all__ = ["CHUNK_SIZE", "hash1", "hash_go_mod", "hash_zip"]

#: Bytes read at a time when hashing file contents.
CHUNK_SIZE = 1 << 20


def hash1(files: Iterable[tuple[str, Callable[[], IO[bytes]]]]) -> str:
    """Go's ``dirhash.Hash1`` over ``(name, open)`` pairs: the ``h1:...`` string.

    Names are sorted bytewise (a stable sort, so equal names keep their order) and each
    file is opened, streamed through SHA-256 and closed. A name containing ``\\n`` raises
    ValueError (Go: "dirhash: filenames with newlines are not supported"); errors from
    ``open`` or reading propagate.
    """
    # sumdb/dirhash/hash.go: Hash1
    entries = sorted(files, key=lambda e: go_bytes(e[0]))
    for name, _ in entries:
        if "\n" in name:
            raise ValueError("dirhash: filenames with newlines are not supported")
    summary = hashlib.sha256()
    for name, opener in entries:
        hf = hashlib.sha256()
        f = opener()
        try:
            while chunk := f.read(CHUNK_SIZE):
                hf.update(chunk)
        finally:
            f.close()
        # fmt.Fprintf(h, "%x  %s\n", hf.Sum(nil), file)
        summary.update(hf.hexdigest().encode("ascii") + b"  " + go_bytes(name) + b"\n")
    return "h1:" + base64.b64encode(summary.digest()).decode("ascii")


def _zip_name(info: zipfile.ZipInfo) -> str:
    """The entry name as Go's archive/zip gives it: the raw bytes, never re-encoded.

    Python decodes names without the UTF-8 flag (0x800) as CP437; that is undone here
    (CP437 maps all 256 bytes one-to-one). ``orig_filename`` keeps any NUL, which Go keeps
    too. Names flagged UTF-8 are taken as decoded; Python refuses a flagged name that is
    not valid UTF-8, where Go would hash its raw bytes (Go's writer never produces one).
    """
    if info.flag_bits & 0x800:
        return info.orig_filename
    return info.orig_filename.encode("cp437").decode("utf-8", "surrogateescape")


def _open_entry(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    """Open a zip entry as Go's ``(*zip.File).Open`` would read it."""
    # archive/zip/reader.go: (*File).Open
    if info.orig_filename.endswith("/"):
        # A directory entry reads as empty; with a non-zero declared size it is an error.
        if info.file_size != 0:
            raise zipfile.BadZipFile("zip: not a valid zip file")
        return io.BytesIO(b"")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        # Go registers only Store and Deflate decompressors.
        raise zipfile.BadZipFile("zip: unsupported compression algorithm")
    return z.open(info)


def hash_zip(zip_file: str | Path | IO[bytes]) -> str:
    """Go's ``dirhash.HashZip(zipfile, Hash1)``: the h1 of a module zip as go.sum has it.

    Every entry is hashed under its full name (``path@version/...`` kept): directory
    entries (as empty files) and duplicate names too. As in Go, a duplicated name is
    listed once per entry but every occurrence reads the **last** entry of that name (Go
    looks entries up in a map by name). Only Store and Deflate entries can be read.
    """
    # sumdb/dirhash/hash.go: HashZip
    with zipfile.ZipFile(zip_file) as z:
        infos = z.infolist()
        names = [_zip_name(i) for i in infos]
        last: dict[str, zipfile.ZipInfo] = {}
        for name, info in zip(names, infos, strict=True):
            last[name] = info

        def opener(info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
            """An opener bound to ``info`` (not to the loop variable)."""
            return lambda: _open_entry(z, info)

        return hash1((name, opener(last[name])) for name in names)


def hash_go_mod(data: bytes) -> str:
    """The go.sum hash of a go.mod (``<version>/go.mod h1:...``): Hash1 of ``go.mod``.

    ``hash_go_mod(b"module github.com/ex/inc\\n") ==
    "h1:d002RpOFlanNmEtXCaDRVpV0hrG2GZQuz1BhgZcytZY="``.
    """
    # cmd/go/internal/modfetch/fetch.go: goModSum
    return hash1([("go.mod", lambda: io.BytesIO(data))])
