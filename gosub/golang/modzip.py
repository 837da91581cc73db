"""The module zip builder: a port of x/mod/zip's ``Create`` and ``CheckFiles``.

Source: ``golang.org/x/mod/zip/zip.go`` (vendored in go1.27.3 under ``src/cmd/vendor``;
identical to golang/mod fe2ec04 apart from comments): ``Create``, ``checkFiles``,
``isVendoredPackage``, ``collisionChecker``, ``strToFold``. cmd/go builds the zip of a
version fetched from a VCS with ``Create`` over the files of ``git archive`` (see
``cmd/go/internal/modfetch/coderepo.go``); this module is that last step only and knows
nothing of HTTP or git.

Which files end up in the zip (x/mod/zip ``checkFiles``, in this order per file):

1. a path that is not clean (``path.Clean``) or is absolute: invalid;
2. in a vendored package (:func:`is_vendored_package`, which depends on the ``go``
   directive of the root go.mod): omitted;
3. in a directory that holds a *regular* file named ``go.mod`` in any case (a nested
   module): omitted;
4. ``.hg_archival.txt`` at the root: omitted;
5. ``module.CheckFilePath`` fails (bad characters, Windows reserved names, ...): invalid;
6. ``GO.MOD`` and other case variants of ``go.mod`` at the root: invalid;
7. a case-insensitive collision with another file or a parent directory, or a
   duplicate: invalid;
8. a symlink or other non-regular file: omitted (but only after steps 5-7: a badly
   named symlink still fails the version);
9. sizes: valid files total at most 500 MiB (else :class:`TooLargeError`); the root
   ``go.mod`` and ``LICENSE`` at most 16 MiB each (else invalid).

Any invalid file fails the whole version: :func:`create` raises before writing anything.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Literal

from gosub.golang import gomod
from gosub.golang.module import (
    InvalidPathError,
    InvalidVersionError,
    canonical_version,
    check,
    check_file_path,
    go_quote,
)
from gosub.golang.semver import go_bytes

__all__ = [
    "MAX_GO_MOD",
    "MAX_LICENSE",
    "MAX_ZIP_FILE",
    "CheckResult",
    "File",
    "InvalidFileError",
    "TooLargeError",
    "ZipError",
    "check_files",
    "create",
    "is_vendored_package",
    "str_to_fold",
]

# zip.go: MaxZipFile, MaxGoMod, MaxLICENSE
#: The largest module zip, and the largest total size of the files in it (500 MiB).
MAX_ZIP_FILE = 500 << 20
#: The largest root go.mod in a module zip (16 MiB).
MAX_GO_MOD = 16 << 20
#: The largest root LICENSE in a module zip (16 MiB).
MAX_LICENSE = 16 << 20

#: Bytes copied at a time from a file into the zip.
CHUNK_SIZE = 1 << 20

# zip.go: predefined error messages (invalid files)
ERR_PATH_NOT_CLEAN = "file path is not clean"
ERR_PATH_NOT_RELATIVE = "file path is not relative"
ERR_GO_MOD_CASE = "go.mod files must have lowercase names"
ERR_GO_MOD_SIZE = f"go.mod file too large (max size is {MAX_GO_MOD} bytes)"
ERR_LICENSE_SIZE = f"LICENSE file too large (max size is {MAX_LICENSE} bytes)"
# zip.go: predefined error messages (omitted files)
ERR_VENDORED = "file is in vendor directory"
ERR_SUBMODULE_FILE = "file is in another module"
ERR_HG_ARCHIVAL_TXT = "file is inserted by 'hg archive' and is always omitted"
ERR_SYMLINK = "file is a symbolic link"
ERR_NOT_REGULAR = "not a regular file"
# zip.go: checkFiles' SizeError
ERR_TREE_TOO_LARGE = f"module source tree too large (max size is {MAX_ZIP_FILE} bytes)"


# ---------------------------------------------------------------------------
# Inputs, results and errors


@dataclass(frozen=True)
class File:
    """One entry of a module's file tree, as x/mod/zip's ``File`` interface describes it.

    ``path`` is slash-separated and relative to the module root (it is checked, not
    trusted); ``kind`` is what ``Lstat`` would say: a regular ``"file"``, a
    ``"symlink"``, or ``"other"`` (submodule/gitlink, device, ...), the last two always
    omitted; ``size`` is the declared size in bytes; ``open`` returns a binary stream of
    the content and is called only for files that go into the zip (and for the root
    go.mod, whose ``go`` directive decides the vendor rule).
    """

    path: str
    kind: Literal["file", "symlink", "other"]
    size: int
    open: Callable[[], IO[bytes]]


class ZipError(Exception):
    """A module zip cannot be made; the message is the go command's (``create zip: ...``)."""


