"""gosub and the real Athens (v0.18.0, built by ``.ci/go-tools``) read each other's
storage: Athens, fully offline, serves the go command Go's sums from a tree made by
``gosub pack --layout athens``; and gosub serves, as a ``[[mirror]]``, the tree Athens
wrote while fetching from gosub as its upstream, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from gosub.cli import main
from gosub.settings import MirrorSettings, Settings, build_app
from tests.conftest import UvicornThread
from tests.repos import SCENARIOS
from tests.support.athens import Athens, athens_binary
from tests.support.git import GitRepo
from tests.support.golang import DirectModeServer, GoRunner

CASES = [("mono", "v1.0.0"), ("mono", "v1.2.0"), ("upper", "v1.1.0-Beta"), ("custom", "v1.0.0")]


@pytest.fixture(autouse=True)
def _need_athens() -> None:
    athens_binary()


def _download(go: GoRunner, module: str, version: str, **kw: Any) -> dict[str, Any]:
    result = go.mod_download(module, version, **kw)
    assert not result.get("Error"), result
    result["InfoTime"] = json.loads(Path(result["Info"]).read_text())["Time"]
    return result


def test_athens_offline_serves_gosub_packed_storage(
    repos: dict[str, GitRepo], tmp_path: Path, gocache: Path, direct: DirectModeServer
) -> None:
    storage = tmp_path / "storage"
    for name, version in CASES:
        s = SCENARIOS[name]
        argv = ["pack", s.module, version, str(repos[f"{s.owner}/{s.repo}"].path)]
        argv += ["--directory", s.directory, "--prefix", s.tag_prefix]
        argv += [f"--suffix={s.tag_suffix}", "--layout", "athens", "--out", str(storage)]
        assert main(argv) == 0
    with Athens(storage) as athens:
        for i, (name, version) in enumerate(CASES):
            s = SCENARIOS[name]
            ref = _download(
                GoRunner(tmp_path / f"d{i}", gocache=gocache),
                s.module,
                version,
                goproxy="direct",
                env=direct.env(),
            )
            got = _download(
                GoRunner(tmp_path / f"a{i}", gocache=gocache), s.module, version, goproxy=athens.url
            )
            for key in ("Version", "Sum", "GoModSum", "InfoTime"):
                assert got[key] == ref[key], f"{name} {key}: {got[key]!r} != {ref[key]!r}"
        listed = httpx.get(f"{athens.url}/example.test/mono/@v/list").text.split()
        assert sorted(listed) == ["v1.0.0", "v1.2.0"]
        # Fully offline: what was not packed is not there.
        miss = httpx.get(f"{athens.url}/example.test/mono/@v/v1.1.0.info")
        assert miss.status_code == 404


def test_gosub_serves_storage_written_by_athens(
    gosub_url: str, tmp_path: Path, gocache: Path, direct: DirectModeServer
) -> None:
    storage = tmp_path / "storage"
    athens_got: dict[str, dict[str, Any]] = {}
    for name, version in CASES:
        s = SCENARIOS[name]
        # Athens fetches from gosub (its go mod download through GOPROXY=gosub).
        with Athens(storage, upstream=f"{gosub_url}/{name}/") as athens:
            athens_got[name + version] = _download(
                GoRunner(tmp_path / f"a-{name}{version}", gocache=gocache),
                s.module,
                version,
                goproxy=athens.url,
            )
    for name, version in CASES:
        s = SCENARIOS[name]
        vdir = storage.joinpath(*s.module.split("/"), version)
        assert sorted(p.name for p in vdir.iterdir()) == sorted(
            ["go.mod", "source.zip", f"{version}.info"]
        )
    # Athens is gone: gosub serves its directory as a read-only mirror.
    settings = Settings(
        shared=False, cache_dir="", mirrors=(MirrorSettings(str(storage), "athens"),)
    )
    server = UvicornThread(build_app(settings, env={}))
    url = server.start()
    try:
        for name, version in CASES:
            s = SCENARIOS[name]
            ref = _download(
                GoRunner(tmp_path / f"d-{name}{version}", gocache=gocache),
                s.module,
                version,
                goproxy="direct",
                env=direct.env(),
            )
            got = _download(
                GoRunner(tmp_path / f"m-{name}{version}", gocache=gocache),
                s.module,
                version,
                goproxy=url,
            )
            for key in ("Version", "Sum", "GoModSum", "InfoTime"):
                assert got[key] == ref[key] == athens_got[name + version][key], key
            # The same bytes Athens stored.
            source = storage.joinpath(*s.module.split("/"), version, "source.zip")
            assert Path(got["Zip"]).read_bytes() == source.read_bytes()
        listed = GoRunner(tmp_path / "l", gocache=gocache).list_versions(
            "example.test/mono", goproxy=url
        )
        assert listed == ["v1.0.0", "v1.2.0"]
    finally:
        server.stop()
