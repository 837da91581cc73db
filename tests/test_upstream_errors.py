"""Upstream failures a real server cannot easily produce, mocked with respx: retries,
timeouts, rate limits, 404s and truncated archives. Each goes through the ASGI app, so
the status, headers and message a go user would see are checked too."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import io
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx

from gosub import GoproxyConfig, goproxy
from gosub.sources.github import RetryPolicy
from gosub.web import GoproxyApp

API = "https://api.github.com"
REPO = f"{API}/repos/acme/lib"
SHA = "a" * 40
BASE = "http://gosub.test/go/example.com/lib/@v/"
COMMIT = [{"sha": SHA, "commit": {"committer": {"date": "2024-01-02T03:04:05Z"}}}]
GO_MOD = b"module example.com/lib\n"


def _git_objects(files: dict[str, bytes]) -> tuple[str, list[dict[str, str]]]:
    """The tree id real git gives ``files`` (GitHub's commit data carries it, and gosub
    checks the archive against it) and the tree listing GitHub's trees API would give."""
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "GIT_DIR": os.path.join(d, ".git"), "GIT_WORK_TREE": d}

        def git(*args: str) -> str:
            return subprocess.run(
                ["git", *args], env=env, check=True, capture_output=True, text=True
            ).stdout

        git("init", "-q")
        for name, data in files.items():
            Path(d, name).write_bytes(data)
        git("add", "-A")
        listing = []
        for line in git("ls-files", "-s").splitlines():
            meta, name = line.split("\t")
            mode, sha, _ = meta.split()
            listing.append({"path": name, "mode": mode, "type": "blob", "sha": sha})
        return git("write-tree").strip(), listing


def _tarball(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        top = tarfile.TarInfo("acme-lib-aaaaaaa")
        top.type = tarfile.DIRTYPE
        tf.addfile(top)
        for name, data in files.items():
            ti = tarfile.TarInfo(f"acme-lib-aaaaaaa/{name}")
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return gzip.compress(buf.getvalue())


@pytest.fixture
def app() -> Iterator[GoproxyApp]:
    config = GoproxyConfig(url="https://github.com/acme/lib", module="example.com/lib")
    yield goproxy(
        "/go",
        config,
        env={},
        retry=RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02),
        timeout=0.5,
    )


def _client(app: GoproxyApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gosub.test")


def _mock_version(mock: respx.MockRouter, files: dict[str, bytes] | None = None) -> None:
    commit = COMMIT
    if files is not None:
        commit = [
            {
                **COMMIT[0],
                "commit": {**COMMIT[0]["commit"], "tree": {"sha": _git_objects(files)[0]}},
            }
        ]
    mock.get(f"{REPO}/commits", params={"sha": "refs/tags/v1.0.0"}).respond(json=commit)
    mock.get(f"{REPO}/contents/go.mod", params={"ref": SHA}).respond(json=contents_json(GO_MOD))


def contents_json(data: bytes, path: str = "go.mod") -> dict[str, object]:
    """GitHub's contents API answer (JSON media type) for a file holding ``data``."""
    return {
        "type": "file",
        "path": path,
        "sha": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(),
        "size": len(data),
        "encoding": "base64",
        "content": base64.encodebytes(data).decode(),
    }


async def test_transient_5xx_is_retried(app: GoproxyApp) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(f"{REPO}/git/matching-refs/tags/v")
        route.side_effect = [
            httpx.Response(502),
            httpx.Response(503),
            httpx.Response(
                200, json=[{"ref": "refs/tags/v1.0.0", "object": {"sha": SHA, "type": "commit"}}]
            ),
        ]
        async with _client(app) as c:
            r = await c.get(BASE + "list")
        assert r.status_code == 200 and r.text == "v1.0.0\n"
        assert route.call_count == 3


async def test_persistent_5xx_is_502_with_reason(app: GoproxyApp) -> None:
    with respx.mock as mock:
        route = mock.get(f"{REPO}/git/matching-refs/tags/v").respond(
            500, json={"message": "Server Error"}
        )
        async with _client(app) as c:
            r = await c.get(BASE + "list")
        assert route.call_count == 3  # bounded
        assert r.status_code == 502
        assert "500" in r.text and "Server Error" in r.text
        assert r.headers["cache-control"] == "no-store"


async def test_timeout_is_504(app: GoproxyApp) -> None:
    with respx.mock as mock:
        mock.get(f"{REPO}/git/matching-refs/tags/v").mock(side_effect=httpx.ReadTimeout("slow"))
        async with _client(app) as c:
            r = await c.get(BASE + "list")
        assert r.status_code == 504
        assert "did not answer in time" in r.text


async def test_rate_limit_is_429_with_retry_after_and_advice(app: GoproxyApp) -> None:
    with respx.mock as mock:
        route = mock.get(f"{REPO}/git/matching-refs/tags/v").respond(
            403,
            json={"message": "API rate limit exceeded for 1.2.3.4."},
            headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"},
        )
        async with _client(app) as c:
            r = await c.get(BASE + "list")
        assert route.call_count == 1  # never hammer a rate-limited API
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) > 0
        assert "GITHUB_TOKEN" in r.text


