"""One Go module served from one repository: versions, queries, go.mod and zip.

This is gosub's counterpart of cmd/go/internal/modfetch/coderepo.go (codeRepo) with the
git specifics of cmd/go/internal/modfetch/codehost/git.go, generalised from Go's tag
naming ``codeDir/vX.Y.Z`` to gosub's ``PREFIX + X.Y.Z + SUFFIX``. Where Go's direct mode
would produce a version, gosub produces the same version, time, go.mod and zip file set;
where Go refuses one, gosub refuses it with Go's reason.

Retracted versions (the ``retract`` directives of the highest release's go.mod) are
never chosen for a query or as a pseudo-version base, as in coderepo.go convert.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import posixpath
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from gosub import deadline, metrics, upstream
from gosub.config import GoproxyConfig
from gosub.errors import (
    BadRequestError,
    GoneError,
    GosubError,
    NotFoundError,
    UpstreamError,
    UpstreamTimeoutError,
)
from gosub.golang import gomod, modzip, pseudo, semver
from gosub.golang import module as gomodule
from gosub.sources.base import Archive, ArchiveFile, Commit, Source, git_blob_id
from gosub.store import ProcessCache, Store, StoredZip, ZipStore, namespace, store_key

T = TypeVar("T")
log = logging.getLogger("gosub.modrepo")

# cmd/go/internal/modfetch/codehost/codehost.go
MAX_GO_MOD = 16 << 20
MAX_LICENSE = 16 << 20


@dataclass(frozen=True)
class RevInfo:
    """A resolved module version (the body of ``.info``)."""

    version: str
    time: datetime
    commit: str
    ref: str | None = None  # refs/tags/TAG when the version is a tag

    def to_json(self, url: str, subdir: str) -> bytes:
        """The ``.info`` JSON, as Go's own cache writes it (Version, Time, Origin)."""
        origin: dict[str, str] = {"VCS": "git", "URL": url}
        if subdir:
            origin["Subdir"] = subdir
        origin["Hash"] = self.commit
        if self.ref:
            origin["Ref"] = self.ref
        body = {
            "Version": self.version,
            "Time": self.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Origin": origin,
        }
        return json.dumps(body).encode() + b"\n"

    @classmethod
    def from_json(cls, data: bytes) -> RevInfo:
        """Read back what :meth:`to_json` wrote; ``ValueError`` when it cannot."""
        try:
            doc = json.loads(data)
            origin = doc.get("Origin") or {}
            return cls(
                version=doc["Version"],
                time=datetime.fromisoformat(doc["Time"].replace("Z", "+00:00")),
                commit=origin["Hash"],
                ref=origin.get("Ref"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"unreadable .info: {exc}") from exc


@dataclass(frozen=True)
class _Found:
    """findDir's answer: the module's directory at a commit and its go.mod, if any."""

    dir: str
    gomod: bytes | None


class ModuleRepo:
    """The module ``path`` served from ``config``'s repository through ``source``."""

    def __init__(
        self,
        config: GoproxyConfig,
        source: Source,
        path: str,
        *,
        cache: ProcessCache,
        zips: ZipStore,
        repo_url: str,
        store: Store | None = None,
    ) -> None:
        self.config = config
        self.source = source
        self.path = path
        self.cache = cache
        self.zips = zips
        self.repo_url = repo_url
        prefix, major, ok = gomodule.split_path_version(path)
        if not ok:
            raise BadRequestError(f"invalid module path {path!r}: malformed major-version suffix")
        self.path_prefix = prefix
        self.path_major = major
        self.code_dir = config.directory
        self._key = (config.identity, path)
        self.store = store
        self._ns = namespace(config.identity)
        self._escaped = gomodule.escape_path(path)
        self._has_versions = False  # set by the version listing

    # -- tags ↔ versions ------------------------------------------------------------

    def _tag_to_version(self, tag: str) -> tuple[str, bool]:
        """coderepo.go convert.tagToVersion: ``(version, tag is canonical)``; the version
        is "" for tags that are not versions of this module's tag naming."""
        trimmed = self.config.version_of_tag(tag)
        if trimmed is None or pseudo.is_pseudo_version(trimmed):
            return "", False
        v = semver.canonical(trimmed)
        if not v or not trimmed.startswith(v):
            return "", False
        return v, v == trimmed

    def _version_tag(self, version: str) -> str:
        """coderepo.go revToRev for a semver: the tag naming that version."""
        v = version.removesuffix("+incompatible")
        return self.config.tag_for(v[1:])

    def _location(self, rel: str) -> str:
        """A repository path for messages."""
        return f"{self.config.repo_path}/{rel}" if rel else self.config.repo_path

    # -- Versions -------------------------------------------------------------------

    async def versions(self) -> list[str]:
        """The ``@v/list`` versions: coderepo.go Versions + appendIncompatibleVersions.
        Always asked afresh (revalidated with ETags)."""
        return (await self.versions_or_stale())[0]

    async def versions_or_stale(self) -> tuple[list[str], str | None]:
        """:meth:`versions`, or, when the code host fails, the last good answer and the
        reason it is stale (stale-if-error); the failure is raised when there is none."""
        return await self._or_stale(
            "list",
            self._versions,
            lambda listed: "".join(v + "\n" for v in listed).encode(),
            lambda data: data.decode().split(),
        )

    async def _or_stale(
        self,
        name: str,
        fresh: Callable[[], Awaitable[T]],
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
    ) -> tuple[T, str | None]:
        """``fresh()``, kept as the last good ``name``; or, when the code host fails,
        the last good one and the failure's message."""
        try:
            value = await self._within_budget(fresh, name)
        except UpstreamError as exc:
            last = await self._last_good(name)
            if last is None:
                raise
            try:
                return decode(last), exc.message
            except ValueError:
                raise exc from None
        await self._keep_good(name, encode(value))
        return value, None

    @staticmethod
    async def _within_budget(fresh: Callable[[], Awaitable[T]], name: str) -> T:
        """``fresh()``, given up on (as an upstream timeout) with a fifth of the
        request's remaining time left, so a hanging host still leaves time to answer
        from the last good copy."""
        left = deadline.remaining()
        if left is None:
            return await fresh()
        budget = max(0.0, left * 0.8)
        try:
            with anyio.fail_after(budget), deadline.deadline(budget):
                return await fresh()
        except TimeoutError:
            raise UpstreamTimeoutError(
                f"gosub gave up after {deadline.limit() or budget:g} s waiting for the code "
                f"host ({name}), and has no earlier answer to give; try again"
            ) from None

    async def _last_good(self, name: str) -> bytes | None:
        """The last good ``list`` or ``@latest`` answer: from memory, else the store."""
        kept = self.cache.get(("last-good", *self._key, name))
        if isinstance(kept, bytes):
            return kept
        if self.store is None:
            return None
        return await self.store.get(self._snapshot_key(name))

    async def _keep_good(self, name: str, data: bytes) -> None:
        """Remember a good ``list`` or ``@latest`` answer, and write it to the store when
        it changed (so the store also works as a static GOPROXY and survives restarts)."""
        key = ("last-good", *self._key, name)
        if self.cache.get(key) == data:
            return
        self.cache.put(key, data)
        # Only configs with a version reach the store: junk configs (any s=, any
        # repository) must not grow it, one namespace each.
        if self.store is not None and self._has_versions:
            await self._describe_namespace()
            await self.store.put(self._snapshot_key(name), data)

    def _snapshot_key(self, name: str) -> str:
        if name == "@latest":
            return f"{self._ns}/{self._escaped}/@latest"
        return self._store_key(name)

    async def _versions(self) -> list[str]:
        listed = await self._listed()
        await self.check_served(listed)
        self._has_versions = bool(listed)
        return listed

    async def _listed(self) -> list[str]:
        tags = await self.source.list_tags(self.config.tag_prefix)
        listed: list[str] = []
        incompatible: list[str] = []
        for tag in tags:
            v = self.config.version_of_tag(tag)
            if v is None or v != semver.canonical(v) or pseudo.is_pseudo_version(v):
                continue
            if not gomodule.match_path_major(v, self.path_major):
                if self.code_dir == "" and self.path_major == "" and semver.major(v) > "v1":
                    incompatible.append(v)
                continue
            listed.append(v)
        listed = semver.sort(listed)
        incompatible = semver.sort(incompatible)
        if not incompatible or self.path_major:
            return listed

        async def has_go_mod(v: str) -> bool:
            commit = await self._tag_commit(v)
            return await self._read(commit, "go.mod", MAX_GO_MOD) is not None

        if listed and await has_go_mod(listed[-1]):
            return listed
        last_major = ""
        last_has = False
        for i, v in enumerate(incompatible):
            major = semver.major(v)
            if major != last_major:
                same = [w for w in incompatible[i:] if semver.major(w) == major]
                last_major = major
                last_has = await has_go_mod(same[-1])
            if not last_has:
                listed.append(v + "+incompatible")
        return listed

    # -- Stat -----------------------------------------------------------------------

    async def stat(self, query: str) -> RevInfo:
        """The version a query resolves to, as cmd/go's codeRepo.Stat.

        Canonical versions and pseudo-versions are immutable and remembered; other
        queries (branches, hashes, tag names) are resolved afresh each time.
        """
        if query == "latest":
            return await self.latest()
        canonical = _canonical_version(query)
        if canonical and canonical == query:
            return await self.cache.once(
                ("info", *self._key, query), lambda: self._stat_immutable(query)
            )
        return await self._stat_uncached(query)

    # -- the persistent tier ----------------------------------------------------------

    def _store_key(self, name: str) -> str:
        return store_key(self._ns, self._escaped, name)

    async def _store_read(self, name: str) -> bytes | None:
        if self.store is None:
            return None
        data = await self.store.get(self._store_key(name))
        if data is not None:
            metrics.reached("store")
        return data

    async def _store_write(self, name: str, data: bytes) -> None:
        if self.store is not None and name:
            await self._describe_namespace()
            await self.store.put(self._store_key(name), data)

    async def _describe_namespace(self) -> None:
        """``NAMESPACE/gosub.json``: which config a namespace holds (``gosub cache ls``),
        written once per process before the namespace's first entry."""
        if self.store is None or self.cache.get(("described", self._ns)):
            return
        self.cache.put(("described", self._ns), True)
        c = self.config
        doc = {
            "url": c.public_url,
            "forge": c.forge,
            "module": c.module,
            "directory": c.directory,
            "tag_prefix": c.tag_prefix,
            "tag_suffix": c.tag_suffix,
        }
        await self.store.put(f"{self._ns}/gosub.json", json.dumps(doc, indent=1).encode() + b"\n")

    async def _record(self, name: str, sha256: str, size: int) -> None:
        """Remember what a stored ``name`` must read back as (``NAME.sha256``: digest
        and size), written after the data: a static GOPROXY ignores it."""
        await self._store_write(name + ".sha256", f"{sha256} {size}\n".encode())

    async def _recorded(self, name: str) -> tuple[str, int] | None:
        data = await self._store_read(name + ".sha256")
        try:
            digest, size = (data or b"").decode().split()
            return digest, int(size)
        except ValueError:
            return None

    async def _intact(self, name: str, sha256: str, size: int) -> bool:
        """Whether a stored entry reads back as recorded (no record: an entry written
        before records were; its structure was checked by the caller)."""
        want = await self._recorded(name)
        if want is None or want == (sha256, size):
            return True
        log.warning(
            "store entry %s of %s is corrupt (sha256 %s, %d bytes; recorded %s, %d): rebuilding it",
            name,
            self.path,
            sha256[:16],
            size,
            want[0][:16],
            want[1],
        )
        return False

    async def _stat_immutable(self, version: str) -> RevInfo:
        """A canonical version's info: from the store if there, else resolved and stored."""
        name = gomodule.escape_version(version) + ".info"
        data = await self._store_read(name)
        if data is not None:
            try:
                stored = RevInfo.from_json(data)
                if stored.version == version:
                    return stored
            except ValueError:
                pass  # unreadable: resolve again and overwrite it
            log.warning("store entry %s of %s is unreadable: resolving it again", name, self.path)
        info = await self._stat_uncached(version)
        if info.version == version:
            await self._store_write(name, info.to_json(self.repo_url, self.code_dir))
        return info

    async def _stat_uncached(self, query: str) -> RevInfo:
        rev = query
        if semver.is_valid(query):
            if pseudo.is_pseudo_version(query):
                rev = pseudo.pseudo_version_rev(query)
            else:
                rev = "refs/tags/" + self._version_tag(query)
        elif query.startswith("-") or "\x00" in query:
            raise NotFoundError(f"{self.path}@{query}: invalid version")
        try:
            commit = await self.source.resolve(rev)
        except NotFoundError:
            if not upstream.allowed():
                raise  # the request may not ask the host: its own refusal says so
            if semver.is_valid(query) and not pseudo.is_pseudo_version(query):
                raise NotFoundError(
                    f"{self.path}@{query}: unknown revision: no tag "
                    f"{self._version_tag(query)!r} in {self.config.repo_path}"
                ) from None
            raise NotFoundError(
                f"{self.path}@{query}: unknown revision {query} in {self.config.repo_path}"
            ) from None
        return await self._convert(commit, query, rev)

    async def latest_or_stale(self) -> tuple[RevInfo, str | None]:
        """:meth:`latest`, or, when the code host fails, the last good answer and the
        reason it is stale (stale-if-error); the failure is raised when there is none."""
        return await self._or_stale(
            "@latest",
            self.latest,
            lambda info: info.to_json(self.repo_url, self.code_dir),
            RevInfo.from_json,
        )

    async def latest(self) -> RevInfo:
        """``@latest``: the highest release, else the highest pre-release, else the
        default branch head as Go's direct mode converts it."""
        versions = await self._versions()
        if versions:
            # As the go command does with the list: retracted versions are not chosen;
            # when every one is, the default branch head is (coderepo.go Latest).
            retracted = await self._retracted_versions()
            versions = [v for v in versions if not retracted(v)]
        releases = [v for v in versions if not semver.prerelease(v)]
        pick = releases or versions
        if pick:
            return await self.stat(pick[-1])
        commit = await self.source.resolve("HEAD")
        return await self._convert(commit, "", "HEAD")

    async def _tag_commit(self, version: str) -> str:
        tag = self._version_tag(version)
        commit = await self.source.resolve("refs/tags/" + tag)
        return commit.sha

    async def _read(self, commit: str, rel: str, max_size: int) -> bytes | None:
        return await self.source.read_file(commit, rel, max_size=max_size)

    async def _tag_map(self) -> dict[str, str]:
        """Every tag with the configured prefix → its commit (one listing per query)."""
        return await self.source.tag_commits(self.config.tag_prefix)

    @staticmethod
    def _tags_on(tag_map: dict[str, str], commit: str) -> list[str]:
        return sorted(t for t, sha in tag_map.items() if sha == commit)

    async def _convert(self, info: Commit, stat_vers: str, rev: str) -> RevInfo:
        """coderepo.go convert: turn a commit into this module's version."""
        incompatible_ok: dict[str, bool] = {}

        async def can_use_incompatible(v: str) -> bool:
            if self.code_dir or self.path_major:
                return False
            if "" not in incompatible_ok:
                incompatible_ok[""] = await self._read(info.sha, "go.mod", MAX_GO_MOD) is None
            if not incompatible_ok[""]:
                return False
            if v and not stat_vers.endswith("+incompatible"):
                major = semver.major(v)
                if major not in incompatible_ok:
                    incompatible_ok[major] = (
                        await self._read(info.sha, f"{major}/go.mod", MAX_GO_MOD) is None
                    )
                if not incompatible_ok[major]:
                    return False
            return True

        retracted: list[Callable[[str], bool]] = []

        async def is_retracted(v: str) -> bool:
            # Computed on first need: a tag asked for by its version never needs it.
            if not retracted:
                retracted.append(await self._retracted_versions())
            return retracted[0](v)

        async def check_canonical(v: str, ref: str | None) -> RevInfo:
            self._check_declared(await self._find_dir(info.sha, v), v)
            if v == stat_vers.removesuffix("+incompatible"):
                v = stat_vers
            base = v.removesuffix("+incompatible")
            err: str | None = None
            if not gomodule.match_path_major(base, self.path_major):
                if await can_use_incompatible(base):
                    v = base + "+incompatible"
                elif self.path_major:
                    err = "module path includes a major version suffix, so major version must match"
                else:
                    err = (
                        "module contains a go.mod file, so module path must match major "
                        f"version ({posixpath.join(self.path_prefix, semver.major(v))!r})"
                    )
            elif v.endswith("+incompatible"):
                err = (
                    f"+incompatible suffix not allowed: major version {semver.major(v)} "
                    "is compatible"
                )
            if stat_vers and stat_vers == _canonical_version(stat_vers):
                stat_base = stat_vers.removesuffix("+incompatible")
                if stat_base != base:
                    raise NotFoundError(
                        f"{self.path}@{stat_vers}: resolves to version {v} "
                        f"({stat_base} is not a tag)"
                    )
            if err:
                raise GoneError(f"{self.path}@{v}: invalid version: {err}")
            return RevInfo(version=v, time=info.time, commit=info.sha, ref=ref)

        if pseudo.is_pseudo_version(stat_vers):
            result = await check_canonical(stat_vers, None)
            await self._validate_pseudo(info, stat_vers)
            return result

        # A canonical tag asked for by its version: use it directly.
        if rev.startswith("refs/tags/"):
            tag = rev[len("refs/tags/") :]
            v, is_canonical = self._tag_to_version(tag)
            if is_canonical:
                return await check_canonical(v, rev)

        tag_map = await self._tag_map()
        tags_on = self._tags_on(tag_map, info.sha)
        # A raw tag name was asked for (git.go statLocal sets info.Version to it).
        if stat_vers in tags_on:
            v, is_canonical = self._tag_to_version(stat_vers)
            if is_canonical:
                return await check_canonical(v, "refs/tags/" + stat_vers)
        highest = ""
        highest_tag = ""
        pseudo_base = ""
        for tag in tags_on:
            v, is_canonical = self._tag_to_version(tag)
            if stat_vers and v and semver.compare(v, stat_vers) == 0:
                if is_canonical:
                    return await check_canonical(v, "refs/tags/" + tag)
                pseudo_base = v
            if (
                is_canonical
                and semver.compare(highest, v) < 0
                and not await is_retracted(v)
                and (gomodule.match_path_major(v, self.path_major) or await can_use_incompatible(v))
            ):
                highest, highest_tag = v, tag
        if highest:
            return await check_canonical(highest, "refs/tags/" + highest_tag)

        if not pseudo_base:
            pseudo_base = await self._recent_tag(
                info.sha, tag_map, can_use_incompatible, is_retracted
            )
        version = pseudo.pseudo_version(
            pseudo.pseudo_major(self.path_major), pseudo_base, info.time, info.sha[:12]
        )
        return await check_canonical(version, None)

    async def _recent_tag(
        self,
        commit: str,
        tag_map: dict[str, str],
        can_use_incompatible: Callable[[str], Any],
        is_retracted: Callable[[str], Any],
    ) -> str:
        """git.go RecentTag with coderepo.go convert's tagAllowed: the highest version
        tag merged into ``commit`` that fits the major version and is not retracted."""
        candidates: list[tuple[str, str]] = []
        for tag in tag_map:
            v, _ = self._tag_to_version(tag)
            if not v:
                continue
            if not gomodule.match_path_major(v, self.path_major) and not await can_use_incompatible(
                v
            ):
                continue
            if await is_retracted(v):
                continue
            candidates.append((v, tag))
        # Highest first; the first ancestor found is the answer.
        candidates.sort(key=lambda vt: functools.cmp_to_key(semver.compare)(vt[0]), reverse=True)
        for v, tag in candidates:
            tag_commit = tag_map[tag]
            if tag_commit == commit or await self.source.is_ancestor(tag_commit, commit):
                return v
        return ""

    async def _retracted_versions(self) -> Callable[[str], bool]:
        """coderepo.go retractedVersions: the ``retract`` intervals of the go.mod of the
        highest release (else the highest pre-release). Where that fails, nothing is
        retracted, as in Go."""
        try:
            versions = await self._versions()
            cut = next((i for i, v in enumerate(versions) if v.endswith("+incompatible")), None)
            versions = versions[:cut]
            if not versions:
                return lambda v: False
            releases = [v for v in versions if not semver.prerelease(v)]
            highest = releases[-1] if releases else versions[-1]
            intervals = gomod.retractions(await self.go_mod(highest))
        except GosubError:
            return lambda v: False
        if not intervals:
            return lambda v: False
        return lambda v: any(
            semver.compare(low, v) <= 0 and semver.compare(v, high) <= 0 for low, high in intervals
        )

    async def _validate_pseudo(self, info: Commit, version: str) -> None:
        """coderepo.go validatePseudoVersion: the pseudo-version must name this commit,
        its time, and a base tag that precedes it."""
        rev = pseudo.pseudo_version_rev(version)
        short = info.sha[:12]
        bad = f"{self.path}@{version}: invalid pseudo-version: "
        if rev != short:
            if rev.startswith(short):
                raise NotFoundError(bad + f"revision is longer than canonical (expected {short})")
            if short.startswith(rev):
                raise NotFoundError(bad + f"revision is shorter than canonical (expected {short})")
            raise NotFoundError(bad + f"does not match short name of revision (expected {short})")
        t = pseudo.pseudo_version_time(version)
        if t != info.time.replace(microsecond=0):
            expected = info.time.astimezone(UTC).strftime("%Y%m%d%H%M%S")
            raise NotFoundError(
                bad + f"does not match version-control timestamp (expected {expected})"
            )
        base = pseudo.pseudo_version_base(version.removesuffix("+incompatible"))
        if not base:
            if self.path_major == "" and semver.major(version) == "v1":
                raise NotFoundError(bad + "major version without preceding tag must be v0, not v1")
            return
        tag_map = await self._tag_map()
        for tag in self._tags_on(tag_map, info.sha):
            if self.config.version_of_tag(tag) == base:
                raise NotFoundError(
                    bad + f"tag ({tag}) found on revision {rev} is already canonical, so should "
                    "not be replaced with a pseudo-version derived from that tag"
                )
        last_tag = ""
        for tag in sorted(tag_map):
            v = self.config.version_of_tag(tag)
            if v and semver.is_valid(v) and semver.compare(v, base) == 0:
                last_tag = tag
                if await self.source.is_ancestor(tag_map[tag], info.sha):
                    return
        if not last_tag:
            raise NotFoundError(bad + f"preceding tag ({base}) not found")
        raise NotFoundError(
            bad + f"revision {rev} is not a descendent of preceding tag ({last_tag})"
        )

    # -- findDir, GoMod ---------------------------------------------------------------

    def _check_declared(self, found: _Found, version: str) -> None:
        """Without a module pin, a path is served only where the repository's go.mod
        declares it: a GOPROXY list must fall through for every other module, not answer
        with this repository's versions (which go then rejects: "module declares its
        path as")."""
        if self.config.module is not None or found.gomod is None:
            return
        declared = gomod.module_path(found.gomod)
        if declared and declared != self.path:
            where = self.config.repo_path + (f" (directory {found.dir})" if found.dir else "")
            raise NotFoundError(
                f"{self.path}@{version}: {where} declares module {declared}, not {self.path}; "
                "this gosub URL serves only that module (m= pins one)"
            )

    async def check_served(self, versions: list[str]) -> None:
        """Refuse (404) a module path that the repository does not declare: checked at
        the newest version, else at the default branch head (both remembered)."""
        if self.config.module is not None:
            return
        if versions:
            # A broken newest version is refused on its own, not the whole list.
            with contextlib.suppress(GoneError):
                await self.stat(versions[-1])
            return
        commit = await self.source.resolve("HEAD")
        try:
            found = await self._find_dir(commit.sha, "HEAD")
        except GoneError:
            return  # no module at the head: nothing to list, so nothing to refuse
        self._check_declared(found, "HEAD")

    async def _find_dir(self, commit: str, version: str) -> _Found:
        """coderepo.go findDir: where the module lives at ``commit`` and its go.mod."""
        return await self.cache.once(
            ("dir", *self._key, commit), lambda: self._find_dir_uncached(commit, version)
        )

    async def _find_dir_uncached(self, commit: str, version: str) -> _Found:
        file1 = posixpath.join(self.code_dir, "go.mod")
        gomod1 = await self._read(commit, file1, MAX_GO_MOD)
        mpath1 = gomod.module_path(gomod1) if gomod1 is not None else ""
        found1 = gomod1 is not None and (
            _is_major(mpath1, self.path_major)
            or (self.path_major == "" and mpath1.startswith("gopkg.in/"))
        )
        at = f"at revision {commit[:12]}"
        file2 = ""
        if self.path_major and not self.path_major.startswith("."):
            dir2 = posixpath.join(self.code_dir, self.path_major[1:])
            file2 = posixpath.join(dir2, "go.mod")
            gomod2 = await self._read(commit, file2, MAX_GO_MOD)
            mpath2 = gomod.module_path(gomod2) if gomod2 is not None else ""
            found2 = gomod2 is not None and _is_major(mpath2, self.path_major)
            if found1 and found2:
                raise GoneError(
                    f"{self.path}@{version}: {self._location(file1)} and "
                    f"{self._location(file2)} both declare ...{self.path_major} module "
                    f"paths {at}"
                )
            if found2:
                return _Found(dir2, gomod2)
            if gomod2 is not None:
                if not mpath2:
                    raise GoneError(
                        f"{self.path}@{version}: {self._location(file2)} is missing its "
                        f"module path {at}"
                    )
                raise GoneError(
                    f"{self.path}@{version}: {self._location(file2)} has non-...{self.path_major}"
                    f" module path {mpath2!r} {at}"
                )
        if found1:
            return _Found(self.code_dir, gomod1)
        if gomod1 is not None:
            suffix = f" (and ...{self.path_major}/go.mod does not exist)" if file2 else ""
            where = f"{self.path}@{version}: {self._location(file1)}"
            if not mpath1:
                raise GoneError(f"{where} is missing its module path{suffix} {at}")
            if self.path_major:
                raise GoneError(
                    f"{where} has non-...{self.path_major} module path {mpath1!r}{suffix} {at}"
                )
            if not gomodule.split_path_version(mpath1)[2]:
                raise GoneError(f"{where} has malformed module path {mpath1!r}{suffix} {at}")
            raise GoneError(
                f"{where} has post-{semver.major(version)} module path {mpath1!r}{suffix} {at}; "
                f"request {mpath1} instead"
            )
        if self.code_dir == "" and (self.path_major == "" or self.path_major.startswith(".")):
            return _Found("", None)
        missing = self._location(file1)
        if file2:
            raise GoneError(
                f"{self.path}@{version}: missing {missing} and ...{self.path_major}/go.mod {at}"
            )
        raise GoneError(
            f"{self.path}@{version}: missing {missing} {at}: Go requires a go.mod in a "
            "module that is not at the repository root"
        )

    async def go_mod(self, version: str) -> bytes:
        """The ``.mod`` body: the raw go.mod, or what Go synthesises without one
        (coderepo.go GoMod, LegacyGoMod). Remembered in memory: immutable."""
        return await self.cache.once(("mod", *self._key, version), lambda: self._go_mod(version))

    async def _go_mod(self, version: str) -> bytes:
        name = ""
        if version and _canonical_version(version) == version:
            name = gomodule.escape_version(version) + ".mod"
            stored = await self._store_read(name)
            if stored is not None and await self._intact(
                name, hashlib.sha256(stored).hexdigest(), len(stored)
            ):
                return stored
        info = await self._canonical_info(version)
        found = await self._find_dir(info.commit, version)
        data = found.gomod if found.gomod is not None else gomod.legacy_go_mod(self.path)
        if name:
            await self._store_write(name, data)
            await self._record(name, hashlib.sha256(data).hexdigest(), len(data))
        return data

    async def _canonical_info(self, version: str) -> RevInfo:
        if not version or _canonical_version(version) != version:
            raise NotFoundError(
                f"{self.path}@{version}: version is not canonical (.mod and .zip need a "
                "canonical version such as v1.2.3; use .info to resolve other queries)"
            )
        return await self.stat(version)

    # -- Zip ------------------------------------------------------------------------

    def _check_go_mod(self, arch: Archive, found: _Found, version: str) -> None:
        """The zip's go.mod must be the ``.mod`` (both are the same blob of the same
        commit): a host that disagrees with itself is an upstream failure, never served."""
        in_zip = any(f.path == "go.mod" and f.kind == "file" for f in arch.files)
        where = f"{self.path}@{version}: {self._location(posixpath.join(found.dir, 'go.mod'))}"
        if found.gomod is None and not in_zip:
            return
        if found.gomod is None or not in_zip:
            raise UpstreamError(
                f"{where}: {self.source.display_name} says the file "
                f"{'exists' if in_zip else 'is missing'} in the archive but "
                f"{'is missing' if in_zip else 'exists'} when read alone; not serving it. "
                "Try again later"
            )
        blob = arch.blobs.get("go.mod")
        if blob is not None and git_blob_id(found.gomod) != blob:
            raise UpstreamError(
                f"{where}: the archive's go.mod is not the go.mod read alone (blob "
                f"{blob[:12]} against {git_blob_id(found.gomod)[:12]}); not serving it. "
                "Try again later"
            )

    async def zip(self, version: str) -> StoredZip:
        """The module zip for ``version`` (coderepo.go Zip + x/mod/zip Create), built
        once and kept in the zip store."""
        key = ("zip", *self._key, version)
        stored = self.zips.get(key)
        if stored is not None:
            metrics.reached("spool")
            return stored
        if self.store is not None and _canonical_version(version) == version:
            skey = self._store_key(gomodule.escape_version(version) + ".zip")
            path = await anyio.to_thread.run_sync(self.store.local_path, skey)
            if path is not None:
                metrics.reached("store")
                found = await self.cache.once(
                    ("disk-zip", str(path)), lambda: self._stored_checked(path, version)
                )
                if found is not None:
                    return found
            return await self.cache.once(
                key, lambda: self._fetch_or_build_zip(key, skey, version), remember=False
            )
        return await self.cache.once(key, lambda: self._build_zip(key, version), remember=False)

    async def zip_size(self, version: str) -> tuple[int, str] | None:
        """``(size, store key)`` of a canonical version's zip in a persistent store that
        can hand out URLs (S3), building and storing it first if needed; ``None`` when
        there is no such store."""
        if self.store is None or _canonical_version(version) != version:
            return None
        skey = self._store_key(gomodule.escape_version(version) + ".zip")
        if await anyio.to_thread.run_sync(self.store.local_path, skey) is not None:
            return None  # served from local disk
        # Immutable once stored: remembered, so a warm instance asks the store no more.
        size = self.cache.get(("zip-size", skey))
        if size is None:
            size = await self.store.size(skey)
            if size is None:
                size = (await self.zip(version)).size
            self.cache.put(("zip-size", skey), size)
        return size, skey

    async def _fetch_or_build_zip(self, key: tuple[Any, ...], skey: str, version: str) -> StoredZip:
        """A zip from a remote persistent store, copied to the local zip store, or
        built when the store does not have it."""
        assert self.store is not None
        stored = self.zips.get(key)
        if stored is not None:
            return stored
        temp = self.zips.new_temp()
        try:
            found = await self.store.get_file(skey, temp)
            checked = await self._stored_checked(temp, version) if found else None
            if checked is None:
                temp.unlink(missing_ok=True)
                return await self._build_zip(key, version)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return self.zips.add(key, temp, checked.sha256)

    async def _stored_checked(self, path: Path, version: str) -> StoredZip | None:
        """A zip read from the store, or ``None`` (a miss, to rebuild) when it does not
        read back as recorded or, unrecorded, is not a zip of this module version."""
        stored = await _stored(path, self.path, version)
        if stored is None:
            log.warning("store zip of %s@%s is unreadable: rebuilding it", self.path, version)
            return None
        name = gomodule.escape_version(version) + ".zip"
        if not await self._intact(name, stored.sha256, stored.size):
            return None
        return stored

    async def _build_zip(self, key: tuple[Any, ...], version: str) -> StoredZip:
        stored = self.zips.get(key)
        if stored is not None:
            return stored
        info = await self._canonical_info(version)
        found = await self._find_dir(info.commit, version)
        subdir = found.dir
        extras = ["LICENSE"] if subdir else []
        async with self.source.archive(info.commit, subdir, extras=extras) as arch:
            self._check_go_mod(arch, found, version)
            files: list[modzip.File] = []
            have_license = False
            for f in arch.files:
                files.append(modzip.File(path=f.path, kind=f.kind, size=f.size, open=f.open))
                if f.path == "LICENSE":
                    have_license = True
            if not have_license and subdir:
                data = arch.extras.get("LICENSE")
                if data is not None:
                    if len(data) > MAX_LICENSE:
                        raise GoneError(
                            f"{self.path}@{version}: the repository's LICENSE is larger than "
                            f"{MAX_LICENSE} bytes"
                        )
                    lic = arch.root / "root-LICENSE"
                    await anyio.Path(lic).write_bytes(data)
                    entry = ArchiveFile("LICENSE", "file", len(data), lic)
                    files.append(modzip.File("LICENSE", "file", len(data), entry.open))
            temp = self.zips.new_temp()
            try:
                digest = await anyio.to_thread.run_sync(_write_zip, temp, self.path, version, files)
            except modzip.ZipError as exc:
                temp.unlink(missing_ok=True)
                raise GoneError(f"{self.path}@{version}: {exc}") from exc
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
        stored = self.zips.add(key, temp, digest)
        if self.store is not None and _canonical_version(version) == version:
            name = gomodule.escape_version(version) + ".zip"
            await self.store.put_file(self._store_key(name), stored.path)
            await self._record(name, stored.sha256, stored.size)
        return stored


async def _stored(path: Path, module: str, version: str) -> StoredZip | None:
    """A zip from the persistent tier with its SHA-256 (the ETag), or ``None`` when it is
    not a readable zip whose every entry is under ``module@version/``."""
    prefix = f"{module}@{version}/"

    def check() -> StoredZip | None:
        h = hashlib.sha256()
        try:
            with path.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
            with zipfile.ZipFile(path) as zf:
                if not all(n.startswith(prefix) for n in zf.namelist()):
                    return None
            return StoredZip(path, path.stat().st_size, h.hexdigest())
        except (OSError, zipfile.BadZipFile, ValueError):
            return None

    return await anyio.to_thread.run_sync(check)


def _write_zip(dest: Path, path: str, version: str, files: list[modzip.File]) -> str:
    """Write the zip (in a worker thread) and return its SHA-256, used as ETag."""
    with dest.open("w+b") as out:
        modzip.create(out, path, version, files)
        out.flush()
        out.seek(0)
        h = hashlib.sha256()
        while chunk := out.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _canonical_version(v: str) -> str:
    """x/mod/module CanonicalVersion: semver.Canonical, keeping ``+incompatible``."""
    cv = semver.canonical(v)
    if semver.build(v) == "+incompatible":
        cv += "+incompatible"
    return cv


def _is_major(mpath: str, path_major: str) -> bool:
    """coderepo.go isMajor: whether a declared module path fits the requested major."""
    if not mpath:
        return False
    _, mpath_major, ok = gomodule.split_path_version(mpath)
    if not ok:
        return False
    if not path_major:
        return gomodule.path_major_prefix(mpath_major) in ("", "v0", "v1")
    if not mpath_major:
        return False
    return path_major[1:] == mpath_major[1:]


__all__ = ["ModuleRepo", "RevInfo"]
