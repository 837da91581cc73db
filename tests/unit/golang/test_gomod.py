"""gosub.golang.gomod against Go's own test vectors and behaviour checked with go1.27.3."""

from __future__ import annotations

import pytest

from gosub.golang import gomod

# x/mod modfile/read_test.go: modulePathTests, plus a few edge cases checked against
# modfile.ModulePath.
MODULE_PATH_CASES = [
    (b'module "github.com/rsc/vgotest"', "github.com/rsc/vgotest"),
    (b"module github.com/rsc/vgotest", "github.com/rsc/vgotest"),
    (b'module  "github.com/rsc/vgotest"', "github.com/rsc/vgotest"),
    (b"module  github.com/rsc/vgotest", "github.com/rsc/vgotest"),
    (b"module `github.com/rsc/vgotest`", "github.com/rsc/vgotest"),
    (b'module "github.com/rsc/vgotest/v2"', "github.com/rsc/vgotest/v2"),
    (b"module github.com/rsc/vgotest/v2", "github.com/rsc/vgotest/v2"),
    (b'module "gopkg.in/yaml.v2"', "gopkg.in/yaml.v2"),
    (b"module gopkg.in/yaml.v2", "gopkg.in/yaml.v2"),
    (b'module "gopkg.in/check.v1"\n', "gopkg.in/check.v1"),
    (b'module "gopkg.in/check.v1\n"', ""),
    (b"module gopkg.in/check.v1\n", "gopkg.in/check.v1"),
    (b'module "gopkg.in/check.v1"\r\n', "gopkg.in/check.v1"),
    (b"module gopkg.in/check.v1\r\n", "gopkg.in/check.v1"),
    (b'module "gopkg.in/check.v1"\n\n', "gopkg.in/check.v1"),
    (b"module gopkg.in/check.v1\n\n", "gopkg.in/check.v1"),
    (b'module \n"gopkg.in/check.v1"\n\n', ""),
    (b"module \ngopkg.in/check.v1\n\n", ""),
    (b'module "gopkg.in/check.v1"asd', ""),
    (b"module  \nmodule a/b/c ", "a/b/c"),
    (b'module "   "', "   "),
    (b"module   ", ""),
    (b'module "  a/b/c  "', "  a/b/c  "),
    (b'module "github.com/rsc/vgotest1" // with a comment', "github.com/rsc/vgotest1"),
    # Not from Go's tests (checked against it):
    (b"// module a\nmodule b\n", "b"),
    (b"modulex\nmodule y\n", "y"),
    (b"module\xc2\xa0x\n", "x"),  # U+00A0 is a space for bytes.TrimSpace
    (b'module "x\\u00e9"\n', "x\u00e9"),
    (b'module "a\\qb"\n', ""),
    (b"module x\xff\n", "x\udcff"),  # not UTF-8: the raw byte, surrogate-escaped
    (b"", ""),
]


@pytest.mark.parametrize(("data", "want"), MODULE_PATH_CASES)
def test_module_path(data: bytes, want: str) -> None:
    """module_path matches modfile.ModulePath."""
    assert gomod.module_path(data) == want


# What modfile.ParseLax reports as the go directive (None: no directive, or ParseLax
# failed), each checked against go1.27.3's x/mod.
GO_VERSION_CASES = [
    (b"module m\ngo \n", None),
    (b"module m\ngo 1\n", None),
    (b"module m\ngo 1.22\n", "1.22"),
    (b"module m\ngo 1.22.333", "1.22.333"),
    (b"module m\ngo v1.2\n", None),  # the lax form needs something after the minor
    (b"go 1.2.beta1\n", "1.2"),
    (b"go v1.2rc1\n", "1.2"),
    (b"go 1.21-custom\n", "1.21"),
    (b"go 1.2 3.4\n", None),
    (b"toolchain inconceivable!\ngo 1.21\n", "1.21"),  # unknown to lax mode: ignored
    (b"go 1.21\ngo 1.22\n", None),
    (b"module a\nmodule b\ngo 1.21\n", None),
    (b"go 1.24\nrequire example.com/x v1.0\n", "1.24"),
    (b"go 1.24\nrequire example.com/x latest\n", None),
    (b"go 1.24\nrequire example.com/x/v2 v1.0.0\n", None),
    (b"go 1.24\nrequire (\n\texample.com/x v1.0.0\n)\n", "1.24"),
    (b"go 1.24\nreplace x => y\nexclude x v\nretract [bogus\n", "1.24"),
    (b"go 1.24\n/* c */\n", None),
    (b"go 1.24\nfoo (\n", None),
    (b'go 1.24\nfoo "unterminated\n', None),
    (b"go 1.24 // comment\n", "1.24"),
    (b"go (\n\t1.24\n)\n", None),  # a go block is not a go directive
    (b"\xef\xbb\xbfgo 1.24\n", None),  # a BOM is an unexpected input character
    (b"go 1.24\nmodule `x`\n", None),
    (b'go 1.24\nmodule "x"\n', "1.24"),
    (b'go 1.24\nignore "a\\qb"\n', None),
    (b"go 1.24\r\n", "1.24"),
    (b"go 1.24\nfoo\xc2\xa0bar\n", None),
    (b"go 1.24\nrequire x v1.0.0 // indirect\nrequire ( x v1.0.0 )\n", None),
    (b"go 1.24\n\xff\n", "1.24"),
    (b'go "1.24"\n', None),
    (b"", None),
    (b"module example.com/m\n\ngo 1.24\n", "1.24"),
]


