"""gosub.golang.pseudo against Go's x/mod/module/pseudo.go: Go's test vectors (pseudo_test.go,
golang/mod fe2ec04), hypothesis properties, and a differential test against x/mod."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gosub.golang import pseudo, semver
from gosub.golang.module import InvalidVersionError
from gosub.golang.pseudo import _dec_decimal, _inc_decimal
from tests.unit.golang.test_module import compare_with_go, differential_corpus

# var pseudoTests: major, older, version (rev "hash", time pseudoTime)
PSEUDO_TESTS: list[tuple[str, str, str]] = [
    ("", "", "v0.0.0-20060102150405-hash"),
    ("v0", "", "v0.0.0-20060102150405-hash"),
    ("v1", "", "v1.0.0-20060102150405-hash"),
    ("v2", "", "v2.0.0-20060102150405-hash"),
    ("unused", "v0.0.0", "v0.0.1-0.20060102150405-hash"),
    ("unused", "v1.2.3", "v1.2.4-0.20060102150405-hash"),
    ("unused", "v1.2.99999999999999999", "v1.2.100000000000000000-0.20060102150405-hash"),
    ("unused", "v1.2.3-pre", "v1.2.3-pre.0.20060102150405-hash"),
    ("unused", "v1.3.0-pre", "v1.3.0-pre.0.20060102150405-hash"),
    ("unused", "v0.0.0--", "v0.0.0--.0.20060102150405-hash"),
    ("unused", "v1.0.0+metadata", "v1.0.1-0.20060102150405-hash+metadata"),
    ("unused", "v2.0.0+incompatible", "v2.0.1-0.20060102150405-hash+incompatible"),
    ("unused", "v2.3.0-pre+incompatible", "v2.3.0-pre.0.20060102150405-hash+incompatible"),
]

PSEUDO_TIME = datetime(2006, 1, 2, 15, 4, 5, tzinfo=UTC)

# TestInvalidPseudoVersionBase
INVALID_BASE = [
    "v0.0.0",
    "v0.0.0-",  # malformed: empty prerelease
    "v0.0.0-0.20060102150405-hash",  # Z+1 == 0
    "v0.1.0-0.20060102150405-hash",  # Z+1 == 0
    "v1.0.0-0.20060102150405-hash",  # Z+1 == 0
    "v0.0.0-20060102150405-hash+incompatible",  # +incompatible without base version
    "v0.0.0-20060102150405-hash+metadata",  # other metadata without base version
]


@pytest.mark.parametrize(("major", "older", "version"), PSEUDO_TESTS)
def test_pseudo_vectors(major: str, older: str, version: str) -> None:
    # TestPseudoVersion, TestIsPseudoVersion, TestPseudoVersionTime, TestPseudoVersionRev,
    # TestPseudoVersionBase
    assert pseudo.pseudo_version(major, older, PSEUDO_TIME, "hash") == version
    assert pseudo.is_pseudo_version(version)
    assert not pseudo.is_pseudo_version(older)
    assert pseudo.pseudo_version_time(version) == PSEUDO_TIME
    assert pseudo.pseudo_version_rev(version) == "hash"
    assert pseudo.pseudo_version_base(version) == older
    with pytest.raises(InvalidVersionError):
        pseudo.pseudo_version_time(older)
    with pytest.raises(InvalidVersionError):
        pseudo.pseudo_version_rev(older)


def test_invalid_pseudo_version_time() -> None:
    with pytest.raises(InvalidVersionError, match="syntax error"):
        pseudo.pseudo_version_time("---")


@pytest.mark.parametrize("v", INVALID_BASE)
def test_invalid_pseudo_version_base(v: str) -> None:
    with pytest.raises(InvalidVersionError):
        pseudo.pseudo_version_base(v)


@pytest.mark.parametrize(
    ("inc", "want"), [("0", "1"), ("1", "2"), ("99", "100"), ("100", "101"), ("101", "102")]
)
def test_inc_decimal(inc: str, want: str) -> None:
    assert _inc_decimal(inc) == want


@pytest.mark.parametrize(
    ("dec", "want"),
    [
        ("", ""),
        ("0", ""),
        ("00", ""),
        ("1", "0"),
        ("2", "1"),
        ("99", "98"),
        ("100", "99"),
        ("101", "100"),
    ],
)
def test_dec_decimal(dec: str, want: str) -> None:
    assert _dec_decimal(dec) == want


def test_error_messages() -> None:
    cases = {
        "v1.0.0": 'pseudo-version "v1.0.0" invalid: syntax error',
        "v0.0.0-20060102150405-hash+incompatible": 'pseudo-version "v0.0.0-20060102150405-hash'
        '+incompatible" invalid: lacks base version, but has build metadata "+incompatible"',
        "v1.0.0-0.20060102150405-hash": 'pseudo-version "v1.0.0-0.20060102150405-hash" '
        "invalid: version before v1.0.0 would have negative patch number",
    }
    for v, message in cases.items():
        with pytest.raises(InvalidVersionError) as info:
            pseudo.pseudo_version_base(v)
        assert str(info.value) == message
        assert info.value.pseudo
    with pytest.raises(InvalidVersionError) as info:
        pseudo.pseudo_version_time("v1.2.3-0.20061302150405-hash")
    assert str(info.value) == (
        'pseudo-version "v1.2.3-0.20061302150405-hash" invalid: malformed time "20061302150405"'
    )


def test_time_edges() -> None:
    # Go's time.Parse: Feb 29 only in leap years, no second 60, no hour 24.
    assert pseudo.pseudo_version_time("v0.0.0-20240229000000-abc") == datetime(
        2024, 2, 29, tzinfo=UTC
    )
    for ts in ("20230229000000", "20060102240000", "20060102150460", "20060100150405"):
        with pytest.raises(InvalidVersionError, match="malformed time"):
            pseudo.pseudo_version_time(f"v0.0.0-{ts}-abc")
    # Go accepts year 0; Python's datetime cannot hold it.
    with pytest.raises(InvalidVersionError, match="year 0"):
        pseudo.pseudo_version_time("v0.0.0-00000229000000-abc")
    # Times are written in UTC; a naive datetime counts as UTC.
    t = datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=7)))
    assert (
        pseudo.pseudo_version("v1", "", t, "abcdef123456") == "v1.0.0-20200101200405-abcdef123456"
    )
    assert pseudo.pseudo_version("", "", datetime(2020, 1, 1), "r") == "v0.0.0-20200101000000-r"


def test_zero_and_major() -> None:
    assert pseudo.zero_pseudo_version("v2") == "v2.0.0-00010101000000-000000000000"
    assert pseudo.zero_pseudo_version("") == "v0.0.0-00010101000000-000000000000"
    assert pseudo.is_zero_pseudo_version("v0.0.0-00010101000000-000000000000")
    assert pseudo.is_zero_pseudo_version("v3.0.0-00010101000000-000000000000")
    assert not pseudo.is_zero_pseudo_version("v0.0.0-00010101000000-000000000001")
    assert pseudo.pseudo_version_time("v0.0.0-00010101000000-000000000000") == datetime(
        1, 1, 1, tzinfo=UTC
    )
    # coderepo.go: the major of a pseudo-version with no base tag.
    assert pseudo.pseudo_major("") == "v0"
    assert pseudo.pseudo_major("/v2") == "v2"
    assert pseudo.pseudo_major("/v10") == "v10"
    assert pseudo.pseudo_major(".v1") == "v1"
    assert pseudo.pseudo_major(".v0") == "v0"
    assert pseudo.pseudo_major(".v3-unstable") == "v3"
    assert pseudo.PSEUDO_VERSION_TIMESTAMP_FORMAT == "20060102150405"
    assert PSEUDO_TIME.strftime(pseudo.PSEUDO_VERSION_TIMESTAMP_STRFTIME) == "20060102150405"


def test_is_pseudo_version_edges() -> None:
    assert pseudo.is_pseudo_version("v1.2.4-0.20191109021931-daa7c04131f5")
    assert pseudo.is_pseudo_version("v3.1.1-0.20200301000000-e62ae5e4c210+incompatible")
    assert not pseudo.is_pseudo_version("v1.2.4-0.20191109021931-daa7c04131f5\n")
    assert not pseudo.is_pseudo_version("v1.2.4-0.2019110902193-daa7c04131f5")  # 13 digits
    assert not pseudo.is_pseudo_version("v1.2.0-20191109021931-daa7c04131f5")  # X.0.0 only
    assert not pseudo.is_pseudo_version("v1.2.3-1.20191109021931-daa7c04131f5")
    assert pseudo.is_pseudo_version("v1.2.3-rc.1.0.20191109021931-daa7c04131f5")


# ---------------------------------------------------------------------------
# Properties

_OLDER = st.sampled_from(
    ["", "v0.0.0", "v1.2.3", "v1.2.9", "v1.9.99", "v2.0.0+incompatible", "v1.3.0-pre",
     "v1.3.0-rc.1+incompatible", "v1.0.0+meta", "v1.2", "v3", "bad", "v1.2.3-0"]
)  # fmt: skip
_TIMES = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
_REV = st.from_regex(r"[0-9a-f]{12}", fullmatch=True)


@settings(database=None, max_examples=60)
@given(st.sampled_from(["", "v0", "v1", "v2", "v17"]), _OLDER, _TIMES, _REV)
def test_pseudo_version_round_trip(major: str, older: str, t: datetime, rev: str) -> None:
    v = pseudo.pseudo_version(major, older, t, rev)
    assert pseudo.is_pseudo_version(v)
    assert semver.is_valid(v)
    assert pseudo.pseudo_version_rev(v) == rev
    assert pseudo.pseudo_version_time(v) == t.replace(microsecond=0)
    base = semver.canonical(older)
    if base:
        assert pseudo.pseudo_version_base(v) == base + semver.build(older)
        assert semver.compare(v, older) > 0
        assert semver.build(v) == semver.build(older)
    else:
        assert pseudo.pseudo_version_base(v) == ""
        assert semver.major(v) == (major or "v0")
        assert semver.compare(v, (major or "v0") + ".0.0") < 0


# ---------------------------------------------------------------------------
# Differential test against Go's x/mod/module (pseudo.go)


def test_differential_pseudo_against_go() -> None:
    rnd = random.Random(99)
    versions = [v for _, _, v in PSEUDO_TESTS] + [o for _, o, _ in PSEUDO_TESTS] + INVALID_BASE
    for _ in range(300):
        ts = "".join(rnd.choice("0123456789") for _ in range(14))
        if rnd.random() < 0.5:
            ts = (
                rnd.choice(["2006", "0000", "2024", "2023", "9999", "0001"])
                + rnd.choice(["0229", "1231", "0001", "1301", "0101"])
                + rnd.choice(["000000", "235959", "240000", "006000", "000060"])
            )
        form = rnd.randrange(4)
        maj = rnd.choice(["0", "1", "2", "10"])
        rev = rnd.choice(["abcdef123456", "hash", "ABC", "a-b", ""])
        build = rnd.choice(["", "", "+incompatible", "+meta.1", "+"])
        if form == 0:
            v = f"v{maj}.0.0-{ts}-{rev}{build}"
        elif form == 1:
            mm = f"{rnd.choice(['0', '1', '2'])}.{rnd.choice(['0', '1', '10'])}"
            v = f"v{maj}.{mm}-0.{ts}-{rev}{build}"
        elif form == 2:
            pre = rnd.choice(["pre", "rc.1", "0", "1.2", "-", "01"])
            v = f"v{maj}.2.3-{pre}.0.{ts}-{rev}{build}"
        else:
            sep = rnd.choice(["0.", "", "1.", "x.0."])
            v = f"v{maj}.{rnd.choice(['0', '1'])}.0-{sep}{ts}-{rev}{build}"
        versions.append(v)
    versions += differential_corpus(150)
    calls: list[Sequence[str]] = []
    for v in versions:
        for fn in ("IsPseudoVersion", "IsZeroPseudoVersion", "PseudoVersionBase",
                   "PseudoVersionRev"):  # fmt: skip
            calls.append((fn, v))
        if "-0000" not in v and ".0000" not in v:  # year 0: a documented difference
            calls.append(("PseudoVersionTime", v))
    olders = [o for _, o, _ in PSEUDO_TESTS] + ["bad", "v1.2", "v1.0.0-0", "v9.99.999+x.y"]
    majors = ["", "v0", "v1", "v2", "unused"]
    for _ in range(400):
        major, older = rnd.choice(majors), rnd.choice(olders)
        sec = rnd.randint(-62135596800 + 86400, 253402300799 - 86400)  # years 1..9999
        off = rnd.choice([0, 7 * 3600, -5 * 3600 - 1800])
        rev = rnd.choice(["abcdef123456", "hash"])
        calls.append(("PseudoVersion", major, older, str(sec), rev, str(off)))
    calls += [("ZeroPseudoVersion", m) for m in ["", "v0", "v1", "v2", "v10"]]
    compare_with_go(calls)
