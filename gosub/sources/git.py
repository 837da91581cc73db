"""The git implementation of :class:`gosub.sources.base.Source`: the git command only, no
forge API, so any remote git can fetch from works (a local path, ``file://``, smart HTTP,
ssh), with git's own credentials (helpers, ``.netrc``, keys).

Every repository gets a bare mirror in the cache directory, a partial clone
(``--filter=blob:none``: commits and trees, blobs fetched when an archive or a file needs
them). Commands follow cmd/go's modfetch/codehost/git.go, so what gosub serves equals
Go's direct mode by construction:

- refs: ``git ls-remote -q origin`` (``HEAD``, ``refs/heads/*``, ``refs/tags/*``; a
  peeled ``^{}`` entry gives an annotated tag's commit);
- fetch: only refs the remote advertises, ``+REF:REF`` into the mirror (all of them,
  with ``--prune``, before a commit-hash query, so the mirror's refs are the remote's and
  a hash resolves only when one of them reaches it);
- commit time: ``git log -n1 --format=%H %ct`` (the committer time);
- files: ``git cat-file blob`` (raw blobs);
- archives: ``git -c core.autocrlf=input -c core.eol=lf archive`` with
  ``* -export-subst -export-ignore`` in ``info/attributes`` (every other attribute
  applies), read as a tar.

A partial clone fetches a missing object from the remote whenever a command touches one
(git's lazy fetch, which protocol v2 servers answer for any hash). So no command is ever
given a hash gosub has not first found reachable from an advertised ref: unknown hashes
are looked up with ``rev-list --missing=print``, which never fetches.

Bounds: a timeout per git command (the process group is killed), one fetch at a time per
mirror, a cap on concurrent git processes, an archive size limit. Credentials in a URL
reach git only (``remote.origin.url`` in git's environment, never on disk or a command
line); messages and logs show the URL without them. git must be installed: AWS Lambda's
Python runtime has none.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import signal
import tempfile
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from gosub import upstream
from gosub.errors import (
    GoneError,
    GosubError,
    NotFoundError,
    UpstreamError,
    UpstreamTimeoutError,
)
from gosub.sources.base import Archive, Commit
from gosub.sources.gitarchive import ArchiveFormatError, ArchiveTooLargeError, extract_subdir

log = logging.getLogger("gosub.sources.git")

# What cmd/go appends to $GIT_DIR/info/attributes before archiving (ensureGitAttributes).
GO_ATTRIBUTES = "\n* -export-subst -export-ignore\n"
_HEX = re.compile(r"^[0-9a-f]{7,40}$")
_FULL_HEX = re.compile(r"^[0-9a-f]{40}$")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")
# Environment variables that would point git at another repository than the mirror.
_REPO_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_PREFIX",
)
_NOT_FOUND = (
    "not found",
    "does not appear to be a git repository",
    "does not exist",
    "no such file or directory",
    "repository not found",
    "not a git repository",
)


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` without URL user info or any of ``secrets``."""
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return _USERINFO.sub(r"\1", text)


@dataclass(frozen=True)
class _Result:
    rc: int
    out: bytes
    err: str


class _PerLoop:
    """One asyncio primitive per event loop (the process may run several)."""

    def __init__(self, factory: Any) -> None:
        self._factory = factory
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> Any:
        loop = asyncio.get_running_loop()
        item = self._by_loop.get(loop)
        if item is None:
            item = self._by_loop[loop] = self._factory()
        return item


