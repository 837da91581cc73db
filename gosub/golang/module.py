"""Module paths and versions as the go command checks them: a port of x/mod/module.

Source: ``golang.org/x/mod/module/module.go`` (vendored in go1.27.3 under
``src/cmd/vendor``; identical to golang/mod HEAD fe2ec04). The checks accept and reject
exactly what Go does, and error messages are Go's ``Error()`` text byte for byte.

Errors. Go returns an error value; this port raises:

- :class:`InvalidPathError` — a bad module, import or file path (Go's
  ``*InvalidPathError``), and also :func:`unescape_path` failures (plain ``fmt.Errorf``
  errors in Go; the message is Go's).
- :class:`InvalidVersionError` — a bad version (Go's ``*InvalidVersionError``). When Go
  wraps it in a ``*ModuleError`` (as :func:`check` does) ``.path`` is set and the message
  is the ModuleError's. :func:`unescape_version` failures (plain errors in Go) use it too.

Strings. Go strings are bytes, Python strings are code points. A ``str`` with lone
surrogates (``surrogateescape``) stands for a Go string that is not valid UTF-8 (see
:func:`gosub.golang.semver.go_bytes`); such paths fail with ``invalid UTF-8`` as in Go.

Unicode. ``CheckFilePath`` allows any rune for which Go's ``unicode.IsLetter`` is true,
and Go's ``%q`` quoting (``strconv.Quote``) escapes runes that ``strconv.IsPrint``
rejects. Go 1.27 uses Unicode 17.0.0; Python 3.11's ``unicodedata`` is Unicode 14.0.0,
so ``str.isalpha()`` (same categories: Lu, Ll, Lt, Lm, Lo) misses 13,916 letters that
Unicode 15-17 added. Both predicates therefore use tables generated from Go 1.27.3's
``unicode.IsLetter`` and ``strconv.IsPrint`` (see :data:`UNICODE_VERSION`); marks
(Mn/Mc/Me, e.g. U+0301 combining acute) are not letters, so a decomposed ``é`` is
rejected in file paths while the precomposed U+00E9 is accepted, as in Go.
"""

from __future__ import annotations

import bisect

from gosub.golang import semver
from gosub.golang.semver import go_bytes

__all__ = [
    "UNICODE_VERSION",
    "InvalidPathError",
    "InvalidVersionError",
    "canonical_version",
    "check",
    "check_file_path",
    "check_import_path",
    "check_path",
    "check_path_major",
    "escape_path",
    "escape_version",
    "go_quote",
    "go_quote_rune",
    "is_letter",
    "is_print",
    "match_path_major",
    "path_major_prefix",
    "split_path_version",
    "unescape_path",
    "unescape_version",
]

#: The Unicode version of Go 1.27.3's ``unicode`` package, which the tables follow.
UNICODE_VERSION = "17.0.0"


# ---------------------------------------------------------------------------
# Errors


class InvalidPathError(ValueError):
    """A module, import or file path that breaks Go's naming rules.

    Mirrors module.go ``InvalidPathError``: ``kind`` is ``"module"``, ``"import"`` or
    ``"file"``, ``path`` the offending path, ``err`` the bare reason (e.g.
    ``"missing dot in first path element"``). ``str(e)`` is Go's ``Error()`` text,
    ``malformed <kind> path "<path>": <err>``, unless the Go function raised a different
    error type, in which case it is that error's text.
    """

    # module.go: type InvalidPathError, (*InvalidPathError).Error

    def __init__(self, kind: str, path: str, err: str, *, message: str | None = None) -> None:
        """Record the fields; ``message`` overrides the Go InvalidPathError text."""
        # module.go: &InvalidPathError{Kind, Path, Err}
        self.kind = kind
        self.path = path
        self.err = err
        if message is None:
            message = f"malformed {kind} path {go_quote(path)}: {err}"
        super().__init__(message)


class InvalidVersionError(ValueError):
    """A version that is invalid, alone or for a module path.

    Mirrors module.go ``InvalidVersionError``: ``version``, ``pseudo`` (whether it reads
    as a pseudo-version) and ``err`` (the bare reason). ``str(e)`` is Go's ``Error()``:
    ``version "<v>" invalid: <err>`` (or ``pseudo-version ...``). If ``path`` is set the
    error is the Go ``*ModuleError`` that wraps it, and the text is
    ``<path>@<version>: invalid version: <err>``.
    """

    # module.go: type InvalidVersionError, (*InvalidVersionError).Error, and
    # (*ModuleError).Error for the wrapped case.

    def __init__(
        self,
        version: str,
        err: str,
        *,
        pseudo: bool = False,
        path: str | None = None,
        message: str | None = None,
    ) -> None:
        """Record the fields; ``message`` overrides the Go text."""
        # module.go: &InvalidVersionError{Version, Pseudo, Err} (and &ModuleError{Path, Err})
        self.version = version
        self.err = err
        self.pseudo = pseudo
        self.path = path
        if message is None:
            if path is None:
                message = f"{self.noun} {go_quote(version)} invalid: {err}"
            else:
                message = f"{path}@{version}: invalid {self.noun}: {err}"
        super().__init__(message)

    @property
    def noun(self) -> str:
        """``"pseudo-version"`` or ``"version"``."""
        # module.go: (*InvalidVersionError).noun
        return "pseudo-version" if self.pseudo else "version"


# ---------------------------------------------------------------------------
# Unicode predicates and Go quoting


def _parse_ranges(table: str) -> tuple[list[int], list[int]]:
    """Parse a table of hex code point ranges into sorted (lows, highs) lists."""
    # Not in Go: reads the tables generated from unicode.IsLetter / strconv.IsPrint.
    los: list[int] = []
    his: list[int] = []
    for tok in table.split():
        lo, _, hi = tok.partition("-")
        los.append(int(lo, 16))
        his.append(int(hi or lo, 16))
    return los, his


def _in_ranges(c: int, ranges: tuple[list[int], list[int]]) -> bool:
    """Report whether code point ``c`` lies in one of the ranges (binary search)."""
    # Not in Go: stands for unicode.Is(table, r) (unicode/letter.go).
    los, his = ranges
    i = bisect.bisect_right(los, c) - 1
    return i >= 0 and c <= his[i]


def is_letter(ch: str) -> bool:
    """Go's ``unicode.IsLetter`` (category L, Unicode 17.0.0) for one character."""
    # unicode/graphic.go: IsLetter
    c = ord(ch)
    if c < 0x80:
        return "A" <= ch <= "Z" or "a" <= ch <= "z"
    return _in_ranges(c, _LETTERS)


