"""Nothing wrong is ever served or stored: bytes from the code host are verified before
they become a version, what Go's direct mode refuses is refused, and failures (a hanging
host, a failing store, a timeout while requests are coalesced) end in a clean answer.

Faults are injected in the GitHub stand-in (a real HTTP server over real repositories):
altered or cut bodies whose Content-Length still matches, stalls, 429s, invalid JSON."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gosub import goproxy, gosub
from gosub.store import DiskStore
from gosub.web import GoproxyApp, Shared, make_shared
from tests.conftest import FAST_RETRY
from tests.repos import SCENARIOS
from tests.support.faults import alter, truncate
from tests.support.ghapi import ARCHIVE_TOKEN, GitHubStandin
from tests.support.git import GitRepo
from tests.support.golang import DirectModeServer, GoRunner

MONO = "/example.test/mono/@v/"
ATTRS = "/example.test/attrs/@v/"


def _app(
    standin: GitHubStandin, scenario: str, cache_dir: Path | None = None, **kwargs: Any
) -> tuple[GoproxyApp, Shared]:
    shared = make_shared(
        {"GITHUB_API_URL": standin.api_url},
        retry=FAST_RETRY,
        cache_dir=str(cache_dir) if cache_dir else None,
        **kwargs,
    )
    return goproxy("/", SCENARIOS[scenario].config(), shared=shared), shared


async def _client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gosub.test", timeout=60
    ) as c:
        yield c


@pytest.fixture
async def reset(standin: GitHubStandin) -> AsyncIterator[GitHubStandin]:
    standin.reset()
    yield standin
    standin.reset()


async def _get(app: Any, path: str, **kw: Any) -> httpx.Response:
    async for c in _client(app):
        return await c.get(path, **kw)
    raise AssertionError  # pragma: no cover


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# -- verify every byte that becomes a version ------------------------------------------


@pytest.mark.parametrize("change", [alter, truncate], ids=["altered", "truncated"])
async def test_blob_bytes_that_are_not_the_blob_are_refused_and_never_stored(
    reset: GitHubStandin, tmp_path: Path, change: Any
) -> None:
    """attrs has export-ignore'd files, so its zip is patched from blobs."""
    good = await _get(_app(reset, "attrs")[0], ATTRS + "v1.0.0.zip")
    assert good.status_code == 200
    reset.reset()
    reset.tamper("blobs", change, times=1000)
    app, _ = _app(reset, "attrs", tmp_path / "cache")
    bad = await _get(app, ATTRS + "v1.0.0.zip")
    assert bad.status_code == 502, bad.text
    assert "blob" in bad.text and "acme/attrs" in bad.text and "Traceback" not in bad.text
    assert not [f for f in _files(tmp_path / "cache") if f.endswith(".zip")]
    # Once the host sends the right bytes, the same app serves the right zip.
    reset.reset()
    again = await _get(app, ATTRS + "v1.0.0.zip")
    assert again.status_code == 200 and again.content == good.content


async def test_a_blob_cut_once_is_asked_again(reset: GitHubStandin) -> None:
    good = await _get(_app(reset, "attrs")[0], ATTRS + "v1.0.0.zip")
    reset.reset()
    reset.tamper("blobs", truncate, times=1)
    got = await _get(_app(reset, "attrs")[0], ATTRS + "v1.0.0.zip")
    assert got.status_code == 200 and got.content == good.content