async def test_secondary_rate_limit_429_retry_after(app: GoproxyApp) -> None:
    with respx.mock as mock:
        mock.get(f"{REPO}/git/matching-refs/tags/v").respond(
            429,
            json={"message": "You have exceeded a secondary rate limit"},
            headers={"retry-after": "60"},
        )
        async with _client(app) as c:
            r = await c.get(BASE + "list")
        assert r.status_code == 429 and r.headers["retry-after"] == "60"


async def test_missing_repository_is_404(app: GoproxyApp) -> None:
    with respx.mock as mock:
        mock.get(f"{REPO}/git/matching-refs/tags/v").respond(404, json={"message": "Not Found"})
        async with _client(app) as c:
            r = await c.get(BASE + "list")
        assert r.status_code == 404
        assert r.text.startswith("not found:") and "github.com" in r.text


async def test_bad_token_is_reported_without_echoing_it() -> None:
    config = GoproxyConfig(url="https://github.com/acme/lib")
    app = goproxy("/go", config, env={"GITHUB_TOKEN": "ghp_secret123"})
    with respx.mock as mock:
        route = mock.get(f"{REPO}/git/matching-refs/tags/v").respond(
            401, json={"message": "Bad credentials"}
        )
        async with _client(app) as c:
            r = await c.get(BASE + "list")
        assert route.calls[0].request.headers["authorization"] == "Bearer ghp_secret123"
        assert r.status_code == 502
        assert "GITHUB_TOKEN" in r.text and "ghp_secret123" not in r.text


async def test_truncated_archive_is_retried_then_reported_never_partial(app: GoproxyApp) -> None:
    full = _tarball({"go.mod": GO_MOD, "a.go": b"package lib\n" * 1000})
    with respx.mock as mock:
        _mock_version(mock)
        mock.get(f"{REPO}/tarball/{SHA}").respond(
            302, headers={"location": "https://codeload.github.com/acme/lib/legacy.tar.gz/" + SHA}
        )
        dl = mock.get("https://codeload.github.com/acme/lib/legacy.tar.gz/" + SHA).respond(
            200, content=full[: len(full) // 2]
        )
        async with _client(app) as c:
            r = await c.get(BASE + "v1.0.0.zip")
        assert dl.call_count == 3, r.text
        assert r.status_code == 502
        assert "truncated" in r.text or "corrupt" in r.text
        assert r.headers["content-type"].startswith("text/plain")


async def test_archive_then_success_serves_complete_zip(app: GoproxyApp) -> None:
    files = {"go.mod": GO_MOD, "a.go": b"package lib\n"}
    full = _tarball(files)
    with respx.mock as mock:
        _mock_version(mock, files)
        mock.get(f"{REPO}/tarball/{SHA}").respond(
            302, headers={"location": "https://codeload.github.com/acme/lib/legacy.tar.gz/" + SHA}
        )
        mock.get("https://codeload.github.com/acme/lib/legacy.tar.gz/" + SHA).mock(
            side_effect=[httpx.ReadError("connection reset"), httpx.Response(200, content=full)]
        )
        async with _client(app) as c:
            r = await c.get(BASE + "v1.0.0.zip")
        assert r.status_code == 200
        import zipfile

        names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
        assert sorted(names) == ["example.com/lib@v1.0.0/a.go", "example.com/lib@v1.0.0/go.mod"]


async def test_archive_bytes_that_are_not_the_blob_are_replaced_by_the_blob(
    app: GoproxyApp,
) -> None:
    # GitHub can put an LFS object in its archive where git (and Go) have the pointer
    # file. The archive's tree id then differs from the commit's; gosub lists the tree
    # and takes that file from its blob.
    pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 4\n"
    files = {"go.mod": GO_MOD, "big.bin": pointer}
    listing = _git_objects(files)[1]
    blob_sha = next(e["sha"] for e in listing if e["path"] == "big.bin")
    with respx.mock as mock:
        _mock_version(mock, files)
        mock.get(f"{REPO}/tarball/{SHA}").respond(
            200, content=_tarball({"go.mod": GO_MOD, "big.bin": b"REAL"})
        )
        trees = mock.get(f"{REPO}/git/trees/{SHA}").respond(
            json={"sha": "t", "tree": listing, "truncated": False}
        )
        blob = mock.get(f"{REPO}/git/blobs/{blob_sha}").respond(content=pointer)
        async with _client(app) as c:
            r = await c.get(BASE + "v1.0.0.zip")
        assert r.status_code == 200, r.text
        import zipfile

        z = zipfile.ZipFile(io.BytesIO(r.content))
        assert z.read("example.com/lib@v1.0.0/big.bin") == pointer
        assert trees.call_count == 1 and blob.call_count == 1


async def test_invalid_file_name_fails_the_version_with_reason(app: GoproxyApp) -> None:
    files = {"go.mod": GO_MOD, "it's.go": b"package lib\n"}
    bad = _tarball(files)
    with respx.mock as mock:
        _mock_version(mock, files)
        mock.get(f"{REPO}/tarball/{SHA}").respond(200, content=bad)
        async with _client(app) as c:
            r = await c.get(BASE + "v1.0.0.zip")
        assert r.status_code == 410
        assert "it's.go" in r.text


async def test_no_traceback_on_unexpected_json(app: GoproxyApp) -> None:
    with respx.mock as mock:
        mock.get(f"{REPO}/commits", params={"sha": "refs/tags/v1.0.0"}).respond(json=[{"x": 1}])
        async with _client(app) as c:
            r = await c.get(BASE + "v1.0.0.info")
        assert r.status_code == 502
        assert "Traceback" not in r.text


async def test_request_time_is_bounded() -> None:
    config = GoproxyConfig(url="https://github.com/acme/lib", module="example.com/lib")
    app = goproxy("/go", config, env={}, request_timeout=0.3, timeout=10)

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json=[])

    with respx.mock as mock:
        mock.get(f"{REPO}/git/matching-refs/tags/v").mock(side_effect=slow)
        async with _client(app) as c:
            r = await c.get(BASE + "list")
    assert r.status_code == 504 and "gave up after 0.3 s" in r.text