def is_print(ch: str) -> bool:
    """Go's ``strconv.IsPrint`` (= ``unicode.IsPrint``: L, M, N, P, S and U+0020)."""
    # strconv/quote.go: IsPrint
    c = ord(ch)
    if c < 0x80:
        return 0x20 <= c < 0x7F
    return _in_ranges(c, _PRINTABLE)


_SIMPLE_ESCAPES = {
    0x07: "\\a",
    0x08: "\\b",
    0x0C: "\\f",
    0x0A: "\\n",
    0x0D: "\\r",
    0x09: "\\t",
    0x0B: "\\v",
}


def _escaped_rune(c: int, quote: str) -> str:
    """How ``strconv`` writes rune ``c`` inside a literal quoted with ``quote``."""
    # strconv/quote.go: appendEscapedRune (ASCIIonly=false, graphicOnly=false)
    if c == ord(quote) or c == 0x5C:
        return "\\" + chr(c)
    if not 0xD800 <= c <= 0xDFFF and is_print(chr(c)):
        return chr(c)
    if c in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[c]
    if c < 0x20 or c == 0x7F:
        return f"\\x{c:02x}"
    if 0xD800 <= c <= 0xDFFF or c > 0x10FFFF:
        c = 0xFFFD
    if c < 0x10000:
        return f"\\u{c:04x}"
    return f"\\U{c:08x}"


def go_quote(s: str) -> str:
    """Go's ``strconv.Quote`` (what ``%q`` does to a string), byte for byte.

    Printable runes are kept, ``"`` and ``\\`` are backslashed, others become ``\\n``,
    ``\\x1f``, ``\\u00ad`` or ``\\U000e0001``; each byte that is not valid UTF-8 (a lone
    surrogate here) becomes ``\\xHH``.
    """
    # strconv/quote.go: Quote, appendQuotedWith
    out = ['"']
    for ch in _go_string(s):
        c = ord(ch)
        if 0xD800 <= c <= 0xDFFF:
            out.extend(f"\\x{b:02x}" for b in go_bytes(ch))
        else:
            out.append(_escaped_rune(c, '"'))
    out.append('"')
    return "".join(out)


def go_quote_rune(ch: str) -> str:
    """Go's ``strconv.QuoteRune`` (what ``%q`` does to a rune), e.g. ``'x'`` or ``'\\''``."""
    # strconv/quote.go: QuoteRune, appendQuotedRuneWith (invalid runes become U+FFFD)
    c = ord(ch)
    if 0xD800 <= c <= 0xDFFF:
        c = 0xFFFD
    return "'" + _escaped_rune(c, "'") + "'"


def _has_surrogate(s: str) -> bool:
    """Report whether ``s`` holds a lone surrogate, i.e. bytes that are not UTF-8."""
    # Not in Go: stands for !utf8.ValidString (unicode/utf8/utf8.go).
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in s)


def _go_string(s: str) -> str:
    """Normalize ``s`` to the Python form of the Go string it stands for.

    Lone surrogates whose bytes happen to form valid UTF-8 (``"\\udcc3\\udca9"`` is the Go
    string ``"é"``) are decoded; what is left as surrogates is not valid UTF-8.
    """
    # Not in Go: maps a Python str to the Go string it stands for (see semver.go_bytes).
    if not _has_surrogate(s):
        return s
    return go_bytes(s).decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------
# Path checks


def _first_path_ok(r: str) -> bool:
    """Report whether ``r`` may appear in the first element of a module path."""
    # module.go: firstPathOK
    return r == "-" or r == "." or "0" <= r <= "9" or "a" <= r <= "z"


def _mod_path_ok(r: str) -> bool:
    """Report whether ``r`` may appear in a module path element."""
    # module.go: modPathOK
    return (
        r == "-"
        or r == "."
        or r == "_"
        or r == "~"
        or "0" <= r <= "9"
        or "A" <= r <= "Z"
        or "a" <= r <= "z"
    )


def _import_path_ok(r: str) -> bool:
    """Report whether ``r`` may appear in an import path element."""
    # module.go: importPathOK
    return _mod_path_ok(r) or r == "+"


_FILE_NAME_PUNCT = "!#$%&()+,-.=@[]^_{}~ "


def _file_name_ok(r: str) -> bool:
    """Report whether ``r`` may appear in a file name."""
    # module.go: fileNameOK
    if ord(r) < 0x80:
        if "0" <= r <= "9" or "A" <= r <= "Z" or "a" <= r <= "z":
            return True
        return r in _FILE_NAME_PUNCT
    return is_letter(r)


_MODULE_PATH, _IMPORT_PATH, _FILE_PATH = 0, 1, 2

# module.go: badWindowsNames
_BAD_WINDOWS_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"COM{i}" for i in range(1, 10)]
    + [f"LPT{i}" for i in range(1, 10)]
)


def _check_path(path: str, kind: int) -> str | None:
    """module.go: checkPath. Returns the bare error text, or None if the path is valid."""
    # module.go: checkPath
    path = _go_string(path)
    if _has_surrogate(path):
        return "invalid UTF-8"
    if path == "":
        return "empty string"
    if path[0] == "-" and kind != _FILE_PATH:
        return "leading dash"
    if "//" in path:
        return "double slash"
    if path[-1] == "/":
        return "trailing slash"
    elem_start = 0
    for i, r in enumerate(path):
        if r == "/":
            err = _check_elem(path[elem_start:i], kind)
            if err is not None:
                return err
            elem_start = i + 1
    return _check_elem(path[elem_start:], kind)


def _check_elem(elem: str, kind: int) -> str | None:
    """module.go: checkElem. Returns the bare error text, or None if the element is valid."""
    # module.go: checkElem. Bytes that are not UTF-8 (left as surrogates) range as U+FFFD,
    # which is not a letter, so they fail as "invalid char '\ufffd'" like in Go.
    elem = _go_string(elem)
    if elem == "":
        return "empty path element"
    if elem.count(".") == len(elem):
        return f"invalid path element {go_quote(elem)}"
    if elem[0] == "." and kind == _MODULE_PATH:
        return "leading dot in path element"
    if elem[-1] == ".":
        return "trailing dot in path element"
    ok = (
        _mod_path_ok
        if kind == _MODULE_PATH
        else _import_path_ok
        if kind == _IMPORT_PATH
        else _file_name_ok
    )
    for r in elem:
        if not ok(r):
            return f"invalid char {go_quote_rune(r)}"

    # Windows reserved names, compared with strings.EqualFold. No rune outside ASCII
    # simple-folds to a letter or digit of these names (checked against Go), so an ASCII
    # upper-case comparison is exact.
    short = elem
    dot = short.find(".")
    if dot >= 0:
        short = short[:dot]
    if short.isascii() and short.upper() in _BAD_WINDOWS_NAMES:
        return f"{go_quote(short)} disallowed as path element component on Windows"

    if kind == _FILE_PATH:
        # Windows short names (trailing ~digits) are only an issue for import paths.
        return None

    tilde = short.rfind("~")
    if 0 <= tilde < len(short) - 1:
        suffix = short[tilde + 1 :]
        if all("0" <= r <= "9" for r in suffix):
            return "trailing tilde and digits in path element"
    return None


