"""What a private pkgsite needs from gosub: the /index feed (durable, shared, strictly
increasing), the watch that finds pushed tags by itself, Disable-Module-Fetch, cheap
branch probes and the go-source vanity tag."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from gosub import GoproxyConfig
from gosub.settings import ModuleSettings, Settings, build_app
from gosub.store import DiskStore, Store
from gosub.store.index import IndexLog, format_time, parse_time
from gosub.web.index import PkgsiteEdge
from gosub.web.ops import OpsApp
from gosub.web.watch import RecentModules, WatchApp, Watcher
from tests.conftest import UvicornThread
from tests.support.ghapi import GitHubStandin
from tests.support.git import GitRepo
from tests.support.s3server import SeaweedS3

MODULE = "example.test/watched"


def _feed(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _strictly_increasing(entries: list[Any]) -> bool:
    times = [
        e.timestamp if hasattr(e, "timestamp") else parse_time(e["Timestamp"]) for e in entries
    ]
    return all(a < b for a, b in itertools.pairwise(times))


# -- the log itself ---------------------------------------------------------------------


def test_time_format_round_trips_nanoseconds() -> None:
    ns = 1_764_583_816_123_456_789
    assert format_time(ns) == "2025-12-01T10:10:16.123456789Z"
    assert parse_time(format_time(ns)) == ns
    assert parse_time("2025-12-01T10:10:16Z") == ns - 123_456_789
    assert parse_time("2025-12-01T11:10:16.5+01:00") == ns - 123_456_789 + 500_000_000
    assert format_time(parse_time("2025-12-01T10:10:16.120Z")) == "2025-12-01T10:10:16.12Z"
    with pytest.raises(ValueError):
        parse_time("yesterday")


async def _disk_feed_checks(root: Path) -> None:
    first = IndexLog(DiskStore(root), instance="aaaa")
    assert await first.read() == []
    assert await first.record("example.test/a", "v1.0.0")
    assert not await first.record("example.test/a", "v1.0.0")  # once
    await first.record("example.test/b", "v0.1.0")
    await first.record("example.test/a", "v1.1.0")
    entries = await first.read()
    assert [(e.path, e.version) for e in entries] == [
        ("example.test/a", "v1.0.0"),
        ("example.test/b", "v0.1.0"),
        ("example.test/a", "v1.1.0"),
    ]
    assert _strictly_increasing(entries)
    # since is inclusive; limit caps.
    assert [e.version for e in await first.read(entries[1].timestamp)] == ["v0.1.0", "v1.1.0"]
    assert [e.version for e in await first.read(entries[1].timestamp, 1)] == ["v0.1.0"]
    assert await first.read(entries[2].timestamp + 1) == []
    # A restart (or another instance on the same directory) reads the same feed, does
    # not record again what is recorded, and appends after the newest entry.
    second = IndexLog(DiskStore(root), instance="bbbb")
    assert await second.read() == entries
    assert not await second.record("example.test/b", "v0.1.0")
    await second.record("example.test/c", "v2.0.0")
    again = await first.read()
    assert again[:3] == entries and again[3].path == "example.test/c"
    assert _strictly_increasing(again)


def test_feed_on_disk_is_durable_ordered_and_shared(tmp_path: Path) -> None:
    anyio.run(_disk_feed_checks, tmp_path / "cache")


async def _concurrent(store_a: Store, store_b: Store, skew_ns: int) -> list[Any]:
    a = IndexLog(store_a, instance="aaaa")
    b = IndexLog(store_b, instance="bbbb")
    real = time.time_ns

    async def run(log: IndexLog, n: int) -> None:
        for i in range(n):
            await log.record(f"example.test/{log.instance}", f"v1.0.{i}")
            await asyncio.sleep(0)

    # Instance b's clock is behind by skew_ns: its entries must still come after a's.
    import gosub.store.index as index_module

    class SkewedTime:
        @staticmethod
        def time_ns() -> int:
            task = asyncio.current_task()
            late = task is not None and task.get_name() == "b"
            return real() - (skew_ns if late else 0)

        @staticmethod
        def time() -> float:
            return time.time()

    original = index_module.time
    index_module.time = SkewedTime  # type: ignore[assignment]
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run, a, 30, name="a")
            tg.start_soon(run, b, 30, name="b")
    finally:
        index_module.time = original
    return await IndexLog(store_a).read()


def test_two_instances_at_once_with_skewed_clocks_keep_timestamps_strictly_increasing(
    tmp_path: Path,
) -> None:
    entries = anyio.run(
        _concurrent, DiskStore(tmp_path / "c"), DiskStore(tmp_path / "c"), 30_000_000_000
    )
    assert {(e.path, e.version) for e in entries} == {
        (f"example.test/{who}", f"v1.0.{i}") for who in ("aaaa", "bbbb") for i in range(30)
    }
    assert _strictly_increasing(entries)
    # Paging with any limit moves forward and sees everything (pkgsite's cursor).
    seen: list[tuple[str, str]] = []
    since = 0
    log = IndexLog(DiskStore(tmp_path / "c"))
    for _ in range(200):
        page = anyio.run(log.read, since, 3)
        new = [(e.path, e.version) for e in page if (e.path, e.version) not in seen]
        seen.extend(new)
        if not page or (len(page) == 1 and not new):
            break
        since = page[-1].timestamp
    assert set(seen) == {(e.path, e.version) for e in entries}


def test_feed_in_s3_is_shared_between_instances(seaweed: SeaweedS3) -> None:
    prefix = f"index-{secrets.token_hex(4)}/"

    async def checks() -> None:
        a = IndexLog(seaweed.make_store(prefix=prefix), instance="aaaa")
        b = IndexLog(seaweed.make_store(prefix=prefix), instance="bbbb")
        assert await a.read() == []
        await a.record("example.test/s3", "v1.0.0")
        await b.record("example.test/s3", "v1.0.0")  # already there: not again
        await b.record("example.test/s3", "v1.1.0")
        long = "example.test/" + "x" * 250
        await a.record(long, "v0.0.1")  # too long for a key name: read from the object
        entries = await b.read()
        assert [(e.path, e.version) for e in entries] == [
            ("example.test/s3", "v1.0.0"),
            ("example.test/s3", "v1.1.0"),
            (long, "v0.0.1"),
        ]
        assert _strictly_increasing(entries)
        assert await a.read(entries[1].timestamp, 1) == entries[1:2]

    anyio.run(checks)


# -- through HTTP -----------------------------------------------------------------------


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[GitRepo, GitHubStandin]]:
    """A repository of our own (tags get pushed during the test) behind a stand-in."""
    root = tmp_path / "repos"
    repo = GitRepo(root / "acme" / "watched")
    repo.write("LICENSE", "Copyright 2026 Acme\n\nPermission is granted to anyone.\n")
    repo.write("go/watched/go.mod", f"module {MODULE}\n\ngo 1.21\n")
    repo.write(
        "go/watched/watched.go",
        "// Package watched is watched.\npackage watched\n\n"
        '// Greet returns a greeting.\nfunc Greet() string { return "hi" }\n',
    )
    repo.commit("v1.0.0", date="2024-01-02T03:04:05Z")
    repo.tag("w-go-1.0.0")
    standin = GitHubStandin(root)
    standin.start()
    yield repo, standin
    standin.stop()


def _settings(cache_dir: Path, **kwargs: Any) -> Settings:
    config = GoproxyConfig(
        url="https://github.com/acme/watched",
        module=MODULE,
        directory="go/watched",
        tag_prefix="w-go-",
    )
    return Settings(
        modules=(ModuleSettings(config, "/"),),
        shared=False,
        cache_dir=str(cache_dir),
        **kwargs,
    )


def _parts(app: Any) -> tuple[WatchApp, PkgsiteEdge]:
    """build_app's layers: OpsApp (health, logs) around the watch around /index."""
    assert isinstance(app, OpsApp)
    app = app.app
    assert isinstance(app, WatchApp) and isinstance(app.app, PkgsiteEdge)
    return app, app.app