@pytest.mark.parametrize("change", [alter, truncate], ids=["altered", "truncated"])
async def test_go_mod_bytes_are_verified_before_they_become_the_mod(
    reset: GitHubStandin, tmp_path: Path, change: Any
) -> None:
    want = (await _get(_app(reset, "mono")[0], MONO + "v1.0.0.mod")).content
    assert want.startswith(b"module example.test/mono")
    reset.reset()
    reset.tamper("contents", change, times=1000)
    app, _ = _app(reset, "mono", tmp_path / "cache")
    bad = await _get(app, MONO + "v1.0.0.mod")
    assert bad.status_code == 502, bad.text
    assert "go.mod" in bad.text and "Traceback" not in bad.text
    assert not [f for f in _files(tmp_path / "cache") if f.endswith(".mod")]
    # A one-off bad read is retried: the .mod is the real one, and so is what is stored.
    reset.reset()
    reset.tamper("contents", change, times=1)
    app2, _ = _app(reset, "mono", tmp_path / "cache2")
    got = await _get(app2, MONO + "v1.0.0.mod")
    assert got.status_code == 200 and got.content == want
    stored = [p for p in (tmp_path / "cache2").rglob("v1.0.0.mod")]
    assert len(stored) == 1 and stored[0].read_bytes() == want


