"""Operating a (shared) gosub: health, readiness, metrics, logs without secrets, client
budgets of upstream requests, the quota reserve, store growth, and ``gosub serve``."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gosub import logs
from gosub.settings import build_app, load_settings
from gosub.sources import Sources
from gosub.web.ops import STALE_SECONDS, OpsApp
from tests.support.ghapi import GitHubStandin

REPO = Path(__file__).resolve().parents[1]
MONO_CFG = "github.com/acme/mono:d=go%2Flib&p=go%2Flib%2Fv;"
MONO = f"/{MONO_CFG}/example.test/mono/@v/"


def _env(standin: GitHubStandin, cache: Path, **extra: str) -> dict[str, str]:
    return {"GITHUB_API_URL": standin.api_url, "GOSUB_CACHE_DIR": str(cache), **extra}


async def _client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as c:
        yield c


def _app(standin: GitHubStandin, cache: Path, **extra: str) -> Any:
    env = _env(standin, cache, **extra)
    return build_app(load_settings(env), env)


@pytest.fixture
def fresh(standin: GitHubStandin) -> GitHubStandin:
    standin.reset()
    return standin


# -- health, readiness, metrics ----------------------------------------------------------


async def test_health_ready_and_metrics_at_the_root(fresh: GitHubStandin, tmp_path: Path) -> None:
    app = _app(fresh, tmp_path / "cache")
    async for c in _client(app):
        health = await c.get("/healthz")
        assert health.status_code == 200 and health.text == "ok\n"
        assert sum(fresh.counts.values()) == 0  # liveness asks nobody
        assert (await c.get("/readyz")).status_code == 200
        assert (await c.get(MONO + "list")).status_code == 200
        assert (await c.get(MONO + "v1.0.0.zip")).status_code == 200
        assert (await c.get(MONO + "v1.0.0.zip")).status_code == 200
        metrics = await c.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'gosub_requests_total{kind="list",status="200"}' in text
    assert 'gosub_requests_total{kind="zip",status="200"}' in text
    assert 'endpoint="matching-refs"' in text and 'endpoint="tarball"' in text
    assert 'gosub_cache_answers_total{tier="upstream"}' in text
    assert 'gosub_cache_answers_total{tier="spool"}' in text
    assert "gosub_upstream_rate_limit_remaining{" in text
    assert "gosub_coalesced_waits_total" in text
    # Process-wide counters: other tests in this process count too.
    assert re.search(r"^gosub_builds_total [1-9]", text, re.M), text
    assert re.search(r"^gosub_build_seconds_total [0-9.e-]+$", text, re.M)


async def test_not_ready_when_the_store_cannot_be_used(
    fresh: GitHubStandin, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    app = _app(fresh, cache)
    cache.rmdir()
    cache.write_text("not a directory")
    async for c in _client(app):
        r = await c.get("/readyz")
        assert r.status_code == 503 and "not a writable directory" in r.text
        assert (await c.get("/healthz")).status_code == 200


async def test_not_ready_when_s3_does_not_answer(
    fresh: GitHubStandin, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # closed again: nothing listens there
    for k, v in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{dead}",
        "AWS_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(k, v)
    env = {"GITHUB_API_URL": fresh.api_url, "GOSUB_CACHE_BUCKET": "nowhere"}
    app = build_app(load_settings(env), env)
    async for c in _client(app):
        r = await c.get("/readyz")
    assert r.status_code == 503 and "does not answer" in r.text


# -- logs ---------------------------------------------------------------------------------


async def test_one_access_line_per_request_with_tier_and_upstream_requests(
    fresh: GitHubStandin, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gosub.access")
    app = _app(fresh, tmp_path / "cache")
    async for c in _client(app):
        await c.get(MONO + "v1.1.0.info")
        await c.get(MONO + "v1.1.0.info")
    lines = [r for r in caplog.records if r.name == "gosub.access"]
    assert len(lines) == 2
    first, second = lines
    path = f"/{MONO_CFG}/example.test/mono/@v/v1.1.0.info".replace("%2F", "/")
    assert getattr(first, "path") == path and getattr(first, "status") == 200  # noqa: B009
    assert getattr(first, "tier") == "upstream" and getattr(first, "upstream_requests") >= 1  # noqa: B009
    assert getattr(second, "tier") == "memory" and getattr(second, "upstream_requests") == 0  # noqa: B009
    assert "tier=memory upstream=0" in second.getMessage()


def test_json_log_lines_carry_the_fields() -> None:
    record = logging.LogRecord("gosub.access", logging.INFO, "f", 1, "GET %s", ("/x",), None)
    record.status = 200
    doc = json.loads(logs.JsonFormatter().format(record))
    assert doc["message"] == "GET /x" and doc["status"] == 200 and doc["level"] == "info"
    assert doc["logger"] == "gosub.access" and doc["time"].endswith("Z")


async def test_no_secret_reaches_a_log_a_response_or_the_metrics(
    fresh: GitHubStandin, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server_token, client_token = "ghp_SERVERSECRET0123456789", "ghp_CLIENTSECRET9876543210"
    app = _app(fresh, tmp_path / "cache", GITHUB_TOKEN=server_token)
    auth = "Basic " + base64.b64encode(f"me:{client_token}".encode()).decode()
    bodies: list[str] = []
    async for c in _client(app):
        for headers in ({}, {"Authorization": auth}):
            for name in ("list", "v1.0.0.info", "v1.0.0.zip", "v9.9.9.info"):
                r = await c.get(MONO + name, headers=headers)
                bodies.append(r.text if not name.endswith(".zip") else "")
                bodies.append(json.dumps(dict(r.headers)))
            bodies.append((await c.get("/example.test/mono/@gosub/rate_limit")).text)
        bodies.append((await c.get("/metrics")).text)
    seen = caplog.text + "".join(bodies)
    assert server_token not in seen and client_token not in seen
    assert base64.b64encode(f"me:{client_token}".encode()).decode() not in seen


# -- abuse bounds -------------------------------------------------------------------------


async def test_unknown_repositories_cost_at_most_300_github_requests_with_defaults(
    fresh: GitHubStandin, tmp_path: Path
) -> None:
    app = _app(fresh, tmp_path / "cache")
    codes: dict[int, int] = {}
    async for c in _client(app):
        for i in range(1000):
            r = await c.get(f"/github.com/nobody/r{i};/example.test/r{i}/@v/list")
            codes[r.status_code] = codes.get(r.status_code, 0) + 1
            if r.status_code == 429:
                assert int(r.headers["Retry-After"]) >= 1 and "budget" in r.text
    spent = sum(fresh.counts.values())
    assert spent <= 300, (spent, fresh.counts)
    assert codes.get(404, 0) >= 90 and codes.get(429, 0) >= 600, codes


async def test_a_client_past_its_budget_is_still_served_from_the_caches(
    fresh: GitHubStandin, tmp_path: Path
) -> None:
    app = _app(fresh, tmp_path / "cache", GOSUB_CLIENT_BURST="4", GOSUB_CLIENT_RATE="0.001")
    async for c in _client(app):
        assert (await c.get(MONO + "v1.0.0.info")).status_code == 200  # costs a few
        for i in range(5):
            await c.get(f"/github.com/nobody/x{i};/example.test/x/@v/list")
        before = sum(fresh.counts.values())
        cached = await c.get(MONO + "v1.0.0.info")
        refused = await c.get(MONO + "v1.1.0.info")
        other = await c.get(
            MONO + "v1.1.0.info", headers={"X-Forwarded-For": "198.51.100.1"}
        )  # not trusted: still the same client
    assert cached.status_code == 200
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert other.status_code == 429
    assert sum(fresh.counts.values()) == before


async def test_forwarded_for_names_the_client_only_when_trusted(
    fresh: GitHubStandin, tmp_path: Path
) -> None:
    env = _env(fresh, tmp_path / "cache", GOSUB_CLIENT_BURST="1", GOSUB_CLIENT_RATE="0.001")
    settings = load_settings(env)
    settings = type(settings)(**{**settings.__dict__, "trust_proxy_headers": True})
    app = build_app(settings, env)
    async for c in _client(app):
        a = {"X-Forwarded-For": "198.51.100.1, 10.0.0.1"}
        b = {"X-Forwarded-For": "198.51.100.2"}
        assert (await c.get(MONO + "v1.0.0.info", headers=a)).status_code == 200
        assert (await c.get(MONO + "v1.1.0.info", headers=a)).status_code == 429
        assert (await c.get(MONO + "v1.1.0.info", headers=b)).status_code == 200


@pytest.mark.parametrize("hops", [1, 2])
async def test_forwarded_for_written_by_the_client_is_not_believed(
    fresh: GitHubStandin, tmp_path: Path, hops: int
) -> None:
    """Behind proxies that append to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for,
    CloudFront, an ALB), whatever the client wrote there comes first: the client is the
    entry the outermost trusted proxy added, ``hops`` from the right."""
    env = _env(fresh, tmp_path / "cache", GOSUB_CLIENT_BURST="1", GOSUB_CLIENT_RATE="0.001")
    env["GOSUB_TRUST_PROXY_HEADERS"] = str(hops)
    app = build_app(load_settings(env), env)
    inner = ["10.0.0.1"] * (hops - 1)  # what proxies behind the outermost one added
    async for c in _client(app):
        codes = []
        for i in range(4):
            spoofed = ", ".join([f"198.51.100.{i}", "203.0.113.9", *inner])
            r = await c.get(MONO + f"v1.{i}.0.info", headers={"X-Forwarded-For": spoofed})
            codes.append(r.status_code)
        other = ", ".join(["198.51.100.1", "203.0.113.10", *inner])
        elsewhere = await c.get(MONO + "v1.1.0.info", headers={"X-Forwarded-For": other})
        # Fewer entries than proxies: not through them all; the connection's address
        # (the test client's 203.0.113.7), a budget of its own.
        direct = await c.get(
            MONO + "v1.1.0.info", headers={"X-Forwarded-For": "x"} if hops > 1 else {}
        )
    assert codes[0] != 429 and 429 in codes[1:], codes
    assert elsewhere.status_code != 429
    assert direct.status_code != 429


async def test_a_low_quota_is_kept_for_known_modules(fresh: GitHubStandin, tmp_path: Path) -> None:
    app = _app(fresh, tmp_path / "cache")
    async for c in _client(app):
        assert (await c.get(MONO + "list")).status_code == 200  # known from now on
        fresh.remaining = 100  # of 5000: below the 20 % kept back
        await c.get("/github.com/acme/attrs;/example.test/attrs/@v/list")  # learns "100 left"
        stranger = await c.get("/github.com/acme/custom;/example.test/custom/@v/list")
        known = await c.get(MONO + "v1.0.0.info")
    assert stranger.status_code == 429 and "quota is low" in stranger.text
    assert stranger.headers["Retry-After"] == "600"
    assert known.status_code == 200


async def test_a_module_revalidated_with_a_304_is_known_too(
    fresh: GitHubStandin, tmp_path: Path
) -> None:
    """A client that only ever revalidates (its cache, or a CDN's, holds the answer from
    an earlier gosub) is using a module as much as one that fetches it."""
    async for c in _client(_app(fresh, tmp_path / "earlier")):
        etag = (await c.get(MONO + "list")).headers["etag"]
    app = _app(fresh, tmp_path / "cache")
    async for c in _client(app):
        revalidated = await c.get(MONO + "list", headers={"If-None-Match": etag})
        assert revalidated.status_code == 304
        fresh.remaining = 100  # of 5000: below the 20 % kept back
        await c.get("/github.com/acme/attrs;/example.test/attrs/@v/list")  # learns "100 left"
        known = await c.get(MONO + "v1.0.0.info")
    assert known.status_code == 200, known.text


async def test_junk_configs_do_not_grow_the_store(fresh: GitHubStandin, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    app = _app(fresh, cache)
    async for c in _client(app):
        for i in range(30):
            r = await c.get(f"/github.com/acme/mono:s=-junk{i};/example.test/mono/@v/list")
            assert r.status_code == 200 and r.text == ""
        assert (await c.get(MONO + "list")).status_code == 200
    namespaces = [p for p in cache.iterdir() if re.fullmatch(r"[0-9a-f]{20}", p.name)]
    assert len(namespaces) == 1, namespaces
    # Nor the watch's list of served modules (index/watch/...): the real one only.
    watched = [p for p in (cache / "index").rglob("*") if p.is_file() and "watch" in str(p)]
    assert len(watched) <= 1, watched
    doc = json.loads((namespaces[0] / "gosub.json").read_text())
    assert doc["url"] == "https://github.com/acme/mono" and doc["directory"] == "go/lib"


# -- files, sweeps, the CLI ---------------------------------------------------------------


async def test_store_files_follow_the_umask(fresh: GitHubStandin, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    old = os.umask(0o022)
    try:
        app = _app(fresh, cache)
        async for c in _client(app):
            for name in ("list", "v1.0.0.info", "v1.0.0.mod", "v1.0.0.zip"):
                assert (await c.get(MONO + name)).status_code == 200
    finally:
        os.umask(old)
    files = [p for p in cache.rglob("*") if p.is_file()]
    assert len(files) >= 5
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in files), [
        (p.name, oct(p.stat().st_mode)) for p in files
    ]


async def test_startup_sweeps_what_a_crashed_gosub_left(
    fresh: GitHubStandin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(tmp))
    cache = tmp_path / "cache"
    app = _app(fresh, cache)
    assert isinstance(app, OpsApp)
    old = time.time() - STALE_SECONDS - 60
    stale_archive = tmp / "gosub-abc123"
    stale_archive.mkdir()
    live_spool = tmp / "gosub-zips-live"
    live_spool.mkdir()
    (live_spool / ".pid").write_text(str(os.getpid()))
    dead_spool = tmp / "gosub-zips-dead"
    dead_spool.mkdir()
    (dead_spool / ".pid").write_text("999999999")
    fresh_archive = tmp / "gosub-fresh"
    fresh_archive.mkdir()
    not_ours = tmp / "other-thing"
    not_ours.mkdir()
    stale_tmp = cache / "ns" / ".tmp-xyz"
    stale_tmp.parent.mkdir(parents=True)
    stale_tmp.write_text("partial")
    for p in (stale_archive, live_spool, dead_spool, not_ours, stale_tmp):
        os.utime(p, (old, old))
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> Any:
        return next(messages)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert not stale_archive.exists() and not dead_spool.exists() and not stale_tmp.exists()
    assert live_spool.exists() and fresh_archive.exists() and not_ours.exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _serving(
    standin: GitHubStandin, tmp_path: Path, *args: str, **extra: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``gosub serve ARGS`` (JSON logs on stderr) on a free port, until the block ends."""
    port = _free_port()
    env = {
        **os.environ,
        "GITHUB_API_URL": standin.api_url,
        "GOSUB_PORT": str(port),
        "GOSUB_CACHE_DIR": str(tmp_path / "cache"),
        "TMPDIR": str(tmp_path),
        "PYTHONPATH": str(REPO),
        **extra,
    }
    env.pop("GITHUB_TOKEN", None)
    env.pop("GOSUB_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gosub", "serve", *args, "--log-format", "json"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "gosub did not start"
                time.sleep(0.1)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_serve_url_uses_the_settings_loader_and_shuts_down_cleanly(
    standin: GitHubStandin, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    args = [
        "--url",
        "https://github.com/acme/mono",
        "--directory",
        "go/lib",
        "--prefix",
        "go/lib/v",
    ]
    with _serving(standin, tmp_path, *args) as (proc, url):
        r = httpx.get(url + "/example.test/mono/@v/v1.0.0.zip", timeout=30)
        assert r.status_code == 200
        assert list(cache.rglob("v1.0.0.zip")), "the disk cache is on by default"
        spools = [p for p in tmp_path.glob("gosub-zips-*") if (p / ".pid").is_file()]
        assert [p for p in spools if (p / ".pid").read_text() == str(proc.pid)]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    # uvicorn re-raises the SIGTERM it handled once it has shut down cleanly.
    assert proc.returncode in (0, -signal.SIGTERM), err
    assert "Application shutdown complete" in err
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    starting = [r for r in records if r["message"].startswith("gosub starting")]
    assert starting and "GITHUB_TOKEN not set" in starting[0]["message"]
    assert any(r["logger"] == "gosub.access" and r.get("status") == 200 for r in records)
    assert not [p for p in tmp_path.glob("gosub-zips-*")], "the zip spool outlived the process"


def test_serve_trusts_forwarded_for_only_when_told(fresh: GitHubStandin, tmp_path: Path) -> None:
    """uvicorn, left to itself, takes X-Forwarded-For from any loopback peer as the
    client: a local client (or any client of a local reverse proxy that appends the
    header) could then pick a fresh budget per request. gosub serve leaves that to
    trust_proxy_headers."""
    budget = {"GOSUB_CLIENT_BURST": "3", "GOSUB_CLIENT_RATE": "0.001"}
    with _serving(fresh, tmp_path, **budget) as (_proc, url):
        codes = [
            httpx.get(
                f"{url}/github.com/nobody/x{i};/example.test/x/@v/list",
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
                timeout=30,
            ).status_code
            for i in range(8)
        ]
    assert 429 in codes, codes
    with _serving(fresh, tmp_path, GOSUB_TRUST_PROXY_HEADERS="1", **budget) as (_proc, url):
        codes = [
            httpx.get(
                f"{url}/github.com/nobody/y{i};/example.test/y/@v/list",
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
                timeout=30,
            ).status_code
            for i in range(8)
        ]
    assert 429 not in codes, codes


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gosub", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_url_and_config_together_is_one_line_and_exit_2(tmp_path: Path) -> None:
    f = tmp_path / "gosub.toml"
    f.write_text("[server]\n")
    r = _cli("serve", "--url", "https://github.com/a/b", "--config", str(f))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "drop --config" in r.stderr


async def test_cache_ls_lists_namespaces_with_config_and_versions(
    fresh: GitHubStandin, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    app = _app(fresh, cache)
    async for c in _client(app):
        for name in ("list", "v1.0.0.info", "v1.1.0.info"):
            assert (await c.get(MONO + name)).status_code == 200
    r = _cli("cache", "ls", "--cache-dir", str(cache))
    assert r.returncode == 0, r.stderr
    assert "https://github.com/acme/mono" in r.stdout and "directory='go/lib'" in r.stdout
    assert "example.test/mono: v1.0.0 v1.1.0" in r.stdout


def test_enterprise_hosts_get_their_own_api_url_without_github_api_url() -> None:
    sources = Sources()
    assert sources.client_for("ghe.example.test").api_url == "https://ghe.example.test/api/v3"
    assert sources.client_for("github.com").api_url == "https://api.github.com"
    env_sources = Sources.from_env({"GITHUB_API_URL": "https://ghe.other/api/v3"})
    assert env_sources.client_for("ghe.example.test").api_url == "https://ghe.other/api/v3"


async def test_a_missing_repository_is_remembered(fresh: GitHubStandin, tmp_path: Path) -> None:
    app = _app(fresh, tmp_path / "cache")
    async for c in _client(app):
        for _ in range(20):
            r = await c.get("/github.com/nobody/gone;/example.test/gone/@v/list")
            assert r.status_code == 404
    assert fresh.counts["notfound"] == 1, fresh.counts