def test_index_over_http_records_served_versions_and_fails_with_empty_503(
    watched: tuple[GitRepo, GitHubStandin], tmp_path: Path
) -> None:
    _repo, standin = watched
    app = build_app(_settings(tmp_path / "cache"), {"GITHUB_API_URL": standin.api_url})
    _watch, edge = _parts(app)
    server = UvicornThread(app)
    url = server.start()
    try:
        empty = httpx.get(url + "/index")
        assert empty.status_code == 200 and empty.content == b""
        assert httpx.get(f"{url}/{MODULE}/@v/v1.0.0.info").status_code == 200
        feed = _feed(httpx.get(url + "/index").text)
        assert [(e["Path"], e["Version"]) for e in feed] == [(MODULE, "v1.0.0")]
        # since inclusive, in nanoseconds; limit; bad since is a 400.
        since = feed[0]["Timestamp"]
        assert _feed(httpx.get(url + "/index", params={"since": since}).text) == feed
        later = format_time(parse_time(since) + 1)
        assert httpx.get(url + "/index", params={"since": later}).content == b""
        assert _feed(httpx.get(url + "/index", params={"limit": "1"}).text) == feed
        assert httpx.get(url + "/index", params={"since": "soon"}).status_code == 400
        # The store fails: 503 and an empty body (pkgsite never reads the status).
        assert edge.index is not None

        async def broken(*_: Any) -> list[str]:
            raise OSError("disk gone")

        edge.index.store.list_after = broken  # type: ignore[method-assign]
        failed = httpx.get(url + "/index")
        assert failed.status_code == 503 and failed.content == b""
    finally:
        server.stop()