def check_path(path: str) -> None:
    """Check that ``path`` is a valid module path; raise :class:`InvalidPathError` if not.

    A module path is a valid import path (:func:`check_import_path`) with no ``+`` and no
    leading dot in any element, whose first element is a lower-case domain name with a
    dot and no leading dash, and whose major-version suffix (``/vN``, gopkg.in ``.vN``) is
    well formed (see :func:`split_path_version`).
    """
    # module.go: CheckPath
    err = _check_module_path(path)
    if err is not None:
        raise InvalidPathError("module", path, err)


def _check_module_path(path: str) -> str | None:
    """module.go: CheckPath. Returns the bare error text, or None if the path is valid."""
    # module.go: CheckPath, before wrapping in InvalidPathError
    err = _check_path(path, _MODULE_PATH)
    if err is not None:
        return err
    i = path.find("/")
    if i < 0:
        i = len(path)
    if i == 0:
        return "leading slash"
    if "." not in path[:i]:
        return "missing dot in first path element"
    if path[0] == "-":
        return "leading dash in first path element"
    for r in path[:i]:
        if not _first_path_ok(r):
            return f"invalid char {go_quote_rune(r)} in first path element"
    if not split_path_version(path)[2]:
        return "invalid version"
    return None


def check_import_path(path: str) -> None:
    """Check that ``path`` is a valid import path; raise :class:`InvalidPathError` if not.

    Elements are non-empty runs of ASCII letters, digits and ``-._~+``; no element may be
    all dots, end in a dot, be a Windows reserved name before its first dot (CON, com1,
    NuL, ...), or end in ``~`` and digits (a Windows short name). No leading dash, no
    leading, trailing or doubled slash.
    """
    # module.go: CheckImportPath
    err = _check_path(path, _IMPORT_PATH)
    if err is not None:
        raise InvalidPathError("import", path, err)


def check_file_path(path: str) -> None:
    """Check that a slash-separated file path is valid; raise :class:`InvalidPathError` if not.

    Like :func:`check_import_path`, but a leading dash and ``~digits`` are allowed, and the
    characters are ASCII letters and digits, space, ``!#$%&()+,-.=@[]^_{}~`` and any
    Unicode letter (Go's ``unicode.IsLetter``, Unicode 17.0.0).
    """
    # module.go: CheckFilePath
    err = _check_path(path, _FILE_PATH)
    if err is not None:
        raise InvalidPathError("file", path, err)


# ---------------------------------------------------------------------------
# Major versions


def split_path_version(path: str) -> tuple[str, str, bool]:
    """Split ``path`` into ``(prefix, path_major, ok)`` with ``prefix + path_major == path``.

    ``path_major`` is ``""`` or ``/vN`` with N >= 2 and no leading zero; for ``gopkg.in/``
    paths it is ``.vN`` (any N, optionally followed by ``-unstable``), which is required.
    ``ok`` is False (and ``prefix == path``) when the last element is malformed, such as
    ``/v1``, ``/v0``, ``/v02`` or ``/v2.0``.
    """
    # module.go: SplitPathVersion
    if path.startswith("gopkg.in/"):
        return _split_gopkg_in(path)
    i = len(path)
    dot = False
    while i > 0 and ("0" <= path[i - 1] <= "9" or path[i - 1] == "."):
        if path[i - 1] == ".":
            dot = True
        i -= 1
    if i <= 1 or i == len(path) or path[i - 1] != "v" or path[i - 2] != "/":
        return path, "", True
    prefix, path_major = path[: i - 2], path[i - 2 :]
    if dot or len(path_major) <= 2 or path_major[2] == "0" or path_major == "/v1":
        return path, "", False
    return prefix, path_major, True


def _split_gopkg_in(path: str) -> tuple[str, str, bool]:
    """:func:`split_path_version` for ``gopkg.in/`` paths, which need ``.vN``."""
    # module.go: splitGopkgIn
    if not path.startswith("gopkg.in/"):
        return path, "", False
    i = len(path)
    if path.endswith("-unstable"):
        i -= len("-unstable")
    while i > 0 and "0" <= path[i - 1] <= "9":
        i -= 1
    if i <= 1 or path[i - 1] != "v" or path[i - 2] != ".":
        # All gopkg.in paths must end in vN for some N.
        return path, "", False
    prefix, path_major = path[: i - 2], path[i - 2 :]
    if len(path_major) <= 2 or (path_major[2] == "0" and path_major != ".v0"):
        return path, "", False
    return prefix, path_major, True


def match_path_major(v: str, path_major: str) -> bool:
    """Report whether version ``v`` matches ``path_major`` (``check_path_major`` passes)."""
    # module.go: MatchPathMajor
    return _path_major_error(v, path_major) is None


def check_path_major(v: str, path_major: str) -> None:
    """Raise :class:`InvalidVersionError` unless version ``v`` matches ``path_major``.

    ``""`` accepts v0, v1 and any ``+incompatible``; ``/vN`` and ``.vN`` accept vN only,
    except that ``.v1`` also accepts the old ``v0.0.0-`` pseudo-versions.
    """
    # module.go: CheckPathMajor
    err = _path_major_error(v, path_major)
    if err is not None:
        raise InvalidVersionError(v, err)


def _path_major_error(v: str, path_major: str) -> str | None:
    """The reason ``v`` does not match ``path_major`` (CheckPathMajor), or None."""
    # module.go: CheckPathMajor, returning the bare reason
    if path_major.startswith(".v") and path_major.endswith("-unstable"):
        path_major = path_major.removesuffix("-unstable")
    if v.startswith("v0.0.0-") and path_major == ".v1":
        # Allow old bug in pseudo-versions that generated v0.0.0- pseudoversion for gopkg .v1.
        return None
    m = semver.major(v)
    if path_major == "":
        if m == "v0" or m == "v1" or semver.build(v) == "+incompatible":
            return None
        path_major = "v0 or v1"
    elif path_major[0] == "/" or path_major[0] == ".":
        if m == path_major[1:]:
            return None
        path_major = path_major[1:]
    return f"should be {path_major}, not {semver.major(v)}"


