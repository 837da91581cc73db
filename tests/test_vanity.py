"""Vanity imports: one deployment answers ?go-get=1 and serves the module, end to end with
the go command in direct mode (GOPROXY=direct) resolving the vanity path through gosub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gosub import GoproxyConfig, goproxy
from tests.conftest import FAST_RETRY, UvicornThread
from tests.support.ghapi import GitHubStandin
from tests.support.golang import DirectModeServer, GoRunner


@pytest.fixture(scope="module")
def vanity_server(standin: GitHubStandin) -> Iterator[str]:
    config = GoproxyConfig(
        url="https://github.com/acme/custom",
        module="vanity.test/custom",
        directory="go",
        tag_prefix="mylib-go-",
        tag_suffix="-release",
    )
    server = UvicornThread(
        goproxy("/go", config, env={"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY)
    )
    yield server.start()
    server.stop()


def test_go_get_page(vanity_server: str) -> None:
    for path in ["/custom?go-get=1", "/custom/sub/pkg?go-get=1"]:
        r = httpx.get(vanity_server + path, headers={"Host": "vanity.test"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert (
            '<meta name="go-import" content="vanity.test/custom mod http://vanity.test/go">'
            in r.text
        )
    other = httpx.get(vanity_server + "/other?go-get=1", headers={"Host": "vanity.test"})
    assert other.status_code == 404


def test_go_resolves_vanity_path_through_gosub(
    vanity_server: str, tmp_path: Path, gocache: Path
) -> None:
    hosts = DirectModeServer(tmp_path / "hosts")
    hosts.start()
    try:
        hosts.relay("vanity.test", vanity_server)
        go = GoRunner(tmp_path / "go", gocache=gocache)
        env = hosts.env()  # GOPROXY=direct: go discovers the proxy from the meta tag
        assert go.list_versions("vanity.test/custom", goproxy="direct", env=env) == [
            "v1.0.0",
            "v1.1.0-beta.1",
        ]
        result = go.mod_download("vanity.test/custom", "v1.0.0", goproxy="direct", env=env)
        assert result["Version"] == "v1.0.0" and not result.get("Error"), result
        assert Path(result["Zip"]).exists()
    finally:
        hosts.stop()
