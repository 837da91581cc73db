"""Prefill, then offline: ``gosub prefill --from go.mod`` fills the store through a fixed
module and a URL config, the GitHub stand-in is stopped, and ``offline = true`` serves
the go command everything it needs to build a program; a miss is a 404 naming the
offline cache. Then ``--export`` writes the store as Athens storage and as a static
GOPROXY, both of which the go command (through a mirror, or file://) accepts."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

import httpx
import pytest

from gosub.cli import build_parser, main
from gosub.prefill import parse_item, read_items
from gosub.settings import MirrorSettings, Settings, build_app, describe, load_settings
from gosub.web import make_shared
from tests.conftest import UvicornThread
from tests.support.ghapi import GitHubStandin
from tests.support.git import GitRepo
from tests.support.golang import DirectModeServer, GoRunner
from tests.support.s3server import SeaweedS3

CUSTOM = "github.com/acme/custom:d=go&p=mylib-go-&s=-release;"

CONFIG = """
[server]
shared = true

[[module]]
module = "example.test/mono"
url = "https://github.com/acme/mono"
directory = "go/lib"
tag_prefix = "go/lib/v"
base = "/"
"""

PROGRAM = """package main

import (
\t"fmt"

\t_ "example.test/custom"
\t"example.test/mono"
)