@pytest.mark.parametrize(
    "path", ["x" * 3000 + "/@v/list", "example.com/lib/@v/" + "v" * 3000 + ".info"]
)
async def test_absurd_paths_are_400(app: GoproxyApp, path: str) -> None:
    async with _client(app) as c:
        r = await c.get("http://gosub.test/go/" + path)
    assert r.status_code == 400 and "at most 2048" in r.text


async def test_tag_pages_are_revalidated_with_etags() -> None:
    """Peeling annotated tags lists /tags page by page; asked again, every page is
    revalidated with If-None-Match, and 304s (free of rate limit) give the same map."""
    from gosub.sources.github import GitHubClient, GitHubSource

    client = GitHubClient(api_url=API, retry=RetryPolicy(attempts=1))
    source = GitHubSource(client, "acme", "lib")
    refs = [
        {"ref": f"refs/tags/v1.{i}.0", "object": {"sha": f"{i:040x}", "type": "tag"}}
        for i in range(2)
    ]
    pages = [
        [{"name": "v1.0.0", "commit": {"sha": "c" * 40}}],
        [{"name": "v1.1.0", "commit": {"sha": "d" * 40}}],
    ]
    seen: list[str | None] = []

    def tags(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        etag = f'"p{page}"'
        seen.append(request.headers.get("if-none-match"))
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"etag": etag})
        headers = {"etag": etag}
        if page == 1:
            headers["link"] = f'<{REPO}/tags?per_page=100&page=2>; rel="next"'
        return httpx.Response(200, json=pages[page - 1], headers=headers)

    with respx.mock as mock:
        mock.get(f"{REPO}/git/matching-refs/tags/v").respond(json=refs)
        route = mock.get(f"{REPO}/tags").mock(side_effect=tags)
        first = await source.tag_commits("v")
        again = await source.tag_commits("v")
    await client.aclose()
    assert first == again == {"v1.0.0": "c" * 40, "v1.1.0": "d" * 40}
    assert route.call_count == 4 and seen == [None, None, '"p1"', '"p2"']


async def test_a_host_whose_archive_and_file_disagree_on_go_mod_is_not_served(
    app: GoproxyApp,
) -> None:
    """The zip's go.mod and the .mod are one blob of one commit; a host that answers two
    different ones (a real server cannot easily be made to) gets a 502, never a zip."""
    other = GO_MOD + b"\ngo 1.22\n"
    files = {"go.mod": other, "a.go": b"package lib\n"}
    with respx.mock as mock:
        _mock_version(mock, files)  # the contents API answers GO_MOD, consistently
        mock.get(f"{REPO}/tarball/{SHA}").respond(200, content=_tarball(files))
        async with _client(app) as c:
            z = await c.get(BASE + "v1.0.0.zip")
            mod = await c.get(BASE + "v1.0.0.mod")
    assert z.status_code == 502 and "not the go.mod read alone" in z.text, z.text
    assert mod.status_code == 200 and mod.content == GO_MOD


async def test_an_error_of_gos_rules_is_a_refusal_not_a_500(
    app: GoproxyApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gosub.golang.module import InvalidVersionError
    from gosub.modrepo import ModuleRepo

    async def refuse(self: ModuleRepo, query: str) -> None:
        raise InvalidVersionError(query, "base version before v0.0.0", pseudo=True)

    monkeypatch.setattr(ModuleRepo, "stat", refuse)
    async with _client(app) as c:
        r = await c.get(BASE + "v0.0.0-0.20170915032832-1732873102df.info")
    assert r.status_code == 404 and "base version before v0.0.0" in r.text
