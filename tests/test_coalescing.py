"""Concurrent requests for one uncached version share one upstream fetch."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import zipfile
from pathlib import Path

import httpx

from gosub.web import goproxy, make_shared
from tests.conftest import FAST_RETRY, UvicornThread
from tests.repos import SCENARIOS
from tests.support.ghapi import GitHubStandin
from tests.support.golang import GoRunner, go_binary


async def test_simultaneous_downloads_make_one_set_of_requests(standin: GitHubStandin) -> None:
    s = SCENARIOS["mono"]
    shared = make_shared({"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY)
    app = goproxy("/", s.config(), shared=shared)
    standin.reset()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", timeout=120
    ) as c:
        base = "/example.test/mono/@v/v1.2.0"
        responses = await asyncio.gather(
            *[c.get(base + ext) for _ in range(40) for ext in (".info", ".mod", ".zip")]
        )
    assert all(r.status_code == 200 for r in responses)
    zips = {r.content for r in responses if r.headers["content-type"] == "application/zip"}
    assert len(zips) == 1
    assert "example.test/mono@v1.2.0/go.mod" in zipfile.ZipFile(io.BytesIO(zips.pop())).namelist()
    counts = dict(standin.counts)
    assert counts.pop("codeload") == 1 and counts.pop("tarball") == 1, standin.counts
    assert counts == {"commits": 1, "contents": 1}, standin.counts
    await shared.aclose()


def test_a_hundred_go_commands_at_once_make_one_set_of_requests(
    standin: GitHubStandin, tmp_path: Path, gocache: Path
) -> None:
    """100 simultaneous ``go mod download`` of one uncached version, each with its own
    module cache, through a real server: one set of GitHub requests, one zip for all."""
    s = SCENARIOS["mono"]
    shared = make_shared({"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY)
    server = UvicornThread(goproxy("/", s.config(), shared=shared))
    url = server.start()
    try:
        standin.reset()
        runners = [GoRunner(tmp_path / f"go{i}", gocache=gocache) for i in range(100)]
        procs = [
            subprocess.Popen(
                [go_binary(), "mod", "download", "-json", f"{s.module}@v1.1.0"],
                cwd=r.workdir,
                env=r.env(GOPROXY=url + "/"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for r in runners
        ]
        results = []
        for p in procs:
            out, err = p.communicate(timeout=300)
            assert p.returncode == 0, err
            results.append(json.loads(out))
    finally:
        server.stop()
        shared.zips.close()
    assert len({r["Sum"] for r in results}) == 1 and len({r["GoModSum"] for r in results}) == 1
    counts = dict(standin.counts)
    assert counts == {"commits": 1, "contents": 1, "tarball": 1, "codeload": 1}, counts