class InvalidFileError(ZipError):
    """One or more files make the version invalid (x/mod/zip ``FileErrorList``).

    ``invalid`` lists every ``(path, reason)``; ``path`` and ``reason`` are the first.
    The message has one ``path: reason`` line per file, as Go prints it.
    """

    def __init__(self, invalid: Sequence[tuple[str, str]], prefix: str = "") -> None:
        """Record all invalid files; the message is prefixed with ``prefix``."""
        self.invalid = list(invalid)
        self.path, self.reason = self.invalid[0]
        # zip.go: FileErrorList.Error, FileError.Error
        super().__init__(prefix + "\n".join(f"{p}: {r}" for p, r in self.invalid))


class TooLargeError(ZipError):
    """The valid files add up to more than :data:`MAX_ZIP_FILE` bytes."""


@dataclass(frozen=True)
class CheckResult:
    """What x/mod/zip ``CheckFiles`` reports (``CheckedFiles``).

    Every input path is in ``valid`` (the paths that go into the zip, in input order),
    ``omitted`` or ``invalid`` — ``(path, reason)`` pairs with Go's reason text — except
    that, as in Go, a path already reported once is not reported again (so a duplicated
    ``a.go`` is once valid and once invalid, a triplicated one still only once invalid).
    ``size_error`` is set when the valid files exceed :data:`MAX_ZIP_FILE` in total.
    """

    valid: list[str]
    omitted: list[tuple[str, str]]
    invalid: list[tuple[str, str]]
    size_error: str | None = None

    def err(self) -> ZipError | None:
        """The error Go's ``CheckedFiles.Err`` gives: the size error first, else the
        invalid files (:class:`InvalidFileError`), else None."""
        # zip.go: CheckedFiles.Err
        if self.size_error is not None:
            return TooLargeError(self.size_error)
        if self.invalid:
            return InvalidFileError(self.invalid)
        return None


# ---------------------------------------------------------------------------
# Go's path package, on slash-separated strings


def _clean(p: str) -> str:
    """Go's ``path.Clean``: the shortest equivalent path (``""`` becomes ``"."``)."""
    # path/path.go: Clean (same rules: collapse //, drop ., resolve .. lexically)
    rooted = p.startswith("/")
    parts: list[str] = []
    for el in p.split("/"):
        if el in ("", "."):
            continue
        if el == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(el)
    out = "/".join(parts)
    if rooted:
        return "/" + out
    return out or "."


def _split(p: str) -> tuple[str, str]:
    """Go's ``path.Split``: ``(dir, file)`` split after the last slash."""
    # path/path.go: Split
    i = p.rfind("/")
    return p[: i + 1], p[i + 1 :]


# ---------------------------------------------------------------------------
# Case folding

