"""Concurrent requests for one uncached version share one upstream fetch."""

from __future__ import annotations

import asyncio
import io
import zipfile

import httpx

from gosub.proxy import goproxy, make_shared
from tests.conftest import FAST_RETRY
from tests.repos import SCENARIOS
from tests.support.ghapi import GitHubStandin


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
    await shared.client.aclose()
    shared.zips.close()
