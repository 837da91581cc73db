"""GitLab client configuration: which API URL and token a host gets."""

from __future__ import annotations

from gosub.sources.gitlab import GitLabClient, api_url_for


def test_api_url_for_hosts() -> None:
    assert api_url_for("gitlab.com") == "https://gitlab.com/api/v4"
    assert api_url_for("git.example.org") == "https://git.example.org/api/v4"


async def test_token_only_for_its_own_gitlab() -> None:
    env = {"GITLAB_TOKEN": "glpat-x"}
    com = GitLabClient.from_env("gitlab.com", env)
    assert com.api_url == "https://gitlab.com/api/v4" and com.has_token
    other = GitLabClient.from_env("git.example.org", env)
    assert other.api_url == "https://git.example.org/api/v4" and not other.has_token
    managed = {"GITLAB_TOKEN": "glpat-y", "GITLAB_API_URL": "https://git.example.org/gl/api/v4/"}
    mine = GitLabClient.from_env("git.example.org", managed)
    assert mine.api_url == "https://git.example.org/gl/api/v4" and mine.has_token
    assert mine.host == "git.example.org"
    assert not GitLabClient.from_env("gitlab.com", managed).has_token
    assert not GitLabClient.from_env("gitlab.com", {}).has_token
    for client in (com, other, mine):
        await client.aclose()
