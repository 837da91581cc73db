"""gosub.golang.dirhash: Hash1, HashZip and goModSum as Go computes them."""

from __future__ import annotations

import base64
import hashlib
import io
import struct
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from gosub.golang import dirhash

EMPTY_HASH = "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="  # x/mod zip_test.go emptyHash


def _data(b: bytes) -> Callable[[], IO[bytes]]:
    """An opener for in-memory content."""
    return lambda: io.BytesIO(b)


def _expected(entries: list[tuple[str, bytes]]) -> str:
    """Hash1 written out from its definition (sha256sum | sort | sha256sum)."""
    lines = b"".join(
        hashlib.sha256(data).hexdigest().encode() + b"  " + name.encode() + b"\n"
        for name, data in sorted(entries, key=lambda e: e[0].encode())
    )
    return "h1:" + base64.b64encode(hashlib.sha256(lines).digest()).decode()


def test_go_mod_sum_example() -> None:
    """The spec's GoModSum example."""
    # The spec's example, checked against go1.27.3's go.sum entry.
    got = dirhash.hash_go_mod(b"module github.com/ex/inc\n")
    assert got == "h1:d002RpOFlanNmEtXCaDRVpV0hrG2GZQuz1BhgZcytZY="


def test_hash1_empty() -> None:
    """No files: the hash of an empty summary."""
    assert dirhash.hash1([]) == EMPTY_HASH


def test_hash1_sorts_bytewise() -> None:
    """Names are sorted by their bytes, whatever the input order."""
    entries = [("b", b"2"), ("a/\u00e9", b"3"), ("a/z", b"4"), ("B", b"1"), ("a/\U0001f600", b"5")]
    got = dirhash.hash1((n, _data(d)) for n, d in entries)
    assert got == _expected(entries)
    # The order of the input does not matter.
    assert dirhash.hash1((n, _data(d)) for n, d in reversed(entries)) == got


def test_hash1_rejects_newline() -> None:
    """A name with a newline is an error, as in Go."""
    with pytest.raises(ValueError, match="filenames with newlines are not supported"):
        dirhash.hash1([("a\nb", _data(b""))])


class _ChunkCheckingStream(io.RawIOBase):
    """A large stream that fails the test if anyone asks for all of it at once."""

    def __init__(self, size: int) -> None:
        """A stream of ``size`` bytes."""
        self.left = size
        self.closed_by_hash = False

    def readable(self) -> bool:
        """Readable."""
        return True

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes; ``n`` must be a bounded chunk size."""
        assert n is not None and 0 < n <= dirhash.CHUNK_SIZE, f"unbounded read({n})"
        k = min(n, self.left)
        self.left -= k
        return b"\x01" * k

    def close(self) -> None:
        """Note that the hash closed the stream."""
        self.closed_by_hash = True
        super().close()


def test_hash1_streams_and_closes() -> None:
    """Contents are read in bounded chunks, and closed."""
    size = 3 * dirhash.CHUNK_SIZE + 5
    stream = _ChunkCheckingStream(size)
    got = dirhash.hash1([("big", lambda: stream)])  # type: ignore[list-item, return-value]
    assert got == _expected([("big", b"\x01" * size)])
    assert stream.closed_by_hash


def _sample_zip() -> bytes:
    """A zip with a directory entry, a duplicate, a deflated and a non-ASCII entry."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name"
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("m@v1/dir/", b"")
            zf.writestr("m@v1/a", b"first")
            zf.writestr("m@v1/a", b"second")
            zf.writestr(zipfile.ZipInfo("m@v1/b"), b"bz", compress_type=zipfile.ZIP_DEFLATED)
            zf.writestr("m@v1/\u00e9", b"e")
    return buf.getvalue()


def test_hash_zip_directories_and_duplicates() -> None:
    """HashZip's view of directory entries and duplicate names."""
    # Directory entries hash as empty files; a duplicated name is listed twice but both
    # times reads the last entry of that name (HashZip looks entries up by name).
    want = _expected(
        [
            ("m@v1/dir/", b""),
            ("m@v1/a", b"second"),
            ("m@v1/a", b"second"),
            ("m@v1/b", b"bz"),
            ("m@v1/\u00e9", b"e"),
        ]
    )
    # The same value dirhash.HashZip gives for this zip in go1.27.3:
    assert want == "h1:QNkxNltJQM9SicVn8Nen8HyHWI3g5/P4jBoz+eQBgX0="
    assert dirhash.hash_zip(io.BytesIO(_sample_zip())) == want


def test_hash_zip_accepts_path_and_file(tmp_path: Path) -> None:
    """hash_zip takes a str path, a Path or an open binary file."""
    p = tmp_path / "m.zip"
    p.write_bytes(_sample_zip())
    want = dirhash.hash_zip(io.BytesIO(_sample_zip()))
    assert dirhash.hash_zip(p) == want
    assert dirhash.hash_zip(str(p)) == want
    with p.open("rb") as f:
        assert dirhash.hash_zip(f) == want


def _clear_utf8_flags(z: bytes) -> bytes:
    """Clear flag 0x800 in every local and central header of ``z``."""
    out = bytearray(z)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = 0
        while (i := out.find(sig, i)) >= 0:
            (flags,) = struct.unpack_from("<H", out, i + off)
            struct.pack_into("<H", out, i + off, flags & ~0x800)
            i += 4
    return bytes(out)


def test_hash_zip_names_are_raw_bytes() -> None:
    """Names without the UTF-8 flag hash as their raw bytes."""
    # Without the UTF-8 flag Python reads names as CP437; Go takes the raw bytes.
    z = _clear_utf8_flags(_sample_zip())
    assert dirhash.hash_zip(io.BytesIO(z)) == dirhash.hash_zip(io.BytesIO(_sample_zip()))


def test_hash_zip_ignores_compression_and_order() -> None:
    """Compression method and entry order do not matter."""
    a, b = io.BytesIO(), io.BytesIO()
    with zipfile.ZipFile(a, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("m@v1/x", b"x" * 1000)
        zf.writestr("m@v1/y", b"y")
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("m@v1/y", b"y")
        zf.writestr("m@v1/x", b"x" * 1000)
    assert dirhash.hash_zip(io.BytesIO(a.getvalue())) == dirhash.hash_zip(io.BytesIO(b.getvalue()))


def test_hash_zip_errors_like_go() -> None:
    """Unsupported methods and non-empty directories fail as in Go."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("m@v1/x", b"data", compress_type=zipfile.ZIP_BZIP2)
    with pytest.raises(zipfile.BadZipFile, match="unsupported compression algorithm"):
        dirhash.hash_zip(io.BytesIO(buf.getvalue()))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("m@v1/d/", b"not empty")
    with pytest.raises(zipfile.BadZipFile, match="not a valid zip file"):
        dirhash.hash_zip(io.BytesIO(buf.getvalue()))
