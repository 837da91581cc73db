"""``gosub pack`` against Go's direct mode: for every conformance scenario, the zip and
go.mod it writes (both layouts) have the sums Go's direct mode gives, and the goproxy
layout works as ``GOPROXY=file://``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from gosub.cli import main
from gosub.golang import dirhash
from gosub.golang import module as gomodule
from gosub.pack import pack
from gosub.store.athens import AthensTree, GoproxyTree
from tests.repos import SCENARIOS
from tests.support.git import GitRepo
from tests.support.golang import DirectModeServer, GoRunner
from tests.test_conformance import TAGGED


def _direct(go: GoRunner, direct: DirectModeServer, module: str, query: str) -> dict[str, Any]:
    result = go.mod_download(module, query, goproxy="direct", env=direct.env())
    assert not result.get("Error"), result
    result["InfoTime"] = json.loads(Path(result["Info"]).read_text())["Time"]
    return result


def _sums(info: Path, mod: Path, zipf: Path) -> dict[str, str]:
    return {
        "Version": json.loads(info.read_text())["Version"],
        "Sum": dirhash.hash_zip(zipf),
        "GoModSum": dirhash.hash_go_mod(mod.read_bytes()),
        "InfoTime": json.loads(info.read_text())["Time"],
    }


@pytest.mark.parametrize(("name", "version"), TAGGED, ids=[f"{n}@{v}" for n, v in TAGGED])
def test_pack_matches_direct_mode_both_layouts(
    name: str,
    version: str,
    repos: dict[str, GitRepo],
    tmp_path: Path,
    gocache: Path,
    direct: DirectModeServer,
) -> None:
    s = SCENARIOS[name]
    ref = _direct(GoRunner(tmp_path / "direct", gocache=gocache), direct, s.module, version)
    source = str(repos[f"{s.owner}/{s.repo}"].path)
    for layout in ("goproxy", "athens"):
        out = tmp_path / layout
        packed = asyncio.run(
            pack(
                s.module,
                version,
                source,
                out,
                layout=layout,
                directory=s.directory,
                prefix=s.tag_prefix,
                suffix=s.tag_suffix,
            )
        )
        got = _sums(packed.info, packed.mod, packed.zip)
        for key in ("Version", "Sum", "GoModSum", "InfoTime"):
            assert got[key] == ref[key], f"{layout} {key}: {got[key]!r} != direct {ref[key]!r}"
    athens = AthensTree(tmp_path / "athens")
    assert athens.versions(s.module) == [version]
    # Athens' own layout: the module path as it is, exactly three files.
    vdir = tmp_path / "athens" / Path(*s.module.split("/")) / version
    assert sorted(p.name for p in vdir.iterdir()) == sorted(
        ["go.mod", "source.zip", f"{version}.info"]
    )
    static = GoproxyTree(tmp_path / "goproxy")
    assert (static.root / gomodule.escape_path(s.module) / "@v" / "list").is_file()


@pytest.mark.parametrize("name", ["mono", "upper", "custom"])
def test_packed_goproxy_tree_serves_the_go_command(
    name: str,
    repos: dict[str, GitRepo],
    tmp_path: Path,
    gocache: Path,
    direct: DirectModeServer,
) -> None:
    """The CLI (``gosub pack``) output as ``GOPROXY=file://``: same sums, same list."""
    s = SCENARIOS[name]
    out = tmp_path / "out"
    source = str(repos[f"{s.owner}/{s.repo}"].path)
    for v in s.versions:
        argv = ["pack", s.module, v, source, "--directory", s.directory, "--out", str(out)]
        argv += ["--prefix", s.tag_prefix, f"--suffix={s.tag_suffix}"]
        assert main(argv) == 0
    version = s.versions[-1]
    ref = _direct(GoRunner(tmp_path / "d", gocache=gocache), direct, s.module, version)
    got = GoRunner(tmp_path / "g", gocache=gocache).mod_download(
        s.module, version, goproxy=out.as_uri()
    )
    assert not got.get("Error"), got
    assert (got["Sum"], got["GoModSum"]) == (ref["Sum"], ref["GoModSum"])
    listed = GoRunner(tmp_path / "l", gocache=gocache).list_versions(s.module, goproxy=out.as_uri())
    assert sorted(listed) == sorted(s.versions)


def test_pack_ref_gives_go_pseudo_version(
    repos: dict[str, GitRepo], tmp_path: Path, gocache: Path, direct: DirectModeServer
) -> None:
    s = SCENARIOS["mono"]
    ref = _direct(GoRunner(tmp_path / "d", gocache=gocache), direct, s.module, "main")
    source = str(repos["acme/mono"].path)
    packed = asyncio.run(
        pack(
            s.module,
            "auto",
            source,
            tmp_path / "out",
            directory=s.directory,
            prefix=s.tag_prefix,
            ref="main",
        )
    )
    got = _sums(packed.info, packed.mod, packed.zip)
    assert got == {k: ref[k] for k in got}
    # The version given must be the one the ref resolves to.
    argv = ["pack", s.module, "v1.0.0", source, "--ref", "main", "--directory", s.directory]
    assert main([*argv, "--prefix", s.tag_prefix, "--out", str(tmp_path / "x")]) == 2


def test_pack_plain_directory(tmp_path: Path, gocache: Path) -> None:
    """A plain directory: its files as they are, Go's file rules applied, and the go
    command accepts the result."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "go.mod").write_text("module example.test/plain\n\ngo 1.21\n")
    (src / "p.go").write_text("package plain\n")
    (src / "nested").mkdir()
    (src / "nested" / "go.mod").write_text("module example.test/plain/nested\n")
    (src / "nested" / "n.go").write_text("package nested\n")
    (src / ".hg").mkdir()  # a VCS directory: skipped
    (src / ".hg" / "x").write_text("x\n")
    (src / "sub" / "s.go").write_text("package sub\n")
    (src / "link.go").symlink_to("p.go")  # a symlink: omitted
    out = tmp_path / "out"
    argv = ["pack", "example.test/plain", "v0.1.0", str(src), "--out", str(out)]
    assert main([*argv, "--time", "2024-01-02T03:04:05Z"]) == 0
    tree = GoproxyTree(out)
    info = json.loads(tree.file("example.test/plain", "v0.1.0", "info").read_text())
    assert info == {"Version": "v0.1.0", "Time": "2024-01-02T03:04:05Z"}
    import zipfile

    with zipfile.ZipFile(tree.file("example.test/plain", "v0.1.0", "zip")) as zf:
        names = sorted(zf.namelist())
    assert names == [
        "example.test/plain@v0.1.0/go.mod",
        "example.test/plain@v0.1.0/p.go",
        "example.test/plain@v0.1.0/sub/s.go",
    ]
    got = GoRunner(tmp_path / "g", gocache=gocache).mod_download(
        "example.test/plain", "v0.1.0", goproxy=out.as_uri()
    )
    assert not got.get("Error"), got
    assert got["Sum"] == dirhash.hash_zip(tree.file("example.test/plain", "v0.1.0", "zip"))


def test_pack_plain_directory_refuses_wrong_module(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "go.mod").write_text("module example.test/other\n")
    assert main(["pack", "example.test/plain", "v0.1.0", str(src), "--out", str(tmp_path)]) == 2
