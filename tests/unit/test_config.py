"""GoproxyConfig validation: bad values fail at construction, naming the field."""

from __future__ import annotations

import dataclasses
import os

import pytest

from gosub import ConfigError, GoproxyConfig


def test_defaults_and_url_forms() -> None:
    c = GoproxyConfig(url="https://github.com/Acme/lib")
    assert (c.host, c.owner, c.repo) == ("github.com", "Acme", "lib")
    assert (c.directory, c.tag_prefix, c.tag_suffix, c.module) == ("", "v", "", None)
    assert GoproxyConfig(url="github.com/acme/lib.git").repo == "lib"
    assert GoproxyConfig(url="https://ghe.example.com/acme/lib/").host == "ghe.example.com"


def test_tag_mapping() -> None:
    c = GoproxyConfig(url="github.com/a/b", tag_prefix="mylib-go-", tag_suffix="-release")
    assert c.tag_for("1.2.3") == "mylib-go-1.2.3-release"
    assert c.version_of_tag("mylib-go-1.2.3-release") == "v1.2.3"
    assert c.version_of_tag("mylib-go-1.2.3") is None
    assert c.version_of_tag("mylib-go--release") is None
    assert GoproxyConfig(url="github.com/a/b", tag_prefix="").version_of_tag("1.0.0") == "v1.0.0"


def test_directory_is_normalised() -> None:
    assert GoproxyConfig(url="github.com/a/b", directory="go/lib/").directory == "go/lib"
    assert GoproxyConfig(url="github.com/a/b", directory=".").directory == ""


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "https://gitlab.com/a"}, "url"),
        ({"url": "https://github.com/-bad/repo"}, "owner"),
        ({"url": "https://github.com/a/b c"}, "url"),
        ({"url": "https://github.com/a/.."}, "url"),
        ({"url": "github.com/a/b", "directory": "/abs"}, "directory"),
        ({"url": "github.com/a/b", "directory": "a/../b"}, "directory"),
        ({"url": "github.com/a/b", "directory": "a//b"}, "directory"),
        ({"url": "github.com/a/b", "tag_prefix": "v 1"}, "tag_prefix"),
        ({"url": "github.com/a/b", "tag_prefix": "a..b"}, "tag_prefix"),
        ({"url": "github.com/a/b", "tag_suffix": "x.lock"}, "tag_suffix"),
        ({"url": "github.com/a/b", "module": "example.com/Bad Path"}, "module"),
        ({"url": "github.com/a/b", "module": "example.com/x/v1"}, "module"),
    ],
)
def test_invalid_values_name_the_field(kwargs: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        GoproxyConfig(**kwargs)  # type: ignore[arg-type]
    assert field in str(err.value)


def test_github_identity_is_unchanged() -> None:
    """Store namespaces are digests of the identity: it must stay what it always was
    for GitHub configs, or every deployed disk/S3 cache is orphaned."""
    c = GoproxyConfig(
        url="https://github.com/Acme/Lib", directory="go", tag_prefix="go/v", module="x.test/m"
    )
    assert c.identity == ("github.com", "acme", "lib", "go", "go/v", "", "x.test/m")
    assert GoproxyConfig(url="ghe.example.com/a/b").identity == (
        "ghe.example.com",
        "a",
        "b",
        "",
        "v",
        "",
        "",
    )
    assert GoproxyConfig(url="github.com/a/b", forge="github") == GoproxyConfig(
        url="github.com/a/b"
    )


@pytest.mark.parametrize(
    ("url", "forge", "host", "path"),
    [
        ("https://github.com/a/b", "github", "github.com", "a/b"),
        ("github.com/a/b.git", "github", "github.com", "a/b"),
        ("https://ghe.example.com/a/b", "github", "ghe.example.com", "a/b"),
        ("https://gitlab.com/group/sub/project", "gitlab", "gitlab.com", "group/sub/project"),
        ("gitlab.com/group/project.git", "gitlab", "gitlab.com", "group/project"),
        ("file:///srv/git/mono", "git", "", "/srv/git/mono"),
        ("ssh://git@git.example.com/team/mono.git", "git", "git.example.com", "team/mono.git"),
        ("git@git.example.com:team/mono.git", "git", "git.example.com", "team/mono.git"),
        ("https://git.example.com/team/mono.git", "git", "git.example.com", "team/mono.git"),
        ("/srv/git/mono", "git", "", "/srv/git/mono"),
    ],
)
def test_forge_is_inferred_from_the_url(url: str, forge: str, host: str, path: str) -> None:
    c = GoproxyConfig(url=url)
    assert (c.forge, c.host, c.path) == (forge, host, path)


def test_git_remotes() -> None:
    local = GoproxyConfig(url="./repo")
    assert local.forge == "git" and local.url == local.remote == os.path.abspath("repo")
    assert local.identity[:2] == ("git", os.path.abspath("repo"))
    creds = GoproxyConfig(url="https://user:TOKEN@git.example.com/a/mono.git")
    assert creds.remote == "https://user:TOKEN@git.example.com/a/mono.git"
    assert creds.public_url == creds.repo_path == "https://git.example.com/a/mono.git"
    assert "TOKEN" not in repr(creds) and "TOKEN" not in str(creds.identity)
    explicit = GoproxyConfig(url="https://github.com/a/b", forge="git")
    assert (explicit.remote, explicit.identity[0]) == ("https://github.com/a/b", "git")
    gl = GoproxyConfig(url="https://gitlab.example.com/g/s/p", forge="gitlab")
    assert (gl.owner, gl.repo, gl.repo_path) == ("g/s", "p", "gitlab.example.com/g/s/p")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "github.com/a/b", "forge": "svn"}, "forge"),
        ({"url": "./repo", "forge": "github"}, "local path"),
        ({"url": "ssh://git@h.example/a.git", "forge": "gitlab"}, "git remote"),
        ({"url": "https://gitlab.com/a/-/tree"}, "GitLab"),
        ({"url": "ftp://h.example/a.git"}, "scheme"),
        ({"url": "https://u:SECRET@github.com/a/b"}, "credentials"),
    ],
)
def test_bad_forge_urls(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        GoproxyConfig(**kwargs)  # type: ignore[arg-type]
    assert "SECRET" not in str(err.value)


@pytest.mark.parametrize(
    "url",
    ["git@github.com:acme/private.git", "ssh://git@github.com/acme/x.git", "/etc", "file:///x"],
)
def test_the_web_form_never_builds_a_git_config(url: str) -> None:
    """The shared server's form must not make it run git (with its own ssh keys or
    local files) for whoever fills it in."""
    from gosub.web.webpage import parse_form

    config, error = parse_form({"url": url})
    assert config is None and "github.com" in error


def test_equal_configs_hash_alike_and_a_changed_one_does_not() -> None:
    a = GoproxyConfig(url="https://github.com/acme/mono", directory="go/lib")
    b = GoproxyConfig(url="https://github.com/acme/mono", directory="go/lib/")
    c = dataclasses.replace(a, tag_prefix="go/lib/v")
    assert a == b and hash(a) == hash(b)
    assert c != a and {a: 1, c: 2}[dataclasses.replace(c)] == 2
    assert (
        GoproxyConfig(url="https://github.com/acme/mono", directory="go/lib", forge="github") == a
    )
