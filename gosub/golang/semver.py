"""Semantic versions as the go command reads them: a port of golang.org/x/mod/semver.

Source: ``golang.org/x/mod/semver/semver.go`` (vendored in go1.27.3 under
``src/cmd/vendor``; identical to golang/mod HEAD fe2ec04). Every function below behaves
exactly like its Go counterpart on the same input.

A version is ``vMAJOR[.MINOR[.PATCH[-PRERELEASE][+BUILD]]]``: the leading ``v`` is
required, ``vMAJOR`` and ``vMAJOR.MINOR`` (with no prerelease or build) are shorthands for
``vMAJOR.0.0`` and ``vMAJOR.MINOR.0``, numbers have no leading zeros, and prerelease and
build identifiers are non-empty runs of ``[0-9A-Za-z-]``; numeric prerelease identifiers
have no leading zeros. Only ASCII is ever valid.

Go strings are byte strings. A Python ``str`` holding lone surrogates (as produced by
``bytes.decode("utf-8", "surrogateescape")``) stands for a Go string that is not valid
UTF-8; :func:`go_bytes` gives the bytes Go would see, and is what byte-wise string order
(``strings.Compare``) is computed on.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import NamedTuple

__all__ = [
    "build",
    "canonical",
    "compare",
    "compare_version",
    "go_bytes",
    "is_valid",
    "major",
    "major_minor",
    "max",
    "prerelease",
    "sort",
    "sort_key",
]


class _Parsed(NamedTuple):
    """The parts of a parsed version (``short`` is the ``.0``/``.0.0`` a shorthand lacks)."""

    # semver.go: type parsed
    major: str
    minor: str
    patch: str
    short: str
    prerelease: str
    build: str


def go_bytes(s: str) -> bytes:
    """The bytes of the Go string that the Python string ``s`` stands for.

    Valid text is UTF-8 encoded. A lone surrogate U+DC80..U+DCFF (``surrogateescape``)
    stands for the single raw byte 0x80..0xFF; any other lone surrogate is encoded as its
    three-byte (invalid) UTF-8 form (``surrogatepass``). Not in Go: a helper for the port.
    """
    try:
        return s.encode("utf-8")
    except UnicodeEncodeError:
        out = bytearray()
        for ch in s:
            c = ord(ch)
            if 0xDC80 <= c <= 0xDCFF:
                out.append(c - 0xDC00)
            else:
                out += ch.encode("utf-8", "surrogatepass")
        return bytes(out)


def _is_digit(c: str) -> bool:
    """Report whether ``c`` is an ASCII digit (Go compares bytes with '0'..'9')."""
    # semver.go: the '0' <= c && c <= '9' tests
    return "0" <= c <= "9"


def _is_ident_char(c: str) -> bool:
    """Report whether ``c`` may appear in a prerelease or build identifier."""
    # semver.go: isIdentChar
    return "A" <= c <= "Z" or "a" <= c <= "z" or "0" <= c <= "9" or c == "-"


def _is_bad_num(v: str) -> bool:
    """Report whether ``v`` is all digits with a leading zero (and longer than 1)."""
    # semver.go: isBadNum — an all-digit identifier with a leading zero.
    i = 0
    while i < len(v) and _is_digit(v[i]):
        i += 1
    return i == len(v) and i > 1 and v[0] == "0"


def _is_num(v: str) -> bool:
    """Report whether ``v`` is all ASCII digits (true for ``""``, as in Go)."""
    # semver.go: isNum (true for "", as in Go)
    i = 0
    while i < len(v) and _is_digit(v[i]):
        i += 1
    return i == len(v)


def _parse_int(v: str) -> tuple[str, str] | None:
    """Split a leading decimal without extra leading zeros off ``v``: ``(int, rest)``."""
    # semver.go: parseInt
    if v == "" or not _is_digit(v[0]):
        return None
    i = 1
    while i < len(v) and _is_digit(v[i]):
        i += 1
    if v[0] == "0" and i != 1:
        return None
    return v[:i], v[i:]


def _parse_prerelease(v: str) -> tuple[str, str] | None:
    """Split a leading ``-PRERELEASE`` off ``v``: ``(prerelease, rest)``, or None."""
    # semver.go: parsePrerelease
    if v == "" or v[0] != "-":
        return None
    i = 1
    start = 1
    while i < len(v) and v[i] != "+":
        if not _is_ident_char(v[i]) and v[i] != ".":
            return None
        if v[i] == ".":
            if start == i or _is_bad_num(v[start:i]):
                return None
            start = i + 1
        i += 1
    if start == i or _is_bad_num(v[start:i]):
        return None
    return v[:i], v[i:]


def _parse_build(v: str) -> tuple[str, str] | None:
    """Split a ``+BUILD`` suffix off ``v``: ``(build, rest)``, or None."""
    # semver.go: parseBuild
    if v == "" or v[0] != "+":
        return None
    i = 1
    start = 1
    while i < len(v):
        if not _is_ident_char(v[i]) and v[i] != ".":
            return None
        if v[i] == ".":
            if start == i:
                return None
            start = i + 1
        i += 1
    if start == i:
        return None
    return v[:i], v[i:]


@functools.lru_cache(maxsize=4096)
def _parse(v: str) -> _Parsed | None:
    """Parse a version into its parts, or None if it is not valid."""
    # semver.go: parse
    if v == "" or v[0] != "v":
        return None
    r = _parse_int(v[1:])
    if r is None:
        return None
    major_, v = r
    if v == "":
        return _Parsed(major_, "0", "0", ".0.0", "", "")
    if v[0] != ".":
        return None
    r = _parse_int(v[1:])
    if r is None:
        return None
    minor, v = r
    if v == "":
        return _Parsed(major_, minor, "0", ".0", "", "")
    if v[0] != ".":
        return None
    r = _parse_int(v[1:])
    if r is None:
        return None
    patch, v = r
    pre = ""
    if v and v[0] == "-":
        r = _parse_prerelease(v)
        if r is None:
            return None
        pre, v = r
    bld = ""
    if v and v[0] == "+":
        r = _parse_build(v)
        if r is None:
            return None
        bld, v = r
    if v != "":
        return None
    return _Parsed(major_, minor, patch, "", pre, bld)


def is_valid(v: str) -> bool:
    """Report whether ``v`` is a valid semantic version string."""
    # semver.go: IsValid
    return _parse(v) is not None


def canonical(v: str) -> str:
    """The canonical form of ``v``: missing ``.MINOR``/``.PATCH`` filled in, build dropped.

    Two versions compare equal iff their canonical forms are identical. The canonical
    form of an invalid version is ``""``.
    """
    # semver.go: Canonical
    p = _parse(v)
    if p is None:
        return ""
    if p.build != "":
        return v[: len(v) - len(p.build)]
    if p.short != "":
        return v + p.short
    return v


def major(v: str) -> str:
    """The major version prefix of ``v`` (``major("v2.1.0") == "v2"``), or ``""`` if invalid."""
    # semver.go: Major
    p = _parse(v)
    if p is None:
        return ""
    return v[: 1 + len(p.major)]


def major_minor(v: str) -> str:
    """The ``vMAJOR.MINOR`` prefix of ``v`` (``"v2.1"`` for ``"v2.1.0"``), or ``""`` if invalid."""
    # semver.go: MajorMinor
    p = _parse(v)
    if p is None:
        return ""
    i = 1 + len(p.major)
    j = i + 1 + len(p.minor)
    if j <= len(v) and v[i] == "." and v[i + 1 : j] == p.minor:
        return v[:j]
    return v[:i] + "." + p.minor


def prerelease(v: str) -> str:
    """The prerelease suffix of ``v`` (``"-pre"`` for ``"v2.1.0-pre+meta"``), or ``""``."""
    # semver.go: Prerelease
    p = _parse(v)
    if p is None:
        return ""
    return p.prerelease


def build(v: str) -> str:
    """The build suffix of ``v`` (``"+meta"`` for ``"v2.1.0+meta"``), or ``""``."""
    # semver.go: Build
    p = _parse(v)
    if p is None:
        return ""
    return p.build


def _compare_int(x: str, y: str) -> int:
    """Compare two decimal strings without leading zeros numerically."""
    # semver.go: compareInt — decimal strings without leading zeros.
    if x == y:
        return 0
    if len(x) < len(y):
        return -1
    if len(x) > len(y):
        return +1
    return -1 if x < y else +1


def _next_ident(x: str) -> tuple[str, str]:
    """Split the next dot-separated identifier off ``x``."""
    # semver.go: nextIdent
    i = x.find(".")
    if i < 0:
        return x, ""
    return x[:i], x[i:]


def _compare_prerelease(x: str, y: str) -> int:
    """Compare two prerelease suffixes (``""`` = a release, the highest)."""
    # semver.go: comparePrerelease (SemVer 2.0.0 §11 precedence)
    if x == y:
        return 0
    if x == "":
        return +1
    if y == "":
        return -1
    while x != "" and y != "":
        x = x[1:]  # skip - or .
        y = y[1:]
        dx, x = _next_ident(x)
        dy, y = _next_ident(y)
        if dx != dy:
            ix = _is_num(dx)
            iy = _is_num(dy)
            if ix != iy:
                return -1 if ix else +1
            if ix:
                if len(dx) < len(dy):
                    return -1
                if len(dx) > len(dy):
                    return +1
            return -1 if dx < dy else +1
    return -1 if x == "" else +1


def compare(v: str, w: str) -> int:
    """Compare two versions by semver precedence: -1, 0 or +1.

    An invalid version is less than any valid one; all invalid versions compare equal.
    Build metadata is ignored (``v1.0.0+a`` == ``v1.0.0+b`` == ``v1``).
    """
    # semver.go: Compare
    pv = _parse(v)
    pw = _parse(w)
    if pv is None and pw is None:
        return 0
    if pv is None:
        return -1
    if pw is None:
        return +1
    c = _compare_int(pv.major, pw.major)
    if c != 0:
        return c
    c = _compare_int(pv.minor, pw.minor)
    if c != 0:
        return c
    c = _compare_int(pv.patch, pw.patch)
    if c != 0:
        return c
    return _compare_prerelease(pv.prerelease, pw.prerelease)


def max(v: str, w: str) -> str:
    """Canonicalize both arguments and return the greater (``w`` on a tie).

    Deprecated in Go: it returns a canonicalized version, which is rarely wanted.
    """
    # semver.go: Max
    v = canonical(v)
    w = canonical(w)
    if compare(v, w) > 0:
        return v
    return w


def _string_compare(a: str, b: str) -> int:
    """Go's ``strings.Compare``: byte-wise order of the Go strings."""
    # strings/compare.go: Compare
    # strings.Compare: byte-wise order of the Go strings.
    if a == b:
        return 0
    ba, bb = go_bytes(a), go_bytes(b)
    return -1 if ba < bb else (+1 if ba > bb else 0)