def test_disable_module_fetch_answers_from_the_caches_only(
    watched: tuple[GitRepo, GitHubStandin], tmp_path: Path
) -> None:
    _repo, standin = watched
    app = build_app(_settings(tmp_path / "cache"), {"GITHUB_API_URL": standin.api_url})
    server = UvicornThread(app)
    url = server.start()
    cache_only = {"Disable-Module-Fetch": "true"}
    try:
        standin.reset()
        miss = httpx.get(f"{url}/{MODULE}/@v/v1.0.0.zip", headers=cache_only)
        assert miss.status_code in (404, 410), miss.text
        assert "fetching is disabled" in miss.text
        assert miss.headers["cache-control"] == "no-store"
        assert sum(standin.counts.values()) == 0, standin.counts
        assert httpx.get(f"{url}/{MODULE}/@v/v1.0.0.zip").status_code == 200
        standin.reset()
        hit = httpx.get(f"{url}/{MODULE}/@v/v1.0.0.zip", headers=cache_only)
        assert hit.status_code == 200 and hit.content[:2] == b"PK"
        info = httpx.get(f"{url}/{MODULE}/@v/v1.0.0.info", headers=cache_only)
        assert info.status_code == 200
        assert sum(standin.counts.values()) == 0, standin.counts
    finally:
        server.stop()


def test_branch_probes_are_cached_briefly_and_a_missing_branch_is_a_fast_404(
    watched: tuple[GitRepo, GitHubStandin], tmp_path: Path
) -> None:
    _repo, standin = watched
    app = build_app(_settings(tmp_path / "cache"), {"GITHUB_API_URL": standin.api_url})
    server = UvicornThread(app)
    url = server.start()
    try:
        main = httpx.get(f"{url}/{MODULE}/@v/main.info")
        master = httpx.get(f"{url}/{MODULE}/@v/master.info")
        assert main.status_code == 200 and master.status_code in (404, 410)
        standin.reset()
        started = time.monotonic()
        for _ in range(5):
            assert httpx.get(f"{url}/{MODULE}/@v/main.info").json() == main.json()
            assert httpx.get(f"{url}/{MODULE}/@v/master.info").status_code == master.status_code
        assert time.monotonic() - started < 2
        assert sum(standin.counts.values()) == 0, standin.counts
    finally:
        server.stop()


def test_vanity_page_has_go_source_at_the_tag_and_directory(
    watched: tuple[GitRepo, GitHubStandin], tmp_path: Path
) -> None:
    _repo, standin = watched
    app = build_app(_settings(tmp_path / "cache"), {"GITHUB_API_URL": standin.api_url})
    server = UvicornThread(app)
    url = server.start()
    try:
        page = httpx.get(url + "/watched?go-get=1", headers={"Host": "example.test"})
        assert page.status_code == 200
        web = "https://github.com/acme/watched"
        expected = (
            f'<meta name="go-source" content="{MODULE} {web} '
            f"{web}/tree/w-go-1.0.0/go/watched{{/dir}} "
            f'{web}/blob/w-go-1.0.0/go/watched{{/dir}}/{{file}}#L{{line}}">'
        )
        assert expected in page.text, page.text
        assert 'name="go-import"' in page.text
    finally:
        server.stop()


def test_watch_turns_a_pushed_tag_into_an_index_entry_without_a_client(
    watched: tuple[GitRepo, GitHubStandin], tmp_path: Path
) -> None:
    repo, standin = watched
    app = build_app(
        _settings(tmp_path / "cache", watch_interval=0.3), {"GITHUB_API_URL": standin.api_url}
    )
    watch, _edge = _parts(app)
    assert watch.watcher.interval == 0.3
    server = UvicornThread(app)
    server.server.config.lifespan = "on"
    url = server.start()
    try:
        deadline = time.monotonic() + 20
        while not _feed(httpx.get(url + "/index").text) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [e["Version"] for e in _feed(httpx.get(url + "/index").text)] == ["v1.0.0"]
        # A tag pushed on an old commit: a new entry, after the cursor.
        before = _feed(httpx.get(url + "/index").text)[-1]["Timestamp"]
        repo.tag("w-go-1.0.1")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            feed = _feed(httpx.get(url + "/index", params={"since": before}).text)
            if any(e["Version"] == "v1.0.1" for e in feed):
                break
            time.sleep(0.1)
        assert [e["Version"] for e in feed] == ["v1.0.0", "v1.0.1"]
        assert parse_time(feed[-1]["Timestamp"]) > parse_time(before)
        # Unchanged repository: passes cost only revalidated (304) listings.
        standin.reset()
        time.sleep(1)
        assert set(standin.counts) <= {"matching-refs"}, standin.counts
    finally:
        server.stop()