async def test_corrupt_store_entries_are_misses_and_rebuilt(
    reset: GitHubStandin, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    app, _ = _app(reset, "mono", cache)
    mod = (await _get(app, MONO + "v1.0.0.mod")).content
    zipped = (await _get(app, MONO + "v1.0.0.zip")).content
    (zip_path,) = cache.rglob("v1.0.0.zip")
    (mod_path,) = cache.rglob("v1.0.0.mod")
    (info_path,) = cache.rglob("v1.0.0.info")
    assert (zip_path.parent / "v1.0.0.zip.sha256").is_file()
    # Bit rot: same size, other bytes; a truncated .mod; an .info that is not JSON.
    raw = bytearray(zip_path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    zip_path.write_bytes(bytes(raw))
    mod_path.write_bytes(mod[:5])
    info_path.write_bytes(b"{not json")
    app2, _ = _app(reset, "mono", cache)  # a restarted gosub over the same directory
    async for c in _client(app2):
        assert (await c.get(MONO + "v1.0.0.mod")).content == mod
        assert (await c.get(MONO + "v1.0.0.zip")).content == zipped
        info = await c.get(MONO + "v1.0.0.info")
        assert info.status_code == 200 and info.json()["Version"] == "v1.0.0"
    assert zip_path.read_bytes() == zipped and mod_path.read_bytes() == mod


# -- refuse what Go refuses --------------------------------------------------------------


def test_commit_on_no_branch_or_tag_is_unknown_revision(
    repos: dict[str, GitRepo],
    tmp_path: Path,
    gocache: Path,
    direct: DirectModeServer,
    gosub_url: str,
) -> None:
    """GitHub's API answers for unreferenced commits (and for commits of forks); Go's
    direct mode never sees them, and neither does gosub."""
    repo = repos["acme/mono"]
    tree = repo.git("rev-parse", "main^{tree}").strip()
    sha = repo.git("commit-tree", tree, "-p", "main", "-m", "dangling").strip()
    for where, proxy, env in (
        ("direct", "direct", direct.env()),
        ("gosub", f"{gosub_url}/mono/", None),
    ):
        got = GoRunner(tmp_path / where, gocache=gocache).mod_download(
            "example.test/mono", sha[:12], goproxy=proxy, env=env
        )
        assert "unknown revision" in got.get("Error", ""), (where, got)


async def test_branch_commits_still_resolve_by_hash(
    reset: GitHubStandin, repos: dict[str, GitRepo]
) -> None:
    sha = repos["acme/mono"].rev_parse("feature")
    r = await _get(_app(reset, "mono")[0], MONO + sha[:12] + ".info")
    assert r.status_code == 200 and r.json()["Version"].endswith(sha[:12])


@pytest.mark.parametrize(
    "version",
    [
        "v0.0.0-0.20170915032832-1732873102df",  # base before v0.0.0
        "v1.2.3-0.20170915032832-17328731",  # short revision
        "v0.0.0-20170915032832-zzzzzzzzzzzz",
        "v1.0.0-" + "a" * 300,  # longer than a file name may be
    ],
)
async def test_malformed_versions_are_refusals_not_500(
    reset: GitHubStandin, tmp_path: Path, version: str
) -> None:
    app, _ = _app(reset, "mono", tmp_path / "cache")
    for ext in ("info", "mod", "zip"):
        r = await _get(app, MONO + version + "." + ext)
        assert r.status_code in (400, 404, 410), (ext, r.status_code, r.text)
        assert "Traceback" not in r.text and r.text.startswith(("not found", "bad request"))


def test_latest_when_every_release_is_retracted_matches_direct_mode(
    tmp_path: Path, gocache: Path, direct: DirectModeServer, gosub_url: str
) -> None:
    s = SCENARIOS["allretracted"]
    ref = GoRunner(tmp_path / "d", gocache=gocache).mod_download(
        s.module, "latest", goproxy="direct", env=direct.env()
    )
    got = GoRunner(tmp_path / "g", gocache=gocache).mod_download(
        s.module, "latest", goproxy=f"{gosub_url}/allretracted/"
    )
    assert not ref.get("Error") and not got.get("Error"), (ref, got)
    assert got["Version"] == ref["Version"] and got["Sum"] == ref["Sum"]
    # No release is a usable base either: the head's pseudo-version starts at v0.0.0.
    assert got["Version"].startswith("v0.0.0-2024"), got["Version"]
    latest = httpx.get(f"{gosub_url}/allretracted/example.test/allretracted/@latest").json()
    assert latest["Version"] == ref["Version"]


# -- fail cleanly ----------------------------------------------------------------------


async def test_timeout_while_coalesced_is_504_for_each_and_the_build_lands(
    reset: GitHubStandin,
) -> None:
    app, _ = _app(reset, "mono")
    app.request_timeout = 0.6
    reset.stall("codeload", 1.5)
    async for c in _client(app):
        answers = await asyncio.gather(*(c.get(MONO + "v1.1.0.zip") for _ in range(10)))
        assert [r.status_code for r in answers] == [504] * 10, [r.text for r in answers]
        assert all("gave up" in r.text for r in answers)
        await asyncio.sleep(1.5)  # the shared build went on and finished
        done = await c.get(MONO + "v1.1.0.zip")
        assert done.status_code == 200
        zipfile.ZipFile(io.BytesIO(done.content)).testzip()
    assert reset.counts["codeload"] == 1, reset.counts


async def test_a_hanging_host_gets_a_stale_list_before_the_deadline(
    reset: GitHubStandin,
) -> None:
    # list_ttl 0: the second request asks the (hanging) host, not the window's answer.
    app, _ = _app(reset, "mono", timeout=30.0, list_ttl=0)
    app.request_timeout = 2.0
    async for c in _client(app):
        first = await c.get(MONO + "list")
        assert first.status_code == 200
        reset.stall("matching-refs", 6, times=5)
        start = time.monotonic()
        stale = await c.get(MONO + "list")
        took = time.monotonic() - start
    assert stale.status_code == 200 and stale.text == first.text
    assert "Gosub-Stale" in stale.headers and took < 2.0, (took, stale.headers)


async def test_a_short_retry_after_is_waited_for_once(reset: GitHubStandin) -> None:
    reset.fail("matching-refs", 429, headers={"Retry-After": "1"}, times=1)
    r = await _get(_app(reset, "mono")[0], MONO + "list")
    assert r.status_code == 200 and "v1.0.0" in r.text
    assert reset.counts["matching-refs"] == 2
    reset.reset()
    reset.fail("matching-refs", 429, headers={"Retry-After": "1"}, times=5)
    r = await _get(_app(reset, "mono")[0], MONO + "list")
    assert r.status_code == 429 and r.headers["Retry-After"]


async def test_invalid_json_is_asked_again_once_then_502(reset: GitHubStandin) -> None:
    reset.fail("matching-refs", 200, body=b"<html>oops", times=1)
    r = await _get(_app(reset, "mono")[0], MONO + "list")
    assert r.status_code == 200 and "v1.0.0" in r.text
    reset.reset()
    reset.fail("matching-refs", 200, body=b'{"not": "a list"}', times=5)
    r = await _get(_app(reset, "mono")[0], MONO + "list")
    assert r.status_code == 502 and "unexpected answer" in r.text
    assert reset.counts["matching-refs"] == 2


class _BrokenStore(DiskStore):
    """A disk store on a disk that fails every operation."""

    async def get(self, key: str) -> bytes | None:
        raise OSError(28, "No space left on device")

    async def put(self, key: str, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    async def put_file(self, key: str, src: Path) -> None:
        raise OSError(28, "No space left on device")

    def local_path(self, key: str) -> Path | None:
        raise OSError(36, "File name too long")


async def test_a_failing_store_is_a_miss_and_a_warning(
    reset: GitHubStandin, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app, _ = _app(reset, "mono", store=_BrokenStore(tmp_path))
    async for c in _client(app):
        for name in ("list", "v1.0.0.info", "v1.0.0.mod", "v1.0.0.zip"):
            r = await c.get(MONO + name)
            assert r.status_code == 200, (name, r.text)
    assert "persistent store" in caplog.text


def test_s3_stopped_mid_run_keeps_serving(
    standin: GitHubStandin, tmp_path: Path, gocache: Path
) -> None:
    from tests.support.s3server import SeaweedS3

    standin.reset()
    with SeaweedS3() as s3:
        shared = make_shared(
            {"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY, store=s3.make_store()
        )
        app = goproxy("/", SCENARIOS["mono"].config(), shared=shared)

        async def run() -> tuple[list[int], list[int]]:
            async for c in _client(app):
                before = [
                    (await c.get(MONO + n)).status_code for n in ("v1.0.0.info", "v1.0.0.zip")
                ]
                await asyncio.to_thread(s3.stop)
                names = ("list", "v1.1.0.info", "v1.1.0.mod", "v1.1.0.zip")
                after = [(await c.get(MONO + n)).status_code for n in names]
                return before, after
            raise AssertionError  # pragma: no cover

        assert asyncio.run(run()) == ([200, 200], [200] * 4)


# -- private content -------------------------------------------------------------------


async def test_answers_built_with_a_client_token_are_private(standin: GitHubStandin) -> None:
    app = gosub("/", env={"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY)
    auth = "Basic " + base64.b64encode(b"u:client-token").decode()
    path = "/github.com/acme/mono:d=go%2Flib&p=go%2Flib%2Fv;/example.test/mono/@v/"
    async for c in _client(app):
        for name in ("list", "v1.0.0.info", "v1.0.0.mod", "v1.0.0.zip", "v9.9.9.info"):
            r = await c.get(path + name, headers={"Authorization": auth})
            assert r.status_code in (200, 404), (name, r.text)
            control = r.headers["cache-control"]
            assert "public" not in control and "private" in control, (name, control)
            assert r.headers["vary"] == "Authorization"
        anon = await c.get("/github.com/acme/attrs:d=mod&p=mod%2Fv;/example.test/attrs/@v/list")
        assert anon.headers["vary"] == "Authorization" and "public" in anon.headers["cache-control"]


async def test_many_client_tokens_at_once_never_use_a_closed_client(
    standin: GitHubStandin,
) -> None:
    app = gosub("/", env={"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY)
    path = "/github.com/acme/mono:d=go%2Flib&p=go%2Flib%2Fv;/example.test/mono/@v/"
    async for c in _client(app):

        async def one(i: int, c: httpx.AsyncClient = c) -> int:
            auth = "Basic " + base64.b64encode(f"u:token-{i}".encode()).decode()
            r = await c.get(path + "v1.0.0.zip", headers={"Authorization": auth})
            return r.status_code

        codes = await asyncio.gather(*(one(i) for i in range(40)))
    assert codes == [200] * 40, codes


async def test_archive_urls_with_tokens_never_reach_the_log(
    reset: GitHubStandin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shared = make_shared(
        {"GITHUB_API_URL": reset.api_url, "GITHUB_TOKEN": "server-token"}, retry=FAST_RETRY
    )
    app = goproxy("/", SCENARIOS["mono"].config(), shared=shared)
    reset.fail("codeload", 500, times=1)  # a failure is logged too
    r = await _get(app, MONO + "v1.0.0.zip")
    assert r.status_code == 200
    assert any("?token=" in p for _, p, _ in reset.archive_requests)  # the token was there
    assert ARCHIVE_TOKEN not in caplog.text and "server-token" not in caplog.text
    assert "legacy.tar.gz" in caplog.text  # httpx did log the request, redacted


# -- fuzz: no 5xx but genuine upstream failures, no traceback ------------------------------

_PIECES = st.sampled_from(
    [
        "github.com/acme/mono:d=go%2Flib&p=go%2Flib%2Fv;",
        "github.com/acme/mono;",
        "github.com/acme/nope;",
        "github.com/acme/mono:x=1;",
        "github.com/acme/mono:d=..;",
        "github.com/acme/mono:d=%ZZ;",
        "example.test/mono",
        "example.test/Mono",
        "@v",
        "@v/list",
        "@latest",
        "@v/v1.0.0.info",
        "@v/v1.0.0.zip",
        "@v/v0.0.0-0.20170915032832-1732873102df.info",
        "@v/main.info",
        "@v/%21.mod",
        "@gosub/tags",
        "@gosub/nope",
        "%00",
        "..",
        "",
    ]
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pieces=st.lists(
        st.one_of(_PIECES, st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)),
        min_size=1,
        max_size=5,
    ),
    method=st.sampled_from(["GET", "HEAD", "POST"]),
)
def test_fuzzed_requests_never_get_500_or_a_traceback(
    standin: GitHubStandin, pieces: list[str], method: str
) -> None:
    app = _fuzz_app(standin)
    path = "/" + "/".join(pieces).lstrip("/")

    async def ask() -> httpx.Response:
        async for c in _client(app):
            # Sent as a client would: bytes a URL cannot hold percent-encoded.
            return await c.request(method, quote(path, safe="/:;&=%@!+~,$'()*"))
        raise AssertionError  # pragma: no cover

    r = asyncio.run(ask())
    assert r.status_code < 500 or r.status_code in (502, 504), (path, r.status_code, r.text)
    assert "Traceback" not in r.text


_FUZZ: dict[str, Any] = {}


def _fuzz_app(standin: GitHubStandin) -> Any:
    if standin.api_url not in _FUZZ:
        shared = make_shared({"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY)
        _FUZZ[standin.api_url] = goproxy(
            "/go/", SCENARIOS["mono"].config(), shared=shared, fallback=gosub("/", shared=shared)
        )
    return _FUZZ[standin.api_url]


async def test_a_request_barred_from_code_hosts_asks_them_nothing(reset: GitHubStandin) -> None:
    """gosub.upstream.forbidden: answered from the caches or refused, never fetched."""
    from gosub import upstream
    from gosub.errors import NotFoundError

    app, _ = _app(reset, "mono")
    repo = app.repo_for("example.test/mono")
    await repo.stat("v1.0.0")  # cached now
    reset.reset()
    with upstream.forbidden(lambda what: NotFoundError(f"not cached: {what}")):
        assert (await repo.stat("v1.0.0")).version == "v1.0.0"
        with pytest.raises(NotFoundError, match="not cached"):
            await repo.stat("v1.1.0")
        with pytest.raises(NotFoundError, match="not cached"):
            await repo.zip("v1.0.0")
    assert sum(reset.counts.values()) == 0, reset.counts


async def test_a_mod_asked_alone_downloads_no_archive(reset: GitHubStandin) -> None:
    """The go command's module graph asks many versions' .mod and few zips: a .mod
    alone costs its go.mod read, never a tarball (an .info starts one: the zip follows)."""
    app, _ = _app(reset, "major2")
    r = await _get(app, "/example.test/major/v2/@v/v2.0.0.mod")
    assert r.status_code == 200
    await asyncio.sleep(0.2)  # a prefetch, had one started, would be on its way
    assert reset.counts["tarball"] == 0 and reset.counts["codeload"] == 0, reset.counts
