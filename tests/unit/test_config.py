"""GoproxyConfig validation: bad values fail at construction, naming the field."""

from __future__ import annotations

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