@pytest.mark.parametrize(("data", "want"), GO_VERSION_CASES)
def test_go_version(data: bytes, want: str | None) -> None:
    """go_version matches ParseLax's go directive, None when ParseLax fails."""
    assert gomod.go_version(data) == want


# go/version version_test.go: compareTests, langTests, isValidTests
COMPARE_CASES = [
    ("", "", 0),
    ("x", "x", 0),
    ("", "x", 0),
    ("1", "1.1", 0),
    ("go1", "go1.1", -1),
    ("go1.5", "go1.6", -1),
    ("go1.5", "go1.10", -1),
    ("go1.6", "go1.6.1", -1),
    ("go1.19", "go1.19.0", 0),
    ("go1.19rc1", "go1.19", -1),
    ("go1.20", "go1.20.0", 0),
    ("go1.20", "go1.20.0-bigcorp", 0),
    ("go1.20rc1", "go1.20", -1),
    ("go1.21", "go1.21.0", -1),
    ("go1.21", "go1.21.0-bigcorp", -1),
    ("go1.21", "go1.21rc1", -1),
    ("go1.21rc1", "go1.21.0", -1),
    ("go1.6", "go1.19", -1),
    ("go1.19", "go1.19.1", -1),
    ("go1.19rc1", "go1.19.1", -1),
    ("go1.19rc1", "go1.19rc2", -1),
    ("go1.19.0", "go1.19.1", -1),
    ("go1.19rc1", "go1.19.0", -1),
    ("go1.19alpha3", "go1.19beta2", -1),
    ("go1.19beta2", "go1.19rc1", -1),
    ("go1.1", "go1.99999999999999998", -1),
    ("go1.99999999999999998", "go1.99999999999999999", -1),
    # zip.go's vendor rule: version.Compare(vers, "go1.24") with vers from Lang
    ("", "go1.24", -1),
    ("go1.23", "go1.24", -1),
    ("go1.24", "go1.24", 0),
    ("go2.0", "go1.24", 1),
]


@pytest.mark.parametrize(("a", "b", "want"), COMPARE_CASES)
def test_compare(a: str, b: str, want: int) -> None:
    """compare matches version.Compare, and is antisymmetric."""
    assert gomod.compare(a, b) == want
    assert gomod.compare(b, a) == -want


@pytest.mark.parametrize(
    ("v", "want"),
    [
        ("bad", ""),
        ("go1.2rc3", "go1.2"),
        ("go1.2.3", "go1.2"),
        ("go1.2", "go1.2"),
        ("go1", "go1"),
        ("go222", "go222.0"),
        ("go1.999testmod", "go1.999"),
        ("", ""),
        ("1.21", ""),
        ("go1.0", "go1"),
        ("go1.24.1", "go1.24"),
        ("go1.25rc1-custom", "go1.25"),
    ],
)
def test_lang(v: str, want: str) -> None:
    """lang matches version.Lang."""
    assert gomod.lang(v) == want


@pytest.mark.parametrize(
    ("v", "want"),
    [
        ("", False),
        ("1.2.3", False),
        ("go1.2rc3", True),
        ("go1.2.3", True),
        ("go1.999testmod", True),
        ("go1.600+auto", False),
        ("go1.22", True),
        ("go1.21.0", True),
        ("go1", True),
    ],
)
def test_is_valid(v: str, want: bool) -> None:
    """is_valid matches version.IsValid."""
    assert gomod.is_valid(v) is want


@pytest.mark.parametrize(
    ("s", "want"),
    [
        ("example.com/m", False),
        ("", True),
        ("a b", True),
        ('a"b', True),
        ("a'b", True),
        ("a`b", True),
        ("(", False),  # punctuation alone is one token
        ("a(", True),
        ("a,b", True),
        ("a//b", True),
        ("a/*b", True),
        ("a\u00a0b", True),  # not printable
        ("\u00e9", False),
        ("x\udcff", False),  # a byte that is not UTF-8 reads as printable U+FFFD
    ],
)
def test_must_quote(s: str, want: bool) -> None:
    """must_quote matches modfile.MustQuote."""
    assert gomod.must_quote(s) is want


def test_legacy_go_mod() -> None:
    """legacy_go_mod is coderepo.go's LegacyGoMod, quoting only when needed."""
    assert gomod.legacy_go_mod("github.com/ex/inc") == b"module github.com/ex/inc\n"
    assert gomod.legacy_go_mod("example.com/a b") == b'module "example.com/a b"\n'
    assert gomod.legacy_go_mod('x"y') == b'module "x\\"y"\n'
    assert gomod.legacy_go_mod("") == b'module ""\n'


def test_retractions_as_parse_lax_reads_them() -> None:
    data = (
        b"module x\n\nretract v1.1.0 // oops\nretract [v1.2.0, v1.2.5]\n"
        b'retract (\n  v1.3.0\n  "v1.4.0"\n  [v1.5.0,v1.5.1]\n  [v1.6.0\n)\nretract\n'
    )
    # Malformed intervals are skipped in lax mode; versions are kept as written.
    assert gomod.retractions(data) == [
        ("v1.1.0", "v1.1.0"),
        ("v1.2.0", "v1.2.5"),
        ("v1.3.0", "v1.3.0"),
        ("v1.4.0", "v1.4.0"),
        ("v1.5.0", "v1.5.1"),
    ]
    assert gomod.retractions(b"module x\n") == []
    assert gomod.retractions(b"module x\nmodule y\n") is None  # ParseLax fails