def path_major_prefix(path_major: str) -> str:
    """The major-version tag prefix implied by ``path_major``: ``"/v2"`` gives ``"v2"``.

    ``""`` gives ``""`` and ``.vN-unstable`` gives ``vN``. Raises ValueError (a panic in
    Go) if ``path_major`` lacks its separator or is not a major version.
    """
    # module.go: PathMajorPrefix
    if path_major == "":
        return ""
    if path_major[0] != "/" and path_major[0] != ".":
        raise ValueError(
            "pathMajor suffix " + path_major + " passed to PathMajorPrefix lacks separator"
        )
    if path_major.startswith(".v") and path_major.endswith("-unstable"):
        path_major = path_major.removesuffix("-unstable")
    m = path_major[1:]
    if m != semver.major(m):
        # Go's message lacks the space before "passed"; kept as is.
        raise ValueError(
            "pathMajor suffix "
            + path_major
            + "passed to PathMajorPrefix is not a valid major version"
        )
    return m


def check(path: str, version: str) -> None:
    """Check that ``path`` and ``version`` are valid and agree (Go's ``module.Check``).

    Raises :class:`InvalidPathError` for a bad path, and :class:`InvalidVersionError`
    (with ``.path`` set: Go's ``ModuleError``) if the version is not a semantic version or
    its major version does not match the path (``yaml/v2`` needs ``v2.x.y``).
    """
    # module.go: Check
    check_path(path)
    if not semver.is_valid(version):
        raise InvalidVersionError(version, "not a semantic version", path=path)
    _, path_major, _ = split_path_version(path)
    err = _path_major_error(version, path_major)
    if err is not None:
        raise InvalidVersionError(version, err, path=path)


def canonical_version(v: str) -> str:
    """:func:`gosub.golang.semver.canonical`, but keeping a ``+incompatible`` build suffix."""
    # module.go: CanonicalVersion
    cv = semver.canonical(v)
    if semver.build(v) == "+incompatible":
        cv += "+incompatible"
    return cv


# ---------------------------------------------------------------------------
# Case escaping ("!x" for upper-case X)


def escape_path(path: str) -> str:
    """The escaped form of a module path: each ASCII capital ``X`` becomes ``!x``.

    Raises :class:`InvalidPathError` if the path fails :func:`check_path`.
    """
    # module.go: EscapePath
    check_path(path)
    esc = _escape_string(path)
    if esc is None:
        raise InvalidPathError("module", path, _ESCAPE_INTERNAL, message=_ESCAPE_INTERNAL)
    return esc


def escape_version(v: str) -> str:
    """The escaped form of a version: each ASCII capital ``X`` becomes ``!x``.

    The version need not be semver but must be a valid file-path element without ``!``;
    otherwise raises :class:`InvalidVersionError` ("disallowed version string"). A
    version with a non-ASCII letter passes that check but then fails in Go's
    ``escapeString`` with ``internal error: inconsistency in EscapePath``; that is raised
    here as an :class:`InvalidVersionError` with Go's message.
    """
    # module.go: EscapeVersion
    if _check_elem(v, _FILE_PATH) is not None or "!" in v:
        raise InvalidVersionError(v, "disallowed version string")
    esc = _escape_string(v)
    if esc is None:
        raise InvalidVersionError(v, _ESCAPE_INTERNAL, message=_ESCAPE_INTERNAL)
    return esc


_ESCAPE_INTERNAL = "internal error: inconsistency in EscapePath"


def _escape_string(s: str) -> str | None:
    """Replace each ASCII capital X by ``!x``; None if ``s`` has ``!`` or non-ASCII."""
    # module.go: escapeString; None stands for its internal error.
    have_upper = False
    for r in s:
        if r == "!" or ord(r) >= 0x80:
            return None
        if "A" <= r <= "Z":
            have_upper = True
    if not have_upper:
        return s
    return "".join("!" + r.lower() if "A" <= r <= "Z" else r for r in s)


def _unescape_string(escaped: str) -> str | None:
    """Undo :func:`_escape_string`; None for a raw capital, a bad ``!`` or non-ASCII."""
    # module.go: unescapeString; None for a bad escape.
    buf: list[str] = []
    bang = False
    for r in escaped:
        if ord(r) >= 0x80:
            return None
        if bang:
            bang = False
            if not "a" <= r <= "z":
                return None
            buf.append(r.upper())
            continue
        if r == "!":
            bang = True
            continue
        if "A" <= r <= "Z":
            return None
        buf.append(r)
    if bang:
        return None
    return "".join(buf)


def unescape_path(escaped: str) -> str:
    """The module path for an escaped path (``!x`` → ``X``).

    Raises :class:`InvalidPathError` if the escaping is bad (a raw capital, ``!`` not
    followed by a-z, a trailing ``!``, non-ASCII) — Go's ``invalid escaped module path
    "<escaped>"`` — or if the result fails :func:`check_path` — ``invalid escaped module
    path "<escaped>": <CheckPath error>``.
    """
    # module.go: UnescapePath
    path = _unescape_string(escaped)
    if path is None:
        raise InvalidPathError(
            "module",
            escaped,
            "invalid escaped module path",
            message=f"invalid escaped module path {go_quote(escaped)}",
        )
    err = _check_module_path(path)
    if err is not None:
        inner = InvalidPathError("module", path, err)
        raise InvalidPathError(
            "module",
            path,
            err,
            message=f"invalid escaped module path {go_quote(escaped)}: {inner}",
        )
    return path


def unescape_version(escaped: str) -> str:
    """The version for an escaped version (``!x`` → ``X``).

    Raises :class:`InvalidVersionError` if the escaping is bad — Go's ``invalid escaped
    version "<escaped>"`` — or if the result is not a valid file-path element — ``invalid
    escaped version "<unescaped>": <reason>`` (Go quotes the unescaped form here).
    """
    # module.go: UnescapeVersion
    v = _unescape_string(escaped)
    if v is None:
        raise InvalidVersionError(
            escaped,
            "invalid escaped version",
            message=f"invalid escaped version {go_quote(escaped)}",
        )
    err = _check_elem(v, _FILE_PATH)
    if err is not None:
        raise InvalidVersionError(v, err, message=f"invalid escaped version {go_quote(v)}: {err}")
    return v


# ---------------------------------------------------------------------------
# Tables generated from Go 1.27.3 (Unicode 17.0.0): inclusive code point ranges, in hex,
# of runes r for which unicode.IsLetter(r) (_LETTER_TABLE) and strconv.IsPrint(r)
# (_PRINT_TABLE) hold. Generated by looping over every rune in a Go program;
# tests/unit/golang/test_module.py re-checks them against the local Go toolchain.