def compare_version(a: str, b: str) -> int:
    """:func:`compare`, with ties broken by byte-wise string order (the order of :func:`sort`)."""
    # semver.go: compareVersion
    c = compare(a, b)
    if c != 0:
        return c
    return _string_compare(a, b)


_Ident = tuple[int, int, str]
SortKey = tuple[int, tuple[int, str], tuple[int, str], tuple[int, str], tuple[_Ident, ...], bytes]


def sort_key(v: str) -> SortKey:
    """A key whose natural order is :func:`sort`'s order (:func:`compare_version`).

    ``sort_key(a) < sort_key(b)`` iff ``compare_version(a, b) < 0``. Not in Go.
    """
    # Derived from semver.go: Compare, comparePrerelease and compareVersion.
    p = _parse(v)
    raw = go_bytes(v)
    if p is None:
        return (0, (0, ""), (0, ""), (0, ""), (), raw)
    pre: tuple[_Ident, ...]
    if p.prerelease == "":
        # A release sorts after all of its prereleases.
        pre = ((2, 0, ""),)
    else:
        idents: list[_Ident] = []
        for d in p.prerelease[1:].split("."):
            # Numeric identifiers sort before alphanumeric ones, numerically.
            idents.append((0, len(d), d) if _is_num(d) else (1, 0, d))
        pre = tuple(idents)
    return (
        1,
        (len(p.major), p.major),
        (len(p.minor), p.minor),
        (len(p.patch), p.patch),
        pre,
        raw,
    )


def sort(versions: Iterable[str]) -> list[str]:
    """Return the versions sorted as ``semver.Sort`` sorts them.

    Order is by :func:`compare`, ties broken by byte-wise string order; so invalid
    versions come first, in string order. Duplicates are kept. Unlike Go this returns a
    new list rather than sorting in place.
    """
    # semver.go: Sort (slices.SortFunc with compareVersion); sort_key gives the same order.
    return sorted(versions, key=sort_key)