class GitRunner:
    """Runs git for every mirror of a process: the environment (the caller's, so git's
    own credential helpers, ``.netrc`` and ssh keys apply, minus anything that would
    redirect git to another repository; never prompting), the time limit of one
    command and the cap on concurrent git processes."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 120.0,
        max_processes: int = 8,
        git: str = "git",
    ) -> None:
        base = dict(os.environ if env is None else env)
        for k in _REPO_ENV:
            base.pop(k, None)
        base.update({"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never", "LC_ALL": "C"})
        self.env = base
        self.timeout = timeout
        self.git = git
        self._slots = _PerLoop(lambda: asyncio.Semaphore(max_processes))

    async def run(
        self,
        git_dir: Path | None,
        args: Sequence[str],
        *,
        what: str,
        secrets: Sequence[str] = (),
        timeout: float | None = None,
        stdout_path: Path | None = None,
        max_bytes: int | None = None,
        config: Mapping[str, str] | None = None,
    ) -> _Result:
        """Run ``git ARGS`` on ``git_dir``; the exit status, output and stderr (redacted).
        With ``stdout_path``, stdout streams to that file, at most ``max_bytes``
        (:class:`GoneError` past it). A timeout kills the process group and raises
        :class:`UpstreamTimeoutError`. ``config`` is given to git (and the git processes
        it starts) in its environment, never written to disk or put on a command line."""
        env = dict(self.env)
        if git_dir is not None:
            env["GIT_DIR"] = str(git_dir)
        if config:
            n = int(env.get("GIT_CONFIG_COUNT") or 0)
            for i, (key, value) in enumerate(config.items(), start=n):
                env[f"GIT_CONFIG_KEY_{i}"] = key
                env[f"GIT_CONFIG_VALUE_{i}"] = value
            env["GIT_CONFIG_COUNT"] = str(n + len(config))
        limit = self.timeout if timeout is None else timeout
        async with self._slots.get():
            try:
                proc = await asyncio.create_subprocess_exec(
                    self.git,
                    *args,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    env=env,
                    start_new_session=True,  # no terminal to prompt on; killable as a group
                )
            except FileNotFoundError:
                raise UpstreamError(
                    "the git source needs the git command, which is not installed here "
                    "(AWS Lambda's Python runtime has none: use the GitHub or GitLab source "
                    "there)"
                ) from None
            try:
                async with asyncio.timeout(limit):
                    out, err = await asyncio.gather(
                        self._stdout(proc, stdout_path, max_bytes, what),
                        _read_all(proc.stderr, 1 << 16),
                    )
                    rc = await proc.wait()
            except TimeoutError:
                _kill(proc)
                await proc.wait()
                command = _subcommand(args)
                log.warning("git %s timed out after %g s (%s)", command, limit, what)
                raise UpstreamTimeoutError(
                    f"{what}: git {command} did not finish in {limit:g} s (the remote is "
                    "slow or unreachable)"
                ) from None
            except BaseException:
                _kill(proc)
                await proc.wait()
                raise
        return _Result(rc, out, redact(err.decode("utf-8", "replace"), secrets))

    @staticmethod
    async def _stdout(
        proc: asyncio.subprocess.Process, path: Path | None, max_bytes: int | None, what: str
    ) -> bytes:
        assert proc.stdout is not None
        if path is None:
            return await _read_all(proc.stdout, None)
        written = 0
        async with await anyio.open_file(path, "wb") as fh:
            while chunk := await proc.stdout.read(1 << 20):
                written += len(chunk)
                if max_bytes is not None and written > max_bytes:
                    raise GoneError(f"{what}: the archive is larger than {max_bytes} bytes")
                await fh.write(chunk)
        return b""


def _subcommand(args: Sequence[str]) -> str:
    """The git command's name in ``args`` (past ``-c NAME=VALUE`` and options)."""
    it = iter(args)
    for a in it:
        if a == "-c":
            next(it, None)
        elif not a.startswith("-"):
            return a
    return "command"


async def _read_all(stream: asyncio.StreamReader | None, keep: int | None) -> bytes:
    """Everything from ``stream``; only the last ``keep`` bytes when given."""
    assert stream is not None
    buf = bytearray()
    while chunk := await stream.read(1 << 16):
        buf += chunk
        if keep is not None and len(buf) > keep:
            del buf[: len(buf) - keep]
    return bytes(buf)


def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


@dataclass(frozen=True)
class _Refs:
    raw: dict[str, str]  # ref → what it points at (a tag object for annotated tags)
    peeled: dict[str, str]  # ref → the object it finally names (the commit)
    at: float


