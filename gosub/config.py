"""The configuration of one served module: which repository, directory and tag naming.

Field names and defaults follow the original gosub so configurations port over:
``url``, ``module``, ``directory``, ``tag_prefix`` (default ``"v"``), ``tag_suffix``.
Invalid values fail at construction with a :class:`gosub.errors.ConfigError` that names
the field and says what is accepted.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from gosub.errors import ConfigError
from gosub.golang import module as gomodule

# GitHub user/organisation names: alphanumerics and single hyphens, at most 39 characters.
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
# Repository names: letters, digits, '.', '-', '_', at most 100 characters.
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?$")
# GitLab namespace and project path elements (letters, digits, '_', '.', '-').
_GITLAB_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$")
# scp-like git remotes: [user@]host:path (no scheme, a ':' before any '/').
_SCP = re.compile(r"^(?:([^@/:]+)@)?([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(?!//)(.+)$")
FORGES = ("github", "gitlab", "git")
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
    """One Go module in a repository.

    - ``url``: the repository. ``https://github.com/OWNER/REPO`` (``github.com/OWNER/REPO``
      is accepted too; another https host means GitHub Enterprise Server, reached through
      ``GITHUB_API_URL``), ``https://gitlab.com/GROUP/[SUB/...]PROJECT``, or any git
      remote: a local path, ``file://``, ``ssh://``, ``git@host:path`` or an https URL
      ending ``.git``.
    - ``module``: the module path to serve; when set, any other path is refused.
    - ``directory``: the module's directory in the repository (default: the root).
    - ``tag_prefix`` / ``tag_suffix``: a tag ``PREFIX + SEMVER + SUFFIX`` is version
      ``vSEMVER`` (defaults ``"v"`` and ``""``: Go's own ``v1.2.3`` tags).
    - ``forge``: ``"github"``, ``"gitlab"`` or ``"git"`` (the git command, no forge API);
      inferred from ``url`` when absent (github.com: github; gitlab.com: gitlab; a git
      remote as above: git; any other https host: github, as GitHub Enterprise).

    Derived: ``host``, ``path`` (the repository's path on its host: ``OWNER/REPO``,
    ``GROUP/SUB/PROJECT``, or a git remote's path), ``owner`` and ``repo`` (for GitHub
    its owner and name; elsewhere ``path`` split at its last ``/``), ``remote`` (what
    git fetches from; a local path made absolute) and ``public_url`` (the URL without
    credentials, for messages and ``.info`` Origin).
    """

    url: str
    module: str | None = None
    directory: str = ""
    tag_prefix: str = "v"
    tag_suffix: str = ""
    forge: str | None = None
    host: str = field(init=False, compare=False)
    owner: str = field(init=False, compare=False)
    repo: str = field(init=False, compare=False)
    path: str = field(init=False, compare=False)
    remote: str = field(init=False, compare=False)
    public_url: str = field(init=False, compare=False)
    _hash: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        parsed = _parse_url(self.url, self.forge)
        object.__setattr__(self, "forge", parsed.forge)
        object.__setattr__(self, "host", parsed.host)
        object.__setattr__(self, "owner", parsed.owner)
        object.__setattr__(self, "repo", parsed.repo)
        object.__setattr__(self, "path", parsed.path)
        object.__setattr__(self, "remote", parsed.remote)
        object.__setattr__(self, "public_url", parsed.public_url)
        if parsed.url != self.url:
            object.__setattr__(self, "url", parsed.url)
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
        fields = (self.url, self.module, self.directory, self.tag_prefix, self.tag_suffix)
        object.__setattr__(self, "_hash", hash((*fields, self.forge)))

    def __hash__(self) -> int:
        # Computed once: a config keys several lookups on every request.
        return self._hash

    def __repr__(self) -> str:
        # Never the url itself: it may carry credentials (https://user:TOKEN@host/...).
        return (
            f"GoproxyConfig(url={self.public_url!r}, module={self.module!r}, "
            f"directory={self.directory!r}, tag_prefix={self.tag_prefix!r}, "
            f"tag_suffix={self.tag_suffix!r}, forge={self.forge!r})"
        )

    @property
    def repo_path(self) -> str:
        """The repository for messages: ``host/owner/repo`` (GitHub), ``host/path``
        (GitLab), the remote without credentials (git)."""
        if self.forge == "github":
            return f"{self.host}/{self.owner}/{self.repo}"
        if self.forge == "gitlab":
            return f"{self.host}/{self.path}"
        return self.public_url

    @property
    def identity(self) -> tuple[str, ...]:
        """Everything that determines the bytes served: cache keys must include it.

        For GitHub this is the same 7-tuple it always was (store namespaces are its
        digest, so deployed caches stay valid); other forges lead with their name."""
        tail = (self.directory, self.tag_prefix, self.tag_suffix, self.module or "")
        if self.forge == "github":
            return (self.host, self.owner.lower(), self.repo.lower(), *tail)
        if self.forge == "gitlab":
            return ("gitlab", self.host, self.path.lower(), *tail)
        return ("git", self.public_url, *tail)

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


@dataclass(frozen=True)
class _Parsed:
    forge: str
    url: str  # the url field as kept (a local path made absolute)
    host: str
    owner: str
    repo: str
    path: str
    remote: str
    public_url: str


def strip_credentials(url: str) -> str:
    """``url`` without the secret part of its user info: an http(s) URL loses the whole
    user info (a token may sit in the user name), any other URL its password."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    if parts.scheme in ("http", "https"):
        netloc = hostport
    else:
        netloc = userinfo.partition(":")[0] + "@" + hostport
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _is_local_path(url: str) -> bool:
    return url in (".", "..", "~") or url.startswith(("/", "./", "../", "~/"))


def _parse_url(url: str, forge: str | None) -> _Parsed:
    try:
        return _parse_any(url, forge)
    except ConfigError as exc:
        shown = strip_credentials(url) if isinstance(url, str) else url
        if shown == url:
            raise
        message = str(exc).replace(url, shown)
        userinfo = urlsplit(url).netloc.rpartition("@")[0]
        raise ConfigError(message.replace(userinfo + "@", "")) from None


def _parse_any(url: str, forge: str | None) -> _Parsed:
    if not isinstance(url, str) or not url:
        raise ConfigError("url is required: https://github.com/OWNER/REPO or a git remote")
    if forge is not None and forge not in FORGES:
        raise ConfigError(f"forge {forge!r} is not one of {', '.join(FORGES)}")
    if any(c < " " or c == "\x7f" for c in url) or len(url) > 2000:
        raise ConfigError("url must be at most 2000 characters, without control characters")
    if _is_local_path(url):
        return _git_local(url, forge)
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if scheme in ("file", "ssh", "git", "git+ssh", "ssh+git"):
        return _git_remote(url, forge, scheme)
    if not scheme and _SCP.match(url):
        return _git_remote(url, forge, "scp")
    if scheme and scheme not in ("http", "https"):
        raise ConfigError(
            f"url {url!r}: scheme {scheme!r} is not supported "
            "(https, http, ssh, git, file, git@host:path or a local path)"
        )
    full = url if scheme else "https://" + url
    host = urlsplit(full).netloc.rpartition("@")[2].lower()
    if forge is None:
        if host == "github.com":
            forge = "github"
        elif host == "gitlab.com":
            forge = "gitlab"
        elif full.rstrip("/").endswith(".git"):
            forge = "git"
        else:
            forge = "github"
    if forge == "git":
        return _git_remote(full, forge, scheme or "https")
    if forge == "gitlab":
        return _gitlab(url, full)
    if "@" in urlsplit(full).netloc:
        raise ConfigError(
            f"url {url!r}: a GitHub URL carries no credentials; set GITHUB_TOKEN "
            "(or forge 'git', which uses git's own credentials)"
        )
    host, owner, repo = _parse_github(url)
    return _Parsed(
        "github",
        url,
        host,
        owner,
        repo,
        f"{owner}/{repo}",
        f"https://{host}/{owner}/{repo}",
        f"https://{host}/{owner}/{repo}",
    )


def _split_path(path: str) -> tuple[str, str]:
    """``path`` as (everything before its last element, the last element without .git)."""
    owner, _, repo = path.rstrip("/").rpartition("/")
    return owner, repo.removesuffix(".git")


def _git_local(url: str, forge: str | None) -> _Parsed:
    if forge not in (None, "git"):
        raise ConfigError(f"url {url!r} is a local path: only forge 'git' reads one")
    path = os.path.abspath(os.path.expanduser(url))
    owner, repo = _split_path(path)
    return _Parsed("git", path, "", owner, repo, path, path, path)


def _git_remote(url: str, forge: str | None, scheme: str) -> _Parsed:
    if forge not in (None, "git"):
        raise ConfigError(f"url {url!r} is a git remote: only forge 'git' reads one")
    if scheme == "scp":
        m = _SCP.match(url)
        assert m is not None
        host, path = m.group(2).lower(), m.group(3)
    else:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")[2].lower()
        path = parts.path
        if scheme != "file" and not _HOST.match(host):
            raise ConfigError(f"url {url!r}: {host!r} is not a host name")
        if parts.query or parts.fragment:
            raise ConfigError(f"url {url!r}: a git remote has no query or fragment")
    path = path.strip("/") if scheme != "file" else path
    if not path.strip("/"):
        raise ConfigError(f"url {url!r} names no repository path")
    owner, repo = _split_path(path)
    return _Parsed("git", url, host, owner, repo, path, url, strip_credentials(url))


def _gitlab(url: str, full: str) -> _Parsed:
    parts = urlsplit(full)
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise ConfigError(
            f"url {url!r} is not a GitLab project URL: expected https://HOST/GROUP/PROJECT "
            "(no credentials, query or fragment)"
        )
    host = parts.netloc.lower()
    if not _HOST.match(host):
        raise ConfigError(f"url {url!r}: {host!r} is not a host name")
    path = parts.path.strip("/").removesuffix(".git")
    elements = path.split("/")
    if len(elements) < 2 or not all(_GITLAB_PART.match(e) for e in elements) or "-" in elements:
        raise ConfigError(
            f"url {url!r} is not a GitLab project URL: expected "
            "https://gitlab.com/GROUP/[SUBGROUP/...]PROJECT"
        )
    owner, _, repo = path.rpartition("/")
    return _Parsed("gitlab", url, host, owner, repo, path, full, f"https://{host}/{path}")


def _parse_github(url: str) -> tuple[str, str, str]:
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
