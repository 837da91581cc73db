"""The gosub URL format (compatible with the original) and the gosub(base) app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gosub import ConfigError, GoproxyConfig, gosub, gosub_decode, gosub_encode
from tests.conftest import FAST_RETRY, UvicornThread
from tests.support.ghapi import GitHubStandin
from tests.support.git import GitRepo
from tests.support.golang import GoRunner

GH = "https://github.com/more-please/gosub"
# The original's own test vectors and README examples, verbatim.
ORIGINAL = [
    ("github.com/more-please/gosub;", {"url": GH}),
    ("github.com/more-please/gosub:d=goproxy;", {"url": GH, "directory": "goproxy"}),
    ("github.com/more-please/gosub:d=foo%2Fbar;", {"url": GH, "directory": "foo/bar"}),
    (
        "github.com/more-please/gosub:p=pre-&s=-post;",
        {"url": GH, "tag_prefix": "pre-", "tag_suffix": "-post"},
    ),
    ("github.com/more-please/gosub:p=;", {"url": GH, "tag_prefix": ""}),
    (
        "github.com/more-please/utf64:d=go&m=utf64.moreplease.com&p=go-;",
        {
            "url": "https://github.com/more-please/utf64",
            "module": "utf64.moreplease.com",
            "directory": "go",
            "tag_prefix": "go-",
        },
    ),
    (
        "github.com/more-please/more-stuff:d=utf64%2Fgo&m=utf64.moreplease.com&p=utf64-go-;",
        {
            "url": "https://github.com/more-please/more-stuff",
            "module": "utf64.moreplease.com",
            "directory": "utf64/go",
            "tag_prefix": "utf64-go-",
        },
    ),
    (
        "github.com/more-please/more-stuff:d=utf64%2Fgo&p=utf64-go-;",
        {
            "url": "https://github.com/more-please/more-stuff",
            "directory": "utf64/go",
            "tag_prefix": "utf64-go-",
        },
    ),
]


@pytest.mark.parametrize(("encoded", "fields"), ORIGINAL, ids=[e for e, _ in ORIGINAL])
def test_original_examples(encoded: str, fields: dict[str, str]) -> None:
    config = GoproxyConfig(**fields)  # type: ignore[arg-type]
    assert gosub_encode(config) == encoded
    for extra in ("", "ignore;", "/extra/stuff/"):
        decoded = gosub_decode(encoded + extra)
        assert decoded == (config, encoded)


def test_original_invalid_module_is_refused_by_name() -> None:
    # The original's test used m=scooby, which is not a valid Go module path.
    with pytest.raises(ConfigError, match="module"):
        gosub_decode("github.com/more-please/gosub:m=scooby;")


@pytest.mark.parametrize(
    "path", ["", "github.com/a/b", "gitlab.com/a;", "github.com/a;", "nohost/a/b;", "x;"]
)
def test_not_a_config(path: str) -> None:
    assert gosub_decode(path) is None


def test_unknown_parameter_and_bad_values() -> None:
    with pytest.raises(ConfigError, match="unknown parameter"):
        gosub_decode("github.com/a/b:x=1;")
    with pytest.raises(ConfigError, match="directory"):
        gosub_decode("github.com/a/b:d=..%2Fetc;")


# Characters that stress the encoding: the format's own separators (/ : ; & = %), the
# form encoding's (+ % ~), and non-ASCII. Every generated config is a valid one (the
# strategies follow GoproxyConfig's rules), so all examples reach the round trip.
_CHARS = list("abcXYZ019-_.~/%&=;:+!@$,'()é€中 ")
_SEGMENT = st.text(
    alphabet=st.sampled_from([c for c in _CHARS if c != "/"]), min_size=1, max_size=6
).filter(lambda p: p not in (".", ".."))
_DIRECTORY = st.lists(_SEGMENT, max_size=3).map("/".join)
# A tag part: no space, '~' or ':' (git forbids them), no '..' or '//'.
_REF_PART = st.text(
    alphabet=st.sampled_from([c for c in _CHARS if c not in " ~:"]), max_size=12
).filter(lambda v: ".." not in v and "//" not in v)
_PREFIX = _REF_PART.filter(lambda v: not v.startswith(("/", "-", ".")) and not v.endswith(".lock"))
_SUFFIX = _REF_PART.filter(lambda v: not v.endswith(("/", ".", ".lock")))


@settings(max_examples=300, deadline=None)
@given(directory=_DIRECTORY, prefix=_PREFIX, suffix=_SUFFIX)
def test_round_trip(directory: str, prefix: str, suffix: str) -> None:
    config = GoproxyConfig(
        url="https://github.com/o-1/r.x_y",
        directory=directory,
        tag_prefix=prefix,
        tag_suffix=suffix,
        module="example.com/m",
    )
    encoded = gosub_encode(config)
    assert encoded.count(";") == 1 and encoded.endswith(";")
    assert gosub_decode(encoded + "/example.com/m/@v/list") == (config, encoded)


@pytest.fixture(scope="module")
def gosub_app_url(standin: GitHubStandin) -> Iterator[str]:
    server = UvicornThread(
        gosub(
            "/",
            env={"GITHUB_API_URL": standin.api_url, "GITHUB_TOKEN": "tok-secret"},
            retry=FAST_RETRY,
        )
    )
    yield server.start()
    server.stop()


def test_go_through_gosub_url(
    gosub_app_url: str, gosub_url: str, tmp_path: Path, gocache: Path
) -> None:
    config = GoproxyConfig(
        url="https://github.com/acme/mono",
        directory="go/lib",
        tag_prefix="go/lib/v",
        module="example.test/mono",
    )
    encoded = gosub_encode(config)
    assert encoded == "github.com/acme/mono:d=go%2Flib&m=example.test%2Fmono&p=go%2Flib%2Fv;"
    go = GoRunner(tmp_path / "g1", gocache=gocache)
    proxy = f"{gosub_app_url}/{encoded}/"
    assert go.list_versions("example.test/mono", goproxy=proxy) == [
        "v1.0.0",
        "v1.1.0",
        "v1.2.0-rc.1",
        "v1.2.0",
    ]
    via_url = go.mod_download("example.test/mono", "v1.1.0", goproxy=proxy)
    via_goproxy = GoRunner(tmp_path / "g2", gocache=gocache).mod_download(
        "example.test/mono", "v1.1.0", goproxy=f"{gosub_url}/mono/"
    )
    assert via_url["Sum"] == via_goproxy["Sum"] and via_url["GoModSum"] == via_goproxy["GoModSum"]


def test_values_with_separators_round_trip_through_go(
    gosub_app_url: str, repos_root: Path, tmp_path: Path, gocache: Path
) -> None:
    """A directory and tags holding ; & = + % : the original split decoded text and broke."""
    repo = GitRepo(repos_root / "acme" / "odd")
    repo.write("we;ird&dir=+%/go.mod", "module example.test/odd\n")
    repo.write("we;ird&dir=+%/odd.go", "package odd\n")
    repo.commit("odd", date="2024-01-01T00:00:00Z")
    repo.tag("p=1&q+1.0.0;s")
    config = GoproxyConfig(
        url="https://github.com/acme/odd",
        directory="we;ird&dir=+%",
        tag_prefix="p=1&q+",
        tag_suffix=";s",
    )
    encoded = gosub_encode(config)
    assert encoded.count(";") == 1
    go = GoRunner(tmp_path / "g", gocache=gocache)
    proxy = f"{gosub_app_url}/{encoded}/"
    assert go.list_versions("example.test/odd", goproxy=proxy) == ["v1.0.0"]
    result = go.mod_download("example.test/odd", "v1.0.0", goproxy=proxy)
    assert result["Version"] == "v1.0.0" and not result.get("Error")


def test_gosub_commands(gosub_app_url: str) -> None:
    base = (
        f"{gosub_app_url}/github.com/acme/custom:d=go&p=mylib-go-&s=-release;/example.test/custom"
    )
    tags = httpx.get(base + "/@gosub/tags")
    assert tags.status_code == 200
    assert "mylib-js-1.0.0-release" in tags.text.split()  # raw, unfiltered
    rl = httpx.get(base + "/@gosub/rate_limit")
    assert rl.status_code == 200 and "core" in json.loads(rl.text)["resources"]
    assert "tok-secret" not in rl.text and "tok-secret" not in tags.text


@pytest.mark.parametrize(
    ("path", "status", "needle"),
    [
        ("/nonsense/x/@v/list", 404, "github.com/OWNER/REPO"),
        ("/github.com/acme/custom/example.test/custom/@v/list", 404, "ended by ';'"),
        ("/github.com/acme/custom:d=..%2Fx;/example.test/custom/@v/list", 400, "directory"),
        ("/github.com/acme/custom:q=1;/example.test/custom/@v/list", 400, "unknown parameter"),
        ("/github.com/acme/custom;", 404, "/MODULE/@v/"),
    ],
)
def test_gosub_errors(gosub_app_url: str, path: str, status: int, needle: str) -> None:
    r = httpx.get(gosub_app_url + path)
    assert r.status_code == status and needle in r.text


@pytest.fixture(scope="module")
def private_standin(repos_root: Path, repos: object) -> Iterator[GitHubStandin]:
    """The stand-in with acme/attrs private (visible only with a token)."""
    server = GitHubStandin(repos_root, private={"acme/attrs"})
    server.start()
    yield server
    server.stop()


ATTRS = "/github.com/acme/attrs:d=mod&p=mod%2Fv;/example.test/attrs/@v/list"
CUSTOM = "/github.com/acme/custom:d=go&p=mylib-go-&s=-release;/example.test/custom/@v/list"


async def test_shared_server_serves_public_repositories_only(
    private_standin: GitHubStandin,
) -> None:
    env = {"GITHUB_API_URL": private_standin.api_url, "GITHUB_TOKEN": "server-token"}
    strict = gosub("/", env=env, retry=FAST_RETRY)
    lenient = gosub("/", env=env, retry=FAST_RETRY, allow_private=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=strict), base_url="http://t"
    ) as c:
        assert (await c.get(CUSTOM)).text.split() == ["v1.0.0", "v1.1.0-beta.1"]
        r = await c.get(ATTRS)
        assert r.status_code == 404 and "not a public repository" in r.text
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=lenient), base_url="http://t"
    ) as c:
        assert (await c.get(ATTRS)).text.split() == ["v1.0.0"]


async def test_owner_allowlist(private_standin: GitHubStandin) -> None:
    app = gosub(
        "/", env={"GITHUB_API_URL": private_standin.api_url}, retry=FAST_RETRY, owners=["Other"]
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get(CUSTOM)
    assert r.status_code == 403 and "only serves repositories of other" in r.text


async def test_client_token_is_used_for_that_client_only(private_standin: GitHubStandin) -> None:
    app = gosub("/", env={"GITHUB_API_URL": private_standin.api_url}, retry=FAST_RETRY)
    auth = httpx.BasicAuth("me", "client-token")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        anonymous = await c.get(ATTRS)
        assert anonymous.status_code == 404
        private_standin.reset()
        mine = await c.get(ATTRS, auth=auth)
        assert mine.status_code == 200 and mine.text.split() == ["v1.0.0"]
        assert private_standin.requests and all(a for _, _, a in private_standin.requests)
        zip_ok = await c.get(ATTRS.replace("list", "v1.0.0.zip"), auth=auth)
        assert zip_ok.status_code == 200
        # The client's token goes to the API host only, never to the archive host.
        assert private_standin.archive_requests
        assert not any(a for _, _, a in private_standin.archive_requests)
        assert not any(
            "client-token" in " ".join(e.headers.values())
            for e in private_standin.exchanges
            if e.origin == "codeload"
        )
        # Nobody else gets it from a cache, and the server never sends the client's token.
        private_standin.reset()
        again = await c.get(ATTRS.replace("list", "v1.0.0.zip"))
        assert again.status_code == 404
        assert not any(a for _, _, a in private_standin.requests)


def test_go_sends_credentials_from_the_goproxy_url(
    private_standin: GitHubStandin,
    tls_cert: tuple[Path, Path],
    tmp_path: Path,
    gocache: Path,
) -> None:
    server = UvicornThread(
        gosub("/", env={"GITHUB_API_URL": private_standin.api_url}, retry=FAST_RETRY),
        tls=tls_cert,
    )
    url = server.start()
    try:
        go = GoRunner(tmp_path / "g", gocache=gocache)
        trust = {"SSL_CERT_FILE": str(tls_cert[0])}
        path = "github.com/acme/attrs:d=mod&p=mod%2Fv;/"
        with_token = url.replace("https://", "https://me:client-token@") + "/" + path
        assert go.list_versions("example.test/attrs", goproxy=with_token, env=trust) == ["v1.0.0"]
        result = go.mod_download("example.test/attrs", "v1.0.0", goproxy=with_token, env=trust)
        assert result["Version"] == "v1.0.0" and not result.get("Error")
        # Without the token the private repository does not exist for this client.
        anonymous = GoRunner(tmp_path / "anon", gocache=gocache)
        proc = anonymous.run(
            "mod",
            "download",
            "-json",
            "example.test/attrs@v1.0.0",
            env=anonymous.env(GOPROXY=f"{url}/{path}", **trust),
            check=False,
        )
        assert proc.returncode != 0 and "404 Not Found" in proc.stdout + proc.stderr
    finally:
        server.stop()


def test_huge_config_is_400(gosub_app_url: str) -> None:
    r = httpx.get(f"{gosub_app_url}/github.com/acme/custom:d={'a' * 3000};/m/@v/list")
    assert r.status_code == 400 and "at most 2048" in r.text


def test_url_configs_are_always_the_github_api() -> None:
    """A URL never makes a shared server run git: ``.git`` names stay GitHub repositories."""
    decoded = gosub_decode("github.com/acme/lib.git;")
    assert decoded is not None and decoded[0].forge == "github"
    with pytest.raises(ConfigError):
        gosub_encode(GoproxyConfig(url="https://github.com/acme/lib.git", forge="git"))


def test_url_configs_name_the_host() -> None:
    """HOST/PATH before the ':' or ';': GitLab's nested groups round-trip, GitHub paths
    are OWNER/REPO, and a host's forge comes from the server's map, never git."""
    config = GoproxyConfig(url="https://gitlab.com/group/sub/project", directory="go")
    assert gosub_encode(config) == "gitlab.com/group/sub/project:d=go;"
    decoded = gosub_decode("gitlab.com/group/sub/project:d=go;")
    assert decoded is not None and decoded[0] == config and decoded[0].forge == "gitlab"
    corp = gosub_decode("git.corp.example/a/b;", {"git.corp.example": "gitlab"})
    assert corp is not None and corp[0].forge == "gitlab" and corp[0].path == "a/b"
    assert gosub_decode("ghe.corp.example/a/b;")[0].forge == "github"  # type: ignore[index]
    with pytest.raises(ConfigError, match="OWNER/REPO"):
        gosub_decode("github.com/a/b/c;")
    with pytest.raises(ConfigError):
        gosub_encode(GoproxyConfig(url="https://gitlab.example:8443/a/b", forge="gitlab"))
