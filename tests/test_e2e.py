"""End to end with the real go command through gosub served by uvicorn on 127.0.0.1."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gosub.golang import pseudo
from tests.conftest import UvicornThread, build_gosub_app
from tests.repos import ROOT_LICENSE, SCENARIOS
from tests.support.faults import alter
from tests.support.ghapi import GitHubStandin
from tests.support.git import GitRepo
from tests.support.golang import DirectModeServer, GoRunner


def proxy(gosub_url: str, name: str) -> str:
    return f"{gosub_url}/{name}/"


def test_list_versions(go: GoRunner, gosub_url: str) -> None:
    assert go.list_versions("example.test/mono", goproxy=proxy(gosub_url, "mono")) == [
        "v1.0.0",
        "v1.1.0",
        "v1.2.0-rc.1",
        "v1.2.0",
    ]


def test_mod_download_zip_contents(go: GoRunner, gosub_url: str) -> None:
    result = go.mod_download("example.test/mono", "v1.0.0", goproxy=proxy(gosub_url, "mono"))
    assert result["Version"] == "v1.0.0"
    with zipfile.ZipFile(result["Zip"]) as z:
        names = sorted(n.removeprefix("example.test/mono@v1.0.0/") for n in z.namelist())
        assert z.read("example.test/mono@v1.0.0/LICENSE").decode() == ROOT_LICENSE
    # Nested modules (and only them) are left out; innerlib/ shares a prefix with inner/.
    assert "innerlib/innerlib.go" in names
    assert not any(n.startswith(("inner/", "testdata/mod/")) for n in names)
    assert "testdata/plain.txt" in names
    # go 1.21: every path containing /vendor/ is dropped, vendor/<x>/... too.
    assert "vendor/top.go" in names and "vendor/modules.txt" in names
    assert not any(n.startswith("vendor/example.test") for n in names)
    assert "pkg/vendor/vendor.go" not in names
    # Symlinks and submodules are not files in a module zip.
    assert "link.go" not in names and "submod" not in names
    assert "dir with space/ünïcode.txt" in names
    assert not any(n.endswith("/") for n in names)


def test_go_get_latest_and_build(go: GoRunner, gosub_url: str, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "go.mod").write_text("module example.test/app\n\ngo 1.21\n")
    (app / "main.go").write_text(
        'package main\n\nimport (\n\t"fmt"\n\n\t"example.test/mono"\n)\n\n'
        "func main() { fmt.Println(mono.Hello()) }\n"
    )
    env = go.env(GOPROXY=proxy(gosub_url, "mono"), GOFLAGS="-modcacherw -mod=mod")
    go.run("get", "example.test/mono@latest", cwd=app, env=env)
    assert "example.test/mono v1.2.0" in (app / "go.mod").read_text()
    assert "example.test/mono v1.2.0 h1:" in (app / "go.sum").read_text()
    go.run("build", "-o", str(tmp_path / "app.bin"), ".", cwd=app, env=env)
    out = go.run("run", ".", cwd=app, env=env).stdout
    assert out.strip() == "hello v1.2"


def test_get_branch_gives_pseudo_version(go: GoRunner, gosub_url: str, tmp_path: Path) -> None:
    result = go.mod_download("example.test/mono", "main", goproxy=proxy(gosub_url, "mono"))
    assert pseudo.is_pseudo_version(result["Version"])
    assert result["Version"].startswith("v1.2.1-0.20240507070809-")


def test_unknown_version_message(go: GoRunner, gosub_url: str) -> None:
    proc = go.run(
        "mod",
        "download",
        "-json",
        "example.test/mono@v9.9.9",
        env=go.env(GOPROXY=proxy(gosub_url, "mono")),
        check=False,
    )
    assert proc.returncode != 0
    # The go command shows gosub's explanation.
    assert "go/lib/v9.9.9" in proc.stdout + proc.stderr


def test_other_module_path_is_refused_with_reason(go: GoRunner, gosub_url: str) -> None:
    # This deployment pins example.test/mono: the go command shows why v3 is refused.
    proc = go.run(
        "mod",
        "download",
        "-json",
        "example.test/mono/v3@v3.0.0",
        env=go.env(GOPROXY=f"{gosub_url}/mono/"),
        check=False,
    )
    assert proc.returncode != 0
    assert "module example.test/mono/v3 is not served here" in proc.stdout + proc.stderr


@pytest.fixture
def fresh_gosub(standin: GitHubStandin) -> Iterator[str]:
    """A gosub with empty caches, for counting upstream requests."""
    app, _shared = build_gosub_app(standin)
    server = UvicornThread(app)
    url = server.start()
    yield url
    server.stop()


def test_request_budget_cold_and_warm(
    standin: GitHubStandin,
    fresh_gosub: str,
    tmp_path: Path,
    gocache: Path,
    direct: DirectModeServer,
) -> None:
    """A cold go mod download (info + mod + zip) costs at most 3 API requests (commit,
    go.mod, tarball) and one archive download, a /vN module too (its DIR/vN/go.mod comes
    from the tarball, checked against the commit's tree); serving it again in the same
    process costs nothing. Both give the version Go's direct mode gives (a budget met by
    failing is no budget met)."""
    for name, version in [("mono", "v1.1.0"), ("major2", "v2.1.0")]:
        module = SCENARIOS[name].module
        ref = GoRunner(tmp_path / f"direct-{name}", gocache=gocache).mod_download(
            module, version, goproxy="direct", env=direct.env()
        )
        assert not ref.get("Error") and ref["Sum"].startswith("h1:"), ref
        standin.reset()
        cold = GoRunner(tmp_path / f"cold-{name}", gocache=gocache).mod_download(
            module, version, goproxy=f"{fresh_gosub}/{name}/"
        )
        counts = dict(standin.counts)
        downloads = counts.pop("codeload", 0)
        assert sum(counts.values()) <= 3, counts
        assert downloads <= 1, standin.counts
        standin.reset()
        warm = GoRunner(tmp_path / f"warm-{name}", gocache=gocache).mod_download(
            module, version, goproxy=f"{fresh_gosub}/{name}/"
        )
        assert sum(standin.counts.values()) == 0, standin.counts
        for got in (cold, warm):
            assert not got.get("Error"), got
            assert (got["Version"], got["Sum"], got["GoModSum"]) == (
                ref["Version"],
                ref["Sum"],
                ref["GoModSum"],
            )


def test_major_version_go_mod_is_read_alone_when_the_archive_is_not_the_tree(
    standin: GitHubStandin, fresh_gosub: str, tmp_path: Path, gocache: Path
) -> None:
    """A /vN module's DIR/vN/go.mod is taken from the tarball only when the tarball
    rebuilds to the commit's tree: a corrupt first download makes gosub read the file
    alone (one request more) and download the archive again, and the answer is the
    same as from a good one."""
    name, version = "major2", "v2.0.0"
    module = SCENARIOS[name].module
    good = GoRunner(tmp_path / "good", gocache=gocache).mod_download(
        module, version, goproxy=f"{fresh_gosub}/{name}/"
    )
    app, _shared = build_gosub_app(standin)
    server = UvicornThread(app)
    url = server.start()
    try:
        standin.reset()
        standin.tamper("codeload", alter, times=1)
        got = GoRunner(tmp_path / "tampered", gocache=gocache).mod_download(
            module, version, goproxy=f"{url}/{name}/"
        )
    finally:
        server.stop()
    assert not got.get("Error"), got
    assert (got["Sum"], got["GoModSum"]) == (good["Sum"], good["GoModSum"])
    assert standin.counts["contents"] == 2 and standin.counts["codeload"] == 2, standin.counts


def test_list_budget(standin: GitHubStandin, fresh_gosub: str) -> None:
    standin.reset()
    r = httpx.get(f"{fresh_gosub}/many/example.test/many/@v/list")
    assert r.status_code == 200 and len(r.text.split()) == 120
    assert sum(standin.counts.values()) == 1, standin.counts


def test_http_semantics(gosub_url: str) -> None:
    base = f"{gosub_url}/mono/example.test/mono/@v/"
    z = httpx.get(base + "v1.0.0.zip")
    assert z.status_code == 200
    assert z.headers["content-type"] == "application/zip"
    assert int(z.headers["content-length"]) == len(z.content)
    assert "immutable" in z.headers["cache-control"]
    h = httpx.head(base + "v1.0.0.zip")
    assert h.status_code == 200 and h.headers["content-length"] == z.headers["content-length"]
    assert h.content == b""
    assert (
        httpx.get(base + "v1.0.0.zip", headers={"If-None-Match": z.headers["etag"]}).status_code
        == 304
    )
    info = httpx.get(base + "v1.0.0.info")
    assert info.headers["content-type"].startswith("application/json")
    assert json.loads(info.text)["Version"] == "v1.0.0"
    assert "immutable" in info.headers["cache-control"]
    lst = httpx.get(base + "list")
    assert lst.headers["content-type"].startswith("text/plain")
    assert "immutable" not in lst.headers["cache-control"]
    branch = httpx.get(base + "main.info")
    assert "immutable" not in branch.headers["cache-control"]
    latest = httpx.get(f"{gosub_url}/mono/example.test/mono/@latest")
    assert json.loads(latest.text)["Version"] == "v1.2.0"


def test_empty_repository_list_is_200_and_empty(gosub_url: str) -> None:
    r = httpx.get(f"{gosub_url}/empty/example.test/empty/@v/list")
    assert r.status_code == 200 and r.text == ""


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("mono/example.test/mono/@v/v9.9.9.info", 404, "go/lib/v9.9.9"),
        ("mono/example.test/mono/@v/v1.0.0.tar", 404, "VERSION.zip"),
        ("mono/example.test/other/@v/list", 404, "not served here"),
        ("mono/example.test/Mono/@v/list", 404, "not served here"),
        ("mono/example.test/mono/@v/main.zip", 404, "not canonical"),
        ("mono/example.test/m!!ono/@v/list", 404, "not served here"),
        ("mono/nothing-here", 404, "not a Go module proxy request"),
        ("elsewhere/x/@v/list", 404, "outside"),
        ("rootmod/example.test/rootmod/@v/v2.1.0.info", 404, "v2.1.0"),
        ("major2/example.test/major/v2/@v/v1.0.0.info", 410, "module path"),
    ],
)
def test_error_messages(gosub_url: str, path: str, status: int, needle: str) -> None:
    r = httpx.get(f"{gosub_url}/{path}")
    assert r.status_code == status, r.text
    assert needle in r.text
    assert r.headers["content-type"].startswith("text/plain")
    assert "Traceback" not in r.text


def test_go_shows_rate_limit_advice(standin: GitHubStandin, fresh_gosub: str, go: GoRunner) -> None:
    standin.reset()
    standin.fail(
        "matching-refs",
        403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "4102444800"},
        body=b'{"message":"API rate limit exceeded for 127.0.0.1."}',
    )
    proc = go.run(
        "list",
        "-m",
        "-versions",
        "example.test/mono@latest",
        env=go.env(GOPROXY=f"{fresh_gosub}/mono/"),
        check=False,
    )
    assert proc.returncode != 0
    assert "429" in proc.stderr and "GITHUB_TOKEN" in proc.stderr
    standin.reset()


def test_go_shows_upstream_failure_after_retries(
    standin: GitHubStandin, fresh_gosub: str, go: GoRunner
) -> None:
    standin.reset()
    standin.fail("commits", 500, times=3, body=b'{"message":"Server Error"}')
    proc = go.run(
        "mod",
        "download",
        "-json",
        "example.test/mono@v1.0.0",
        env=go.env(GOPROXY=f"{fresh_gosub}/mono/"),
        check=False,
    )
    assert proc.returncode != 0
    assert "502" in proc.stdout + proc.stderr and "answered 500" in proc.stdout + proc.stderr
    assert standin.counts["commits"] == 3  # bounded retries
    # Transient: the next attempt succeeds and is served whole.
    ok = go.mod_download("example.test/mono", "v1.0.0", goproxy=f"{fresh_gosub}/mono/")
    assert ok["Version"] == "v1.0.0" and not ok.get("Error")
    standin.reset()


def test_pseudo_versions_are_validated(gosub_url: str, repos: dict[str, GitRepo]) -> None:
    base = f"{gosub_url}/mono/example.test/mono/@v/"
    sha = repos["acme/mono"].rev_parse("main")[:12]
    good = httpx.get(base + "main.info").json()["Version"]
    assert good == f"v1.2.1-0.20240507070809-{sha}"
    assert httpx.get(base + good + ".info").status_code == 200
    assert httpx.get(base + good + ".mod").text.startswith("module example.test/mono")
    cases = {
        f"v1.2.1-0.20240507070808-{sha}": "does not match version-control timestamp",
        f"v1.2.1-0.20240507070809-{sha[:11]}0": "unknown revision",
        f"v1.9.1-0.20240507070809-{sha}": "preceding tag (v1.9.0) not found",
        f"v1.0.0-20240507070809-{sha}": "must be v0, not v1",
    }
    for version, needle in cases.items():
        r = httpx.get(base + version + ".info")
        assert r.status_code == 404, (version, r.text)
        assert needle in r.text, (version, r.text)