# unicode.SimpleFold orbits as strToFold uses them, generated from Go 1.27.3 (Unicode
# 17.0.0): "lo:hi:step:delta" (hex, hex, decimal, decimal) means every rune r in
# range(lo, hi + 1, step) folds to r + delta. Runes not listed fold to themselves.
_FOLD_TABLE = (
    "41:5a:1:32 e0:f6:1:-32 f8:fe:1:-32 101:12f:2:-1 133:137:2:-1 13a:148:2:-1 14b:177:2:-1 "
    "178:178:1:-121 17a:17e:2:-1 17f:17f:1:-268 183:185:2:-1 188:188:1:-1 18c:18c:1:-1 "
    "192:192:1:-1 199:199:1:-1 1a1:1a5:2:-1 1a8:1a8:1:-1 1ad:1ad:1:-1 1b0:1b0:1:-1 "
    "1b4:1b6:2:-1 1b9:1b9:1:-1 1bd:1bd:1:-1 1c5:1c5:1:-1 1c6:1c6:1:-2 1c8:1c8:1:-1 "
    "1c9:1c9:1:-2 1cb:1cb:1:-1 1cc:1cc:1:-2 1ce:1dc:2:-1 1dd:1dd:1:-79 1df:1ef:2:-1 "
    "1f2:1f2:1:-1 1f3:1f3:1:-2 1f5:1f5:1:-1 1f6:1f6:1:-97 1f7:1f7:1:-56 1f9:21f:2:-1 "
    "220:220:1:-130 223:233:2:-1 23c:23c:1:-1 23d:23d:1:-163 242:242:1:-1 243:243:1:-195 "
    "247:24f:2:-1 253:253:1:-210 254:254:1:-206 256:257:1:-205 259:259:1:-202 25b:25b:1:-203 "
    "260:260:1:-205 263:263:1:-207 268:268:1:-209 269:269:1:-211 26f:26f:1:-211 272:272:1:-213 "
    "275:275:1:-214 280:280:1:-218 283:283:1:-218 288:288:1:-218 289:289:1:-69 28a:28b:1:-217 "
    "28c:28c:1:-71 292:292:1:-219 371:373:2:-1 377:377:1:-1 399:399:1:-84 39c:39c:1:-743 "
    "3ac:3ac:1:-38 3ad:3af:1:-37 3b1:3b8:1:-32 3b9:3b9:1:-116 3ba:3bb:1:-32 3bc:3bc:1:-775 "
    "3bd:3c1:1:-32 3c2:3c2:1:-31 3c3:3cb:1:-32 3cc:3cc:1:-64 3cd:3ce:1:-63 3d0:3d0:1:-62 "
    "3d1:3d1:1:-57 3d5:3d5:1:-47 3d6:3d6:1:-54 3d7:3d7:1:-8 3d9:3ef:2:-1 3f0:3f0:1:-86 "
    "3f1:3f1:1:-80 3f3:3f3:1:-116 3f4:3f4:1:-92 3f5:3f5:1:-96 3f8:3f8:1:-1 3f9:3f9:1:-7 "
    "3fb:3fb:1:-1 3fd:3ff:1:-130 430:44f:1:-32 450:45f:1:-80 461:481:2:-1 48b:4bf:2:-1 "
    "4c2:4ce:2:-1 4cf:4cf:1:-15 4d1:52f:2:-1 561:586:1:-48 13f8:13fd:1:-8 1c80:1c80:1:-6254 "
    "1c81:1c81:1:-6253 1c82:1c82:1:-6244 1c83:1c84:1:-6242 1c85:1c85:1:-6243 1c86:1c86:1:-6236 "
    "1c87:1c87:1:-6181 1c8a:1c8a:1:-1 1c90:1cba:1:-3008 1cbd:1cbf:1:-3008 1e01:1e95:2:-1 "
    "1e9b:1e9b:1:-59 1e9e:1e9e:1:-7615 1ea1:1eff:2:-1 1f08:1f0f:1:-8 1f18:1f1d:1:-8 "
    "1f28:1f2f:1:-8 1f38:1f3f:1:-8 1f48:1f4d:1:-8 1f59:1f5f:2:-8 1f68:1f6f:1:-8 1f88:1f8f:1:-8 "
    "1f98:1f9f:1:-8 1fa8:1faf:1:-8 1fb8:1fb9:1:-8 1fba:1fbb:1:-74 1fbc:1fbc:1:-9 "
    "1fbe:1fbe:1:-7289 1fc8:1fcb:1:-86 1fcc:1fcc:1:-9 1fd3:1fd3:1:-7235 1fd8:1fd9:1:-8 "
    "1fda:1fdb:1:-100 1fe3:1fe3:1:-7219 1fe8:1fe9:1:-8 1fea:1feb:1:-112 1fec:1fec:1:-7 "
    "1ff8:1ff9:1:-128 1ffa:1ffb:1:-126 1ffc:1ffc:1:-9 2126:2126:1:-7549 212a:212a:1:-8383 "
    "212b:212b:1:-8294 214e:214e:1:-28 2170:217f:1:-16 2184:2184:1:-1 24d0:24e9:1:-26 "
    "2c30:2c5f:1:-48 2c61:2c61:1:-1 2c62:2c62:1:-10743 2c63:2c63:1:-3814 2c64:2c64:1:-10727 "
    "2c65:2c65:1:-10795 2c66:2c66:1:-10792 2c68:2c6c:2:-1 2c6d:2c6d:1:-10780 "
    "2c6e:2c6e:1:-10749 2c6f:2c6f:1:-10783 2c70:2c70:1:-10782 2c73:2c73:1:-1 2c76:2c76:1:-1 "
    "2c7e:2c7f:1:-10815 2c81:2ce3:2:-1 2cec:2cee:2:-1 2cf3:2cf3:1:-1 2d00:2d25:1:-7264 "
    "2d27:2d27:1:-7264 2d2d:2d2d:1:-7264 a641:a649:2:-1 a64a:a64a:1:-35266 a64b:a64b:1:-35267 "
    "a64d:a66d:2:-1 a681:a69b:2:-1 a723:a72f:2:-1 a733:a76f:2:-1 a77a:a77c:2:-1 "
    "a77d:a77d:1:-35332 a77f:a787:2:-1 a78c:a78c:1:-1 a78d:a78d:1:-42280 a791:a793:2:-1 "
    "a797:a7a9:2:-1 a7aa:a7aa:1:-42308 a7ab:a7ab:1:-42319 a7ac:a7ac:1:-42315 "
    "a7ad:a7ad:1:-42305 a7ae:a7ae:1:-42308 a7b0:a7b0:1:-42258 a7b1:a7b1:1:-42282 "
    "a7b2:a7b2:1:-42261 a7b5:a7c3:2:-1 a7c4:a7c4:1:-48 a7c5:a7c5:1:-42307 a7c6:a7c6:1:-35384 "
    "a7c8:a7ca:2:-1 a7cb:a7cb:1:-42343 a7cd:a7db:2:-1 a7dc:a7dc:1:-42561 a7f6:a7f6:1:-1 "
    "ab53:ab53:1:-928 ab70:abbf:1:-38864 fb06:fb06:1:-1 ff41:ff5a:1:-32 10428:1044f:1:-40 "
    "104d8:104fb:1:-40 10597:105a1:1:-39 105a3:105b1:1:-39 105b3:105b9:1:-39 105bb:105bc:1:-39 "
    "10cc0:10cf2:1:-64 10d70:10d85:1:-32 118c0:118df:1:-32 16e60:16e7f:1:-32 16ebb:16ed3:1:-27 "
    "1e922:1e943:1:-34 "
)


