"""gosub.golang.semver against Go's x/mod/semver: Go's test vectors (semver_test.go, golang/mod
fe2ec04), hypothesis properties, and a differential test against the vendored x/mod."""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gosub.golang import semver
from tests.unit.golang.test_module import compare_with_go, differential_corpus

# var tests: in, canonical out ("" = invalid). The order is increasing precedence.
TESTS: list[tuple[str, str]] = [
    ("bad", ""),
    ("v1-alpha.beta.gamma", ""),
    ("v1-pre", ""),
    ("v1+meta", ""),
    ("v1-pre+meta", ""),
    ("v1.2-pre", ""),
    ("v1.2+meta", ""),
    ("v1.2-pre+meta", ""),
    ("v1.0.0-alpha", "v1.0.0-alpha"),
    ("v1.0.0-alpha.1", "v1.0.0-alpha.1"),
    ("v1.0.0-alpha.beta", "v1.0.0-alpha.beta"),
    ("v1.0.0-beta", "v1.0.0-beta"),
    ("v1.0.0-beta.2", "v1.0.0-beta.2"),
    ("v1.0.0-beta.11", "v1.0.0-beta.11"),
    ("v1.0.0-rc.1", "v1.0.0-rc.1"),
    ("v1", "v1.0.0"),
    ("v1.0", "v1.0.0"),
    ("v1.0.0", "v1.0.0"),
    ("v1.2", "v1.2.0"),
    ("v1.2.0", "v1.2.0"),
    ("v1.2.3-456", "v1.2.3-456"),
    ("v1.2.3-456.789", "v1.2.3-456.789"),
    ("v1.2.3-456-789", "v1.2.3-456-789"),
    ("v1.2.3-456a", "v1.2.3-456a"),
    ("v1.2.3-pre", "v1.2.3-pre"),
    ("v1.2.3-pre+meta", "v1.2.3-pre"),
    ("v1.2.3-pre.1", "v1.2.3-pre.1"),
    ("v1.2.3-zzz", "v1.2.3-zzz"),
    ("v1.2.3", "v1.2.3"),
    ("v1.2.3+meta", "v1.2.3"),
    ("v1.2.3+meta-pre", "v1.2.3"),
    ("v1.2.3+meta-pre.sha.256a", "v1.2.3"),
]

# TestSort golden order.
SORT_GOLDEN = [
    "bad",
    "v1+meta",
    "v1-alpha.beta.gamma",
    "v1-pre",
    "v1-pre+meta",
    "v1.2+meta",
    "v1.2-pre",
    "v1.2-pre+meta",
    "v1.0.0-alpha",
    "v1.0.0-alpha.1",
    "v1.0.0-alpha.beta",
    "v1.0.0-beta",
    "v1.0.0-beta.2",
    "v1.0.0-beta.11",
    "v1.0.0-rc.1",
    "v1",
    "v1.0",
    "v1.0.0",
    "v1.2",
    "v1.2.0",
    "v1.2.3-456",
    "v1.2.3-456.789",
    "v1.2.3-456-789",
    "v1.2.3-456a",
    "v1.2.3-pre",
    "v1.2.3-pre+meta",
    "v1.2.3-pre.1",
    "v1.2.3-zzz",
    "v1.2.3",
    "v1.2.3+meta",
    "v1.2.3+meta-pre",
    "v1.2.3+meta-pre.sha.256a",
]


@pytest.mark.parametrize(("v", "out"), TESTS)
def test_vectors(v: str, out: str) -> None:
    # TestIsValid, TestCanonical, TestMajor, TestMajorMinor, TestPrerelease, TestBuild
    assert semver.is_valid(v) == (out != "")
    assert semver.canonical(v) == out
    assert semver.major(v) == (out[: out.index(".")] if out else "")
    want_mm = ""
    if out:
        want_mm = v.partition("+")[0].partition("-")[0]
        dots = want_mm.count(".")
        if dots == 0:
            want_mm += ".0"
        elif dots == 2:
            want_mm = want_mm[: want_mm.rindex(".")]
    assert semver.major_minor(v) == want_mm
    want_pre = out[out.index("-") :] if out and "-" in out else ""
    assert semver.prerelease(v) == want_pre
    want_build = v[v.index("+") :] if out and "+" in v else ""
    assert semver.build(v) == want_build


def test_compare_and_max() -> None:
    # TestCompare, TestMax
    for (i, (vi, oi)), (j, (vj, oj)) in itertools.product(enumerate(TESTS), repeat=2):
        want = 0 if oi == oj else (-1 if i < j else +1)
        assert semver.compare(vi, vj) == want, (vi, vj)
        want_max = semver.canonical(vj) if i < j else semver.canonical(vi)
        assert semver.max(vi, vj) == want_max, (vi, vj)


def test_sort() -> None:
    # TestSort
    versions = [v for v, _ in TESTS]
    random.Random(1).shuffle(versions)
    assert semver.sort(versions) == SORT_GOLDEN
    assert semver.sort(["v1.5.0", "v1.5.0", "v1.10.0", "v1.9.0"]) == [
        "v1.5.0",
        "v1.5.0",
        "v1.9.0",
        "v1.10.0",
    ]


