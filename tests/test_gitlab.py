"""The GitLab source against the GitLab stand-in (tests/support/glapi.py), on the same real
git repositories as the GitHub tests.

Each module version is built through gosub's core (:class:`gosub.modrepo.ModuleRepo`
with a :class:`GitLabSource`) and compared with what Go's own direct mode gives for the
same repository: Version, zip Sum, GoModSum and .info Time. Then the request budget of a
cold download, the fallback to the tree and blobs when archives are rate limited or
differ from the commit's tree, blob and archive verification, reachability of SHAs,
nested groups, private projects and the failure mapping.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC
from pathlib import Path

import httpx
import pytest

from gosub import GoproxyConfig
from gosub.errors import NotFoundError, RateLimitedError, UpstreamError, UpstreamTimeoutError
from gosub.golang import dirhash, pseudo
from gosub.modrepo import ModuleRepo
from gosub.sources.base import RetryPolicy
from gosub.sources.gitlab import GitLabClient, GitLabSource
from gosub.store import ProcessCache, ZipStore
from tests.repos import ROOT_LICENSE, SCENARIOS
from tests.support.faults import alter
from tests.support.ghapi import GitHubStandin
from tests.support.git import GitRepo
from tests.support.glapi import GitLabStandin
from tests.support.golang import DirectModeServer, GoRunner
from tests.test_conformance import QUERIES, TAGGED

FAST_RETRY = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05)
NESTED = "deep/er/group/mono"  # a project in nested groups, served from acme/mono
SECRET = "acme/secret"  # a private project, served from acme/mono
TOKEN = "glpat-test-token"


@pytest.fixture(scope="session")
def gitlab(repos: dict[str, GitRepo], repos_root: Path) -> Iterator[GitLabStandin]:
    """The GitLab stand-in serving the test repositories."""
    server = GitLabStandin(
        repos_root,
        projects={NESTED: "acme/mono", SECRET: "acme/mono"},
        private={SECRET},
        token=TOKEN,
    )
    server.start()
    yield server
    server.stop()


class DirectAnswers:
    """Go's direct-mode answers (Version, Sum, GoModSum, InfoTime), each asked once."""

    def __init__(self, direct: DirectModeServer, gocache: Path, workdir: Path) -> None:
        self.direct = direct
        self.gocache = gocache
        self.workdir = workdir
        self._done: dict[tuple[str, str], dict[str, str]] = {}

    def get(self, name: str, query: str) -> dict[str, str]:
        key = (name, query)
        if key not in self._done:
            runner = GoRunner(self.workdir / f"{len(self._done)}", gocache=self.gocache)
            result = runner.mod_download(
                SCENARIOS[name].module, query, goproxy="direct", env=self.direct.env()
            )
            assert not result.get("Error"), result
            info = json.loads(Path(result["Info"]).read_text())
            self._done[key] = {
                "Version": result["Version"],
                "Sum": result["Sum"],
                "GoModSum": result["GoModSum"],
                "InfoTime": info["Time"],
            }
        return self._done[key]


@pytest.fixture(scope="session")
def direct_answers(
    direct: DirectModeServer, gocache: Path, tmp_path_factory: pytest.TempPathFactory
) -> DirectAnswers:
    return DirectAnswers(direct, gocache, tmp_path_factory.mktemp("gitlab-direct"))


@pytest.fixture
async def client(gitlab: GitLabStandin) -> AsyncIterator[GitLabClient]:
    c = GitLabClient(api_url=gitlab.api_url, retry=FAST_RETRY, timeout=5)
    yield c
    await c.aclose()


@pytest.fixture
def zips() -> Iterator[ZipStore]:
    store = ZipStore()
    yield store
    store.close()


