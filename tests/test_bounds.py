"""The archive-size bound, through the app: a version whose repository archive is over
gosub's limit is a 410 that says why, and leaves nothing behind (no spooled archive or
extracted files, no zip built or half-built, nothing in the persistent store), so it is
refused again the same way."""

from __future__ import annotations

import gzip
import io
import tarfile
import tempfile
from pathlib import Path

import httpx
import pytest

from gosub import GoproxyConfig, goproxy
from gosub.web import make_shared
from tests.conftest import FAST_RETRY
from tests.repos import ROOT_LICENSE
from tests.support.ghapi import GitHubStandin
from tests.support.git import GitRepo

BULK = 300_000  # a well-compressible file: the archive is small, its content is not


@pytest.fixture(scope="module")
def bulky(repos_root: Path, standin: GitHubStandin) -> tuple[int, int]:
    """acme/bulky, tagged mod/v1.0.0; returns (archive bytes, module content bytes)."""
    repo = GitRepo(repos_root / "acme" / "bulky")
    repo.write("LICENSE", ROOT_LICENSE)
    repo.write("mod/go.mod", "module example.test/bulky\n")
    repo.write("mod/b.go", "package bulky\n")
    repo.write("mod/bulk.txt", "a" * BULK)
    repo.commit("bulky", date="2024-01-01T00:00:00Z")
    repo.tag("mod/v1.0.0")
    archive = httpx.get(
        f"{standin.api_url}/repos/acme/bulky/tarball/mod/v1.0.0", follow_redirects=True
    ).content
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive))) as tf:
        content = sum(m.size for m in tf.getmembers() if m.isfile() and "/mod/" in m.name)
    return len(archive), content


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("download", "the repository archive is larger than"),
        ("extraction", "the files to package exceed"),
    ],
)
async def test_archive_over_the_bound_is_410_and_leaves_nothing(
    standin: GitHubStandin,
    bulky: tuple[int, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
    message: str,
) -> None:
    archive_bytes, content_bytes = bulky
    assert archive_bytes * 4 < content_bytes
    # Over the archive itself, or only over what it unpacks to.
    limit = archive_bytes // 2 if where == "download" else (archive_bytes + content_bytes) // 2
    spool, zips, cache = tmp_path / "tmp", tmp_path / "zips", tmp_path / "cache"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))  # where archives are spooled
    shared = make_shared(
        {"GITHUB_API_URL": standin.api_url},
        retry=FAST_RETRY,
        cache_dir=str(cache),
        zip_dir=str(zips),
    )
    config = GoproxyConfig(url="https://github.com/acme/bulky", directory="mod", tag_prefix="mod/v")
    app = goproxy("/", config, shared=shared)
    app.source.max_archive_bytes = limit  # type: ignore[attr-defined]
    standin.reset()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gosub.test"
    ) as c:
        for attempt in range(2):
            r = await c.get("/example.test/bulky/@v/v1.0.0.zip")
            assert r.status_code == 410, (attempt, r.status_code, r.text)
            assert message in r.text and str(limit) in r.text, r.text
            assert _files(spool) == [] and list(spool.iterdir()) == []
            assert _files(zips) == []
            assert [p for p in _files(cache) if p.name.endswith(".zip")] == []
            assert [p for p in _files(cache) if p.name.startswith(".tmp-")] == []
    assert standin.counts["codeload"] >= 1
    # With the default bound the version is served: the refusal was the bound's.
    fresh = goproxy("/", config, env={"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fresh), base_url="http://gosub.test"
    ) as c:
        ok = await c.get("/example.test/bulky/@v/v1.0.0.zip")
    assert ok.status_code == 200 and ok.content[:2] == b"PK"
