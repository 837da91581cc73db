"""The git source (forge "git"): conformance with Go's direct mode over ``file://`` and
over real smart HTTP (``git http-backend`` on loopback), unreferenced commits, timeouts
and credentials.

Every scenario of tests/repos.py is served twice by one gosub, at /file/NAME/ (the
repository as a ``file://`` URL) and /http/NAME/ (the same repository through
``git http-backend``, partial clones allowed, so blobs really are fetched lazily). Each
direct-mode download is made once and compared with both.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gosub import GoproxyConfig
from gosub.golang import pseudo
from gosub.sources import Sources
from gosub.web import GoproxyApp, Shared, goproxy, make_shared
from tests.conftest import UvicornThread
from tests.repos import SCENARIOS, Scenario
from tests.support.git import GitRepo, git, neutral_git_env
from tests.support.githttp import GitHttpServer
from tests.support.golang import DirectModeServer, GoRunner
from tests.test_conformance import QUERIES, TAGGED

TRANSPORTS = ("file", "http")
UNREF_MODULE = "example.test/unref"


def git_config(s: Scenario, url: str) -> GoproxyConfig:
    """``s`` served from ``url`` by the git source."""
    return GoproxyConfig(
        url=url,
        module=s.module,
        directory=s.directory,
        tag_prefix=s.tag_prefix,
        tag_suffix=s.tag_suffix,
        forge="git",
    )


@pytest.fixture(scope="session")
def unref_repo(repos_root: Path) -> tuple[GitRepo, dict[str, str]]:
    """A module repository with commits no ref reaches: one made by ``git commit-tree``
    (never on a branch) and one on a branch since deleted (as after a force push)."""
    repo = GitRepo(repos_root / "gitsrc" / "unref")
    repo.write("go.mod", f"module {UNREF_MODULE}\n")
    repo.write("u.go", "package unref\n")
    head = repo.commit("v1", date="2024-09-01T00:00:00Z")
    repo.tag("v1.0.0")
    date = "2024-09-02T00:00:00Z"
    loose = repo.git(
        "commit-tree",
        *("-p", head, "-m", "never referenced", "HEAD^{tree}"),
        env={"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date},
    ).strip()
    repo.checkout("main", new_branch="gone")
    repo.write("u.go", "package unref\n\nconst Gone = 1\n")
    gone = repo.commit("on a deleted branch", date="2024-09-03T00:00:00Z")
    repo.checkout("main")
    repo.git("branch", "-D", "gone")
    return repo, {"loose": loose, "gone": gone, "head": head}


@pytest.fixture(scope="session")
def githttp(repos: dict[str, GitRepo], repos_root: Path) -> Iterator[GitHttpServer]:
    """Smart HTTP for every test repository."""
    server = GitHttpServer(repos_root)
    yield server
    server.stop()


def _serve(app: GoproxyApp) -> UvicornThread:
    server = UvicornThread(app)
    server.start()
    return server


@pytest.fixture(scope="session")
def git_gosub(
    repos_root: Path,
    githttp: GitHttpServer,
    unref_repo: tuple[GitRepo, dict[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Shared]]:
    """gosub serving every scenario (and the unreferenced-commit repository) through the
    git source at /TRANSPORT/NAME/."""
    shared = make_shared(
        {}, git_env=neutral_git_env(), git_dir=str(tmp_path_factory.mktemp("mirrors"))
    )
    app: GoproxyApp | None = None
    unref = Scenario("unref", UNREF_MODULE, "gitsrc", "unref")
    for s in [*SCENARIOS.values(), unref]:
        urls = {
            "file": (repos_root / s.owner / s.repo).as_uri(),
            "http": f"{githttp.url}/{s.owner}/{s.repo}",
        }
        for transport, url in urls.items():
            app = goproxy(
                f"/{transport}/{s.name}/", git_config(s, url), shared=shared, fallback=app
            )
    assert app is not None
    server = UvicornThread(app)
    url = server.start()
    yield url, shared
    server.stop()
    asyncio.run(shared.aclose())


@pytest.fixture(scope="session")
def direct_results() -> dict[tuple[str, str], dict[str, Any]]:
    """Direct-mode downloads made so far (each made once for both transports)."""
    return {}


def _download(go: GoRunner, module: str, query: str, **kw: Any) -> dict[str, Any]:
    result = go.mod_download(module, query, **kw)
    assert not result.get("Error"), result
    info = json.loads(Path(result["Info"]).read_text())
    result["InfoTime"] = info["Time"]
    result["Origin"] = info.get("Origin")
    return result


def _compare(
    transport: str,
    name: str,
    query: str,
    *,
    tmp_path: Path,
    gocache: Path,
    direct: DirectModeServer,
    direct_results: dict[tuple[str, str], dict[str, Any]],
    base: str,
) -> dict[str, Any]:
    s = SCENARIOS[name]
    ref = direct_results.get((name, query))
    if ref is None:
        ref = _download(
            GoRunner(tmp_path / "direct", gocache=gocache),
            s.module,
            query,
            goproxy="direct",
            env=direct.env(),
        )
        direct_results[(name, query)] = ref
    got = _download(
        GoRunner(tmp_path / "gosub", gocache=gocache),
        s.module,
        query,
        goproxy=f"{base}/{transport}/{name}/",
    )
    for key in ("Version", "Sum", "GoModSum", "InfoTime"):
        assert got[key] == ref[key], f"{key}: gosub {got[key]!r} != direct {ref[key]!r}"
    return got


CASES = [(t, n, v) for n, v in TAGGED for t in TRANSPORTS]


@pytest.mark.parametrize(
    ("transport", "name", "version"), CASES, ids=[f"{t}-{n}@{v}" for t, n, v in CASES]
)
def test_tagged_version_matches_direct_mode(
    transport: str,
    name: str,
    version: str,
    tmp_path: Path,
    gocache: Path,
    direct: DirectModeServer,
    direct_results: dict[tuple[str, str], dict[str, Any]],
    git_gosub: tuple[str, Shared],
    repos_root: Path,
    githttp: GitHttpServer,
) -> None:
    got = _compare(
        transport,
        name,
        version,
        tmp_path=tmp_path,
        gocache=gocache,
        direct=direct,
        direct_results=direct_results,
        base=git_gosub[0],
    )
    assert got["Version"] == version
    s = SCENARIOS[name]
    expected = (
        (repos_root / s.owner / s.repo).as_uri()
        if transport == "file"
        else f"{githttp.url}/{s.owner}/{s.repo}"
    )
    assert got["Origin"]["URL"] == expected


QCASES = [(t, n, q, e) for n, q, e in QUERIES for t in TRANSPORTS]


@pytest.mark.parametrize(
    ("transport", "name", "query", "expected"),
    QCASES,
    ids=[f"{t}-{n}@{q}" for t, n, q, _ in QCASES],
)
def test_query_matches_direct_mode(
    transport: str,
    name: str,
    query: str,
    expected: str,
    tmp_path: Path,
    gocache: Path,
    direct: DirectModeServer,
    direct_results: dict[tuple[str, str], dict[str, Any]],
    git_gosub: tuple[str, Shared],
) -> None:
    got = _compare(
        transport,
        name,
        query,
        tmp_path=tmp_path,
        gocache=gocache,
        direct=direct,
        direct_results=direct_results,
        base=git_gosub[0],
    )
    if expected.startswith("pseudo"):
        assert pseudo.is_pseudo_version(got["Version"]), got["Version"]
        assert got["Version"].startswith(expected.removeprefix("pseudo").strip()), got["Version"]
    else:
        assert got["Version"] == expected


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_commit_hash_query_matches_direct_mode(
    transport: str,
    repos: dict[str, GitRepo],
    tmp_path: Path,
    gocache: Path,
    direct: DirectModeServer,
    direct_results: dict[tuple[str, str], dict[str, Any]],
    git_gosub: tuple[str, Shared],
) -> None:
    sha = repos["acme/mono"].rev_parse("feature")
    got = _compare(
        transport,
        "mono",
        sha[:12],
        tmp_path=tmp_path,
        gocache=gocache,
        direct=direct,
        direct_results=direct_results,
        base=git_gosub[0],
    )
    assert got["Version"].endswith(sha[:12])


LISTS = ["mono", "rootmod", "major2", "upper", "many", "custom", "empty"]


@pytest.mark.parametrize("name", LISTS)
def test_version_list_matches_direct_mode(
    name: str,
    tmp_path: Path,
    gocache: Path,
    direct: DirectModeServer,
    git_gosub: tuple[str, Shared],
) -> None:
    s = SCENARIOS[name]
    ref = GoRunner(tmp_path / "d", gocache=gocache).list_versions(
        s.module, goproxy="direct", env=direct.env()
    )
    for transport in TRANSPORTS:
        got = GoRunner(tmp_path / transport, gocache=gocache).list_versions(
            s.module, goproxy=f"{git_gosub[0]}/{transport}/{name}/"
        )
        assert got == ref, transport


def _missing_in_mirror(shared: Shared, config: GoproxyConfig, sha: str) -> bool:
    """Whether the mirror lacks ``sha`` (asked without fetching it)."""
    mirror = shared.sources.mirror_for(config.remote, config.public_url)
    proc = subprocess.run(
        ["git", "rev-list", "--missing=print", "--no-walk", "-n1", sha, "--"],
        env=neutral_git_env({"GIT_DIR": str(mirror.path)}),
        capture_output=True,
    )
    return proc.returncode != 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unreferenced_commit_is_unknown_revision(
    transport: str,
    git_gosub: tuple[str, Shared],
    unref_repo: tuple[GitRepo, dict[str, str]],
    repos_root: Path,
    githttp: GitHttpServer,
) -> None:
    base, shared = git_gosub
    _, shas = unref_repo
    prefix = f"{base}/{transport}/unref/{UNREF_MODULE}/@v"
    head = httpx.get(f"{prefix}/{shas['head'][:12]}.info")
    assert head.status_code == 200, head.text
    for what in ("loose", "gone"):
        for rev in (shas[what][:12], shas[what]):
            resp = httpx.get(f"{prefix}/{rev}.info")
            assert resp.status_code == 404, (what, resp.text)
            assert "unknown revision" in resp.text
    url = (
        (repos_root / "gitsrc" / "unref").as_uri()
        if transport == "file"
        else f"{githttp.url}/gitsrc/unref"
    )
    config = git_config(Scenario("unref", UNREF_MODULE, "gitsrc", "unref"), url)
    # Protocol v2 servers hand out any object asked for: the mirror must never ask.
    assert _missing_in_mirror(shared, config, shas["loose"])
    assert _missing_in_mirror(shared, config, shas["gone"])


def test_fetch_timeout_is_a_clear_504(
    repos: dict[str, GitRepo], repos_root: Path, tmp_path: Path
) -> None:
    stalling = GitHttpServer(repos_root)
    stalling.stall_fetch = True
    shared = make_shared({}, git_env=neutral_git_env(), git_dir=str(tmp_path), git_timeout=2)
    s = SCENARIOS["major"]
    server = _serve(goproxy("/", git_config(s, f"{stalling.url}/acme/major"), shared=shared))
    base = f"http://127.0.0.1:{server.server.servers[0].sockets[0].getsockname()[1]}"
    try:
        start = time.monotonic()
        resp = httpx.get(f"{base}/{s.module}/@v/v1.0.0.info", timeout=30)
        assert resp.status_code == 504, resp.text
        assert "git fetch did not finish in 2 s" in resp.text
        assert time.monotonic() - start < 15
        # Listing still works: only fetches stall.
        assert httpx.get(f"{base}/{s.module}/@v/list").text.split() == ["v1.0.0"]
    finally:
        server.stop()
        stalling.stop()


def test_credentials_never_in_logs_or_errors(
    repos: dict[str, GitRepo],
    repos_root: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret, wrong = "s3cret-t0ken", "wr0ng-passw0rd"
    auth = GitHttpServer(repos_root)
    auth.auth = ("gosub", secret)
    host = auth.url.removeprefix("http://")
    s = SCENARIOS["mono"]
    good = git_config(s, f"http://gosub:{secret}@{host}/acme/mono")
    bad = git_config(SCENARIOS["attrs"], f"http://gosub:{wrong}@{host}/acme/attrs")
    assert secret not in repr(good) and secret not in good.repo_path
    shared = make_shared({}, git_env=neutral_git_env(), git_dir=str(tmp_path), git_timeout=2)
    app = goproxy("/good/", good, shared=shared, fallback=goproxy("/bad/", bad, shared=shared))
    server = _serve(app)
    base = f"http://127.0.0.1:{server.server.servers[0].sockets[0].getsockname()[1]}"
    bodies: list[str] = []
    caplog.set_level(logging.DEBUG)
    try:
        info = httpx.get(f"{base}/good/{s.module}/@v/v1.0.0.info")
        assert info.status_code == 200, info.text
        assert info.json()["Origin"]["URL"] == f"http://{host}/acme/mono"
        zipped = httpx.get(f"{base}/good/{s.module}/@v/v1.0.0.zip")
        assert zipped.status_code == 200
        bodies.append(info.text)
        for path, status in [
            (f"/good/{s.module}/@v/nosuchbranch.info", 404),
            (f"/bad/{SCENARIOS['attrs'].module}/@v/list", 502),
            (f"/bad/{SCENARIOS['attrs'].module}/@v/v1.0.0.info", 502),
        ]:
            resp = httpx.get(base + path)
            assert resp.status_code == status, (path, resp.text)
            bodies.append(resp.text)
        auth.stall_fetch = True
        timed_out = httpx.get(f"{base}/good/{s.module}/@v/feature.info", timeout=30)
        assert timed_out.status_code == 504, timed_out.text
        bodies.append(timed_out.text)
    finally:
        server.stop()
        auth.stop()
    assert "Authentication failed" in bodies[2]
    for text in [*bodies, caplog.text]:
        assert secret not in text and wrong not in text
    # Nor on disk: the mirrors (in the cache directory) never hold the URL's credentials.
    written = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert any(f.name == "config" for f in written)
    for f in written:
        data = f.read_bytes()
        assert secret.encode() not in data and wrong.encode() not in data, f


def test_serve_a_local_path_offline(repos: dict[str, GitRepo], repos_root: Path) -> None:
    """README's one-liner: ``gosub serve --url ./path --directory go --prefix mylib-go-``."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {
        **neutral_git_env(),
        "PYTHONPATH": os.getcwd(),
        "GOSUB_CACHE_DIR": "",
        "HTTPS_PROXY": "http://127.0.0.1:9",  # offline: any network use would fail
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gosub.cli",
            "serve",
            "--url",
            "./custom",
            "--directory",
            "go",
            "--prefix",
            "mylib-go-",
            "--suffix=-release",
            "--port",
            str(port),
        ],
        cwd=repos_root / "acme",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/example.test/custom/@v/list")
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert resp.status_code == 200 and resp.text.split() == ["v1.0.0", "v1.1.0-beta.1"]
        info = httpx.get(f"http://127.0.0.1:{port}/example.test/custom/@v/v1.0.0.info").json()
        assert info["Origin"]["URL"] == str(repos_root / "acme" / "custom")
    finally:
        proc.terminate()
        proc.wait(10)