func main() { fmt.Println(mono.Hello()) }
"""


def _program(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "go.mod").write_text(
        "module example.test/app\n\ngo 1.24\n\nrequire (\n"
        "\texample.test/mono v1.2.0\n"
        "\texample.test/custom v1.0.0 // indirect\n)\n"
    )
    (app / "main.go").write_text(PROGRAM)
    return app


def test_read_items_from_go_mod_go_sum_and_lists(tmp_path: Path) -> None:
    mod = tmp_path / "go.mod"
    mod.write_text(
        'module x\n\nrequire example.com/a v1.0.0\nrequire (\n\t"example.com/b" v1.2.3 '
        "// indirect\n\texample.com/c v0.0.0-20240101000000-0123456789ab\n)\n"
    )
    assert [str(i) for i in read_items(mod)] == [
        "example.com/a@v1.0.0",
        "example.com/b@v1.2.3",
        "example.com/c@v0.0.0-20240101000000-0123456789ab",
    ]
    total = tmp_path / "go.sum"
    total.write_text(
        "example.com/a v1.0.0 h1:x=\nexample.com/a v1.0.0/go.mod h1:y=\n"
        "example.com/d v2.0.0+incompatible/go.mod h1:z=\n"
    )
    assert [str(i) for i in read_items(total)] == [
        "example.com/a@v1.0.0",
        "example.com/d@v2.0.0+incompatible",
    ]
    listing = tmp_path / "versions.txt"
    listing.write_text(f"# comment\nexample.com/a@v1.0.0\n{CUSTOM}/example.test/custom@v1.0.0\n")
    items = read_items(listing)
    assert items[1].config == CUSTOM and items[1].module == "example.test/custom"
    with pytest.raises(ValueError):
        parse_item("example.com/a")
    assert build_parser().parse_args(["serve", "--offline"]).offline is True


def test_prefill_then_offline_builds_a_program(
    repos: dict[str, GitRepo],
    repos_root: Path,
    tmp_path: Path,
    gocache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    standin = GitHubStandin(repos_root)
    standin.start()
    cache = tmp_path / "cache"
    config = tmp_path / "gosub.toml"
    config.write_text(CONFIG)
    monkeypatch.setenv("GITHUB_API_URL", standin.api_url)
    monkeypatch.setenv("GOSUB_CACHE_DIR", str(cache))
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    app = _program(tmp_path)
    custom = f"{CUSTOM}/example.test/custom@v1.0.0"
    try:
        argv = ["prefill", "--config", str(config), "--from", str(app / "go.mod")]
        # example.test/custom is in the go.mod, but only a URL config serves it: it
        # fails until the URL config is named; resumable, so run again.
        assert main(argv) == 1
        out = capsys.readouterr().out
        assert "1 fetched, 0 already there, 1 failed" in out, out
        assert "failed example.test/custom@v1.0.0" in out
        assert main([*argv, custom]) == 1
        assert "1 fetched, 1 already there, 1 failed" in capsys.readouterr().out
        assert main(["prefill", "--config", str(config), custom, "example.test/mono@v1.2.0"]) == 0
        assert "0 fetched, 2 already there, 0 failed" in capsys.readouterr().out
        assert main(["prefill", "--config", str(config), "example.test/mono@v1.9.9"]) == 1
        assert "failed example.test/mono@v1.9.9" in capsys.readouterr().out
    finally:
        standin.stop()
    before = len(standin.requests)

    monkeypatch.setenv("GOSUB_OFFLINE", "true")
    settings = load_settings(path=config)
    assert settings.offline
    server = UvicornThread(build_app(settings))
    url = server.start()
    try:
        go = GoRunner(tmp_path / "go", gocache=gocache)
        env = go.env(GOPROXY=f"{url},{url}/{CUSTOM}/", GOFLAGS="-modcacherw -mod=mod")
        go.run("mod", "tidy", cwd=app, env=env)
        go.run("build", "-o", str(tmp_path / "app.bin"), ".", cwd=app, env=env)
        run = subprocess.run([str(tmp_path / "app.bin")], capture_output=True, text=True)
        assert run.stdout.strip() == "hello v1.2"
        miss = httpx.get(f"{url}/example.test/mono/@v/v1.0.0.info")
        assert miss.status_code == 404
        assert "not in the offline cache" in miss.text
        listed = httpx.get(f"{url}/example.test/mono/@v/list")
        assert listed.status_code == 200 and "v1.2.0" in listed.text.split()
    finally:
        server.stop()
    assert len(standin.requests) == before  # nothing asked of the (stopped) code host

    # The store, exported in both layouts, serves the same program.
    monkeypatch.delenv("GOSUB_OFFLINE")
    for layout in ("athens", "goproxy"):
        dest = tmp_path / f"export-{layout}"
        argv = ["prefill", "--config", str(config), "--export", str(dest), "--layout", layout]
        assert main(argv) == 0
        assert "export: 2 versions" in capsys.readouterr().out
    assert (tmp_path / "export-athens/example.test/mono/v1.2.0/source.zip").is_file()
    go = GoRunner(tmp_path / "go2", gocache=gocache)
    env = go.env(GOPROXY=(tmp_path / "export-goproxy").as_uri(), GOFLAGS="-modcacherw -mod=mod")
    go.run("build", "-o", str(tmp_path / "app2.bin"), ".", cwd=app, env=env)


def test_settings_offline_upstream_and_mirrors(tmp_path: Path) -> None:
    config = tmp_path / "gosub.toml"
    config.write_text(
        '[server]\noffline = true\nupstream = "https://proxy.example/"\n'
        'sumdb_proxy = "sum.golang.org=https://sumdb.example"\n\n'
        '[[mirror]]\npath = "/srv/athens"\nlayout = "athens"\n\n'
        '[[mirror]]\npath = "/srv/modcache"\n'
    )
    s = load_settings(env={}, path=config)
    assert (s.offline, s.upstream, s.sumdb_proxy) == (
        True,
        "https://proxy.example",
        "sum.golang.org=https://sumdb.example",
    )
    assert [(m.path, m.layout) for m in s.mirrors] == [
        ("/srv/athens", "athens"),
        ("/srv/modcache", "goproxy"),
    ]
    assert load_settings(env={"GOSUB_OFFLINE": "0"}, path=config).offline is False
    # The startup line says all of it.
    shared = make_shared({})
    line, plain = describe(s, shared), describe(load_settings(env={}), shared)
    shared.zips.close()
    for part in (
        "athens mirror /srv/athens",
        "goproxy mirror /srv/modcache",
        "everything else from https://proxy.example",
        "/sumdb/ relayed to sum.golang.org=https://sumdb.example",
        "OFFLINE",
    ):
        assert part in line, line
    assert "OFFLINE" not in plain
    for bad, why in [
        ('[[mirror]]\npath = "/x"\nlayout = "zip"\n', "layout"),
        ('[[mirror]]\nlayout = "athens"\n', "path"),
        ('[[mirror]]\npath = "/x"\nroot = "/y"\n', "unknown key"),
        ('[server]\nupstream = "proxy.golang.org"\n', "upstream"),
        ("[server]\noffline = 1\n", "offline"),
    ]:
        config.write_text(bad)
        with pytest.raises(ValueError, match=why):
            load_settings(env={}, path=config)


def test_gomodcache_tree_served_as_a_mirror_offline(
    tmp_path: Path, gocache: Path, direct: DirectModeServer
) -> None:
    """A GOMODCACHE's cache/download, listed as a goproxy-layout mirror, serves the go
    command the same sums even with the server offline."""
    filler = GoRunner(tmp_path / "filler", gocache=gocache)
    refs = {}
    for v in ("v1.0.0", "v1.1.0"):
        r = filler.mod_download("example.test/mono", v, goproxy="direct", env=direct.env())
        assert not r.get("Error"), r
        refs[v] = r["Sum"]
    tree = filler.modcache / "cache" / "download"
    settings = Settings(
        shared=False, cache_dir="", offline=True, mirrors=(MirrorSettings(str(tree), "goproxy"),)
    )
    server = UvicornThread(build_app(settings, env={}))
    url = server.start()
    try:
        for v, want in refs.items():
            got = GoRunner(tmp_path / f"g{v}", gocache=gocache).mod_download(
                "example.test/mono", v, goproxy=url
            )
            assert got.get("Sum") == want, got
        assert httpx.get(f"{url}/example.test/mono/@v/list").text.split() == ["v1.0.0", "v1.1.0"]
        assert httpx.get(f"{url}/example.test/mono/@v/v1.2.0.zip").status_code == 404
    finally:
        server.stop()


async def test_an_offline_server_lists_what_its_store_holds_at_index(
    standin: GitHubStandin, tmp_path: Path
) -> None:
    """Versions gosub learned online (served or pre-filled into the store) are the
    /index feed of the same store served offline, with no code-host request."""
    import json

    import httpx

    from gosub.settings import build_app, load_settings

    cache = tmp_path / "cache"
    online = {"GITHUB_API_URL": standin.api_url, "GOSUB_CACHE_DIR": str(cache)}
    cfg = "/github.com/acme/mono:d=go%2Flib&p=go%2Flib%2Fv;/example.test/mono/@v/"
    app = build_app(load_settings(online), online)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get(cfg + "v1.1.0.info")).status_code == 200
    offline = {**online, "GOSUB_OFFLINE": "1"}
    standin.reset()
    app = build_app(load_settings(offline), offline)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        feed = await c.get("/index")
        miss = await c.get(cfg + "v1.0.0.info")
    lines = [json.loads(line) for line in feed.text.splitlines()]
    assert feed.status_code == 200 and {"example.test/mono"} == {e["Path"] for e in lines}
    assert "v1.1.0" in {e["Version"] for e in lines}
    assert miss.status_code == 404 and "offline cache" in miss.text
    assert sum(standin.counts.values()) == 0, standin.counts


def test_a_bucket_is_exported_like_the_disk_store(
    standin: GitHubStandin,
    seaweed: SeaweedS3,
    direct: DirectModeServer,
    tmp_path: Path,
    gocache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An organisation's proxy on Lambda keeps its store in S3: prefill into the bucket,
    export it for an air-gapped network, and the go command there gets what Go's
    direct mode gets. A version whose bytes in the bucket do not match its integrity
    record is left out, and named."""
    for k, v in seaweed.env().items():
        monkeypatch.setenv(k, v)
    prefix = f"export-{secrets.token_hex(4)}/"
    monkeypatch.setenv("GITHUB_API_URL", standin.api_url)
    monkeypatch.setenv("GOSUB_CACHE_BUCKET", seaweed.bucket)
    monkeypatch.setenv("GOSUB_CACHE_PREFIX", prefix)
    monkeypatch.setenv("GOSUB_CACHE_DIR", str(tmp_path / "unused"))
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    config = tmp_path / "gosub.toml"
    config.write_text(CONFIG)
    items = ["example.test/mono@v1.0.0", "example.test/mono@v1.1.0"]
    assert main(["prefill", "--config", str(config), *items]) == 0
    assert "2 fetched" in capsys.readouterr().out
    client = seaweed.client()
    zips = sorted(
        o["Key"]
        for o in client.list_objects_v2(Bucket=seaweed.bucket, Prefix=prefix)["Contents"]
        if o["Key"].endswith(".zip")
    )
    assert [k.rsplit("/", 1)[1] for k in zips] == ["v1.0.0.zip", "v1.1.0.zip"]

    for layout in ("goproxy", "athens"):
        dest = tmp_path / f"export-{layout}"
        argv = ["prefill", "--config", str(config), "--export", str(dest), "--layout", layout]
        assert main(argv) == 0
        assert "export: 2 versions" in capsys.readouterr().out
    assert (tmp_path / "export-athens/example.test/mono/v1.1.0/source.zip").is_file()
    exported = (tmp_path / "export-goproxy").as_uri()
    for v in ("v1.0.0", "v1.1.0"):
        want = GoRunner(tmp_path / f"d{v}", gocache=gocache).mod_download(
            "example.test/mono", v, goproxy="direct", env=direct.env()
        )
        got = GoRunner(tmp_path / f"e{v}", gocache=gocache).mod_download(
            "example.test/mono", v, goproxy=exported
        )
        assert not got.get("Error") and got["Sum"] == want["Sum"], (got, want)
        assert got["GoModSum"] == want["GoModSum"]

    # Bytes altered in the bucket: that version is not exported.
    client.put_object(Bucket=seaweed.bucket, Key=zips[0], Body=b"PK not the zip")
    dest = tmp_path / "export-again"
    assert main(["prefill", "--config", str(config), "--export", str(dest)]) == 1
    out = capsys.readouterr().out
    assert "export: 1 versions" in out
    assert "skipped example.test/mono@v1.0.0: does not match its integrity record" in out
    assert not (dest / "example.test/mono/@v/v1.0.0.zip").exists()
