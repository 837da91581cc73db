"""Choosing and opening the source for a config: the one place that knows which code
hosts exist, so the layers above ask for "the repository of this config" and never name
a forge.

:class:`Sources` holds the process's HTTP clients (one connection pool per API host and
token) and opens a :class:`~gosub.sources.base.Source` for a :class:`GoproxyConfig`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from gosub.config import GoproxyConfig
from gosub.sources.base import RetryPolicy, Source
from gosub.sources.github import DEFAULT_API_URL, GitHubClient, GitHubSource


def github_api_url(host: str) -> str:
    """The REST API of a GitHub host: api.github.com, or GitHub Enterprise Server's
    ``https://HOST/api/v3``."""
    return DEFAULT_API_URL if host == "github.com" else f"https://{host}/api/v3"


class Sources:
    """The code-host clients of one process, and the factory of sources.

    ``api_url`` (``GITHUB_API_URL``), when given, serves every GitHub-style host;
    otherwise each host gets its own API URL (:func:`github_api_url`). ``token``
    (``GITHUB_TOKEN``) is sent to those API hosts only.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        api_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._token = token or None
        self.api_url = api_url.rstrip("/") if api_url else None
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._clients: dict[str, GitHubClient] = {}

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        api_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> Sources:
        """Sources configured from ``env`` (default ``os.environ``; ``{}`` ignores it):
        ``GITHUB_TOKEN`` and ``GITHUB_API_URL``; an explicit ``api_url`` wins."""
        env = os.environ if env is None else env
        return cls(
            token=env.get("GITHUB_TOKEN") or None,
            api_url=api_url or env.get("GITHUB_API_URL") or None,
            timeout=timeout,
            retry=retry,
        )

    @property
    def has_token(self) -> bool:
        """Whether requests carry the server's credentials (never exposed)."""
        return self._token is not None

    def with_token(self, token: str) -> Sources:
        """Sources like these but authenticated as ``token`` (a client's own), with
        connection pools of their own."""
        return Sources(token=token, api_url=self.api_url, timeout=self.timeout, retry=self.retry)

    def client_for(self, host: str) -> GitHubClient:
        """The (reused) API client for a GitHub-style host."""
        url = self.api_url or github_api_url(host)
        client = self._clients.get(url)
        if client is None:
            client = GitHubClient(
                api_url=url, token=self._token, timeout=self.timeout, retry=self.retry
            )
            self._clients[url] = client
        return client

    def open(self, config: GoproxyConfig) -> Source:
        """The source of ``config``'s repository."""
        return GitHubSource(
            self.client_for(config.host),
            config.owner,
            config.repo,
            url=f"https://{config.host}/{config.owner}/{config.repo}",
        )

    async def aclose(self) -> None:
        """Close every connection pool."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
