"""Choosing and opening the source for a config: the one place that knows which code
hosts exist, so the layers above ask for "the repository of this config" and never name
a forge.

:class:`Sources` holds the process's HTTP clients (one connection pool per API host and
token) and opens a :class:`~gosub.sources.base.Source` for a :class:`GoproxyConfig`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Collection, Mapping
from pathlib import Path

import anyio.to_thread

from gosub.config import GoproxyConfig
from gosub.errors import ConfigError
from gosub.sources.base import FileCache, RetryPolicy, Revalidated, Source
from gosub.sources.git import GitMirror, GitRunner, GitSource, mirror_name
from gosub.sources.github import DEFAULT_API_URL, GitHubClient, GitHubSource
from gosub.sources.gitlab import GitLabClient, GitLabSource


def github_api_url(host: str) -> str:
    """The REST API of a GitHub host: api.github.com, or GitHub Enterprise Server's
    ``https://HOST/api/v3``."""
    return DEFAULT_API_URL if host == "github.com" else f"https://{host}/api/v3"


class Sources:
    """The code-host clients of one process, and the factory of sources.

    ``api_url`` (``GITHUB_API_URL``), when given, serves every GitHub-style host;
    otherwise each host gets its own API URL (:func:`github_api_url`). ``token``
    (``GITHUB_TOKEN``) is sent to those API hosts only.

    Configs of forge ``git`` are read with the git command through bare mirrors under
    ``git_dir`` (default: a temporary directory, removed by :meth:`aclose`), each git
    command bounded by ``git_timeout`` seconds and at most ``git_processes`` at once;
    ``git_env`` is git's environment (default ``os.environ``: git's own credentials).
    ``git_hosts``, when given, are the only hosts git remotes may be on (``"file"``
    allows local paths and ``file://``); any other is refused with a ConfigError.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        api_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        git_dir: str | None = None,
        git_timeout: float = 120.0,
        git_processes: int = 8,
        git_env: Mapping[str, str] | None = None,
        git: GitRunner | None = None,
        git_hosts: Collection[str] | None = None,
        gitlab_env: Mapping[str, str] | None = None,
        memory_bytes: int = 128 << 20,
    ) -> None:
        self._token = token or None
        # Half for revalidated listings, half for file contents, each shared by every
        # API client (GitHub and GitLab hosts alike) and source.
        self.memory_bytes = memory_bytes
        self.files = FileCache(memory_bytes // 2)
        self.listings = Revalidated(memory_bytes // 2)
        # GITLAB_TOKEN and GITLAB_API_URL: the token goes to that one GitLab only.
        self.gitlab_env = dict(gitlab_env or {})
        self._gitlab: dict[str, GitLabClient] = {}
        self.api_url = api_url.rstrip("/") if api_url else None
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._clients: dict[str, GitHubClient] = {}
        self.git_dir = git_dir
        self._git_tmp: str | None = None
        self.git = git or GitRunner(env=git_env, timeout=git_timeout, max_processes=git_processes)
        self._mirrors: dict[Path, GitMirror] = {}
        self._git_owner: Sources | None = None
        self.git_hosts = None if git_hosts is None else frozenset(h.lower() for h in git_hosts)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        api_url: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        git_dir: str | None = None,
        git_timeout: float = 120.0,
        git_env: Mapping[str, str] | None = None,
        git_hosts: Collection[str] | None = None,
        memory_bytes: int = 128 << 20,
    ) -> Sources:
        """Sources configured from ``env`` (default ``os.environ``; ``{}`` ignores it):
        ``GITHUB_TOKEN`` and ``GITHUB_API_URL``; an explicit ``api_url`` wins. The git
        settings are :class:`Sources`'s own (git's environment is ``git_env``, never
        ``env``)."""
        env = os.environ if env is None else env
        return cls(
            token=env.get("GITHUB_TOKEN") or None,
            api_url=api_url or env.get("GITHUB_API_URL") or None,
            timeout=timeout,
            retry=retry,
            git_dir=git_dir,
            git_timeout=git_timeout,
            git_env=git_env,
            git_hosts=git_hosts,
            gitlab_env={k: v for k, v in env.items() if k in ("GITLAB_TOKEN", "GITLAB_API_URL")},
            memory_bytes=memory_bytes,
        )

    @property
    def has_token(self) -> bool:
        """Whether requests carry the server's credentials (never exposed)."""
        return self._token is not None

    def with_token(self, token: str) -> Sources:
        """Sources like these but authenticated as ``token`` (a client's own), with
        connection pools of their own."""
        other = Sources(
            token=token,
            api_url=self.api_url,
            timeout=self.timeout,
            retry=self.retry,
            git_dir=self.git_dir,
            git=self.git,
            git_hosts=self.git_hosts,
            gitlab_env=self.gitlab_env,
            # A client's own caches are small: 32 clients must not add up to much.
            memory_bytes=8 << 20,
        )
        other._git_owner = self  # git's credentials are git's own: the same mirrors
        return other

    def quota_low(self, fraction: float) -> bool:
        """Whether a GitHub host said less than ``fraction`` of its hourly quota is left."""
        return any(
            c.remaining is not None and c.limit and c.remaining < fraction * c.limit
            for c in self._clients.values()
        )

    def client_for(self, host: str) -> GitHubClient:
        """The (reused) API client for a GitHub-style host."""
        url = self.api_url or github_api_url(host)
        client = self._clients.get(url)
        if client is None:
            client = GitHubClient(
                api_url=url,
                token=self._token,
                timeout=self.timeout,
                retry=self.retry,
                revalidated=self.listings,
            )
            self._clients[url] = client
        return client

    def open(self, config: GoproxyConfig) -> Source:
        """The source of ``config``'s repository, by its forge."""
        if config.forge == "git":
            self._check_git_host(config)
            return GitSource(self.mirror_for(config.remote, config.public_url))
        if config.forge == "gitlab":
            client = self._gitlab.get(config.host)
            if client is None:
                client = GitLabClient.from_env(
                    config.host,
                    self.gitlab_env,
                    timeout=self.timeout,
                    retry=self.retry,
                    revalidated=self.listings,
                )
                self._gitlab[config.host] = client
            return GitLabSource(
                client,
                config.path,
                url=f"https://{config.host}/{config.path}",
                files=self.files,
            )
        return GitHubSource(
            self.client_for(config.host),
            config.owner,
            config.repo,
            url=f"https://{config.host}/{config.owner}/{config.repo}",
            files=self.files,
        )

    def _check_git_host(self, config: GoproxyConfig) -> None:
        allowed = self.git_hosts
        if allowed is None:
            return
        host = config.host or "file"
        if config.remote.startswith("file:") or not config.host:
            host = "file"
        if host not in allowed:
            shown = ", ".join(sorted(allowed)) or "none"
            raise ConfigError(
                f"url {config.public_url!r}: git host {host!r} is not allowed here "
                f"(git_hosts: {shown})"
            )

    def mirror_for(self, remote: str, public_url: str) -> GitMirror:
        """The (reused) local mirror of a git remote."""
        if self._git_owner is not None:
            return self._git_owner.mirror_for(remote, public_url)
        if self.git_dir is None:
            if self._git_tmp is None:
                self._git_tmp = tempfile.mkdtemp(prefix="gosub-git-")
            base = self._git_tmp
        else:
            base = self.git_dir
        path = Path(base) / mirror_name(public_url)
        mirror = self._mirrors.get(path)
        if mirror is None or mirror.remote != remote:
            mirror = GitMirror(self.git, path, remote, public_url, refs_ttl=1.0)
            self._mirrors[path] = mirror
        return mirror

    async def aclose(self) -> None:
        """Close every connection pool, and remove the temporary git mirrors."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
        gitlabs, self._gitlab = list(self._gitlab.values()), {}
        for gitlab in gitlabs:
            await gitlab.aclose()
        if self._git_tmp is not None:
            await anyio.to_thread.run_sync(shutil.rmtree, self._git_tmp, True)
            self._git_tmp = None
            self._mirrors.clear()
