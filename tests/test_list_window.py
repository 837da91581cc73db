"""The list window: a revalidated ``list`` or ``@latest`` is served again for
``list_ttl`` seconds (default :data:`gosub.web.shared.LIST_TTL`) without asking the
code host, so a poller or a crowd costs one revalidation per window. A new tag shows
once the window has passed; a stale answer (the host failed) is never held."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gosub.config import GoproxyConfig
from gosub.settings import load_settings
from gosub.web import goproxy, gosub
from gosub.web.proxy import GoproxyApp
from gosub.web.shared import LIST_TTL
from tests.conftest import FAST_RETRY, UvicornThread
from tests.repos import ROOT_LICENSE
from tests.support.ghapi import GitHubStandin
from tests.support.git import GitRepo
from tests.support.golang import GoRunner


@pytest.fixture
def clean_standin(standin: GitHubStandin) -> GitHubStandin:
    standin.reset()
    return standin


def _repo(repos_root: Path, name: str) -> GitRepo:
    repo = GitRepo(repos_root / "acme" / name)
    repo.write("LICENSE", ROOT_LICENSE)
    repo.write("go.mod", f"module example.test/{name}\n")
    repo.write("w.go", f"package {name}\n")
    repo.commit("one", date="2024-01-01T00:00:00Z")
    repo.tag("v1.0.0")
    return repo


def _tag_again(repo: GitRepo, name: str, version: str) -> None:
    repo.write("w.go", f"package {name}\n\n// {version}\n")
    repo.commit(version, date="2024-02-01T00:00:00Z")
    repo.tag(version)


def _app(standin: GitHubStandin, name: str, list_ttl: float) -> GoproxyApp:
    return goproxy(
        "/",
        GoproxyConfig(url=f"https://github.com/acme/{name}"),
        env={"GITHUB_API_URL": standin.api_url},
        retry=FAST_RETRY,
        list_ttl=list_ttl,
    )


async def _client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


def test_the_default_window_is_a_second_and_can_be_set() -> None:
    assert LIST_TTL == 1.0
    assert load_settings({}).list_ttl == LIST_TTL
    assert load_settings({"GOSUB_LIST_TTL": "0"}).list_ttl == 0
    assert load_settings({"GOSUB_LIST_TTL": "2.5"}).list_ttl == 2.5


async def test_within_the_window_nobody_asks_the_code_host(
    clean_standin: GitHubStandin, repos_root: Path
) -> None:
    repo = _repo(repos_root, "window")
    app = _app(clean_standin, "window", list_ttl=30)
    async for c in _client(app):
        first = await c.get("/example.test/window/@v/list")
        latest = await c.get("/example.test/window/@latest")
        assert first.text.split() == ["v1.0.0"]
        asked = sum(clean_standin.counts.values())
        _tag_again(repo, "window", "v1.1.0")
        # A crowd, a poller, a conditional request and a HEAD: the same answers, and
        # not one request to the code host.
        crowd = await asyncio.gather(*(c.get("/example.test/window/@v/list") for _ in range(50)))
        again = await c.get("/example.test/window/@latest")
        cond = await c.get(
            "/example.test/window/@v/list", headers={"If-None-Match": first.headers["etag"]}
        )
        head = await c.head("/example.test/window/@v/list")
    assert {r.text for r in crowd} == {first.text}
    assert {r.headers["etag"] for r in crowd} == {first.headers["etag"]}
    assert again.text == latest.text and json.loads(again.text)["Version"] == "v1.0.0"
    assert cond.status_code == 304 and cond.headers["etag"] == first.headers["etag"]
    assert head.status_code == 200 and head.headers["content-length"] == str(len(first.content))
    assert head.content == b""
    assert sum(clean_standin.counts.values()) == asked, clean_standin.counts
    assert first.headers["cache-control"] == "public, max-age=60"


def test_a_new_tag_shows_once_the_window_has_passed(
    clean_standin: GitHubStandin, repos_root: Path, tmp_path: Path, gocache: Path
) -> None:
    repo = _repo(repos_root, "polled")
    ttl = 0.5
    server = UvicornThread(_app(clean_standin, "polled", list_ttl=ttl))
    url = server.start()
    try:
        go = GoRunner(tmp_path / "go", gocache=gocache)
        assert go.list_versions("example.test/polled", goproxy=url + "/") == ["v1.0.0"]
        _tag_again(repo, "polled", "v1.1.0")
        time.sleep(ttl + 0.1)
        versions = go.list_versions("example.test/polled", goproxy=url + "/")
        latest = httpx.get(url + "/example.test/polled/@latest")
    finally:
        server.stop()
    assert versions == ["v1.0.0", "v1.1.0"]
    assert json.loads(latest.text)["Version"] == "v1.1.0"
    # Asked again once the window had passed: revalidated, and the change taken.
    refs = clean_standin.exchanges_of("matching-refs")
    assert any("if-none-match" in e.headers and e.status == 200 for e in refs), refs


async def test_a_stale_answer_is_never_held_for_the_window(
    clean_standin: GitHubStandin, repos_root: Path
) -> None:
    _repo(repos_root, "outage")
    ttl = 0.3
    app = _app(clean_standin, "outage", list_ttl=ttl)
    async for c in _client(app):
        good = await c.get("/example.test/outage/@v/list")
        clean_standin.fail("matching-refs", 503, times=1000)
        await asyncio.sleep(ttl + 0.05)
        stale = await c.get("/example.test/outage/@v/list")
        assert stale.text == good.text and "503" in stale.headers["gosub-stale"]
        clean_standin.reset()
        # The host is back: the very next request asks it (no window after a stale
        # answer), and the answer is fresh.
        fresh = await c.get("/example.test/outage/@v/list")
    assert fresh.status_code == 200 and "gosub-stale" not in fresh.headers
    assert fresh.headers["cache-control"] == "public, max-age=60"
    assert clean_standin.counts["matching-refs"] >= 1, clean_standin.counts


async def test_a_clients_window_is_its_own(repos_root: Path, repos: object) -> None:
    """A list fetched with a client's token is held in that client's caches: within the
    window, a request without the token still cannot see the private repository."""
    server = GitHubStandin(repos_root, private={"acme/attrs"})
    server.start()
    try:
        app = gosub("/", env={"GITHUB_API_URL": server.api_url}, retry=FAST_RETRY, list_ttl=30)
        attrs = "/github.com/acme/attrs:d=mod&p=mod%2Fv;/example.test/attrs/@v/list"
        async for c in _client(app):
            mine = await c.get(attrs, auth=httpx.BasicAuth("me", "client-token"))
            anonymous = await c.get(attrs)
        assert mine.status_code == 200 and mine.text.split() == ["v1.0.0"]
        assert "private" in mine.headers["cache-control"]
        assert anonymous.status_code == 404
    finally:
        server.stop()
