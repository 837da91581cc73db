"""The persistent disk tier: survives a restart, is a valid static GOPROXY, and never
holds a partial file."""

from __future__ import annotations

from pathlib import Path

from gosub.store import namespace
from gosub.web import goproxy, make_shared
from tests.conftest import FAST_RETRY, mono_server
from tests.repos import SCENARIOS
from tests.support.ghapi import GitHubStandin
from tests.support.golang import GoRunner


def test_restart_costs_nothing_and_directory_is_a_goproxy(
    standin: GitHubStandin, tmp_path: Path, gocache: Path
) -> None:
    cache_dir = tmp_path / "cache"
    first = mono_server(standin, cache_dir)
    url = first.start()
    try:
        go = GoRunner(tmp_path / "a", gocache=gocache)
        ref = go.mod_download("example.test/mono", "v1.1.0", goproxy=url + "/")
        versions = go.list_versions("example.test/mono", goproxy=url + "/")
    finally:
        first.stop()
    # A new process (new in-memory caches) over the same directory asks GitHub nothing.
    second = mono_server(standin, cache_dir)
    url = second.start()
    try:
        standin.reset()
        again = GoRunner(tmp_path / "b", gocache=gocache).mod_download(
            "example.test/mono", "v1.1.0", goproxy=url + "/"
        )
        assert sum(standin.counts.values()) == 0, standin.counts
    finally:
        second.stop()
    assert again["Sum"] == ref["Sum"] and again["GoModSum"] == ref["GoModSum"]
    # The namespace directory is itself a static GOPROXY.
    ns = namespace(SCENARIOS["mono"].config().identity)
    offline = GoRunner(tmp_path / "c", gocache=gocache).mod_download(
        "example.test/mono", "v1.1.0", goproxy=(cache_dir / ns).as_uri()
    )
    assert offline["Sum"] == ref["Sum"] and not offline.get("Error")
    # The last list gosub served is snapshotted there too, for version listings.
    listing = GoRunner(tmp_path / "d", gocache=gocache)
    assert listing.list_versions("example.test/mono", goproxy=(cache_dir / ns).as_uri()) == versions
    assert versions == ["v1.0.0", "v1.1.0", "v1.2.0-rc.1", "v1.2.0"]
    assert not list(cache_dir.rglob(".tmp-*"))  # no temporaries left behind


def test_failed_build_stores_nothing(standin: GitHubStandin, tmp_path: Path) -> None:
    import httpx

    cache_dir = tmp_path / "cache"
    server = mono_server(standin, cache_dir)
    url = server.start()
    try:
        standin.reset()
        standin.fail("codeload", 500, times=3)
        r = httpx.get(url + "/example.test/mono/@v/v1.0.0.zip")
        assert r.status_code == 502
        assert not list(cache_dir.rglob("*.zip")) and not list(cache_dir.rglob(".tmp-*"))
        standin.reset()
        ok = httpx.get(url + "/example.test/mono/@v/v1.0.0.zip")
        assert ok.status_code == 200
        assert len(list(cache_dir.rglob("v1.0.0.zip"))) == 1
    finally:
        server.stop()


async def test_memory_tier_sits_before_the_store(standin: GitHubStandin, tmp_path: Path) -> None:
    """Versions read from the persistent store are kept in memory: serving them again
    reads the store no more (it may be S3, a request each time)."""
    import httpx

    from gosub.store import DiskStore

    class Counting(DiskStore):
        def __init__(self, root: Path) -> None:
            super().__init__(root)
            self.gets: list[str] = []

        async def get(self, key: str) -> bytes | None:
            self.gets.append(key)
            return await super().get(key)

    cache_dir = tmp_path / "cache"
    for round_ in range(2):  # the second round: a restart, so everything comes from disk
        store = Counting(cache_dir)
        shared = make_shared({"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY, store=store)
        app = goproxy("/", SCENARIOS["mono"].config(), shared=shared)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            for _ in range(3):
                for ext in ("info", "mod"):
                    r = await c.get(f"/example.test/mono/@v/v1.1.0.{ext}")
                    assert r.status_code == 200
        # One read each of .info and .mod (and the .mod's integrity record), however
        # often they are served.
        exts = sorted(k.split("@v/v1.1.0.", 1)[1] for k in store.gets)
        want = ["info", "mod"] if round_ == 0 else ["info", "mod", "mod.sha256"]
        assert exts == want, (round_, store.gets)
        await shared.aclose()
