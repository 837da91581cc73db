"""The configuration of one served module: which repository, directory and tag naming.

Field names and defaults follow the original gosub so configurations port over:
``url``, ``module``, ``directory``, ``tag_prefix`` (default ``"v"``), ``tag_suffix``.
Invalid values fail at construction with a :class:`gosub.errors.ConfigError` that names
the field and says what is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gosub.errors import ConfigError
from gosub.golang import module as gomodule

# GitHub user/organisation names: alphanumerics and single hyphens, at most 39 characters.
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
# Repository names: letters, digits, '.', '-', '_', at most 100 characters.
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?$")
# Characters git forbids anywhere in a ref name (git-check-ref-format(1)).
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def _check_ref_part(name: str, value: str) -> None:
    if _REF_FORBIDDEN.search(value) or ".." in value or "@{" in value or "//" in value:
        raise ConfigError(
            f"{name} {value!r} cannot be part of a git tag name: no spaces, control "
            "characters, '~^:?*[\\', '..', '@{' or '//'"
        )
    if len(value) > 200:
        raise ConfigError(f"{name} is too long (at most 200 characters)")


@dataclass(frozen=True)
class GoproxyConfig:
    """One Go module in a GitHub repository.

    - ``url``: ``https://github.com/OWNER/REPO`` (``github.com/OWNER/REPO`` is accepted
      too; another host means GitHub Enterprise Server, reached through
      ``GITHUB_API_URL``).
    - ``module``: the module path to serve; when set, any other path is refused.
    - ``directory``: the module's directory in the repository (default: the root).
    - ``tag_prefix`` / ``tag_suffix``: a tag ``PREFIX + SEMVER + SUFFIX`` is version
      ``vSEMVER`` (defaults ``"v"`` and ``""``: Go's own ``v1.2.3`` tags).
    """

    url: str
    module: str | None = None
    directory: str = ""
    tag_prefix: str = "v"
    tag_suffix: str = ""
    host: str = field(init=False, compare=False)
    owner: str = field(init=False, compare=False)
    repo: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        host, owner, repo = _parse_url(self.url)
        object.__setattr__(self, "host", host)
        object.__setattr__(self, "owner", owner)
        object.__setattr__(self, "repo", repo)
        object.__setattr__(self, "directory", _clean_directory(self.directory))
        if not isinstance(self.tag_prefix, str) or not isinstance(self.tag_suffix, str):
            raise ConfigError("tag_prefix and tag_suffix must be strings")
        _check_ref_part("tag_prefix", self.tag_prefix)
        _check_ref_part("tag_suffix", self.tag_suffix)
        if self.tag_prefix.startswith(("/", "-", ".")) or self.tag_prefix.endswith(".lock"):
            raise ConfigError(
                f"tag_prefix {self.tag_prefix!r} cannot start a git tag name "
                "(no leading '/', '-' or '.')"
            )
        if self.tag_suffix.endswith(("/", ".", ".lock")):
            raise ConfigError(
                f"tag_suffix {self.tag_suffix!r} cannot end a git tag name "
                "(no trailing '/', '.' or '.lock')"
            )
        if self.module is not None:
            try:
                gomodule.check_path(self.module)
            except ValueError as exc:
                raise ConfigError(
                    f"module {self.module!r} is not a valid Go module path: {exc}"
                ) from exc

    @property
    def repo_path(self) -> str:
        """``host/owner/repo`` for messages."""
        return f"{self.host}/{self.owner}/{self.repo}"

    @property
    def identity(self) -> tuple[str, str, str, str, str, str, str]:
        """Everything that determines the bytes served: cache keys must include it."""
        return (
            self.host,
            self.owner.lower(),
            self.repo.lower(),
            self.directory,
            self.tag_prefix,
            self.tag_suffix,
            self.module or "",
        )

    def tag_for(self, semver: str) -> str:
        """The tag name of version ``v``+``semver`` (``semver`` without the leading v)."""
        return f"{self.tag_prefix}{semver}{self.tag_suffix}"

    def version_of_tag(self, tag: str) -> str | None:
        """``v`` + the middle of ``PREFIX + middle + SUFFIX``, or ``None`` if the tag
        does not have that shape. The result still needs Go's validity checks."""
        if not tag.startswith(self.tag_prefix) or not tag.endswith(self.tag_suffix):
            return None
        middle = tag[len(self.tag_prefix) : len(tag) - len(self.tag_suffix)]
        if len(tag) < len(self.tag_prefix) + len(self.tag_suffix) or not middle:
            return None
        return "v" + middle


def _parse_url(url: str) -> tuple[str, str, str]:
    if not isinstance(url, str) or not url:
        raise ConfigError("url is required: https://github.com/OWNER/REPO")
    rest = url
    for scheme in ("https://", "http://"):
        if rest.startswith(scheme):
            rest = rest[len(scheme) :]
            break
    rest = rest.rstrip("/")
    rest = rest.removesuffix(".git")
    parts = rest.split("/")
    if len(parts) != 3:
        raise ConfigError(
            f"url {url!r} is not a repository URL: expected https://github.com/OWNER/REPO "
            "(or github.com/OWNER/REPO)"
        )
    host, owner, repo = parts
    if not _HOST.match(host):
        raise ConfigError(f"url {url!r}: {host!r} is not a host name")
    if not _OWNER.match(owner):
        raise ConfigError(
            f"url {url!r}: owner {owner!r} is not a GitHub user or organisation name "
            "(letters, digits and single hyphens, at most 39)"
        )
    if not _REPO.match(repo) or repo in (".", ".."):
        raise ConfigError(
            f"url {url!r}: {repo!r} is not a GitHub repository name "
            "(letters, digits, '.', '-', '_', at most 100)"
        )
    return host.lower(), owner, repo


def _clean_directory(directory: str | None) -> str:
    if directory is None:
        return ""
    if not isinstance(directory, str):
        raise ConfigError("directory must be a string")
    d = directory
    if d in ("", ".", "./"):
        return ""
    if d.startswith("/"):
        raise ConfigError(
            f"directory {directory!r} must be relative to the repository root (no leading '/')"
        )
    d = d.rstrip("/")
    if "\\" in d or any(c < " " or c == "\x7f" for c in d):
        raise ConfigError(f"directory {directory!r}: use '/' separators and no control characters")
    parts = d.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ConfigError(
            f"directory {directory!r} must be a plain relative path: no '..', '.' or empty elements"
        )
    if len(d) > 1000:
        raise ConfigError("directory is too long (at most 1000 characters)")
    return d
