"""TOML settings, environment overrides, and the one app built from them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gosub import ConfigError
from gosub.settings import build_app, load_settings
from tests.support.ghapi import GitHubStandin

TOML = """
[server]
port = 9000
shared = true
owners = ["acme"]

[[module]]
module = "example.test/custom"
url = "https://github.com/acme/custom"
directory = "go"
tag_prefix = "mylib-go-"
tag_suffix = "-release"
base = "/"
"""


def test_load_and_env_overrides(tmp_path: Path) -> None:
    f = tmp_path / "gosub.toml"
    f.write_text(TOML)
    s = load_settings({"GOSUB_CONFIG": str(f), "GOSUB_PORT": "9100", "GOSUB_OWNERS": "a, b"})
    assert (s.port, s.shared, s.owners) == (9100, True, ("a", "b"))
    assert s.modules[0].config.tag_suffix == "-release" and s.modules[0].base == "/"
    default = load_settings({"XDG_CACHE_HOME": "/x"})
    assert default.shared and not default.modules and default.host == "127.0.0.1"
    assert default.cache_dir == "/x/gosub"
    assert load_settings({"GOSUB_CACHE_DIR": ""}).cache_dir == ""


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[server]\nprot = 1\n", "unknown key(s) prot"),
        ("[[module]]\ndirectory = 'x'\n", "url is required"),
        ("[[module]]\nurl = 'https://github.com/a/b'\ndirectory = '/x'\n", "#1: directory"),
        ("[server]\nport = 'many'\n", "port must be a number"),
        ("[srv]\n", "unknown section"),
        ("not toml at all [", "not valid TOML"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, needle: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_settings({}, path=f)
    assert needle in str(err.value)


async def test_built_app_serves_fixed_modules_then_shared(
    standin: GitHubStandin, tmp_path: Path
) -> None:
    f = tmp_path / "gosub.toml"
    f.write_text(TOML)
    env = {
        "GOSUB_CONFIG": str(f),
        "GITHUB_API_URL": standin.api_url,
        "GOSUB_CACHE_DIR": str(tmp_path / "cache"),
    }
    app = build_app(load_settings(env), env)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        fixed = await c.get("/example.test/custom/@v/list")
        assert fixed.text.split() == ["v1.0.0", "v1.1.0-beta.1"]
        shared = await c.get(
            "/github.com/acme/mono:d=go%2Flib&p=go%2Flib%2Fv;/example.test/mono/@v/list"
        )
        assert shared.text.split() == ["v1.0.0", "v1.1.0", "v1.2.0-rc.1", "v1.2.0"]
        vanity = await c.get("/custom?go-get=1", headers={"Host": "example.test"})
        assert "example.test/custom mod http://example.test" in vanity.text
        other_owner = await c.get("/github.com/other/x;/example.test/x/@v/list")
        assert other_owner.status_code == 403


def test_git_forge_and_hosts(tmp_path: Path) -> None:
    f = tmp_path / "gosub.toml"
    f.write_text(
        '[server]\ngit_hosts = ["git.example.com"]\ngit_timeout = 30\n\n'
        '[[module]]\nurl = "https://git.example.com/team/mono"\nforge = "git"\n'
        'directory = "go"\n'
    )
    s = load_settings({"GOSUB_CONFIG": str(f)})
    assert s.modules[0].config.forge == "git" and s.git_hosts == ("git.example.com",)
    assert s.git_timeout == 30
    assert load_settings({"GOSUB_CONFIG": str(f), "GOSUB_GIT_HOSTS": "a, b"}).git_hosts == (
        "a",
        "b",
    )
    build_app(s, {})  # the allowed host opens
    f.write_text(f.read_text().replace("git.example.com/team", "other.example.com/team"))
    with pytest.raises(ConfigError, match="not allowed"):
        build_app(load_settings({"GOSUB_CONFIG": str(f)}), {})
    f.write_text('[[module]]\nurl = "github.com/a/b"\nforge = "svn"\n')
    with pytest.raises(ConfigError, match="forge"):
        load_settings({"GOSUB_CONFIG": str(f)})


def test_trust_proxy_headers_from_the_environment() -> None:
    # The number of proxies in front: true is one, false none.
    assert load_settings({}).trust_proxy_headers == 0
    assert load_settings({"GOSUB_TRUST_PROXY_HEADERS": "true"}).trust_proxy_headers == 1
    assert load_settings({"GOSUB_TRUST_PROXY_HEADERS": "0"}).trust_proxy_headers == 0
    assert load_settings({"GOSUB_TRUST_PROXY_HEADERS": "2"}).trust_proxy_headers == 2
    for bad in ("maybe", "-1", "1.5", "99"):
        with pytest.raises(ConfigError, match="trust_proxy_headers"):
            load_settings({"GOSUB_TRUST_PROXY_HEADERS": bad})


@pytest.mark.parametrize(("toml", "hops"), [("true", 1), ("false", 0), ("2", 2), ("0", 0)])
def test_trust_proxy_headers_from_the_file(tmp_path: Path, toml: str, hops: int) -> None:
    f = tmp_path / "gosub.toml"
    f.write_text(f"[server]\ntrust_proxy_headers = {toml}\n")
    assert load_settings({"GOSUB_CONFIG": str(f)}).trust_proxy_headers == hops


def test_trust_proxy_headers_must_be_a_count(tmp_path: Path) -> None:
    f = tmp_path / "gosub.toml"
    f.write_text("[server]\ntrust_proxy_headers = 1.5\n")
    with pytest.raises(ConfigError, match="number of proxies"):
        load_settings({"GOSUB_CONFIG": str(f)})