def module_repo(
    client: GitLabClient,
    name: str,
    zips: ZipStore,
    *,
    project: str | None = None,
    max_blob_files: int = 1000,
) -> ModuleRepo:
    """Scenario ``name`` served from GitLab project ``project`` (default OWNER/REPO)."""
    s = SCENARIOS[name]
    source = GitLabSource(client, project or f"{s.owner}/{s.repo}", max_blob_files=max_blob_files)
    config = GoproxyConfig(
        url=f"https://gitlab.example.test/{s.owner}/{s.repo}",
        module=s.module,
        directory=s.directory,
        tag_prefix=s.tag_prefix,
        tag_suffix=s.tag_suffix,
    )
    return ModuleRepo(
        config, source, s.module, cache=ProcessCache(), zips=zips, repo_url=source.url
    )


async def answers(repo: ModuleRepo, query: str) -> dict[str, str]:
    """What gosub serves for ``query``, in the direct-mode answers' terms."""
    info = await repo.stat(query)
    mod = await repo.go_mod(info.version)
    z = await repo.zip(info.version)
    return {
        "Version": info.version,
        "Sum": dirhash.hash_zip(z.path),
        "GoModSum": dirhash.hash_go_mod(mod),
        "InfoTime": info.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# -- conformance ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "version"), TAGGED, ids=[f"{n}@{v}" for n, v in TAGGED])
async def test_tagged_version_matches_direct_mode(
    name: str, version: str, client: GitLabClient, zips: ZipStore, direct_answers: DirectAnswers
) -> None:
    got = await answers(module_repo(client, name, zips), version)
    assert got == direct_answers.get(name, version)


@pytest.mark.parametrize(
    ("name", "query", "expected"), QUERIES, ids=[f"{n}@{q}" for n, q, _ in QUERIES]
)
async def test_query_matches_direct_mode(
    name: str,
    query: str,
    expected: str,
    client: GitLabClient,
    zips: ZipStore,
    direct_answers: DirectAnswers,
) -> None:
    got = await answers(module_repo(client, name, zips), query)
    assert got == direct_answers.get(name, query)
    if expected.startswith("pseudo"):
        assert pseudo.is_pseudo_version(got["Version"])
        assert got["Version"].startswith(expected.removeprefix("pseudo").strip())
    else:
        assert got["Version"] == expected


async def test_commit_hash_query_matches_direct_mode(
    repos: dict[str, GitRepo],
    client: GitLabClient,
    zips: ZipStore,
    direct_answers: DirectAnswers,
) -> None:
    sha = repos["acme/mono"].rev_parse("feature")[:12]
    got = await answers(module_repo(client, "mono", zips), sha)
    assert got == direct_answers.get("mono", sha)
    assert got["Version"].endswith(sha)


@pytest.mark.parametrize("name", ["mono", "rootmod", "major2", "upper", "many", "custom", "empty"])
async def test_version_list(name: str, client: GitLabClient, zips: ZipStore) -> None:
    assert await module_repo(client, name, zips).versions() == list(SCENARIOS[name].versions)


async def test_nested_group_project(
    gitlab: GitLabStandin, client: GitLabClient, zips: ZipStore, direct_answers: DirectAnswers
) -> None:
    gitlab.reset()
    repo = module_repo(client, "mono", zips, project=NESTED)
    assert repo.source.display_name == f"{client.host}/{NESTED}"
    assert repo.source.url == f"https://{client.host}/{NESTED}"
    assert await answers(repo, "v1.0.0") == direct_answers.get("mono", "v1.0.0")
    assert all(
        path.startswith("/api/v4/projects/deep%2Fer%2Fgroup%2Fmono/")
        for path, _, _ in gitlab.requests
    )


# -- requests -------------------------------------------------------------------------


async def test_request_budget_cold_and_warm(
    gitlab: GitLabStandin, client: GitLabClient, zips: ZipStore
) -> None:
    """A cold download (info + mod + zip) of a subdirectory module costs 5 requests, one
    of them the archive: the commit, go.mod, the subdirectory's listing (its tree id),
    the archive, the root LICENSE; a /vN module one more go.mod; a root module no
    LICENSE. The same again costs nothing."""
    for name, version, budget in [
        ("mono", "v1.1.0", 5),
        ("major2", "v2.1.0", 6),
        ("rootmod", "v1.0.0", 4),
    ]:
        repo = module_repo(client, name, zips)
        gitlab.reset()
        await answers(repo, version)
        counts = dict(gitlab.counts)
        assert counts.pop("archive") == 1, gitlab.counts
        assert counts.pop("commit") == 1 and counts.pop("tree") == 1, gitlab.counts
        assert set(counts) <= {"files", "notfound"}, gitlab.counts  # go.mod, LICENSE
        assert gitlab.api_requests() == budget, gitlab.counts
        gitlab.reset()
        await answers(repo, version)
        assert gitlab.api_requests() == 0, gitlab.counts


async def test_list_budget_and_etag_revalidation(
    gitlab: GitLabStandin, client: GitLabClient, zips: ZipStore
) -> None:
    repo = module_repo(client, "many", zips)
    gitlab.reset()
    assert len(await repo.versions()) == 120
    assert gitlab.counts == {"tags": 2}  # 121 tags start with m/v: two pages of 100
    gitlab.reset()
    assert len(await repo.versions()) == 120
    # Both pages revalidated with If-None-Match: two 304s, nothing re-sent.
    assert gitlab.statuses == {("tags", 304): 2}


async def test_archive_rate_limited_falls_back_to_tree_and_blobs(
    gitlab: GitLabStandin, client: GitLabClient, zips: ZipStore, direct_answers: DirectAnswers
) -> None:
    """gitlab.com allows 5 archives a minute: a 429 there rebuilds the files from the
    recursive listing and blobs (each checked), and archives are not asked again until
    Retry-After has passed."""
    gitlab.reset()
    gitlab.fail(
        "archive",
        429,
        headers={"Retry-After": "60"},
        body=b'{"message":"This archive has been requested too many times. Try again later."}',
    )
    repo = module_repo(client, "attrs", zips)
    assert await answers(repo, "v1.0.0") == direct_answers.get("attrs", "v1.0.0")
    assert gitlab.counts["archive"] == 1
    # Every file of mod/ from its blob; the root .gitattributes, go.mod and LICENSE
    # through the files API.
    assert gitlab.counts["blobs"] == 13, gitlab.counts
    assert gitlab.counts["files"] == 3, gitlab.counts
    gitlab.reset()
    mono = module_repo(client, "mono", zips)
    assert await answers(mono, "v1.2.0") == direct_answers.get("mono", "v1.2.0")
    assert gitlab.counts["archive"] == 0, gitlab.counts
    assert gitlab.counts["tree"] == 1  # the recursive listing only
    assert gitlab.counts["blobs"] > 10
    # Past a number of files, fetching each blob would only hit the next limit: the
    # client is told to come back when archives are allowed again.
    big = module_repo(client, "mono", zips, max_blob_files=3)
    with pytest.raises(RateLimitedError) as limited:
        await answers(big, "v1.0.0")
    retry_after = limited.value.retry_after
    assert retry_after is not None and 50 <= retry_after <= 60
    assert "too many to fetch one by one" in limited.value.message


async def test_archive_differing_from_the_tree_is_patched(
    gitlab: GitLabStandin, client: GitLabClient, zips: ZipStore, direct_answers: DirectAnswers
) -> None:
    """hidden: .gitattributes files that export-ignore themselves, in the root, an
    ancestor and the module; GitLab's archive leaves them and the files they hide out,
    and expands export-subst. Only those come from blobs."""
    gitlab.reset()
    repo = module_repo(client, "hidden", zips)
    assert await answers(repo, "v1.0.0") == direct_answers.get("hidden", "v1.0.0")
    assert gitlab.counts["archive"] == 1
    assert gitlab.counts["tree"] == 2  # the module's listing, then recursively
    # go.mod, LICENSE, and the .gitattributes of the root and of pkg/
    assert gitlab.counts["files"] == 4
    # x.secret, y.tmp, stamp.txt, inner/.gitattributes, inner/z.txt
    assert gitlab.counts["blobs"] == 5, gitlab.counts


async def test_gitlab_without_subdirectory_archives(
    repos: dict[str, GitRepo], repos_root: Path, zips: ZipStore, direct_answers: DirectAnswers
) -> None:
    """A GitLab before 14.4 ignores ``path=`` and sends the whole repository: it cannot
    prove itself against the subdirectory's id, so the tree listing checks each file;
    those that are their blobs are kept, nothing is fetched again."""
    old = GitLabStandin(repos_root, archive_path=False)
    old.start()
    client = GitLabClient(api_url=old.api_url, retry=FAST_RETRY)
    try:
        repo = module_repo(client, "mono", zips)
        assert await answers(repo, "v1.0.0") == direct_answers.get("mono", "v1.0.0")
        assert old.counts["archive"] == 1 and old.counts["tree"] == 2, old.counts
        assert old.counts["blobs"] == 0, old.counts
    finally:
        await client.aclose()
        old.stop()


async def test_tampered_archive_is_retried(
    gitlab: GitLabStandin, client: GitLabClient, zips: ZipStore, direct_answers: DirectAnswers
) -> None:
    gitlab.reset()
    gitlab.tamper("archive", alter)
    repo = module_repo(client, "mono", zips)
    assert await answers(repo, "v1.0.0") == direct_answers.get("mono", "v1.0.0")
    assert gitlab.counts["archive"] == 2
    assert gitlab.counts["blobs"] == 0


async def test_blob_with_wrong_bytes_is_asked_again(
    gitlab: GitLabStandin, client: GitLabClient, zips: ZipStore, direct_answers: DirectAnswers
) -> None:
    gitlab.reset()
    gitlab.fail("archive", 429, headers={"Retry-After": "60"})
    gitlab.tamper("blobs", alter, times=2)
    repo = module_repo(client, "attrs", zips)
    assert await answers(repo, "v1.0.0") == direct_answers.get("attrs", "v1.0.0")
    assert gitlab.counts["blobs"] == 13 + 2


async def test_blob_with_wrong_bytes_is_never_served(
    gitlab: GitLabStandin, client: GitLabClient, zips: ZipStore
) -> None:
    gitlab.reset()
    gitlab.fail("archive", 429, headers={"Retry-After": "60"})
    gitlab.tamper("blobs", alter, times=1000)
    repo = module_repo(client, "custom", zips)
    with pytest.raises(UpstreamError) as err:
        await answers(repo, "v1.0.0")
    assert "not blob" in err.value.message
    assert "acme/custom/go/" in err.value.message  # names the file
    assert zips.get(("zip", *repo._key, "v1.0.0")) is None
    gitlab.reset()


async def test_unreachable_commit_is_not_found(
    gitlab: GitLabStandin, client: GitLabClient, repos_root: Path
) -> None:
    """GitLab answers for any commit it stores; Go fetches only the advertised refs."""
    repo = GitRepo(repos_root / "gl" / "dangling")
    repo.write("LICENSE", ROOT_LICENSE)
    repo.write("go.mod", "module example.test/dangling\n")
    kept = repo.commit("kept", date="2024-01-01T00:00:00Z")
    repo.tag("v1.0.0")
    repo.write("a.go", "package dangling\n")
    lost = repo.commit("lost", date="2024-01-02T00:00:00Z")
    repo.git("reset", "-q", "--hard", kept)
    source = GitLabSource(client, "gl/dangling")
    gitlab.reset()
    assert (await source.resolve(kept[:12])).sha == kept
    assert (await source.resolve(kept)).sha == kept
    assert gitlab.counts == {"commit": 2, "commit-refs": 1}  # reachability remembered
    for ref in (lost, lost[:12]):
        with pytest.raises(NotFoundError, match="on no branch or tag"):
            await source.resolve(ref)
    # Names are resolved by GitLab itself: no reachability question.
    gitlab.reset()
    assert (await source.resolve("refs/tags/v1.0.0")).sha == kept
    assert (await source.resolve("main")).sha == kept
    assert gitlab.counts == {"commit": 2}
    assert await source.is_ancestor(kept, kept)
    assert not await source.is_ancestor(lost, kept)


async def test_commit_time_is_the_committers_in_utc(client: GitLabClient) -> None:
    source = GitLabSource(client, "acme/mono")
    commit = await source.resolve("refs/tags/go/lib/v1.0.0")
    # Committed 2024-01-02T03:04:05+07:00; authored a month earlier.
    assert commit.time.isoformat() == "2024-01-01T20:04:05+00:00"


# -- access and failures ----------------------------------------------------------------


async def test_private_project_needs_the_token(gitlab: GitLabStandin) -> None:
    anonymous = GitLabClient(api_url=gitlab.api_url, retry=FAST_RETRY)
    with pytest.raises(NotFoundError):
        await GitLabSource(anonymous, SECRET).list_tags("go/lib/v")
    assert await GitLabSource(anonymous, "acme/mono").is_public()
    await anonymous.aclose()
    gitlab.reset()
    authed = GitLabClient(api_url=gitlab.api_url, token=TOKEN, retry=FAST_RETRY)
    source = GitLabSource(authed, SECRET)
    assert not await source.is_public()
    assert "go/lib/v1.0.0" in await source.list_tags("go/lib/v")
    assert gitlab.requests and all(carried for _, _, carried in gitlab.requests)
    status = await source.rate_limit()
    assert status is not None and status["remaining"] == 1999
    assert TOKEN not in json.dumps(status)
    await authed.aclose()
    wrong = GitLabClient(api_url=gitlab.api_url, token="nope", retry=FAST_RETRY)
    with pytest.raises(UpstreamError, match="check GITLAB_TOKEN") as err:
        await GitLabSource(wrong, "acme/mono").list_tags("v")
    assert "nope" not in err.value.message
    await wrong.aclose()


async def test_failures_map_to_gosub_errors(gitlab: GitLabStandin, client: GitLabClient) -> None:
    source = GitLabSource(client, "acme/mono")
    gitlab.reset()
    gitlab.fail("tags", 500, times=3, body=b'{"message":"500 Internal Server Error"}')
    with pytest.raises(UpstreamError, match="answered 500"):
        await source.list_tags("go/lib/v")
    assert gitlab.counts["tags"] == 3  # bounded retries
    gitlab.reset()
    gitlab.fail("tags", 502, times=1)
    assert await source.list_tags("go/lib/v")  # transient: retried
    gitlab.reset()
    gitlab.fail("commit", 429, headers={"Retry-After": "30"}, body=b'{"message":"Retry later"}')
    with pytest.raises(RateLimitedError) as limited:
        await source.resolve("main")
    assert limited.value.retry_after == 30 and "GITLAB_TOKEN" in limited.value.message
    assert gitlab.counts["commit"] == 1  # a rate limit is not retried
    with pytest.raises(NotFoundError):
        await source.resolve("no-such-branch")
    assert await source.read_file("a" * 40, "go.mod", max_size=100) is None
    with pytest.raises(NotFoundError):
        await GitLabSource(client, "acme/nothing").list_tags("v")
    gitlab.reset()
    slow = GitLabClient(api_url=gitlab.api_url, retry=FAST_RETRY, timeout=0.2)
    gitlab.stall("commit", 1.0, times=3)
    with pytest.raises(UpstreamTimeoutError):
        await GitLabSource(slow, "acme/mono").resolve("main")
    await slow.aclose()
    gitlab.reset()


async def test_files_too_large_are_refused(client: GitLabClient) -> None:
    from gosub.errors import GoneError

    source = GitLabSource(client, "acme/mono")
    commit = (await source.resolve("main")).sha
    with pytest.raises(GoneError, match="larger than"):
        await source.read_file(commit, "LICENSE", max_size=10)


async def test_token_goes_to_the_api_origin_only(
    gitlab: GitLabStandin, zips: ZipStore, direct_answers: DirectAnswers
) -> None:
    """Redirects are followed by hand: PRIVATE-TOKEN is not a header httpx drops on a
    cross-origin redirect, so gosub must not send it there."""
    port = gitlab.api_url.rsplit(":", 1)[1].split("/")[0]
    sha = GitRepo(gitlab.root / "acme" / "mono").rev_parse("go/lib/v1.0.0")
    elsewhere = (
        f"http://localhost:{port}/api/v4/projects/acme%2Fmono/repository/archive.tar.gz"
        f"?sha={sha}&path=go%2Flib"
    )
    authed = GitLabClient(api_url=gitlab.api_url, token=TOKEN, retry=FAST_RETRY)
    gitlab.reset()
    gitlab.fail("archive", 302, headers={"Location": elsewhere}, body=b"")
    repo = module_repo(authed, "mono", zips)
    assert await answers(repo, "v1.0.0") == direct_answers.get("mono", "v1.0.0")
    archives = [(p, q, carried) for p, q, carried in gitlab.requests if "archive" in p]
    assert [carried for _, _, carried in archives] == [True, False]
    assert all(carried for p, _, carried in gitlab.requests if "archive" not in p)
    await authed.aclose()


# -- through the web layer and the go command -------------------------------------------


@pytest.fixture
def gitlab_gosub(gitlab: GitLabStandin) -> Iterator[str]:
    """gosub under uvicorn, every scenario at /NAME/, read from the GitLab stand-in."""
    from gosub.web import GoproxyApp, goproxy, make_shared
    from tests.conftest import UvicornThread

    # Wired as a deployment is: the factory picks GitLab from forge (or gitlab.com),
    # and GITLAB_API_URL names the GitLab whose host the configs are on.
    shared = make_shared({"GITLAB_API_URL": gitlab.api_url}, retry=FAST_RETRY)
    host = httpx.URL(gitlab.api_url).netloc.decode()
    app: GoproxyApp | None = None
    for s in SCENARIOS.values():
        config = GoproxyConfig(
            url=f"https://{host}/{s.owner}/{s.repo}",
            forge="gitlab",
            module=s.module,
            directory=s.directory,
            tag_prefix=s.tag_prefix,
            tag_suffix=s.tag_suffix,
        )
        app = goproxy(f"/{s.name}/", config, shared=shared, fallback=app)
    server = UvicornThread(app)
    url = server.start()
    yield url
    server.stop()
    shared.zips.close()


def test_go_mod_download_through_gosub_budget(
    gitlab: GitLabStandin,
    gitlab_gosub: str,
    tmp_path: Path,
    gocache: Path,
    direct_answers: DirectAnswers,
) -> None:
    """The go command through gosub's web layer: what direct mode gives, for the same
    cold budget as the core (5 requests, one archive; 6 for /vN), and nothing warm."""
    for name, version, budget in [("mono", "v1.1.0", 5), ("major2", "v2.1.0", 6)]:
        gitlab.reset()
        got = GoRunner(tmp_path / f"cold-{name}", gocache=gocache).mod_download(
            SCENARIOS[name].module, version, goproxy=f"{gitlab_gosub}/{name}/"
        )
        assert not got.get("Error"), got
        info = json.loads(Path(got["Info"]).read_text())
        want = direct_answers.get(name, version)
        assert (got["Version"], got["Sum"], got["GoModSum"], info["Time"]) == (
            want["Version"],
            want["Sum"],
            want["GoModSum"],
            want["InfoTime"],
        )
        assert gitlab.counts["archive"] == 1, gitlab.counts
        assert gitlab.api_requests() == budget, gitlab.counts
        gitlab.reset()
        GoRunner(tmp_path / f"warm-{name}", gocache=gocache).mod_download(
            SCENARIOS[name].module, version, goproxy=f"{gitlab_gosub}/{name}/"
        )
        assert gitlab.api_requests() == 0, gitlab.counts
    versions = GoRunner(tmp_path / "list", gocache=gocache).list_versions(
        "example.test/mono", goproxy=f"{gitlab_gosub}/mono/"
    )
    assert versions == list(SCENARIOS["mono"].versions)


async def test_files_read_alone_are_checked_against_their_blob_id(
    gitlab: GitLabStandin, client: GitLabClient
) -> None:
    """go.mod and LICENSE come with the blob id they must hash to: a cut or altered
    answer is asked again, then refused (it must never become a .mod)."""
    source = GitLabSource(client, "acme/mono")
    commit = (await source.resolve("refs/tags/go/lib/v1.0.0")).sha
    gitlab.reset()
    gitlab.tamper("files", alter)
    assert await source.read_file(commit, "go/lib/go.mod", max_size=1 << 20) == (
        b"module example.test/mono\n\ngo 1.21\n"
    )
    assert gitlab.counts["files"] == 2
    gitlab.reset()
    gitlab.tamper("files", alter, times=3)
    with pytest.raises(UpstreamError, match="not the file's"):
        await source.read_file(commit, "LICENSE", max_size=1 << 20)
    assert await source.read_file(commit, "no/such/file", max_size=1 << 20) is None
    assert await source.read_file(commit, "go/lib", max_size=1 << 20) is None  # a directory
    gitlab.reset()


async def test_requests_keep_to_the_deadline(gitlab: GitLabStandin, client: GitLabClient) -> None:
    """Attempts are cut to the request's remaining time: a hanging GitLab costs the
    request's limit, not attempts x timeout."""
    import time

    from gosub import deadline

    gitlab.reset()
    gitlab.stall("commit", 2.0, times=3)
    start = time.monotonic()
    with pytest.raises(UpstreamTimeoutError), deadline.deadline(0.5):
        await GitLabSource(client, "acme/mono").resolve("main")
    assert time.monotonic() - start < 1.5
    gitlab.reset()


async def test_a_short_retry_after_is_waited_for_once(
    gitlab: GitLabStandin, client: GitLabClient
) -> None:
    source = GitLabSource(client, "acme/mono")
    gitlab.reset()
    gitlab.fail("tags", 429, headers={"Retry-After": "1"}, times=1)
    assert "go/lib/v1.0.0" in await source.list_tags("go/lib/v")
    assert gitlab.counts["tags"] == 2
    gitlab.reset()
    gitlab.fail("tags", 429, headers={"Retry-After": "1"}, times=5)
    with pytest.raises(RateLimitedError):
        await source.list_tags("go/lib/v")
    assert gitlab.counts["tags"] == 2
    gitlab.reset()


async def test_invalid_json_is_asked_again_once_then_502(
    gitlab: GitLabStandin, client: GitLabClient
) -> None:
    source = GitLabSource(client, "acme/mono")
    gitlab.reset()
    gitlab.fail("tags", 200, body=b"<html>oops", times=1)
    assert "go/lib/v1.0.0" in await source.list_tags("go/lib/v")
    gitlab.reset()
    gitlab.fail("commit", 200, body=b'["not", "a commit"]', times=5)
    with pytest.raises(UpstreamError, match="unexpected answer"):
        await source.resolve("main")
    assert gitlab.counts["commit"] == 2
    gitlab.reset()


@pytest.fixture
def shared_gitlab_gosub(gitlab: GitLabStandin, standin: GitHubStandin) -> Iterator[str]:
    """The shared URL-configured server, serving github.com and (as forge_hosts says)
    the GitLab stand-in's host, 127.0.0.1."""
    from gosub import gosub
    from tests.conftest import UvicornThread

    env = {"GITHUB_API_URL": standin.api_url, "GITLAB_API_URL": gitlab.api_url}
    app = gosub("/", env=env, retry=FAST_RETRY, forge_hosts=["github.com", "127.0.0.1=gitlab"])
    server = UvicornThread(app)
    url = server.start()
    yield url
    server.stop()


def test_shared_mode_names_the_host_and_serves_allowed_forges_only(
    gitlab: GitLabStandin,
    shared_gitlab_gosub: str,
    tmp_path: Path,
    gocache: Path,
    direct_answers: DirectAnswers,
) -> None:
    base = shared_gitlab_gosub
    config = f"127.0.0.1/{NESTED}:d=go%2Flib&p=go%2Flib%2Fv;"  # a nested group
    gitlab.reset()
    got = GoRunner(tmp_path / "go", gocache=gocache).mod_download(
        "example.test/mono", "v1.0.0", goproxy=f"{base}/{config}/"
    )
    assert not got.get("Error"), got
    want = direct_answers.get("mono", "v1.0.0")
    assert (got["Sum"], got["GoModSum"]) == (want["Sum"], want["GoModSum"])
    assert gitlab.counts["archive"] == 1
    # The same repository on github.com's stand-in, through the same server.
    gh = httpx.get(
        f"{base}/github.com/acme/mono:d=go%2Flib&p=go%2Flib%2Fv;/example.test/mono/@v/list"
    )
    assert gh.status_code == 200 and "v1.0.0" in gh.text
    # A host not on the allowlist is never contacted.
    gitlab.reset()
    other = httpx.get(f"{base}/gitlab.com/{NESTED}:d=go%2Flib;/example.test/mono/@v/list")
    assert other.status_code == 404 and "does not serve repositories on gitlab.com" in other.text
    evil = httpx.get(f"{base}/evil.example/acme/mono;/example.test/mono/@v/list")
    assert evil.status_code == 404 and "evil.example" in evil.text
    assert gitlab.api_requests() == 0


async def test_gitlab_sources_share_the_process_memory_bounds(gitlab: GitLabStandin) -> None:
    """File contents and revalidated listings of every GitLab source sit in the
    process's caches, bounded by memory_bytes with GitHub's: a source per config (up to
    256 apps on a shared server) once kept 32 MiB of files each."""
    from gosub.web import goproxy, make_shared

    shared = make_shared({"GITLAB_API_URL": gitlab.api_url}, retry=FAST_RETRY, memory_bytes=4 << 20)
    host = httpx.URL(gitlab.api_url).netloc.decode()
    s = SCENARIOS["mono"]

    def app(module: str | None) -> httpx.AsyncClient:
        config = GoproxyConfig(
            url=f"https://{host}/{s.owner}/{s.repo}",
            forge="gitlab",
            module=module,
            directory=s.directory,
            tag_prefix=s.tag_prefix,
            tag_suffix=s.tag_suffix,
        )
        transport = httpx.ASGITransport(app=goproxy("/", config, shared=shared))
        return httpx.AsyncClient(transport=transport, base_url="http://t")

    try:
        gitlab.reset()
        async with app(s.module) as one:
            assert (await one.get(f"/{s.module}/@v/list")).status_code == 200
            assert (await one.get(f"/{s.module}/@v/v1.0.0.mod")).status_code == 200
        files = gitlab.counts["files"]
        assert files >= 1 and shared.sources.files.size > 0
        assert shared.sources.listings.size > 0
        # Another config of the same project (its own app and source): the go.mod read
        # by commit is the process's, not asked again.
        async with app(None) as other:
            assert (await other.get(f"/{s.module}/@v/v1.0.0.mod")).status_code == 200
        assert gitlab.counts["files"] == files, gitlab.counts
        assert shared.sources.files.size <= shared.sources.files.max_bytes == 1 << 20
        assert shared.sources.listings.size <= shared.sources.listings.max_bytes == 1 << 20
    finally:
        await shared.aclose()