def _parse_fold_table(table: str) -> dict[int, int]:
    """Expand :data:`_FOLD_TABLE` into a rune-to-fold dict."""
    folds: dict[int, int] = {}
    for run in table.split():
        lo, hi, step, delta = run.split(":")
        for r in range(int(lo, 16), int(hi, 16) + 1, int(step)):
            folds[r] = r + int(delta)
    return folds


_FOLDS = _parse_fold_table(_FOLD_TABLE)
# str.translate table: the folds, and U+FFFD for lone surrogates (bytes that are not UTF-8:
# ranging over such a Go string yields utf8.RuneError).
_FOLD_TRANS: dict[int, str] = {r: chr(f) for r, f in _FOLDS.items()}
_FOLD_TRANS.update((c, "\ufffd") for c in range(0xD800, 0xE000))


def str_to_fold(s: str) -> str:
    """x/mod/zip's ``strToFold``: ``str_to_fold(a) == str_to_fold(b)`` iff Go's
    ``strings.EqualFold(a, b)``.

    Each rune becomes the smallest rune of its ``unicode.SimpleFold`` orbit, then A-Z
    becomes a-z. So U+212A KELVIN SIGN, ``K`` and ``k`` all give ``k``, and U+017F LATIN
    SMALL LETTER LONG S gives ``s``; Python's ``lower()`` and ``casefold()`` differ.
    A byte that is not UTF-8 (a lone surrogate here) becomes U+FFFD, as in Go.
    """
    # zip.go: strToFold. Fast path: all ASCII, no upper case.
    if s.isascii() and s.lower() == s:
        return s
    return s.translate(_FOLD_TRANS)