_LETTER_TABLE = """
41-5a 61-7a aa b5 ba c0-d6 d8-f6 f8-2c1 2c6-2d1 2e0-2e4 2ec 2ee 370-374 376-377 37a-37d 37f 386
388-38a 38c 38e-3a1 3a3-3f5 3f7-481 48a-52f 531-556 559 560-588 5d0-5ea 5ef-5f2 620-64a 66e-66f
671-6d3 6d5 6e5-6e6 6ee-6ef 6fa-6fc 6ff 710 712-72f 74d-7a5 7b1 7ca-7ea 7f4-7f5 7fa 800-815 81a
824 828 840-858 860-86a 870-887 889-88f 8a0-8c9 904-939 93d 950 958-961 971-980 985-98c 98f-990
993-9a8 9aa-9b0 9b2 9b6-9b9 9bd 9ce 9dc-9dd 9df-9e1 9f0-9f1 9fc a05-a0a a0f-a10 a13-a28 a2a-a30
a32-a33 a35-a36 a38-a39 a59-a5c a5e a72-a74 a85-a8d a8f-a91 a93-aa8 aaa-ab0 ab2-ab3 ab5-ab9 abd
ad0 ae0-ae1 af9 b05-b0c b0f-b10 b13-b28 b2a-b30 b32-b33 b35-b39 b3d b5c-b5d b5f-b61 b71 b83
b85-b8a b8e-b90 b92-b95 b99-b9a b9c b9e-b9f ba3-ba4 ba8-baa bae-bb9 bd0 c05-c0c c0e-c10 c12-c28
c2a-c39 c3d c58-c5a c5c-c5d c60-c61 c80 c85-c8c c8e-c90 c92-ca8 caa-cb3 cb5-cb9 cbd cdc-cde
ce0-ce1 cf1-cf2 d04-d0c d0e-d10 d12-d3a d3d d4e d54-d56 d5f-d61 d7a-d7f d85-d96 d9a-db1 db3-dbb
dbd dc0-dc6 e01-e30 e32-e33 e40-e46 e81-e82 e84 e86-e8a e8c-ea3 ea5 ea7-eb0 eb2-eb3 ebd ec0-ec4
ec6 edc-edf f00 f40-f47 f49-f6c f88-f8c 1000-102a 103f 1050-1055 105a-105d 1061 1065-1066
106e-1070 1075-1081 108e 10a0-10c5 10c7 10cd 10d0-10fa 10fc-1248 124a-124d 1250-1256 1258
125a-125d 1260-1288 128a-128d 1290-12b0 12b2-12b5 12b8-12be 12c0 12c2-12c5 12c8-12d6 12d8-1310
1312-1315 1318-135a 1380-138f 13a0-13f5 13f8-13fd 1401-166c 166f-167f 1681-169a 16a0-16ea
16f1-16f8 1700-1711 171f-1731 1740-1751 1760-176c 176e-1770 1780-17b3 17d7 17dc 1820-1878
1880-1884 1887-18a8 18aa 18b0-18f5 1900-191e 1950-196d 1970-1974 1980-19ab 19b0-19c9 1a00-1a16
1a20-1a54 1aa7 1b05-1b33 1b45-1b4c 1b83-1ba0 1bae-1baf 1bba-1be5 1c00-1c23 1c4d-1c4f 1c5a-1c7d
1c80-1c8a 1c90-1cba 1cbd-1cbf 1ce9-1cec 1cee-1cf3 1cf5-1cf6 1cfa 1d00-1dbf 1e00-1f15 1f18-1f1d
1f20-1f45 1f48-1f4d 1f50-1f57 1f59 1f5b 1f5d 1f5f-1f7d 1f80-1fb4 1fb6-1fbc 1fbe 1fc2-1fc4
1fc6-1fcc 1fd0-1fd3 1fd6-1fdb 1fe0-1fec 1ff2-1ff4 1ff6-1ffc 2071 207f 2090-209c 2102 2107
210a-2113 2115 2119-211d 2124 2126 2128 212a-212d 212f-2139 213c-213f 2145-2149 214e 2183-2184
2c00-2ce4 2ceb-2cee 2cf2-2cf3 2d00-2d25 2d27 2d2d 2d30-2d67 2d6f 2d80-2d96 2da0-2da6 2da8-2dae
2db0-2db6 2db8-2dbe 2dc0-2dc6 2dc8-2dce 2dd0-2dd6 2dd8-2dde 2e2f 3005-3006 3031-3035 303b-303c
3041-3096 309d-309f 30a1-30fa 30fc-30ff 3105-312f 3131-318e 31a0-31bf 31f0-31ff 3400-4dbf
4e00-a48c a4d0-a4fd a500-a60c a610-a61f a62a-a62b a640-a66e a67f-a69d a6a0-a6e5 a717-a71f
a722-a788 a78b-a7dc a7f1-a801 a803-a805 a807-a80a a80c-a822 a840-a873 a882-a8b3 a8f2-a8f7 a8fb
a8fd-a8fe a90a-a925 a930-a946 a960-a97c a984-a9b2 a9cf a9e0-a9e4 a9e6-a9ef a9fa-a9fe aa00-aa28
aa40-aa42 aa44-aa4b aa60-aa76 aa7a aa7e-aaaf aab1 aab5-aab6 aab9-aabd aac0 aac2 aadb-aadd
aae0-aaea aaf2-aaf4 ab01-ab06 ab09-ab0e ab11-ab16 ab20-ab26 ab28-ab2e ab30-ab5a ab5c-ab69
ab70-abe2 ac00-d7a3 d7b0-d7c6 d7cb-d7fb f900-fa6d fa70-fad9 fb00-fb06 fb13-fb17 fb1d fb1f-fb28
fb2a-fb36 fb38-fb3c fb3e fb40-fb41 fb43-fb44 fb46-fbb1 fbd3-fd3d fd50-fd8f fd92-fdc7 fdf0-fdfb
fe70-fe74 fe76-fefc ff21-ff3a ff41-ff5a ff66-ffbe ffc2-ffc7 ffca-ffcf ffd2-ffd7 ffda-ffdc
10000-1000b 1000d-10026 10028-1003a 1003c-1003d 1003f-1004d 10050-1005d 10080-100fa 10280-1029c
102a0-102d0 10300-1031f 1032d-10340 10342-10349 10350-10375 10380-1039d 103a0-103c3 103c8-103cf
10400-1049d 104b0-104d3 104d8-104fb 10500-10527 10530-10563 10570-1057a 1057c-1058a 1058c-10592
10594-10595 10597-105a1 105a3-105b1 105b3-105b9 105bb-105bc 105c0-105f3 10600-10736 10740-10755
10760-10767 10780-10785 10787-107b0 107b2-107ba 10800-10805 10808 1080a-10835 10837-10838 1083c
1083f-10855 10860-10876 10880-1089e 108e0-108f2 108f4-108f5 10900-10915 10920-10939 10940-10959
10980-109b7 109be-109bf 10a00 10a10-10a13 10a15-10a17 10a19-10a35 10a60-10a7c 10a80-10a9c
10ac0-10ac7 10ac9-10ae4 10b00-10b35 10b40-10b55 10b60-10b72 10b80-10b91 10c00-10c48 10c80-10cb2
10cc0-10cf2 10d00-10d23 10d4a-10d65 10d6f-10d85 10e80-10ea9 10eb0-10eb1 10ec2-10ec7 10f00-10f1c
10f27 10f30-10f45 10f70-10f81 10fb0-10fc4 10fe0-10ff6 11003-11037 11071-11072 11075 11083-110af
110d0-110e8 11103-11126 11144 11147 11150-11172 11176 11183-111b2 111c1-111c4 111da 111dc
11200-11211 11213-1122b 1123f-11240 11280-11286 11288 1128a-1128d 1128f-1129d 1129f-112a8
112b0-112de 11305-1130c 1130f-11310 11313-11328 1132a-11330 11332-11333 11335-11339 1133d 11350
1135d-11361 11380-11389 1138b 1138e 11390-113b5 113b7 113d1 113d3 11400-11434 11447-1144a
1145f-11461 11480-114af 114c4-114c5 114c7 11580-115ae 115d8-115db 11600-1162f 11644 11680-116aa
116b8 11700-1171a 11740-11746 11800-1182b 118a0-118df 118ff-11906 11909 1190c-11913 11915-11916
11918-1192f 1193f 11941 119a0-119a7 119aa-119d0 119e1 119e3 11a00 11a0b-11a32 11a3a 11a50
11a5c-11a89 11a9d 11ab0-11af8 11bc0-11be0 11c00-11c08 11c0a-11c2e 11c40 11c72-11c8f 11d00-11d06
11d08-11d09 11d0b-11d30 11d46 11d60-11d65 11d67-11d68 11d6a-11d89 11d98 11db0-11ddb 11ee0-11ef2
11f02 11f04-11f10 11f12-11f33 11fb0 12000-12399 12480-12543 12f90-12ff0 13000-1342f 13441-13446
13460-143fa 14400-14646 16100-1611d 16800-16a38 16a40-16a5e 16a70-16abe 16ad0-16aed 16b00-16b2f
16b40-16b43 16b63-16b77 16b7d-16b8f 16d40-16d6c 16e40-16e7f 16ea0-16eb8 16ebb-16ed3 16f00-16f4a
16f50 16f93-16f9f 16fe0-16fe1 16fe3 16ff2-16ff3 17000-18cd5 18cff-18d1e 18d80-18df2 1aff0-1aff3
1aff5-1affb 1affd-1affe 1b000-1b122 1b132 1b150-1b152 1b155 1b164-1b167 1b170-1b2fb 1bc00-1bc6a
1bc70-1bc7c 1bc80-1bc88 1bc90-1bc99 1d400-1d454 1d456-1d49c 1d49e-1d49f 1d4a2 1d4a5-1d4a6
1d4a9-1d4ac 1d4ae-1d4b9 1d4bb 1d4bd-1d4c3 1d4c5-1d505 1d507-1d50a 1d50d-1d514 1d516-1d51c
1d51e-1d539 1d53b-1d53e 1d540-1d544 1d546 1d54a-1d550 1d552-1d6a5 1d6a8-1d6c0 1d6c2-1d6da
1d6dc-1d6fa 1d6fc-1d714 1d716-1d734 1d736-1d74e 1d750-1d76e 1d770-1d788 1d78a-1d7a8 1d7aa-1d7c2
1d7c4-1d7cb 1df00-1df1e 1df25-1df2a 1e030-1e06d 1e100-1e12c 1e137-1e13d 1e14e 1e290-1e2ad
1e2c0-1e2eb 1e4d0-1e4eb 1e5d0-1e5ed 1e5f0 1e6c0-1e6de 1e6e0-1e6e2 1e6e4-1e6e5 1e6e7-1e6ed
1e6f0-1e6f4 1e6fe-1e6ff 1e7e0-1e7e6 1e7e8-1e7eb 1e7ed-1e7ee 1e7f0-1e7fe 1e800-1e8c4 1e900-1e943
1e94b 1ee00-1ee03 1ee05-1ee1f 1ee21-1ee22 1ee24 1ee27 1ee29-1ee32 1ee34-1ee37 1ee39 1ee3b 1ee42
1ee47 1ee49 1ee4b 1ee4d-1ee4f 1ee51-1ee52 1ee54 1ee57 1ee59 1ee5b 1ee5d 1ee5f 1ee61-1ee62 1ee64
1ee67-1ee6a 1ee6c-1ee72 1ee74-1ee77 1ee79-1ee7c 1ee7e 1ee80-1ee89 1ee8b-1ee9b 1eea1-1eea3
1eea5-1eea9 1eeab-1eebb 20000-2a6df 2a700-2b81d 2b820-2cead 2ceb0-2ebe0 2ebf0-2ee5d 2f800-2fa1d
30000-3134a 31350-33479
"""

