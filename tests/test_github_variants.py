"""GitHub Enterprise Server URLs, moved tags, and the token never leaving gosub."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gosub import GoproxyConfig, goproxy
from tests.conftest import FAST_RETRY
from tests.repos import ROOT_LICENSE, SCENARIOS
from tests.support.ghapi import GitHubStandin
from tests.support.git import GitRepo


@pytest.fixture
def ghes(repos_root: Path, repos: dict[str, GitRepo]) -> Iterator[GitHubStandin]:
    """The stand-in as a GitHub Enterprise Server: REST API under /api/v3."""
    server = GitHubStandin(repos_root, api_prefix="/api/v3")
    server.start()
    yield server
    server.stop()


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gosub.test")  # type: ignore[arg-type]


async def test_enterprise_server_api_prefix(ghes: GitHubStandin) -> None:
    config = GoproxyConfig(
        url="https://ghe.example.test/acme/mono", directory="go/lib", tag_prefix="go/lib/v"
    )
    app = goproxy("/", config, env={"GITHUB_API_URL": ghes.api_url}, retry=FAST_RETRY)
    async with _client(app) as c:
        lst = await c.get("/example.test/mono/@v/list")
        assert lst.text.split() == ["v1.0.0", "v1.1.0", "v1.2.0-rc.1", "v1.2.0"]
        z = await c.get("/example.test/mono/@v/v1.0.0.zip")
        assert z.status_code == 200
        names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
        assert "example.test/mono@v1.0.0/lib.go" in names
        info = await c.get("/example.test/mono/@v/v1.0.0.info")
        assert '"URL": "https://ghe.example.test/acme/mono"' in info.text
    assert all(
        path.startswith("/api/v3/") or path.startswith("/_codeload/")
        for _, path, _ in ghes.requests
    )


async def test_moved_tag_does_not_change_a_served_version(
    standin: GitHubStandin, repos_root: Path
) -> None:
    repo = GitRepo(repos_root / "acme" / "moving")
    repo.write("LICENSE", ROOT_LICENSE)
    repo.write("go.mod", "module example.test/moving\n")
    repo.write("a.go", "package moving\n\nconst A = 1\n")
    first = repo.commit("one", date="2024-01-01T00:00:00Z")
    repo.tag("v1.0.0")
    config = GoproxyConfig(url="https://github.com/acme/moving")
    app = goproxy("/", config, env={"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY)
    async with _client(app) as c:
        before = await c.get("/example.test/moving/@v/v1.0.0.info")
        zip_before = (await c.get("/example.test/moving/@v/v1.0.0.zip")).content
        # Someone force-moves the tag to a new commit.
        repo.write("a.go", "package moving\n\nconst A = 2\n")
        second = repo.commit("two", date="2024-02-01T00:00:00Z")
        repo.git("tag", "-f", "v1.0.0", second)
        after = await c.get("/example.test/moving/@v/v1.0.0.info")
        zip_after = (await c.get("/example.test/moving/@v/v1.0.0.zip")).content
    assert first in before.text and after.text == before.text
    assert zip_after == zip_before


async def test_token_sent_to_api_only_and_never_echoed(standin: GitHubStandin) -> None:
    config = GoproxyConfig(
        url="https://github.com/acme/mono", directory="go/lib", tag_prefix="go/lib/v"
    )
    app = goproxy(
        "/",
        config,
        env={"GITHUB_API_URL": standin.api_url, "GITHUB_TOKEN": "tok-123"},
        retry=FAST_RETRY,
    )
    standin.reset()
    async with _client(app) as c:
        for path in ["/example.test/mono/@v/list", "/example.test/mono/@v/v9.0.0.info"]:
            r = await c.get(path)
            assert "tok-123" not in r.text
    assert standin.requests and all(auth for _, _, auth in standin.requests)


@pytest.mark.parametrize("name", ["mono", "attrs", "custom"])
async def test_token_never_leaves_the_api_host(standin: GitHubStandin, name: str) -> None:
    """A whole version with a token: every API request carries it, and the archive,
    served from another origin (as codeload.github.com), is fetched without it. mono's
    archive is the commit's tree; attrs' is patched from trees and blobs; custom peels
    annotated tags."""
    s = SCENARIOS[name]
    token = "tok-never-elsewhere"
    app = goproxy(
        "/",
        s.config(),
        env={"GITHUB_API_URL": standin.api_url, "GITHUB_TOKEN": token},
        retry=FAST_RETRY,
    )
    standin.reset()
    version = s.versions[0]
    base = f"/{s.module}/@v/"
    async with _client(app) as c:
        for path in [base + "list", f"/{s.module}/@latest"] + [
            base + version + ext for ext in (".info", ".mod", ".zip")
        ]:
            r = await c.get(path)
            assert r.status_code == 200, (path, r.text)
            assert token not in r.text and token not in str(r.headers)
    assert standin.archive_requests, "no archive was downloaded"
    assert not any(auth for _, _, auth in standin.archive_requests), standin.archive_requests
    assert standin.requests and all(auth for _, _, auth in standin.requests)
    for e in standin.exchanges:
        sent = " ".join(e.headers.values())
        if e.origin == "api":
            assert e.headers.get("authorization") == f"Bearer {token}", e
        else:
            assert "authorization" not in e.headers and token not in sent, e


@pytest.mark.parametrize("name", ["mono", "attrs"])
async def test_file_reads_redirected_to_another_origin(standin: GitHubStandin, name: str) -> None:
    """File reads (mono's go.mod through contents; attrs' blobs patched into its archive)
    answered with a 302 to the second origin: gosub serves the same bytes as without the
    redirect, and the other origin never sees the token."""
    s = SCENARIOS[name]
    token = "tok-reads-elsewhere"
    version = s.versions[0]
    paths = [f"/{s.module}/@v/{version}{ext}" for ext in (".info", ".mod", ".zip")]

    async def fetch() -> list[tuple[int, bytes]]:
        env = {"GITHUB_API_URL": standin.api_url, "GITHUB_TOKEN": token}
        app = goproxy("/", s.config(), env=env, retry=FAST_RETRY)
        async with _client(app) as c:
            return [((r := await c.get(p)).status_code, r.content) for p in paths]

    standin.reset()
    direct = await fetch()
    assert [status for status, _ in direct] == [200, 200, 200]
    try:
        standin.redirect_reads()
        redirected = await fetch()
        moved = [e for e in standin.exchanges if e.status == 302 and e.origin == "api"]
        followed = [e for e in standin.exchanges if e.endpoint == "redirected"]
    finally:
        standin.reset()
    assert moved, "no file read was redirected"
    assert redirected == direct, [(st, body[:200]) for st, body in redirected]
    assert followed
    assert not any("authorization" in e.headers or token in str(e.headers) for e in followed)


async def test_readme_mount_example(standin: GitHubStandin) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    config = GoproxyConfig(
        url="https://github.com/acme/custom",
        module="example.test/custom",
        directory="go",
        tag_prefix="mylib-go-",
        tag_suffix="-release",
    )
    proxy = goproxy("/go", config, env={"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY)
    app = Starlette(routes=[Mount("/go", app=proxy)])
    async with _client(app) as c:
        r = await c.get("/go/example.test/custom/@v/list")
        assert r.status_code == 200 and r.text.split() == ["v1.0.0", "v1.1.0-beta.1"]
        other = await c.get("/go/example.test/other/@v/list")
        assert other.status_code == 404 and "not served here" in other.text


async def test_tag_peeling_follows_pagination(standin: GitHubStandin, repos_root: Path) -> None:
    """Annotated tags are peeled through /tags, 100 a page, following Link headers."""
    from gosub.sources.github import GitHubClient, GitHubSource

    repo = GitRepo(repos_root / "acme" / "pages")
    repo.write("go.mod", "module example.test/pages\n")
    commits = []
    for i in range(3):
        repo.write("p.go", f"package pages\n\nconst P = {i}\n")
        commits.append(repo.commit(f"c{i}", date=f"2024-0{i + 1}-01T00:00:00Z"))
        for j in range(80):
            repo.tag(f"v1.{i}.{j}", annotated=(j % 2 == 0), message="m")
    client = GitHubClient(api_url=standin.api_url, retry=FAST_RETRY)
    try:
        standin.reset()
        tags = await GitHubSource(client, "acme", "pages").tag_commits("v")
        assert len(tags) == 240
        assert all(tags[f"v1.{i}.{j}"] == commits[i] for i in range(3) for j in range(80))
        assert standin.counts["tags"] == 3 and standin.counts["matching-refs"] == 1
    finally:
        await client.aclose()


@pytest.mark.parametrize("path", ["/example.test/Mono/@v/list", "/example.test/m!!x/@v/list"])
async def test_bad_module_path_escaping_is_400_without_module_pin(path: str) -> None:
    app = goproxy("/", GoproxyConfig(url="https://github.com/acme/mono"), env={})
    async with _client(app) as c:
        r = await c.get(path)
    assert r.status_code == 400 and "bad module path" in r.text and "'!x' for 'X'" in r.text