def _is_go_mod_name(name: str) -> bool:
    """``strings.EqualFold(name, "go.mod")``."""
    # zip.go: checkFiles. (The only runes folding to g, o, m, d are their ASCII cases, so
    # this is also strings.ToLower(name) == "go.mod".)
    return str_to_fold(name) == "go.mod"


class _CollisionChecker:
    """Case-insensitive name collisions, and paths used as both file and directory."""

    # zip.go: collisionChecker, pathInfo

    def __init__(self) -> None:
        """Start with no paths seen."""
        self._seen: dict[str, tuple[str, bool]] = {}

    def check(self, p: str, is_dir: bool) -> str | None:
        """Record ``p`` and its parent directories; the reason ``p`` conflicts, or None."""
        # zip.go: (collisionChecker).check (its recursion on the parent, as a loop)
        while True:
            fold = str_to_fold(p)
            other = self._seen.get(fold)
            if other is not None:
                other_path, other_is_dir = other
                if p != other_path:
                    return (
                        "case-insensitive file name collision: "
                        f"{go_quote(other_path)} and {go_quote(p)}"
                    )
                if is_dir != other_is_dir:
                    return f"entry {go_quote(p)} is both a file and a directory"
                if not is_dir:
                    return f"multiple entries for file {go_quote(p)}"
                # The same directory again (as the parent of several files) is fine.
            else:
                self._seen[fold] = (p, is_dir)
            # path.Dir(p); p is clean and relative here (checked before), so this is
            # just the part before the last slash.
            i = p.rfind("/")
            if i < 0:
                return None
            p, is_dir = p[:i], True


# ---------------------------------------------------------------------------
# The rules


def is_vendored_package(name: str, vers: str) -> bool:
    """x/mod/zip's ``isVendoredPackage``: whether ``name`` is omitted as vendored.

    ``vers`` is the language version of the root go.mod's ``go`` directive (``"go1.23"``)
    or ``""`` for none. ``vendor/<x>/...`` is always vendored, files directly in
    ``vendor/`` are not, except ``vendor/modules.txt`` from go1.24 on. For ``.../vendor/``
    deeper down, go1.24+ vendors only paths with a ``/`` after the first ``/vendor/``;
    before go1.24 a wrong offset (golang.org/issue/37397) makes every such path vendored,
    e.g. ``pkg/vendor/vendor.go``.
    """
    # zip.go: isVendoredPackage
    return _is_vendored(name, gomod.compare(vers, "go1.24") >= 0)


def _is_vendored(name: str, go124: bool) -> bool:
    """isVendoredPackage with ``version.Compare(vers, "go1.24") >= 0`` given."""
    # zip.go: isVendoredPackage, on the bytes of the path: Go's offsets are byte offsets.
    if "vendor/" not in name:
        return False
    b = go_bytes(name)
    if go124 and b == b"vendor/modules.txt":
        return True
    if b.startswith(b"vendor/"):
        i = len(b"vendor/")
    else:
        j = b.find(b"/vendor/")
        if j < 0:
            return False
        # Before go1.24 the offset is wrong (golang.org/issue/37397): i = len("/vendor/").
        i = j + len(b"/vendor/") if go124 else len(b"/vendor/")
    return b"/" in b[i:]


