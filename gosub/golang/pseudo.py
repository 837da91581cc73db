"""Pseudo-versions: a port of golang.org/x/mod/module/pseudo.go.

Source: ``golang.org/x/mod/module/pseudo.go`` (vendored in go1.27.3 under
``src/cmd/vendor``; identical to golang/mod HEAD fe2ec04), plus the choice of major
version for an untagged history from ``cmd/go/internal/modfetch/coderepo.go``.

A pseudo-version has one of the forms

1. ``vX.0.0-yyyymmddhhmmss-abcdef123456`` (no base tag),
2. ``vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef123456[+incompatible]`` (release base ``vX.Y.Z``),
3. ``vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef123456[+incompatible]`` (prerelease base).

Times are UTC. Go's ``time.Time`` has no naive form: a naive ``datetime`` passed in here
is taken to be UTC, and times returned are aware (``tzinfo=UTC``). Python's ``datetime``
cannot hold year 0, which Go can parse from a timestamp ``0000MMDD...``; that one case
raises :class:`~gosub.golang.module.InvalidVersionError` instead of returning a time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from gosub.golang import semver
from gosub.golang.module import InvalidVersionError, go_quote, path_major_prefix

__all__ = [
    "PSEUDO_VERSION_TIMESTAMP_FORMAT",
    "PSEUDO_VERSION_TIMESTAMP_STRFTIME",
    "is_pseudo_version",
    "is_zero_pseudo_version",
    "pseudo_major",
    "pseudo_version",
    "pseudo_version_base",
    "pseudo_version_rev",
    "pseudo_version_time",
    "zero_pseudo_version",
]

#: Go's layout string for the timestamp (``module.PseudoVersionTimestampFormat``).
PSEUDO_VERSION_TIMESTAMP_FORMAT = "20060102150405"
#: The same layout for :meth:`datetime.strftime` (years 1000-9999; see ``_format_time``).
PSEUDO_VERSION_TIMESTAMP_STRFTIME = "%Y%m%d%H%M%S"

# pseudo.go: pseudoVersionRE. Go's \d is ASCII-only (re.ASCII) and fullmatch stands for
# ^...$ (Python's $ would also match before a trailing newline).
_PSEUDO_VERSION_RE = re.compile(
    r"v[0-9]+\.(0\.0-|\d+\.\d+-([^+]*\.)?0\.)\d{14}-[A-Za-z0-9]+(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?",
    re.ASCII,
)

_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)  # Go's time.Time{}


def _format_time(t: datetime) -> str:
    """Format ``t`` in UTC as ``yyyymmddhhmmss`` (a naive ``t`` counts as UTC)."""
    # time/format.go: t.UTC().Format(PseudoVersionTimestampFormat); "2006" zero-pads to 4 digits.
    # time.Time.UTC().Format(PseudoVersionTimestampFormat); "2006" zero-pads to 4 digits.
    if t.tzinfo is not None:
        t = t.astimezone(UTC)
    return f"{t.year:04d}{t.month:02d}{t.day:02d}{t.hour:02d}{t.minute:02d}{t.second:02d}"


def pseudo_version(major: str, older: str, t: datetime, rev: str) -> str:
    """The pseudo-version for a commit: major (``"v1"``; ``""`` means ``"v0"``), the
    newest older tagged version (``""``, ``"v1.2.3"``, ``"v1.2.3-pre"``, possibly with
    ``+incompatible``), the commit time, and the revision (usually a 12-digit hash prefix).

    ``major`` is only used when ``older`` is empty. A naive ``t`` is taken as UTC.
    """
    # pseudo.go: PseudoVersion
    if major == "":
        major = "v0"
    segment = f"{_format_time(t)}-{rev}"
    bld = semver.build(older)
    older = semver.canonical(older)
    if older == "":
        return major + ".0.0-" + segment  # form (1)
    if semver.prerelease(older) != "":
        return older + ".0." + segment + bld  # form (3)
    # Form (2): increment the patch of vMAJOR.MINOR.PATCH.
    i = older.rfind(".") + 1
    v, patch = older[:i], older[i:]
    return v + _inc_decimal(patch) + "-0." + segment + bld


def zero_pseudo_version(major: str) -> str:
    """A pseudo-version with zero time and revision, used as a placeholder."""
    # pseudo.go: ZeroPseudoVersion
    return pseudo_version(major, "", _ZERO_TIME, "000000000000")


def _inc_decimal(decimal: str) -> str:
    """The decimal string incremented by 1."""
    # pseudo.go: incDecimal
    digits = list(decimal)
    i = len(digits) - 1
    while i >= 0 and digits[i] == "9":
        digits[i] = "0"
        i -= 1
    if i >= 0:
        digits[i] = chr(ord(digits[i]) + 1)
    else:
        # digits is all zeros
        digits[0] = "1"
        digits.append("0")
    return "".join(digits)


def _dec_decimal(decimal: str) -> str:
    """The decimal string decremented by 1, or ``""`` if it is all zeros."""
    # pseudo.go: decDecimal ("" if the decimal is all zeros)
    digits = list(decimal)
    i = len(digits) - 1
    while i >= 0 and digits[i] == "0":
        digits[i] = "9"
        i -= 1
    if i < 0:
        return ""
    if i == 0 and digits[i] == "1" and len(digits) > 1:
        digits = digits[1:]
    else:
        digits[i] = chr(ord(digits[i]) - 1)
    return "".join(digits)


def is_pseudo_version(v: str) -> bool:
    """Report whether ``v`` is a pseudo-version."""
    # pseudo.go: IsPseudoVersion
    return v.count("-") >= 2 and semver.is_valid(v) and _PSEUDO_VERSION_RE.fullmatch(v) is not None


def is_zero_pseudo_version(v: str) -> bool:
    """Report whether ``v`` is :func:`zero_pseudo_version` of its own major version."""
    # pseudo.go: IsZeroPseudoVersion
    return v == zero_pseudo_version(semver.major(v))


def pseudo_version_time(v: str) -> datetime:
    """The timestamp of pseudo-version ``v``, as an aware UTC datetime.

    Raises :class:`~gosub.golang.module.InvalidVersionError` if ``v`` is not a pseudo-version
    (``syntax error``) or its timestamp is not a valid time (``malformed time "..."``).
    """
    # pseudo.go: PseudoVersionTime (time.Parse("20060102150405", timestamp))
    _, timestamp, _, _ = _parse_pseudo_version(v)
    year, month, day, hour, minute, second = (
        int(timestamp[0:4]),
        int(timestamp[4:6]),
        int(timestamp[6:8]),
        int(timestamp[8:10]),
        int(timestamp[10:12]),
        int(timestamp[12:14]),
    )
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        if year == 0:
            try:
                # Year 0 is a leap year in Go's proleptic calendar, like year 2000.
                datetime(2000, month, day, hour, minute, second)
            except ValueError:
                pass
            else:
                raise InvalidVersionError(
                    v,
                    f"time {go_quote(timestamp)} is in year 0, "
                    "which Go accepts but Python's datetime cannot hold",
                    pseudo=True,
                ) from None
        raise InvalidVersionError(v, f"malformed time {go_quote(timestamp)}", pseudo=True) from None


def pseudo_version_rev(v: str) -> str:
    """The revision identifier of pseudo-version ``v`` (the part after the last ``-``).

    Raises :class:`~gosub.golang.module.InvalidVersionError` if ``v`` is not a pseudo-version.
    """
    # pseudo.go: PseudoVersionRev
    return _parse_pseudo_version(v)[2]


def pseudo_version_base(v: str) -> str:
    """The canonical version a pseudo-version is based on, or ``""`` for form (1).

    ``v1.2.4-0.2006...-hash`` gives ``v1.2.3``; ``v1.2.3-pre.0.2006...-hash+incompatible``
    gives ``v1.2.3-pre+incompatible``. Raises :class:`~gosub.golang.module.InvalidVersionError`
    if ``v`` is not a pseudo-version, has build metadata without a base, or would have a
    base with a negative patch number (``vX.Y.0-0.…``).
    """
    # pseudo.go: PseudoVersionBase
    base, _, _, bld = _parse_pseudo_version(v)
    pre = semver.prerelease(base)
    if pre == "":
        # vX.0.0-yyyymmddhhmmss-abcdef123456 → ""
        if bld != "":
            raise InvalidVersionError(
                v,
                f"lacks base version, but has build metadata {go_quote(bld)}",
                pseudo=True,
            )
        return ""
    if pre == "-0":
        # vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef123456[+incompatible] → vX.Y.Z[+incompatible]
        base = base.removesuffix(pre)
        i = base.rfind(".")
        if i < 0:
            raise AssertionError("base from parsePseudoVersion missing patch number: " + base)
        patch = _dec_decimal(base[i + 1 :])
        if patch == "":
            raise InvalidVersionError(
                v,
                f"version before {base} would have negative patch number",
                pseudo=True,
            )
        return base[: i + 1] + patch + bld
    # vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef123456[+incompatible] → vX.Y.Z-pre[+incompatible]
    if not base.endswith(".0"):
        raise AssertionError('base from parsePseudoVersion missing ".0" before date: ' + base)
    return base.removesuffix(".0") + bld


def _parse_pseudo_version(v: str) -> tuple[str, str, str, str]:
    """Split a pseudo-version into (base, timestamp, rev, build); raise if it is not one."""
    # pseudo.go: parsePseudoVersion → (base, timestamp, rev, build)
    if not is_pseudo_version(v):
        raise InvalidVersionError(v, "syntax error", pseudo=True)
    bld = semver.build(v)
    v = v.removesuffix(bld)
    j = v.rfind("-")
    v, rev = v[:j], v[j + 1 :]
    i = v.rfind("-")
    j = v.rfind(".")
    if j > i:
        base = v[:j]  # "vX.Y.Z-pre.0" or "vX.Y.(Z+1)-0"
        timestamp = v[j + 1 :]
    else:
        base = v[:i]  # "vX.0.0"
        timestamp = v[i + 1 :]
    return base, timestamp, rev, bld


def pseudo_major(path_major: str) -> str:
    """The major version of a pseudo-version with no base tag, for a module path whose
    major-version suffix (from :func:`gosub.golang.module.split_path_version`) is ``path_major``:
    ``"/v2"`` and ``".v2"`` give ``"v2"``, ``""`` gives ``"v0"``.
    """
    # coderepo.go: newCodeRepo (pseudoMajor := module.PathMajorPrefix(pathMajor)), then
    # pseudo.go: PseudoVersion turns an empty major into "v0".
    return path_major_prefix(path_major) or "v0"