class GitMirror:
    """The bare mirror of one remote, shared by every source reading that remote: the
    fetch lock, the refs last listed and the commits known reachable."""

    def __init__(
        self, runner: GitRunner, path: Path, remote: str, public: str, *, refs_ttl: float
    ) -> None:
        self.runner = runner
        self.path = path
        self.remote = remote
        self.public = public
        self.refs_ttl = refs_ttl
        userinfo = _userinfo(remote)
        self.secrets = [userinfo] if userinfo else []
        self._fetch_lock = _PerLoop(asyncio.Lock)
        self._refs_lock = _PerLoop(asyncio.Lock)
        self._setup_lock = _PerLoop(asyncio.Lock)
        self._ready = False
        self._refs: _Refs | None = None
        # Commits found reachable from an advertised ref: safe to hand to git.
        self.verified: OrderedDict[str, Commit] = OrderedDict()

    async def git(self, *args: str, what: str, **kw: Any) -> _Result:
        await self._setup()
        return await self._run(self.path, args, what, **kw)

    async def _run(
        self, git_dir: Path | None, args: Sequence[str], what: str, **kw: Any
    ) -> _Result:
        # The remote (with any credentials in its URL) reaches git through the
        # environment on every command, a lazy fetch's included: never in the mirror's
        # config file, which anyone who can read the cache directory could read.
        return await self.runner.run(
            git_dir,
            args,
            what=what,
            secrets=self.secrets,
            config={"remote.origin.url": self.remote},
            **kw,
        )

    async def _setup(self) -> None:
        if self._ready:
            return
        async with self._setup_lock.get():
            if self._ready:
                return
            if not await anyio.Path(self.path / "HEAD").exists():
                await self._create()
            else:
                # A mirror from an earlier gosub kept the URL in its config.
                stored = await self.runner.run(
                    self.path, ["config", "--get-all", "remote.origin.url"], what=self.public
                )
                if stored.rc == 0:
                    await self._must(["config", "--unset-all", "remote.origin.url"], self.path)
            await self.ensure_attributes()
            self._ready = True

    async def _create(self) -> None:
        """``git init --bare`` in a temporary directory beside the mirror, then rename:
        another process creating the same mirror at once loses nothing."""
        parent = anyio.Path(self.path.parent)
        await parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(
            await anyio.to_thread.run_sync(
                lambda: tempfile.mkdtemp(prefix=self.path.name + ".tmp-", dir=self.path.parent)
            )
        )
        try:
            await self._must(["init", "--bare", "-q", "--", str(tmp)], None)
            await self._must(["config", "gc.autoDetach", "false"], tmp)
            await anyio.Path(tmp / "info").mkdir(exist_ok=True)
            await anyio.Path(tmp / "info" / "attributes").write_text(GO_ATTRIBUTES)
            try:
                await anyio.Path(tmp).rename(self.path)
            except OSError:
                if not await anyio.Path(self.path / "HEAD").exists():
                    raise
        finally:
            if await anyio.Path(tmp).exists():
                await anyio.to_thread.run_sync(_rmtree, tmp)

    async def ensure_attributes(self) -> None:
        """cmd/go's ensureGitAttributes: ``info/attributes`` ends with its line."""
        p = anyio.Path(self.path / "info" / "attributes")
        await p.parent.mkdir(exist_ok=True)
        text = await p.read_text() if await p.exists() else ""
        if not text.endswith(GO_ATTRIBUTES):
            await p.write_text(text + GO_ATTRIBUTES)

    async def _must(self, args: list[str], git_dir: Path | None) -> None:
        r = await self._run(git_dir, args, self.public)
        if r.rc != 0:
            raise UpstreamError(f"{self.public}: git {args[0]} failed: {_last_line(r.err)}")

    # -- refs -------------------------------------------------------------------------

    async def refs(self) -> _Refs:
        """The remote's refs (``git ls-remote``), reused for ``refs_ttl`` seconds so one
        request's several lookups cost one listing."""
        cached = self._refs
        if cached is not None and time.monotonic() - cached.at < self.refs_ttl:
            return cached
        async with self._refs_lock.get():
            cached = self._refs
            if cached is not None and time.monotonic() - cached.at < self.refs_ttl:
                return cached
            upstream.check(self.public)
            r = await self.git("ls-remote", "-q", "--end-of-options", "origin", what=self.public)
            if r.rc != 0:
                raise _remote_error(self.public, "git ls-remote", r.err)
            raw: dict[str, str] = {}
            peeled: dict[str, str] = {}
            for line in r.out.decode("utf-8", "surrogateescape").splitlines():
                sha, _, ref = line.partition("\t")
                if ref.endswith("^{}"):
                    peeled[ref[:-3]] = sha
                elif ref == "HEAD" or ref.startswith(("refs/heads/", "refs/tags/")):
                    raw[ref] = sha
            resolved = {ref: peeled.get(ref, sha) for ref, sha in raw.items()}
            self._refs = refs = _Refs(raw, resolved, time.monotonic())
            return refs

    # -- fetching ---------------------------------------------------------------------

    async def sync(self, names: Sequence[str] | None) -> None:
        """Make the mirror's copies of the advertised refs ``names`` (``None``: every
        branch and tag, pruning the rest) what the remote advertised, fetching only
        what differs. ``HEAD`` is kept as ``refs/gosub/HEAD``."""
        refs = await self.refs()
        async with self._fetch_lock.get():
            local = await self._local_refs()
            if names is None:
                wanted = {r: s for r, s in refs.raw.items() if r != "HEAD"}
                stale = set(local) - set(wanted) - {"refs/gosub/HEAD"}
                differs = stale or any(local.get(r) != s for r, s in wanted.items())
                head = refs.raw.get("HEAD")
                specs = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
                if head is not None and local.get("refs/gosub/HEAD") != head:
                    differs = True
                if head is not None:
                    specs.append("+HEAD:refs/gosub/HEAD")
                if differs:
                    await self._fetch(specs, prune=True)
                return
            specs = []
            for name in names:
                target = "refs/gosub/HEAD" if name == "HEAD" else name
                if local.get(target) != refs.raw.get(name):
                    specs.append(f"+{name}:{target}")
            if specs:
                await self._fetch(specs, prune=False)

    async def _local_refs(self) -> dict[str, str]:
        r = await self.git(
            "for-each-ref",
            "--format=%(objectname) %(refname)",
            "refs/heads",
            "refs/tags",
            "refs/gosub",
            what=self.public,
        )
        if r.rc != 0:
            raise UpstreamError(f"{self.public}: the local mirror is unreadable: {r.err}")
        out: dict[str, str] = {}
        for line in r.out.decode("utf-8", "surrogateescape").splitlines():
            sha, _, ref = line.partition(" ")
            out[ref] = sha
        return out

    async def _fetch(self, specs: list[str], *, prune: bool) -> None:
        upstream.check(self.public)
        args = [
            "-c",
            "protocol.version=2",
            "fetch",
            "-q",
            "-f",
            "--no-tags",
            "--no-write-fetch-head",
            "--filter=blob:none",
        ]
        if prune:
            args.append("--prune")
        r = await self.git(*args, "--end-of-options", "origin", *specs, what=self.public)
        if r.rc != 0:
            raise _remote_error(self.public, "git fetch", r.err)