def _read_up_to(r: IO[bytes], n: int) -> bytes:
    """Read until EOF or ``n`` bytes (a stream may return short reads)."""
    buf = bytearray()
    while len(buf) < n:
        chunk = r.read(min(CHUNK_SIZE, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def _read_root_go_mod_lang(f: File) -> str | None:
    """``version.Lang(parseGoVers(...))`` of the root go.mod ``f``; None if unreadable."""
    # zip.go: checkFiles, reading the root go.mod (Go ignores Open/read errors and keeps
    # the previous vers). Not in Go: content over MAX_GO_MOD bytes is not parsed (Go
    # reads all of it). Such a go.mod fails the version anyway: it is invalid when its
    # declared size is honest, and Create finds the lie otherwise.
    try:
        r = f.open()
        try:
            data = _read_up_to(r, MAX_GO_MOD + 1)
        finally:
            r.close()
    except OSError:
        return None
    if len(data) > MAX_GO_MOD:
        return None
    v = gomod.go_version(data)
    return gomod.lang("go" + v) if v is not None else ""


def _check_files(files: Sequence[File]) -> tuple[CheckResult, list[File]]:
    """``checkFiles``: the report, and the valid files in order."""
    # zip.go: checkFiles
    valid: list[str] = []
    valid_files: list[File] = []
    omitted: list[tuple[str, str]] = []
    invalid: list[tuple[str, str]] = []
    size_error: str | None = None
    err_paths: set[str] = set()

    def add_error(p: str, is_omitted: bool, reason: str) -> None:
        """Report ``p`` once: a path already reported is not reported again."""
        if p in err_paths:
            return
        err_paths.add(p)
        (omitted if is_omitted else invalid).append((p, reason))

    # Find directories containing go.mod files (other than the root): files in them are
    # omitted. A symlink or other non-regular go.mod does not count.
    have_go_mod: set[str] = set()
    vers = ""
    for f in files:
        d, base = _split(f.path)
        if _is_go_mod_name(base):
            if f.kind != "file":
                continue
            have_go_mod.add(d)
            # The root go.mod's go directive decides which vendor rule applies.
            if base == "go.mod" and d == "":
                lang = _read_root_go_mod_lang(f)
                if lang is not None:
                    vers = lang

    def in_submodule(p: str) -> bool:
        """Whether a parent directory of ``p`` holds a nested module's go.mod."""
        while True:
            d, _ = _split(p)
            if d == "":
                return False
            if d in have_go_mod:
                return True
            p = d[:-1]

    go124 = gomod.compare(vers, "go1.24") >= 0
    collisions = _CollisionChecker()
    max_size = MAX_ZIP_FILE
    for f in files:
        p = f.path
        if p != _clean(p):
            add_error(p, False, ERR_PATH_NOT_CLEAN)
            continue
        if p.startswith("/"):  # path.IsAbs
            add_error(p, False, ERR_PATH_NOT_RELATIVE)
            continue
        if _is_vendored(p, go124):
            add_error(p, True, ERR_VENDORED)
            continue
        if in_submodule(p):
            add_error(p, True, ERR_SUBMODULE_FILE)
            continue
        if p == ".hg_archival.txt":
            # Inserted by hg archive; dropped whatever the VCS.
            add_error(p, True, ERR_HG_ARCHIVAL_TXT)
            continue
        try:
            check_file_path(p)
        except InvalidPathError as e:
            add_error(p, False, str(e))
            continue
        if _is_go_mod_name(p) and p != "go.mod":  # strings.ToLower(p) == "go.mod"
            add_error(p, False, ERR_GO_MOD_CASE)
            continue
        collision = collisions.check(p, False)
        if collision is not None:
            add_error(p, False, collision)
            continue
        if f.kind == "symlink":
            add_error(p, True, ERR_SYMLINK)  # golang.org/issue/27093
            continue
        if f.kind != "file":
            add_error(p, True, ERR_NOT_REGULAR)
            continue
        size = f.size
        if 0 <= size <= max_size:
            max_size -= size
        elif size_error is None:
            size_error = ERR_TREE_TOO_LARGE
        if p == "go.mod" and size > MAX_GO_MOD:
            add_error(p, False, ERR_GO_MOD_SIZE)
            continue
        if p == "LICENSE" and size > MAX_LICENSE:
            add_error(p, False, ERR_LICENSE_SIZE)
            continue
        valid.append(p)
        valid_files.append(f)
    return CheckResult(valid, omitted, invalid, size_error), valid_files


def check_files(files: Sequence[File]) -> CheckResult:
    """Go's ``zip.CheckFiles``: sort ``files`` into valid, omitted and invalid.

    Opens nothing but the root go.mod. :meth:`CheckResult.err` says whether the result
    describes a valid module zip.
    """
    # zip.go: CheckFiles
    return _check_files(files)[0]


# ---------------------------------------------------------------------------
# Writing


class _CountingWriter:
    """A write-only, unseekable wrapper that counts bytes (so zipfile streams, as Go
    does, with data descriptors and no seeking back)."""

    def __init__(self, out: IO[bytes]) -> None:
        """Wrap ``out``."""
        self._out = out
        self.count = 0

    def write(self, b: bytes, /) -> int:
        """Write ``b`` to the wrapped stream and count it."""
        self._out.write(b)
        self.count += len(b)
        return len(b)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self._out.flush()

    def close(self) -> None:
        """Leave ``out`` open: it belongs to the caller."""


def create(out: IO[bytes], module_path: str, version: str, files: Sequence[File]) -> int:
    """Go's ``zip.Create``: write the module zip of ``files`` to ``out``; return its size.

    The version must be canonical and agree with the path (``module.Check``); then every
    file is checked (see the module docstring) and any invalid file or an oversize tree
    raises :class:`InvalidFileError` / :class:`TooLargeError` before anything is written.
    Valid files are written in input order as ``<module_path>@<version>/<path>``, deflated,
    with no directory entries, a zero DOS timestamp and no mode bits; non-ASCII names get
    the UTF-8 flag. Contents are streamed; a file longer than its declared ``size`` raises
    :class:`ZipError` (the output is then unusable).
    """
    # zip.go: Create
    cv = canonical_version(version)
    if cv != version:
        raise ZipError(
            f"create zip: version {go_quote(version)} is not canonical (should be {go_quote(cv)})"
        )
    try:
        check(module_path, version)
    except (InvalidPathError, InvalidVersionError) as e:
        raise ZipError(f"create zip: {e}") from e

    cf, valid_files = _check_files(files)
    if cf.size_error is not None:
        raise TooLargeError(f"create zip: {cf.size_error}")
    if cf.invalid:
        raise InvalidFileError(cf.invalid, prefix="create zip: ")

    counter = _CountingWriter(out)
    prefix = f"{module_path}@{version}/"
    with zipfile.ZipFile(counter, "w", zipfile.ZIP_DEFLATED) as zw:
        for f in valid_files:
            _add_file(zw, prefix, f)
    return counter.count


def _add_file(zw: zipfile.ZipFile, prefix: str, f: File) -> None:
    """Stream one file into the zip; fail if it is longer than declared."""
    # zip.go: Create's addFile (io.Copy through an io.LimitedReader of size+1)
    info = zipfile.ZipInfo(prefix + f.path, date_time=(1980, 0, 0, 0, 0, 0))  # DOS date 0
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 0  # like Go's zero FileHeader: version made by 2.0, MS-DOS
    remaining = f.size + 1
    src = f.open()
    try:
        with zw.open(info, "w") as dst:
            # zipfile fills in 0o600 permissions when external_attr is 0; Go writes no
            # mode. The central directory, written at close, takes this value.
            info.external_attr = 0
            while remaining > 0:
                chunk = src.read(min(CHUNK_SIZE, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                dst.write(chunk)
    finally:
        src.close()
    if remaining <= 0:
        raise ZipError(f"create zip: file {go_quote(f.path)} is larger than declared size")
