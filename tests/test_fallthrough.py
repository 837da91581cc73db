"""A URL config without ``m=`` serves only the module its repository declares, so a
GOPROXY list falls through to the next proxy for every other module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gosub import goproxy, gosub
from gosub.web import make_shared
from tests.conftest import FAST_RETRY, UvicornThread
from tests.repos import SCENARIOS
from tests.support.ghapi import GitHubStandin
from tests.support.golang import GoRunner

MONO = "github.com/acme/mono:d=go%2Flib&p=go%2Flib%2Fv;"  # no m=


@pytest.fixture(scope="module")
def server(standin: GitHubStandin) -> Iterator[str]:
    """The shared URL-configured app at /, and the attrs scenario pinned at /attrs/."""
    shared = make_shared({"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY)
    app = goproxy(
        "/attrs/", SCENARIOS["attrs"].config(), shared=shared, fallback=gosub("/", shared=shared)
    )
    thread = UvicornThread(app)
    yield thread.start()
    thread.stop()


def test_other_modules_fall_through_to_the_next_proxy(
    server: str, tmp_path: Path, gocache: Path
) -> None:
    goproxy_list = f"{server}/{MONO}/,{server}/attrs/"
    go = GoRunner(tmp_path / "go", gocache=gocache)
    got = go.mod_download("example.test/attrs", "v1.0.0", goproxy=goproxy_list)
    assert not got.get("Error"), got
    ref = GoRunner(tmp_path / "ref", gocache=gocache).mod_download(
        "example.test/attrs", "v1.0.0", goproxy=f"{server}/attrs/"
    )
    assert got["Sum"] == ref["Sum"]
    # The declared module itself is still served by the unpinned URL.
    mono = go.mod_download("example.test/mono", "v1.0.0", goproxy=goproxy_list)
    assert not mono.get("Error") and mono["Version"] == "v1.0.0", mono


@pytest.mark.parametrize("name", ["list", "@latest", "v1.0.0.info", "v1.0.0.mod", "v1.0.0.zip"])
def test_a_module_the_repository_does_not_declare_is_404(server: str, name: str) -> None:
    sep = "/@v/" if name != "@latest" else "/"
    r = httpx.get(f"{server}/{MONO}/golang.org/x/text{sep}{name}", timeout=30)
    assert r.status_code == 404, r.text
    assert "declares module example.test/mono" in r.text
    ok = httpx.get(f"{server}/{MONO}/example.test/mono{sep}{name}", timeout=30)
    assert ok.status_code == 200, ok.text