def test_edges() -> None:
    assert semver.compare("v1.0.0+a", "v1.0.0+b") == 0
    assert semver.compare("v01.0.0", "x") == 0  # both invalid
    assert not semver.is_valid("v1.0.0-01")  # numeric prerelease with a leading zero
    assert semver.is_valid("v1.0.0-0a")
    assert not semver.is_valid("v1.0.0\n")
    assert not semver.is_valid("V1.0.0")
    assert not semver.is_valid("v\uff11.0.0")  # a non-ASCII digit
    assert semver.major_minor("v2.10") == "v2.10"
    assert semver.compare("v1.0.0-2", "v1.0.0-10") == -1
    assert semver.compare("v1.0.0-a", "v1.0.0-10") == 1
    assert semver.compare("v1.0.0-alpha", "v1.0.0-alpha.0") == -1
    assert semver.compare("v99999999999999999999.0.0", "v100000000000000000000.0.0") == -1


# ---------------------------------------------------------------------------
# Properties

_NUM = st.sampled_from(["0", "1", "2", "9", "10", "11", "100", "99999999999999999999"])
_IDENT = st.one_of(
    _NUM,
    st.sampled_from(["alpha", "beta", "rc", "a-b", "-", "0a", "Z", "z", "x1", "01"]),
)


@st.composite
def _versions(draw: st.DrawFn) -> str:
    """Mostly valid versions (all shapes), plus near-misses and junk."""
    num = _NUM
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.text(alphabet="v0123456789.-+aZ", max_size=12))
    v = "v" + draw(num)
    if kind == 1:
        return v
    v += "." + draw(num)
    if kind == 2:
        return v
    v += "." + draw(num)
    if draw(st.booleans()):
        v += "-" + ".".join(draw(st.lists(_IDENT, min_size=1, max_size=3)))
    if draw(st.booleans()):
        v += "+" + ".".join(draw(st.lists(_IDENT, min_size=1, max_size=2)))
    return v


@settings(database=None, max_examples=60)
@given(_versions())
def test_canonical_idempotent(v: str) -> None:
    c = semver.canonical(v)
    assert semver.canonical(c) == c
    assert semver.is_valid(c) == semver.is_valid(v) == (c != "")
    if c:
        assert semver.compare(v, c) == 0
        assert semver.build(c) == ""
        assert c.startswith(semver.major_minor(v) + ".")
        assert semver.prerelease(c) == semver.prerelease(v)


@settings(database=None, max_examples=60)
@given(st.lists(_versions(), max_size=12))
def test_sort_consistent_with_compare(vs: list[str]) -> None:
    out = semver.sort(vs)
    assert sorted(out) == sorted(vs)
    for a, b in itertools.pairwise(out):
        assert semver.compare(a, b) <= 0
        assert semver.compare_version(a, b) <= 0
    assert out == sorted(vs, key=functools.cmp_to_key(semver.compare_version))


@settings(database=None, max_examples=60)
@given(_versions(), _versions())
def test_compare_antisymmetric_and_sort_key(a: str, b: str) -> None:
    c = semver.compare(a, b)
    assert c in (-1, 0, 1)
    assert semver.compare(b, a) == -c
    cv = semver.compare_version(a, b)
    assert (semver.sort_key(a) > semver.sort_key(b)) - (
        semver.sort_key(a) < semver.sort_key(b)
    ) == cv
    assert semver.max(a, b) == (semver.canonical(a) if c > 0 else semver.canonical(b))


# ---------------------------------------------------------------------------
# Differential test against Go's x/mod/semver


def test_differential_semver_against_go() -> None:
    rnd = random.Random(7)
    corpus = [v for v, _ in TESTS]
    # Deterministic generated versions (no hypothesis here: one batch for Go).
    for _ in range(400):
        major = rnd.choice(["0", "1", "2", "10", "01", ""])
        v = "v" + major
        for _ in range(rnd.randint(0, 2)):
            v += "." + rnd.choice(["0", "1", "9", "10", "00", "x"])
        if rnd.random() < 0.5:
            v += "-" + ".".join(
                rnd.choice(["alpha", "1", "01", "0", "a-b", "", "Z9"])
                for _ in range(rnd.randint(1, 3))
            )
        if rnd.random() < 0.3:
            v += "+" + ".".join(
                rnd.choice(["meta", "01", "", "x-y"]) for _ in range(rnd.randint(1, 2))
            )
        corpus.append(v)
    corpus += differential_corpus(200)
    calls: list[Sequence[str]] = []
    for v in corpus:
        for fn in ("IsValid", "Canonical", "Major", "MajorMinor", "Prerelease", "Build"):
            calls.append((fn, v))
    for _ in range(1500):
        a, b = rnd.choice(corpus), rnd.choice(corpus)
        calls += [("Compare", a, b), ("Max", a, b)]
    calls += [("Sort", *rnd.sample(corpus, 12)) for _ in range(50)]
    compare_with_go(calls)