def test_gitlab_urls_open_the_gitlab_source() -> None:
    from gosub.sources.gitlab import GitLabSource

    source = Sources().open(GoproxyConfig(url="https://gitlab.com/group/sub/project"))
    assert isinstance(source, GitLabSource) and source.project == "group/sub/project"
    assert source.url == "https://gitlab.com/group/sub/project"


def test_mirror_is_a_partial_clone_with_gos_attributes(
    git_gosub: tuple[str, Shared], githttp: GitHttpServer
) -> None:
    base, shared = git_gosub
    s = SCENARIOS["attrs"]
    assert httpx.get(f"{base}/http/attrs/{s.module}/@v/v1.0.0.zip").status_code == 200
    config = git_config(s, f"{githttp.url}/acme/attrs")
    mirror = shared.sources.mirror_for(config.remote, config.public_url).path
    assert (
        (mirror / "info" / "attributes").read_text().endswith("\n* -export-subst -export-ignore\n")
    )
    settings = git(mirror, "config", "--get", "remote.origin.partialclonefilter")
    assert settings.strip() == "blob:none"


def test_concurrent_requests_on_a_cold_mirror(
    repos: dict[str, GitRepo], repos_root: Path, tmp_path: Path
) -> None:
    """Many clients at once on a mirror that does not exist yet: one creation, fetches
    one at a time, every answer right."""
    server_git = GitHttpServer(repos_root)
    shared = make_shared({}, git_env=neutral_git_env(), git_dir=str(tmp_path))
    s = SCENARIOS["many"]
    server = _serve(goproxy("/", git_config(s, f"{server_git.url}/acme/many"), shared=shared))
    base = f"http://127.0.0.1:{server.server.servers[0].sockets[0].getsockname()[1]}"
    versions = [f"v1.{i}.{j}" for i in range(6) for j in (0, 7, 19)]

    async def fetch_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            return await asyncio.gather(
                *(client.get(f"{base}/{s.module}/@v/{v}.info") for v in versions),
                *(client.get(f"{base}/{s.module}/@v/{v}.zip") for v in versions[::3]),
            )

    try:
        answers = asyncio.run(fetch_all())
    finally:
        server.stop()
        server_git.stop()
    assert [r.status_code for r in answers] == [200] * len(answers)
    assert [r.json()["Version"] for r in answers[: len(versions)]] == versions
    assert len(list(tmp_path.glob("*.git"))) == 1 and not list(tmp_path.glob("*.tmp-*"))