_PRINT_TABLE = """
20-7e a1-ac ae-377 37a-37f 384-38a 38c 38e-3a1 3a3-52f 531-556 559-58a 58d-58f 591-5c7 5d0-5ea
5ef-5f4 606-61b 61d-6dc 6de-70d 710-74a 74d-7b1 7c0-7fa 7fd-82d 830-83e 840-85b 85e 860-86a
870-88f 897-8e1 8e3-983 985-98c 98f-990 993-9a8 9aa-9b0 9b2 9b6-9b9 9bc-9c4 9c7-9c8 9cb-9ce 9d7
9dc-9dd 9df-9e3 9e6-9fe a01-a03 a05-a0a a0f-a10 a13-a28 a2a-a30 a32-a33 a35-a36 a38-a39 a3c
a3e-a42 a47-a48 a4b-a4d a51 a59-a5c a5e a66-a76 a81-a83 a85-a8d a8f-a91 a93-aa8 aaa-ab0 ab2-ab3
ab5-ab9 abc-ac5 ac7-ac9 acb-acd ad0 ae0-ae3 ae6-af1 af9-aff b01-b03 b05-b0c b0f-b10 b13-b28
b2a-b30 b32-b33 b35-b39 b3c-b44 b47-b48 b4b-b4d b55-b57 b5c-b5d b5f-b63 b66-b77 b82-b83 b85-b8a
b8e-b90 b92-b95 b99-b9a b9c b9e-b9f ba3-ba4 ba8-baa bae-bb9 bbe-bc2 bc6-bc8 bca-bcd bd0 bd7
be6-bfa c00-c0c c0e-c10 c12-c28 c2a-c39 c3c-c44 c46-c48 c4a-c4d c55-c56 c58-c5a c5c-c5d c60-c63
c66-c6f c77-c8c c8e-c90 c92-ca8 caa-cb3 cb5-cb9 cbc-cc4 cc6-cc8 cca-ccd cd5-cd6 cdc-cde ce0-ce3
ce6-cef cf1-cf3 d00-d0c d0e-d10 d12-d44 d46-d48 d4a-d4f d54-d63 d66-d7f d81-d83 d85-d96 d9a-db1
db3-dbb dbd dc0-dc6 dca dcf-dd4 dd6 dd8-ddf de6-def df2-df4 e01-e3a e3f-e5b e81-e82 e84 e86-e8a
e8c-ea3 ea5 ea7-ebd ec0-ec4 ec6 ec8-ece ed0-ed9 edc-edf f00-f47 f49-f6c f71-f97 f99-fbc fbe-fcc
fce-fda 1000-10c5 10c7 10cd 10d0-1248 124a-124d 1250-1256 1258 125a-125d 1260-1288 128a-128d
1290-12b0 12b2-12b5 12b8-12be 12c0 12c2-12c5 12c8-12d6 12d8-1310 1312-1315 1318-135a 135d-137c
1380-1399 13a0-13f5 13f8-13fd 1400-167f 1681-169c 16a0-16f8 1700-1715 171f-1736 1740-1753
1760-176c 176e-1770 1772-1773 1780-17dd 17e0-17e9 17f0-17f9 1800-180d 180f-1819 1820-1878
1880-18aa 18b0-18f5 1900-191e 1920-192b 1930-193b 1940 1944-196d 1970-1974 1980-19ab 19b0-19c9
19d0-19da 19de-1a1b 1a1e-1a5e 1a60-1a7c 1a7f-1a89 1a90-1a99 1aa0-1aad 1ab0-1add 1ae0-1aeb
1b00-1b4c 1b4e-1bf3 1bfc-1c37 1c3b-1c49 1c4d-1c8a 1c90-1cba 1cbd-1cc7 1cd0-1cfa 1d00-1f15
1f18-1f1d 1f20-1f45 1f48-1f4d 1f50-1f57 1f59 1f5b 1f5d 1f5f-1f7d 1f80-1fb4 1fb6-1fc4 1fc6-1fd3
1fd6-1fdb 1fdd-1fef 1ff2-1ff4 1ff6-1ffe 2010-2027 2030-205e 2070-2071 2074-208e 2090-209c
20a0-20c1 20d0-20f0 2100-218b 2190-2429 2440-244a 2460-2b73 2b76-2cf3 2cf9-2d25 2d27 2d2d
2d30-2d67 2d6f-2d70 2d7f-2d96 2da0-2da6 2da8-2dae 2db0-2db6 2db8-2dbe 2dc0-2dc6 2dc8-2dce
2dd0-2dd6 2dd8-2dde 2de0-2e5d 2e80-2e99 2e9b-2ef3 2f00-2fd5 2ff0-2fff 3001-303f 3041-3096
3099-30ff 3105-312f 3131-318e 3190-31e5 31ef-321e 3220-a48c a490-a4c6 a4d0-a62b a640-a6f7
a700-a7dc a7f1-a82c a830-a839 a840-a877 a880-a8c5 a8ce-a8d9 a8e0-a953 a95f-a97c a980-a9cd
a9cf-a9d9 a9de-a9fe aa00-aa36 aa40-aa4d aa50-aa59 aa5c-aac2 aadb-aaf6 ab01-ab06 ab09-ab0e
ab11-ab16 ab20-ab26 ab28-ab2e ab30-ab6b ab70-abed abf0-abf9 ac00-d7a3 d7b0-d7c6 d7cb-d7fb
f900-fa6d fa70-fad9 fb00-fb06 fb13-fb17 fb1d-fb36 fb38-fb3c fb3e fb40-fb41 fb43-fb44 fb46-fdcf
fdf0-fe19 fe20-fe52 fe54-fe66 fe68-fe6b fe70-fe74 fe76-fefc ff01-ffbe ffc2-ffc7 ffca-ffcf
ffd2-ffd7 ffda-ffdc ffe0-ffe6 ffe8-ffee fffc-fffd 10000-1000b 1000d-10026 10028-1003a
1003c-1003d 1003f-1004d 10050-1005d 10080-100fa 10100-10102 10107-10133 10137-1018e 10190-1019c
101a0 101d0-101fd 10280-1029c 102a0-102d0 102e0-102fb 10300-10323 1032d-1034a 10350-1037a
10380-1039d 1039f-103c3 103c8-103d5 10400-1049d 104a0-104a9 104b0-104d3 104d8-104fb 10500-10527
10530-10563 1056f-1057a 1057c-1058a 1058c-10592 10594-10595 10597-105a1 105a3-105b1 105b3-105b9
105bb-105bc 105c0-105f3 10600-10736 10740-10755 10760-10767 10780-10785 10787-107b0 107b2-107ba
10800-10805 10808 1080a-10835 10837-10838 1083c 1083f-10855 10857-1089e 108a7-108af 108e0-108f2
108f4-108f5 108fb-1091b 1091f-10939 1093f-10959 10980-109b7 109bc-109cf 109d2-10a03 10a05-10a06
10a0c-10a13 10a15-10a17 10a19-10a35 10a38-10a3a 10a3f-10a48 10a50-10a58 10a60-10a9f 10ac0-10ae6
10aeb-10af6 10b00-10b35 10b39-10b55 10b58-10b72 10b78-10b91 10b99-10b9c 10ba9-10baf 10c00-10c48
10c80-10cb2 10cc0-10cf2 10cfa-10d27 10d30-10d39 10d40-10d65 10d69-10d85 10d8e-10d8f 10e60-10e7e
10e80-10ea9 10eab-10ead 10eb0-10eb1 10ec2-10ec7 10ed0-10ed8 10efa-10f27 10f30-10f59 10f70-10f89
10fb0-10fcb 10fe0-10ff6 11000-1104d 11052-11075 1107f-110bc 110be-110c2 110d0-110e8 110f0-110f9
11100-11134 11136-11147 11150-11176 11180-111df 111e1-111f4 11200-11211 11213-11241 11280-11286
11288 1128a-1128d 1128f-1129d 1129f-112a9 112b0-112ea 112f0-112f9 11300-11303 11305-1130c
1130f-11310 11313-11328 1132a-11330 11332-11333 11335-11339 1133b-11344 11347-11348 1134b-1134d
11350 11357 1135d-11363 11366-1136c 11370-11374 11380-11389 1138b 1138e 11390-113b5 113b7-113c0
113c2 113c5 113c7-113ca 113cc-113d5 113d7-113d8 113e1-113e2 11400-1145b 1145d-11461 11480-114c7
114d0-114d9 11580-115b5 115b8-115dd 11600-11644 11650-11659 11660-1166c 11680-116b9 116c0-116c9
116d0-116e3 11700-1171a 1171d-1172b 11730-11746 11800-1183b 118a0-118f2 118ff-11906 11909
1190c-11913 11915-11916 11918-11935 11937-11938 1193b-11946 11950-11959 119a0-119a7 119aa-119d7
119da-119e4 11a00-11a47 11a50-11aa2 11ab0-11af8 11b00-11b09 11b60-11b67 11bc0-11be1 11bf0-11bf9
11c00-11c08 11c0a-11c36 11c38-11c45 11c50-11c6c 11c70-11c8f 11c92-11ca7 11ca9-11cb6 11d00-11d06
11d08-11d09 11d0b-11d36 11d3a 11d3c-11d3d 11d3f-11d47 11d50-11d59 11d60-11d65 11d67-11d68
11d6a-11d8e 11d90-11d91 11d93-11d98 11da0-11da9 11db0-11ddb 11de0-11de9 11ee0-11ef8 11f00-11f10
11f12-11f3a 11f3e-11f5a 11fb0 11fc0-11ff1 11fff-12399 12400-1246e 12470-12474 12480-12543
12f90-12ff2 13000-1342f 13440-13455 13460-143fa 14400-14646 16100-16139 16800-16a38 16a40-16a5e
16a60-16a69 16a6e-16abe 16ac0-16ac9 16ad0-16aed 16af0-16af5 16b00-16b45 16b50-16b59 16b5b-16b61
16b63-16b77 16b7d-16b8f 16d40-16d79 16e40-16e9a 16ea0-16eb8 16ebb-16ed3 16f00-16f4a 16f4f-16f87
16f8f-16f9f 16fe0-16fe4 16ff0-16ff6 17000-18cd5 18cff-18d1e 18d80-18df2 1aff0-1aff3 1aff5-1affb
1affd-1affe 1b000-1b122 1b132 1b150-1b152 1b155 1b164-1b167 1b170-1b2fb 1bc00-1bc6a 1bc70-1bc7c
1bc80-1bc88 1bc90-1bc99 1bc9c-1bc9f 1cc00-1ccfc 1cd00-1ceb3 1ceba-1ced0 1cee0-1cef0 1cf00-1cf2d
1cf30-1cf46 1cf50-1cfc3 1d000-1d0f5 1d100-1d126 1d129-1d172 1d17b-1d1ea 1d200-1d245 1d2c0-1d2d3
1d2e0-1d2f3 1d300-1d356 1d360-1d378 1d400-1d454 1d456-1d49c 1d49e-1d49f 1d4a2 1d4a5-1d4a6
1d4a9-1d4ac 1d4ae-1d4b9 1d4bb 1d4bd-1d4c3 1d4c5-1d505 1d507-1d50a 1d50d-1d514 1d516-1d51c
1d51e-1d539 1d53b-1d53e 1d540-1d544 1d546 1d54a-1d550 1d552-1d6a5 1d6a8-1d7cb 1d7ce-1da8b
1da9b-1da9f 1daa1-1daaf 1df00-1df1e 1df25-1df2a 1e000-1e006 1e008-1e018 1e01b-1e021 1e023-1e024
1e026-1e02a 1e030-1e06d 1e08f 1e100-1e12c 1e130-1e13d 1e140-1e149 1e14e-1e14f 1e290-1e2ae
1e2c0-1e2f9 1e2ff 1e4d0-1e4f9 1e5d0-1e5fa 1e5ff 1e6c0-1e6de 1e6e0-1e6f5 1e6fe-1e6ff 1e7e0-1e7e6
1e7e8-1e7eb 1e7ed-1e7ee 1e7f0-1e7fe 1e800-1e8c4 1e8c7-1e8d6 1e900-1e94b 1e950-1e959 1e95e-1e95f
1ec71-1ecb4 1ed01-1ed3d 1ee00-1ee03 1ee05-1ee1f 1ee21-1ee22 1ee24 1ee27 1ee29-1ee32 1ee34-1ee37
1ee39 1ee3b 1ee42 1ee47 1ee49 1ee4b 1ee4d-1ee4f 1ee51-1ee52 1ee54 1ee57 1ee59 1ee5b 1ee5d 1ee5f
1ee61-1ee62 1ee64 1ee67-1ee6a 1ee6c-1ee72 1ee74-1ee77 1ee79-1ee7c 1ee7e 1ee80-1ee89 1ee8b-1ee9b
1eea1-1eea3 1eea5-1eea9 1eeab-1eebb 1eef0-1eef1 1f000-1f02b 1f030-1f093 1f0a0-1f0ae 1f0b1-1f0bf
1f0c1-1f0cf 1f0d1-1f0f5 1f100-1f1ad 1f1e6-1f202 1f210-1f23b 1f240-1f248 1f250-1f251 1f260-1f265
1f300-1f6d8 1f6dc-1f6ec 1f6f0-1f6fc 1f700-1f7d9 1f7e0-1f7eb 1f7f0 1f800-1f80b 1f810-1f847
1f850-1f859 1f860-1f887 1f890-1f8ad 1f8b0-1f8bb 1f8c0-1f8c1 1f8d0-1f8d8 1f900-1fa57 1fa60-1fa6d
1fa70-1fa7c 1fa80-1fa8a 1fa8e-1fac6 1fac8 1facd-1fadc 1fadf-1faea 1faef-1faf8 1fb00-1fb92
1fb94-1fbfa 20000-2a6df 2a700-2b81d 2b820-2cead 2ceb0-2ebe0 2ebf0-2ee5d 2f800-2fa1d 30000-3134a
31350-33479 e0100-e01ef
"""

_LETTERS = _parse_ranges(_LETTER_TABLE)
_PRINTABLE = _parse_ranges(_PRINT_TABLE)
