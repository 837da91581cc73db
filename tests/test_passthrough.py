"""Upstream pass-through against a static GOPROXY served on loopback (made by
``gosub pack``), stopped afterwards: the go command gets Go's sums through gosub, gosub
keeps what it checked and serves it with the upstream gone; bad upstream bytes are never
stored; /sumdb answers 404 unless sumdb_proxy is set, then it is relayed."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import httpx
import pytest

from gosub.pack import pack
from gosub.settings import Settings, build_app
from gosub.web.passthrough import passthrough
from tests.conftest import UvicornThread
from tests.repos import SCENARIOS
from tests.support.git import GitRepo
from tests.support.golang import DirectModeServer, GoRunner


class StaticProxy:
    """A directory served over HTTP on 127.0.0.1 (a static GOPROXY)."""

    def __init__(self, root: Path) -> None:
        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

        self.requests = 0
        outer = self

        class Counting(Quiet):
            def do_GET(self) -> None:
                outer.requests += 1
                super().do_GET()

        handler = functools.partial(Counting, directory=str(root))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pack_all(repos: dict[str, GitRepo], out: Path, names: list[str]) -> None:
    for name in names:
        s = SCENARIOS[name]
        for v in s.versions:
            asyncio.run(
                pack(
                    s.module,
                    v,
                    str(repos[f"{s.owner}/{s.repo}"].path),
                    out,
                    directory=s.directory,
                    prefix=s.tag_prefix,
                    suffix=s.tag_suffix,
                )
            )


@pytest.fixture
def static_upstream(repos: dict[str, GitRepo], tmp_path: Path) -> Iterator[StaticProxy]:
    root = tmp_path / "upstream"
    _pack_all(repos, root, ["mono", "upper"])
    server = StaticProxy(root)
    yield server
    server.stop()


def test_passthrough_serves_stores_and_outlives_the_upstream(
    static_upstream: StaticProxy,
    tmp_path: Path,
    gocache: Path,
    direct: DirectModeServer,
) -> None:
    cache = tmp_path / "cache"
    settings = Settings(shared=False, upstream=static_upstream.url, cache_dir=str(cache))
    server = UvicornThread(build_app(settings, env={}))
    url = server.start()
    try:
        for name, version in (("mono", "v1.2.0"), ("upper", "v1.1.0-Beta")):
            s = SCENARIOS[name]
            ref = GoRunner(tmp_path / f"d-{name}", gocache=gocache).mod_download(
                s.module, version, goproxy="direct", env=direct.env()
            )
            got = GoRunner(tmp_path / f"g-{name}", gocache=gocache).mod_download(
                s.module, version, goproxy=url
            )
            assert not got.get("Error"), got
            assert (got["Sum"], got["GoModSum"]) == (ref["Sum"], ref["GoModSum"])
        listed = GoRunner(tmp_path / "l", gocache=gocache).list_versions(
            "example.test/mono", goproxy=url
        )
        assert listed == list(SCENARIOS["mono"].versions)
        sumdb = httpx.get(f"{url}/sumdb/sum.golang.org/supported")
        assert sumdb.status_code == 404
    finally:
        server.stop()
    static_upstream.stop()

    # The upstream is gone: a new process over the same store serves the same bytes.
    server = UvicornThread(build_app(settings, env={}))
    url = server.start()
    try:
        s = SCENARIOS["mono"]
        got = GoRunner(tmp_path / "after", gocache=gocache).mod_download(
            s.module, "v1.2.0", goproxy=url
        )
        assert not got.get("Error"), got
        ref = GoRunner(tmp_path / "d-mono", gocache=gocache).mod_download(
            s.module, "v1.2.0", goproxy="direct", env=direct.env()
        )
        assert got["Sum"] == ref["Sum"]
        resp = httpx.get(f"{url}/example.test/mono/@v/list")
        assert resp.status_code == 200
        assert "v1.2.0" in resp.text.split()
        assert resp.headers.get("Gosub-Stale")
        # Never fetched, and nowhere to fetch it from.
        missing = httpx.get(f"{url}/example.test/mono/@v/v1.0.0.zip")
        assert missing.status_code == 502
    finally:
        server.stop()


def _app_over(upstream_url: str, store_dir: Path) -> httpx.AsyncClient:
    from gosub.store import DiskStore

    app = passthrough(upstream_url, DiskStore(store_dir))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gosub")


def test_passthrough_refuses_and_never_stores_bad_bytes(
    repos: dict[str, GitRepo], tmp_path: Path
) -> None:
    root = tmp_path / "upstream"
    _pack_all(repos, root, ["mono"])
    vdir = root / "example.test" / "mono" / "@v"
    # v1.0.0: a zip whose go.mod is not the .mod; v1.1.0: an entry outside the prefix;
    # v1.2.0: .info naming another version.
    (vdir / "v1.0.0.mod").write_text("module example.test/mono\n\ngo 1.99\n")
    z = vdir / "v1.1.0.zip"
    with zipfile.ZipFile(z, "a") as zf:
        zf.writestr("example.test/evil@v1.1.0/x.go", "package evil\n")
    (vdir / "v1.2.0.info").write_text(json.dumps({"Version": "v9.9.9"}))
    upstream = StaticProxy(root)
    store_dir = tmp_path / "store"

    async def run() -> dict[str, int]:
        async with _app_over(upstream.url, store_dir) as client:
            out = {}
            for v in ("v1.0.0", "v1.1.0", "v1.2.0", "v1.2.0-rc.1"):
                out[v] = (await client.get(f"/example.test/mono/@v/{v}.zip")).status_code
            return out

    try:
        got = asyncio.run(run())
    finally:
        upstream.stop()
    assert got == {"v1.0.0": 502, "v1.1.0": 502, "v1.2.0": 502, "v1.2.0-rc.1": 200}
    stored = sorted(p.name for p in store_dir.rglob("*.zip"))
    assert stored == ["v1.2.0-rc.1.zip"]


def test_passthrough_sumdb_relay_and_unknown_module(
    repos: dict[str, GitRepo], tmp_path: Path
) -> None:
    root = tmp_path / "sumdb"
    (root / "lookup").mkdir(parents=True)
    (root / "latest").write_text("go.sum database tree\n1\nhash\n")
    (root / "lookup" / "example.com").write_text("a record\n")  # a file named like a path
    sumdb = StaticProxy(root)
    empty = tmp_path / "empty"
    empty.mkdir()
    upstream = StaticProxy(empty)
    try:
        from gosub.store import DiskStore

        app = passthrough(
            upstream.url,
            DiskStore(tmp_path / "store"),
            sumdb_proxy=f"sum.golang.org={sumdb.url}",
        )

        async def run() -> list[tuple[int, str]]:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://g") as c:
                out = []
                for path in (
                    "/sumdb/sum.golang.org/supported",
                    "/sumdb/sum.golang.org/latest",
                    "/sumdb/sum.golang.org/lookup/example.com",
                    "/sumdb/other.example/supported",
                    "/example.com/nothing/@v/v1.0.0.info",
                ):
                    r = await c.get(path)
                    out.append((r.status_code, r.text))
                return out

        got = asyncio.run(run())
    finally:
        sumdb.stop()
        upstream.stop()
    assert [s for s, _ in got] == [200, 200, 200, 404, 404]
    assert got[1][1].startswith("go.sum database tree")
    assert "upstream" in got[4][1]
    assert not list((tmp_path / "store").rglob("*.info"))


def test_prefill_through_the_upstream_then_offline(
    static_upstream: StaticProxy,
    tmp_path: Path,
    gocache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gosub.cli import main
    from gosub.settings import load_settings

    config = tmp_path / "gosub.toml"
    config.write_text(f'[server]\nshared = false\nupstream = "{static_upstream.url}"\n')
    monkeypatch.setenv("GOSUB_CACHE_DIR", str(tmp_path / "cache"))
    items = ["example.test/mono@v1.2.0", "example.test/Upper/Lib@v1.0.0"]
    assert main(["prefill", "--config", str(config), *items]) == 0
    assert "2 fetched, 0 already there, 0 failed" in capsys.readouterr().out
    static_upstream.stop()
    settings = load_settings(path=config, env={"GOSUB_CACHE_DIR": str(tmp_path / "cache")})
    server = UvicornThread(build_app(dataclasses.replace(settings, offline=True), env={}))
    url = server.start()
    try:
        got = GoRunner(tmp_path / "g", gocache=gocache).mod_download(
            "example.test/Upper/Lib", "v1.0.0", goproxy=url
        )
        assert not got.get("Error"), got
        listed = httpx.get(f"{url}/example.test/mono/@v/list")
        assert listed.status_code == 200 and "v1.2.0" in listed.text.split()
        miss = httpx.get(f"{url}/example.test/mono/@v/v1.0.0.mod")
        assert miss.status_code == 404 and "offline cache" in miss.text
        unknown = httpx.get(f"{url}/example.test/nothing/@v/list")
        assert unknown.status_code == 404 and "offline cache" in unknown.text
    finally:
        server.stop()