def test_watch_pass_covers_recently_served_shared_configs_not_client_tokens(
    watched: tuple[GitRepo, GitHubStandin], tmp_path: Path
) -> None:
    repo, standin = watched
    settings = Settings(shared=True, cache_dir=str(tmp_path / "cache"), watch_interval=0)
    app = build_app(settings, {"GITHUB_API_URL": standin.api_url})
    _watch, edge = _parts(app)
    server = UvicornThread(app)
    url = server.start()
    base = f"{url}/github.com/acme/watched:d=go%2Fwatched&p=w-go-;/{MODULE}/@v"
    try:
        assert httpx.get(base + "/list").text == "v1.0.0\n"
        assert [e["Version"] for e in _feed(httpx.get(url + "/index").text)] == ["v1.0.0"]
        # A client's own token: its own caches, no index, not watched; what it fetches
        # never reaches the feed.
        repo.tag("w-go-1.1.0")
        token = base64.b64encode(b"x:client-token").decode()
        private = httpx.get(base + "/v1.1.0.info", headers={"Authorization": "Basic " + token})
        assert private.status_code == 200
        gosub_app: Any = edge.app
        assert gosub_app._client_caches
        for key, shared in gosub_app._client_caches.items():
            assert key and shared.index is None and shared.recent is None
        assert [e["Version"] for e in _feed(httpx.get(url + "/index").text)] == ["v1.0.0"]
        # Another instance on the same store (as Lambda's scheduled pass) knows the
        # config, and its watch pass finds the new tag by itself.
        other = build_app(settings, {"GITHUB_API_URL": standin.api_url})
        other_watch, _ = _parts(other)
        modules = anyio.run(other_watch.watcher.watched)
        assert [(c.directory, p) for c, p in modules] == [("go/watched", MODULE)]
        assert anyio.run(other_watch.watcher.run_once) == 2
        assert [e["Version"] for e in _feed(httpx.get(url + "/index").text)] == [
            "v1.0.0",
            "v1.1.0",
        ]
    finally:
        server.stop()


def test_recent_modules_are_bounded(tmp_path: Path) -> None:
    recent = RecentModules(DiskStore(tmp_path), max_entries=3)
    configs = [GoproxyConfig(url=f"https://github.com/acme/r{i}") for i in range(5)]
    for c in configs:
        recent.touch(c, "example.test/" + c.repo_path.replace("/", "-"))
    assert [c for c, _ in anyio.run(recent.modules)] == configs[:1:-1]
    assert isinstance(Watcher, type)


def test_lambda_scheduled_watch_pass_records_new_tags(
    watched: tuple[GitRepo, GitHubStandin], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers import aws_lambda

    repo, standin = watched
    config = tmp_path / "gosub.toml"
    config.write_text(
        "[[module]]\n"
        f'module = "{MODULE}"\n'
        'url = "https://github.com/acme/watched"\n'
        'directory = "go/watched"\n'
        'tag_prefix = "w-go-"\n'
    )
    cache = tmp_path / "cache"
    for key in ("GOSUB_GITHUB_TOKEN_PARAM", "GOSUB_GITHUB_TOKEN_SECRET", "GITHUB_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GOSUB_CONFIG", str(config))
    monkeypatch.setenv("GOSUB_CACHE_DIR", str(cache))
    monkeypatch.setenv("GITHUB_API_URL", standin.api_url)
    monkeypatch.setattr(aws_lambda, "_watch", None)
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}

    class Context:
        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 60_000

    assert aws_lambda.watch_handler(event, Context()) == {"new": 1, "watched": 1}
    repo.tag("w-go-1.2.0")
    assert aws_lambda.watch_handler(event, Context()) == {"new": 1, "watched": 1}
    assert aws_lambda.watch_handler(event, Context()) == {"new": 0, "watched": 1}
    entries = anyio.run(IndexLog(DiskStore(cache)).read)
    assert [(e.path, e.version) for e in entries] == [(MODULE, "v1.0.0"), (MODULE, "v1.2.0")]
    # The proxy function (another instance on the same store) serves that feed.
    monkeypatch.setattr(aws_lambda, "_warm", None)
    answer = aws_lambda.handler(
        {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/index",
            "rawQueryString": "",
            "headers": {"host": "x.lambda-url.eu-west-1.on.aws"},
            "requestContext": {
                "http": {"method": "GET", "path": "/index", "sourceIp": "127.0.0.1"},
                "domainName": "x.lambda-url.eu-west-1.on.aws",
            },
            "isBase64Encoded": False,
        },
        Context(),
    )
    assert answer["statusCode"] == 200
    assert [e["Version"] for e in _feed(answer["body"])] == ["v1.0.0", "v1.2.0"]
    monkeypatch.setattr(aws_lambda, "_warm", None)
