"""Conformance: gosub must give what Go's own direct mode gives for the same module.

For each case the real go command downloads the module twice, each time into an empty
module cache: once with GOPROXY=direct from the git repository behind a Go 1.25+
go-import subdirectory tag, once through gosub (backed by the GitHub stand-in serving the
same repository). Version, Sum, GoModSum and the .info Time must be identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gosub.golang import pseudo
from tests.repos import SCENARIOS
from tests.support.git import GitRepo
from tests.support.golang import DirectModeServer, GoRunner

TAGGED = [
    ("mono", "v1.0.0"),  # lightweight tag; nested module, vendor (go 1.21), symlink, root LICENSE
    ("mono", "v1.1.0"),  # annotated tag, author/tagger dates differ from the committer's
    ("mono", "v1.2.0-rc.1"),  # pre-release
    ("mono", "v1.2.0"),  # go 1.24 vendor rule
    ("attrs", "v1.0.0"),  # export-ignore, export-subst, eol, ident
    ("hidden", "v1.0.0"),  # .gitattributes files that export-ignore themselves
    ("rootmod", "v1.0.0"),  # no go.mod: synthesised .mod, zip without go.mod
    ("rootmod", "v2.0.0+incompatible"),
    ("major", "v1.0.0"),  # v1 in sub/, with sub/v2 a nested module
    ("major2", "v2.0.0"),  # /v2 module in sub/v2/
    ("major2", "v2.1.0"),
    ("upper", "v1.0.0"),  # uppercase module path
    ("upper", "v1.1.0-Beta"),  # uppercase pre-release
    ("many", "v1.5.19"),  # more than 100 tags
    ("custom", "v1.0.0"),  # tag prefix and suffix (direct mode: tagged Go's way)
    ("custom", "v1.1.0-beta.1"),
]

# (scenario, query, expected version: "pseudo" [+ " PREFIX"] or the exact tag version)
QUERIES = [
    ("mono", "main", "pseudo"),  # untagged commits after v1.2.0
    ("mono", "feature", "pseudo"),
    ("custom", "main", "pseudo"),  # base tag found through a prefix and suffix
    ("custom", "mylib-go-1.0.0-release", "v1.0.0"),  # a raw tag name
    ("empty", "latest", "pseudo"),  # no tags at all
    ("empty", "main", "pseudo"),
    ("major2", "main", "v2.1.0"),  # the branch head carries a tag
    ("retract", "main", "pseudo v1.0.1-0."),  # base v1.0.0: the v1.1.0 merged in is retracted
    ("retract", "at-retracted", "pseudo v1.0.1-0."),  # its tag v1.1.0 is retracted
]


def _download(go: GoRunner, module: str, query: str, **kw: Any) -> dict[str, Any]:
    result = go.mod_download(module, query, **kw)
    assert not result.get("Error"), result
    info = json.loads(Path(result["Info"]).read_text())
    result["InfoTime"] = info["Time"]
    return result


def _compare(
    name: str,
    query: str,
    *,
    tmp_path: Path,
    gocache: Path,
    direct: DirectModeServer,
    gosub_url: str,
) -> dict[str, Any]:
    s = SCENARIOS[name]
    ref = _download(
        GoRunner(tmp_path / "direct", gocache=gocache),
        s.module,
        query,
        goproxy="direct",
        env=direct.env(),
    )
    got = _download(
        GoRunner(tmp_path / "gosub", gocache=gocache),
        s.module,
        query,
        goproxy=f"{gosub_url}/{name}/",
    )
    for key in ("Version", "Sum", "GoModSum", "InfoTime"):
        assert got[key] == ref[key], f"{key}: gosub {got[key]!r} != direct {ref[key]!r}"
    return got


@pytest.mark.parametrize(("name", "version"), TAGGED, ids=[f"{n}@{v}" for n, v in TAGGED])
def test_tagged_version_matches_direct_mode(
    name: str, version: str, tmp_path: Path, gocache: Path, direct: DirectModeServer, gosub_url: str
) -> None:
    got = _compare(
        name, version, tmp_path=tmp_path, gocache=gocache, direct=direct, gosub_url=gosub_url
    )
    assert got["Version"] == version


@pytest.mark.parametrize(
    ("name", "query", "expected"), QUERIES, ids=[f"{n}@{q}" for n, q, _ in QUERIES]
)
def test_query_matches_direct_mode(
    name: str,
    query: str,
    expected: str,
    tmp_path: Path,
    gocache: Path,
    direct: DirectModeServer,
    gosub_url: str,
) -> None:
    got = _compare(
        name, query, tmp_path=tmp_path, gocache=gocache, direct=direct, gosub_url=gosub_url
    )
    if expected.startswith("pseudo"):
        assert pseudo.is_pseudo_version(got["Version"]), got["Version"]
        assert got["Version"].startswith(expected.removeprefix("pseudo").strip()), got["Version"]
    else:
        assert got["Version"] == expected


def test_commit_hash_query_matches_direct_mode(
    repos: dict[str, GitRepo],
    tmp_path: Path,
    gocache: Path,
    direct: DirectModeServer,
    gosub_url: str,
) -> None:
    sha = repos["acme/mono"].rev_parse("feature")
    got = _compare(
        "mono", sha[:12], tmp_path=tmp_path, gocache=gocache, direct=direct, gosub_url=gosub_url
    )
    assert got["Version"].endswith(sha[:12])


@pytest.mark.parametrize("name", ["mono", "rootmod", "major2", "upper", "many", "custom", "empty"])
def test_version_list_matches_direct_mode(
    name: str, tmp_path: Path, gocache: Path, direct: DirectModeServer, gosub_url: str
) -> None:
    s = SCENARIOS[name]
    ref = GoRunner(tmp_path / "d", gocache=gocache).list_versions(
        s.module, goproxy="direct", env=direct.env()
    )
    got = GoRunner(tmp_path / "g", gocache=gocache).list_versions(
        s.module, goproxy=f"{gosub_url}/{name}/"
    )
    assert got == ref
    assert got == list(s.versions) or sorted(got) == sorted(s.versions)