def _userinfo(url: str) -> str:
    if "://" not in url:
        return ""
    netloc = url.split("://", 1)[1].split("/", 1)[0]
    return netloc.rpartition("@")[0] if "@" in netloc else ""


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "(no message)"


def _remote_error(public: str, what: str, err: str) -> GosubError:
    """What a failed ls-remote/fetch means for the client: a missing repository is a
    404, anything else (authentication, network) a 502."""
    line = _last_line(err)
    if any(s in err.lower() for s in _NOT_FOUND):
        return NotFoundError(f"{public}: repository not found ({what}: {line})")
    return UpstreamError(f"{public}: {what} failed: {line}")


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def mirror_name(public_url: str) -> str:
    """The mirror directory's name for a remote: readable, and unique per remote."""
    tail = public_url.rstrip("/").rpartition("/")[2].rpartition(":")[2].removesuffix(".git")
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", tail)[:40].strip(".") or "repo"
    return f"{slug}-{hashlib.sha256(public_url.encode()).hexdigest()[:16]}.git"


class GitSource:
    """One git remote as a :class:`gosub.sources.base.Source`, through its mirror."""

    def __init__(self, mirror: GitMirror, *, max_archive_bytes: int = 2 << 30) -> None:
        self.mirror = mirror
        self.url = mirror.public
        self.max_archive_bytes = max_archive_bytes
        self.spool_dir: str | None = None
        self._files: OrderedDict[tuple[str, str], bytes | None] = OrderedDict()
        self._ancestry: dict[tuple[str, str], bool] = {}

    @property
    def display_name(self) -> str:
        """The remote, without credentials."""
        return self.mirror.public

    async def is_public(self) -> bool:
        """Unknown for a plain git remote (git may have used credentials from a helper,
        ``.netrc`` or a key): never claimed, so a shared server serving public
        repositories only does not serve it."""
        return False

    async def rate_limit(self) -> dict[str, Any] | None:
        """Plain git has no rate limit to report."""
        return None

    async def list_tags(self, prefix: str) -> list[str]:
        """Advertised tag names starting with ``prefix``, sorted."""
        refs = await self.mirror.refs()
        return sorted(
            r[len("refs/tags/") :] for r in refs.raw if r.startswith("refs/tags/" + prefix)
        )

    async def tag_commits(self, prefix: str) -> dict[str, str]:
        """Advertised tags starting with ``prefix`` → their peeled object (``^{}``)."""
        refs = await self.mirror.refs()
        return {
            r[len("refs/tags/") :]: sha
            for r, sha in sorted(refs.peeled.items())
            if r.startswith("refs/tags/" + prefix)
        }

    async def resolve(self, ref: str) -> Commit:
        """A tag, branch, ``HEAD`` or full ``refs/...`` name the remote advertises (tags
        before branches, as Go looks them up), else a lowercase hex commit prefix of 7 to
        40 digits reachable from an advertised branch or tag."""
        refs = await self.mirror.refs()
        name: str | None = None
        if ref == "HEAD" or (ref.startswith(("refs/heads/", "refs/tags/")) and ref in refs.raw):
            name = ref if ref in refs.raw else None
        elif not ref.startswith("refs/"):
            for candidate in ("refs/tags/" + ref, "refs/heads/" + ref):
                if candidate in refs.raw:
                    name = candidate
                    break
        if name is not None:
            sha = refs.peeled[name]
            known = self.mirror.verified.get(sha)
            if known is not None:
                return known
            await self.mirror.sync([name])
            return await self._commit(sha, f"{self.display_name}@{ref}")
        if _HEX.match(ref):
            known = self.mirror.verified.get(ref)
            if known is not None:
                return known
            await self.mirror.sync(None)
            return await self._commit(await self._reachable(ref), f"{self.display_name}@{ref}")
        raise NotFoundError(f"{self.display_name}@{ref}: no such revision")

    async def _reachable(self, prefix: str) -> str:
        """The commit ``prefix`` names, when an advertised branch or tag reaches it (the
        mirror's refs are the remote's after a full sync); never fetching."""
        what = f"{self.display_name}@{prefix}"
        if _FULL_HEX.match(prefix):
            # A full hash names an object whether or not it is here: test presence with
            # a command that never fetches a missing object.
            r = await self.mirror.git(
                "rev-list", "--missing=print", "--no-walk", "-n1", prefix, "--", what=what
            )
            if r.rc != 0:
                raise NotFoundError(f"{what}: unknown revision")
            sha = prefix
        else:
            r = await self.mirror.git(
                "rev-parse", "--verify", "-q", "--end-of-options", prefix + "^{commit}", what=what
            )
            if r.rc != 0:
                raise NotFoundError(f"{what}: unknown revision (or an ambiguous prefix)")
            sha = r.out.decode().strip()
        r = await self.mirror.git(
            "for-each-ref",
            "--count=1",
            "--format=%(refname)",
            "--contains",
            sha,
            "refs/heads",
            "refs/tags",
            "refs/gosub",
            what=what,
        )
        if r.rc != 0 or not r.out.strip():
            raise NotFoundError(f"{what}: unknown revision (not reachable from a branch or tag)")
        return sha

    async def _commit(self, sha: str, what: str) -> Commit:
        """The commit's committer time (``git log -n1 --format=%H %ct``), and the commit
        remembered as verified."""
        r = await self.mirror.git(
            "-c",
            "log.showsignature=false",
            "log",
            "--no-decorate",
            "-n1",
            "--format=format:%H %ct",
            "--end-of-options",
            sha,
            "--",
            what=what,
        )
        fields = r.out.decode().split()
        if r.rc != 0 or len(fields) != 2:
            raise NotFoundError(f"{what}: not a commit ({_last_line(r.err)})")
        commit = Commit(sha=fields[0], time=datetime.fromtimestamp(int(fields[1]), UTC))
        verified = self.mirror.verified
        verified[commit.sha] = commit
        while len(verified) > 4096:
            verified.popitem(last=False)
        return commit

    async def _known(self, rev: str) -> str:
        """A commit safe to give git: verified, or resolved (and so verified) now."""
        if rev in self.mirror.verified:
            return rev
        return (await self.resolve(rev)).sha

    async def read_file(self, commit: str, path: str, *, max_size: int) -> bytes | None:
        """The raw blob (``git cat-file blob``) at ``path``; ``None`` when there is no
        file there."""
        key = (commit, path)
        if key in self._files:
            self._files.move_to_end(key)
            return self._files[key]
        sha = await self._known(commit)
        what = f"{self.display_name}/{path}@{sha[:12]}"
        r = await self.mirror.git(
            "--literal-pathspecs", "ls-tree", "-z", "--end-of-options", sha, "--", path, what=what
        )
        if r.rc != 0:
            raise UpstreamError(f"{what}: git ls-tree failed: {_last_line(r.err)}")
        data: bytes | None = None
        for entry in r.out.split(b"\0"):
            meta, _, name = entry.partition(b"\t")
            parts = meta.split()
            if name.decode("utf-8", "surrogateescape") == path and len(parts) == 3:
                if parts[1] == b"blob":
                    data = await self._blob(parts[2].decode(), what, max_size)
                break
        self._files[key] = data
        while len(self._files) > 4096:
            self._files.popitem(last=False)
        return data

    async def _blob(self, sha: str, what: str, max_size: int) -> bytes:
        r = await self.mirror.git("cat-file", "-s", sha, what=what)
        if r.rc != 0:
            raise UpstreamError(f"{what}: git cat-file failed: {_last_line(r.err)}")
        if int(r.out.decode().strip()) > max_size:
            raise GoneError(f"{what} is larger than {max_size} bytes")
        r = await self.mirror.git("cat-file", "blob", sha, what=what)
        if r.rc != 0:
            raise UpstreamError(f"{what}: git cat-file failed: {_last_line(r.err)}")
        return r.out

    async def is_ancestor(self, ancestor: str, commit: str) -> bool:
        """``git merge-base --is-ancestor`` (the mirror has full history, no blobs)."""
        key = (ancestor, commit)
        if key not in self._ancestry:
            a, c = await self._known(ancestor), await self._known(commit)
            r = await self.mirror.git(
                "merge-base",
                "--is-ancestor",
                "--end-of-options",
                a,
                c,
                what=f"ancestry of {c[:12]} in {self.display_name}",
            )
            if r.rc not in (0, 1):
                raise UpstreamError(f"{self.display_name}: git merge-base failed: {r.err}")
            self._ancestry[key] = r.rc == 0
        return self._ancestry[key]

    @asynccontextmanager
    async def archive(
        self, commit: str, subdir: str, *, extras: Sequence[str] = ()
    ) -> AsyncIterator[Archive]:
        """``git archive --format=tar`` of ``subdir`` with Go's settings (its missing
        blobs fetched in one batch by git), streamed to disk and read; ``extras`` are
        raw blobs."""
        sha = await self._known(commit)
        root = Path(
            await anyio.to_thread.run_sync(
                lambda: tempfile.mkdtemp(prefix="gosub-", dir=self.spool_dir)
            )
        )
        arch = Archive(root=root)
        try:
            what = f"archive of {self.display_name}@{sha[:12]}"
            tar_path = root / "archive.tar"
            await self.mirror.ensure_attributes()
            args = [
                "-c",
                "core.autocrlf=input",
                "-c",
                "core.eol=lf",
                "archive",
                "--format=tar",
                "--prefix=prefix/",
                "--end-of-options",
                sha,
            ]
            if subdir:
                args.append(subdir)
            r = await self.mirror.git(
                *args, what=what, stdout_path=tar_path, max_bytes=self.max_archive_bytes
            )
            if r.rc != 0 and "did not match any files" not in r.err:
                raise UpstreamError(f"{what}: git archive failed: {_last_line(r.err)}")
            if r.rc == 0:

                def extract() -> list[Any]:
                    with tar_path.open("rb") as fh:
                        ex = extract_subdir(
                            fh, root / "files", subdir, max_bytes=self.max_archive_bytes
                        )
                    return list(ex.files)

                try:
                    arch.files = await anyio.to_thread.run_sync(extract)
                except ArchiveTooLargeError as exc:
                    raise GoneError(f"{what}: {exc}") from exc
                except ArchiveFormatError as exc:
                    raise UpstreamError(f"{what}: {exc}") from exc
                await anyio.Path(tar_path).unlink(missing_ok=True)
            for extra in extras:
                arch.extras[extra] = await self.read_file(
                    sha, extra, max_size=self.max_archive_bytes
                )
            yield arch
        finally:
            arch.close()


__all__ = ["GO_ATTRIBUTES", "GitMirror", "GitRunner", "GitSource", "mirror_name", "redact"]
