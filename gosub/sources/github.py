"""The GitHub REST client and the GitHub implementation of :class:`gosub.sources.base.Source`.

Knows HTTP and GitHub, nothing of Go. Endpoint choice (see shared notes github-api.md) is
driven by the request budget: a cold ``go mod download`` of one version must cost at most
four API requests plus one archive download, whatever the number of files:

- tag names:      ``GET /repos/O/R/git/matching-refs/tags/PREFIX`` (one response for all
  matching tags; revalidated with If-None-Match, and a 304 is free of rate limit);
- commit + time:  ``GET /repos/O/R/commits?sha=REF&per_page=1`` (peels tags, resolves
  branches and abbreviated SHAs, and gives the committer date in one small response);
- one file:       ``GET /repos/O/R/contents/PATH?ref=SHA`` with the raw media type;
- the files:      ``GET /repos/O/R/tarball/SHA`` → 302 → the archive host, streamed to disk;
- files GitHub's archive alters: only when the tarball's rebuilt root tree id differs
  from the commit's (export-ignore, export-subst, LFS objects in archives), the tree
  listing and the blobs of the files it shows to differ.

Every request sends the token (if any) as a Bearer header; the token is never logged,
echoed in errors, or sent to another host (httpx drops Authorization on cross-origin
redirects).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import json
import logging
import re
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import anyio
import anyio.to_thread
import httpx

from gosub import deadline, metrics, upstream
from gosub.errors import (
    GoneError,
    NotFoundError,
    UpstreamError,
    UpstreamTimeoutError,
)
from gosub.sources import gitattributes, http
from gosub.sources.base import (
    Archive,
    ArchiveFile,
    Commit,
    FileCache,
    RetryPolicy,
    Revalidated,
    git_blob_id,
)
from gosub.sources.gitarchive import (
    MAX_GITATTRIBUTES,
    ArchiveFormatError,
    ArchiveTooLargeError,
    Extracted,
    applies_to,
    extract_subdir,
)

log = logging.getLogger("gosub.sources.github")

DEFAULT_API_URL = "https://api.github.com"
USER_AGENT = "gosub (+https://github.com/gosub)"
_RAW = "application/vnd.github.raw"
_JSON = "application/vnd.github+json"
_HEX = re.compile(r"^[0-9a-fA-F]{4,40}$")
# Comparisons spent at most on deciding whether a commit is in the repository's history.
MAX_REACH_CHECKS = 10
# Kept importable here: the GitLab client and older callers use these names.
SHORT_RETRY_AFTER = http.SHORT_RETRY_AFTER
redact = http.redact
# Tarballs downloaded ahead of the archive() that uses them (see prefetch_archive): at
# most this many in the whole process are kept on disk, the oldest removed unused, so
# requests for many repositories' versions cannot fill the disk with tarballs.
_MAX_PREFETCH = 8
# (the client that fetched it, repository, commit) → (its directory, its download),
# across every source: the client in the key keeps one token's downloads to it.
_PREFETCHED: OrderedDict[tuple[object, str, str], tuple[Path, asyncio.Task[Path]]] = OrderedDict()


class GitHubClient:
    """A thin GitHub REST client: auth, retries, rate-limit errors, ETags, downloads.

    One client (one connection pool) serves every repository; create it once per process.
    """

    def __init__(
        self,
        *,
        api_url: str = DEFAULT_API_URL,
        token: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        negative_ttl: float = 60.0,
        etag_bytes: int = 64 << 20,
        revalidated: Revalidated | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        # Requests GitHub answered 404 → until when that answer is reused.
        self.negative_ttl = negative_ttl
        self._missing: OrderedDict[str, float] = OrderedDict()
        # What GitHub last said of the token's hourly quota (None: not yet known).
        self.remaining: int | None = None
        self.limit: int | None = None
        self._token = token or None
        self.retry = retry or RetryPolicy()
        headers = {
            "Accept": _JSON,
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": USER_AGENT,
        }
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        self._http = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=False,
        )
        # (API, request) → (ETag, JSON body, next page URL): shared, bounded in bytes
        self._etags = revalidated if revalidated is not None else Revalidated(etag_bytes)
        self._inflight: dict[str, asyncio.Task[tuple[Any, str | None]]] = {}

    @property
    def has_token(self) -> bool:
        """Whether requests are authenticated (the token itself is never exposed)."""
        return self._token is not None

    @property
    def host(self) -> str:
        """The web host repositories live on, for messages: github.com or the GHES host."""
        host = httpx.URL(self.api_url).host
        return "github.com" if host == "api.github.com" else host

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- requests -------------------------------------------------------------------

    def _attempt_timeout(self, what: str) -> httpx.Timeout:
        return http.attempt_timeout(self.timeout, self.host, what)

    def _count(self, path: str, resp: httpx.Response) -> None:
        """Metrics: the request, and the rate limit GitHub says is left."""
        metrics.upstream_request(self.host, _endpoint(path), resp.status_code)
        remaining = resp.headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.isdigit():
            metrics.rate_limit_remaining(self.host, int(remaining))
            self.remaining = int(remaining)
            limit = resp.headers.get("x-ratelimit-limit")
            if limit is not None and limit.isdigit():
                self.limit = int(limit)

    async def _send(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        accept: str = _JSON,
        headers: Mapping[str, str] | None = None,
        what: str,
    ) -> httpx.Response:
        """GET ``path`` (relative to the API URL) with bounded retries inside the
        request's deadline, following redirects (GitHub may redirect any request, e.g. a
        renamed repository; httpx drops the token on a redirect to another origin);
        returns the response for 200 and 304 and raises the
        matching :mod:`gosub.errors` error otherwise. A rate limit that lifts within
        :data:`SHORT_RETRY_AFTER` seconds is waited for once."""
        missing = path + ("?" + urlencode(sorted(params.items())) if params else "")
        until = self._missing.get(missing)
        if until is not None and time.monotonic() < until:
            # Remembered: a flood of requests for repositories or refs that do not exist
            # costs GitHub one request each per minute, not one each.
            raise NotFoundError(f"{what}: not found on {self.host}")
        upstream.check(what)
        url = self.api_url + path
        hdrs = {"Accept": accept, **(headers or {})}

        async def once() -> tuple[httpx.Response, None]:
            timeout = http.attempt_timeout(self.timeout, self.host, what)
            try:
                resp = await self._http.get(
                    url, params=params, headers=hdrs, timeout=timeout, follow_redirects=True
                )
                await resp.aread()
            except httpx.TimeoutException:
                metrics.upstream_request(self.host, _endpoint(path), "timeout")
                raise
            self._count(path, resp)
            return resp, None

        def error(resp: httpx.Response, _: None) -> Exception:
            if resp.status_code == 404 and self.negative_ttl > 0:
                self._missing[missing] = time.monotonic() + self.negative_ttl
                self._missing.move_to_end(missing)
                while len(self._missing) > 10_000:
                    self._missing.popitem(last=False)
            return self._error(resp, what)

        resp, _ = await http.send(
            once, error, host=self.host, path=path, what=what, retry=self.retry
        )
        return resp

    def _error(self, resp: httpx.Response, what: str) -> Exception:
        """Translate a GitHub error response into a gosub error."""
        status = resp.status_code
        message = ""
        try:
            body = resp.json()
            if isinstance(body, dict):
                message = str(body.get("message", ""))
        except (json.JSONDecodeError, UnicodeDecodeError):
            message = ""
        remaining = resp.headers.get("x-ratelimit-remaining")
        if status == 422:
            return NotFoundError(f"{what}: {message or 'unprocessable'} ({self.host})")
        return http.api_error(
            status,
            host=self.host,
            what=what,
            message=message or ("Bad credentials" if status == 401 else ""),
            rate_limited=status == 429
            or (
                status == 403
                and (remaining == "0" or "retry-after" in resp.headers or "rate limit" in message)
            ),
            retry_after=_retry_after(resp),
            has_token=self.has_token,
            token_var="GITHUB_TOKEN",
            more_quota="5,000 requests/hour instead of 60",
        )

    async def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        what: str,
        expect: type | tuple[type, ...] = (dict, list),
    ) -> Any:
        """GET a JSON document of type ``expect``; a 200 whose body is not one is asked
        again once, then reported (502)."""
        for attempt in (1, 2):
            resp = await self._send(path, params=params, what=what)
            try:
                return _json(resp, what, expect, self.host)
            except UpstreamError as exc:
                if attempt == 2:
                    raise
                log.warning("%s; asking again", exc.message)
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_json_revalidated(
        self, path: str, *, what: str, expect: type | tuple[type, ...] = (dict, list)
    ) -> Any:
        """GET a JSON document that changes over time, revalidating a remembered copy
        with If-None-Match (a 304 costs no rate limit)."""
        return (await self._get_revalidated(path, None, what, expect))[0]

    async def _get_revalidated(
        self,
        path: str,
        params: Mapping[str, str] | None,
        what: str,
        expect: type | tuple[type, ...] = (dict, list),
    ) -> tuple[Any, str | None]:
        """``(JSON body, next page URL)``, revalidated with If-None-Match; concurrent
        callers for the same document share one request (and one parsed copy: a list of
        20,000 tags asked by 120 clients at once is fetched and held once)."""
        key = path + ("?" + urlencode(sorted(params.items())) if params else "")
        running = self._inflight.get(key)
        if running is None:
            running = asyncio.get_running_loop().create_task(
                self._revalidate(key, path, params, what, expect), context=deadline.detached()
            )
            self._inflight[key] = running
            running.add_done_callback(lambda t: self._inflight.pop(key, None))
            running.add_done_callback(lambda t: t.cancelled() or t.exception())
        return await asyncio.shield(running)

    async def _revalidate(
        self,
        key: str,
        path: str,
        params: Mapping[str, str] | None,
        what: str,
        expect: type | tuple[type, ...],
    ) -> tuple[Any, str | None]:
        for attempt in (1, 2):
            cached = self._etags.get((self.api_url, key))
            headers = {"If-None-Match": cached[0]} if cached else None
            resp = await self._send(path, params=params, headers=headers, what=what)
            if resp.status_code == 304 and cached is not None:
                return cached[1], cached[2]
            try:
                data = _json(resp, what, expect, self.host)
                break
            except UpstreamError as exc:
                if attempt == 2:
                    raise
                log.warning("%s; asking again", exc.message)
        nxt = resp.links.get("next", {}).get("url")
        etag = resp.headers.get("etag")
        if etag:
            self._etags.put((self.api_url, key), etag, data, nxt, len(resp.content))
        return data, nxt

    async def get_paginated(self, path: str, *, params: Mapping[str, str], what: str) -> list[Any]:
        """GET every page of a list, following ``Link: rel="next"`` (never building
        page URLs by hand); each page is revalidated with If-None-Match."""
        items: list[Any] = []
        page, nxt = await self._get_revalidated(path, params, what, list)
        while True:
            if not isinstance(page, list):
                raise UpstreamError(f"{self.host} sent an unexpected answer ({what})")
            items.extend(page)
            if not nxt:
                return items
            if not nxt.startswith(self.api_url):
                raise UpstreamError(f"{self.host} sent a pagination link to another host")
            page, nxt = await self._get_revalidated(nxt[len(self.api_url) :], None, what, list)

    async def get_raw(
        self, path: str, *, params: Mapping[str, str], what: str, max_size: int
    ) -> bytes:
        """GET raw bytes (the raw media type), refusing more than ``max_size``."""
        resp = await self._send(path, params=params, accept=_RAW, what=what)
        if len(resp.content) > max_size:
            raise GoneError(f"{what} is larger than {max_size} bytes")
        return resp.content

    async def download(self, path: str, dest: Path, *, what: str, max_bytes: int) -> None:
        """GET ``path``, follow its redirect to the archive host, and stream the body to
        ``dest`` (one attempt; the caller retries, since a corrupt archive is only
        detected when it is read). A short or oversized body is an error, never a
        silently partial file."""
        await self._stream_to(self.api_url + path, dest, what=what, max_bytes=max_bytes)

    async def _stream_to(self, url: str, dest: Path, *, what: str, max_bytes: int) -> None:
        upstream.check(what)
        try:
            async with self._http.stream(
                "GET",
                url,
                headers={"Accept": "*/*"},
                follow_redirects=True,
                timeout=self._attempt_timeout(what),
            ) as resp:
                self._count(url[len(self.api_url) :] if url.startswith(self.api_url) else "", resp)
                if resp.status_code != 200:
                    await resp.aread()
                    raise self._error(resp, what)
                expected = resp.headers.get("content-length")
                written = 0
                async with await anyio.open_file(dest, "wb") as fh:
                    async for chunk in resp.aiter_raw(1 << 20):
                        written += len(chunk)
                        if written > max_bytes:
                            raise GoneError(
                                f"{what}: the repository archive is larger than "
                                f"{max_bytes} bytes, gosub's limit"
                            )
                        await fh.write(chunk)
                if expected is not None and int(expected) != written:
                    raise UpstreamError(f"{what}: the archive download was cut short")
        except httpx.TimeoutException as exc:
            raise UpstreamTimeoutError(f"{self.host} archive download timed out ({what})") from exc
        except httpx.TransportError as exc:
            raise UpstreamError(f"{what}: the archive download failed: {redact(str(exc))}") from exc


def _endpoint(path: str) -> str:
    """A metrics label for an API path: ``commits``, ``contents``, ``matching-refs``,
    ``trees``, ``blobs``, ``repo``, ``archive`` (the redirected tarball)..."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if parts[:1] != ["repos"] or len(parts) < 3:
        return parts[0] if parts and parts[0] else "archive"
    rest = parts[3:]
    if not rest:
        return "repo"
    return rest[1] if rest[0] == "git" and len(rest) > 1 else rest[0]


def _json(resp: httpx.Response, what: str, expect: type | tuple[type, ...], host: str) -> Any:
    try:
        data = resp.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UpstreamError(f"{host} sent invalid JSON ({what})") from exc
    if not isinstance(data, expect):
        raise UpstreamError(f"{host} sent an unexpected answer ({what})")
    return data


def _retry_after(resp: httpx.Response) -> int | None:
    """Seconds to wait, from Retry-After or x-ratelimit-reset."""
    value = resp.headers.get("retry-after")
    if value:
        if value.isdigit():
            return int(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0, int(when.timestamp() - time.time()))
        except (TypeError, ValueError):
            pass
    reset = resp.headers.get("x-ratelimit-reset")
    if reset and reset.isdigit():
        return max(0, int(reset) - int(time.time()))
    return None


# Attributes under which git archive legitimately writes other bytes than the blob's
# (convert.c convert_to_working_tree): those files are trusted as archived, since Go's
# archive converts them the same way. ``filter`` is not among them: no driver runs, and
# GitHub's LFS substitution is exactly what must not be trusted.
_CONVERTING = ("ident", "text", "eol", "crlf", "working-tree-encoding")


def _converts(attrs: Mapping[str, gitattributes.State]) -> bool:
    return any(attrs.get(a) not in (None, False) for a in _CONVERTING)


def _discard(root: Path, task: asyncio.Task[Path]) -> None:
    """Remove a prefetch's directory, once its download has stopped."""
    if task.done():
        shutil.rmtree(root, ignore_errors=True)
        return
    task.cancel()
    task.add_done_callback(lambda _t: shutil.rmtree(root, ignore_errors=True))


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class GitHubSource:
    """One GitHub repository as a :class:`gosub.sources.base.Source`.

    Caches what is addressed by commit SHA (files, ancestry) forever within the process,
    bounded in entries; mutable things (tags, branches) are asked each time, revalidated
    with ETags where GitHub offers them.
    """

    def __init__(
        self,
        client: GitHubClient,
        owner: str,
        repo: str,
        *,
        max_archive_bytes: int = 2 << 30,
        spool_dir: str | None = None,
        url: str | None = None,
        files: FileCache | None = None,
    ) -> None:
        self.client = client
        self.owner = owner
        self.repo = repo
        self.url = url or f"https://{client.host}/{owner}/{repo}"
        self.max_archive_bytes = max_archive_bytes
        self.spool_dir = spool_dir
        self._base = f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"
        self._files = files if files is not None else FileCache(32 << 20)
        self._ancestry: OrderedDict[tuple[str, str], bool] = OrderedDict()
        self._trees: OrderedDict[str, str] = OrderedDict()  # commit → root tree id
        self._info: tuple[float, dict[str, Any]] | None = None
        self._reach: OrderedDict[str, tuple[float, bool]] = OrderedDict()
        # commit → (its directory, the download of its tarball into it)

    @property
    def display_name(self) -> str:
        """``host/owner/repo``."""
        return f"{self.client.host}/{self.owner}/{self.repo}"

    async def is_public(self) -> bool:
        """Whether the repository is public (``GET /repos/O/R``); a repository the token
        cannot see is reported as not found."""
        data = await self._repo_info()
        return data.get("private") is False

    async def _repo_info(self) -> dict[str, Any]:
        """``GET /repos/O/R`` (visibility, default branch), kept for ten minutes."""
        now = time.monotonic()
        if self._info is None or now - self._info[0] > 600:
            data = await self.client.get_json(self._base, what=self.display_name, expect=dict)
            self._info = (now, data)
        return self._info[1]

    async def _published(self, sha: str) -> bool:
        """Whether ``sha`` is reachable from one of the repository's own branches or
        tags: GitHub's API also answers for unreferenced commits and for commits that
        exist only in forks of the repository's network, which Go's direct mode (it
        fetches the repository's refs) never sees. The default branch is asked first,
        then the other refs, at most :data:`MAX_REACH_CHECKS` comparisons; remembered."""
        known = self._reach.get(sha)
        if known is not None and (known[1] or time.monotonic() - known[0] < 60):
            return known[1]
        heads = await self._refs("heads")
        tags = await self._refs("tags")
        found = sha in heads.values() or sha in tags.values()
        if not found:
            default = str((await self._repo_info()).get("default_branch") or "")
            ordered = [heads[default]] if default in heads else []
            ordered += [h for name, h in sorted(heads.items()) if name != default]
            # Newest-looking tags first: a commit is likelier on a recent release.
            ordered += [t for _, t in sorted(tags.items(), reverse=True)]
            seen: set[str] = set()
            for tip in ordered:
                if tip in seen:
                    continue
                seen.add(tip)
                if len(seen) > MAX_REACH_CHECKS:
                    break
                if await self.is_ancestor(sha, tip):
                    found = True
                    break
        self._reach[sha] = (time.monotonic(), found)
        while len(self._reach) > 4096:
            self._reach.popitem(last=False)
        return found

    async def _refs(self, kind: str) -> dict[str, str]:
        """Branches or tags (``kind``: heads or tags) → the object each names."""
        data = await self.client.get_json_revalidated(
            f"{self._base}/git/matching-refs/{kind}/",
            what=f"{kind} of {self.display_name}",
            expect=list,
        )
        prefix = f"refs/{kind}/"
        return {
            r["ref"][len(prefix) :]: str((r.get("object") or {}).get("sha"))
            for r in data
            if isinstance(r, dict) and isinstance(r.get("ref"), str) and r["ref"].startswith(prefix)
        }

    async def rate_limit(self) -> dict[str, Any] | None:
        """GitHub's rate-limit status for this client's token (counts and reset times;
        never the token)."""
        data = await self.client.get_json("/rate_limit", what="rate limit", expect=dict)
        return data if isinstance(data, dict) else None

    async def list_tags(self, prefix: str) -> list[str]:
        """Tag names starting with ``prefix``: one matching-refs request, revalidated."""
        refs = await self._matching_refs(prefix)
        return [r["ref"][len("refs/tags/") :] for r in refs]

    async def _matching_refs(self, prefix: str) -> list[dict[str, Any]]:
        path = f"{self._base}/git/matching-refs/tags/{quote(prefix, safe='/')}"
        data = await self.client.get_json_revalidated(
            path, what=f"tags of {self.display_name}", expect=list
        )
        return [
            r
            for r in data
            if isinstance(r, dict)
            and isinstance(r.get("ref"), str)
            and r["ref"].startswith("refs/tags/" + prefix)
        ]

    async def tag_commits(self, prefix: str) -> dict[str, str]:
        """Matching tags mapped to peeled commit SHAs. Lightweight tags cost nothing
        beyond the listing; annotated ones are peeled through the tags endpoint, which
        lists every tag already peeled (100 per request)."""
        refs = await self._matching_refs(prefix)
        out: dict[str, str] = {}
        annotated = False
        for r in refs:
            obj = r.get("object") or {}
            name = r["ref"][len("refs/tags/") :]
            if obj.get("type") == "commit":
                out[name] = str(obj.get("sha"))
            else:
                annotated = True
        if annotated:
            tags = await self.client.get_paginated(
                f"{self._base}/tags",
                params={"per_page": "100"},
                what=f"tags of {self.display_name}",
            )
            for t in tags:
                name = t.get("name")
                if isinstance(name, str) and name.startswith(prefix) and name not in out:
                    out[name] = str((t.get("commit") or {}).get("sha"))
        return out

    async def resolve(self, ref: str) -> Commit:
        """One request: the first entry of the commit list starting at ``ref``."""
        params = {"per_page": "1"}
        if ref != "HEAD":
            params["sha"] = ref
        data = await self.client.get_json(
            f"{self._base}/commits", params=params, what=f"{self.display_name}@{ref}", expect=list
        )
        if not isinstance(data, list) or not data:
            raise NotFoundError(f"{self.display_name}@{ref}: no such revision")
        c = data[0]
        try:
            commit = Commit(sha=c["sha"], time=_parse_time(c["commit"]["committer"]["date"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamError(f"unexpected commit data from {self.client.host}") from exc
        # Asked for by hash: only a commit of the repository's own history counts.
        if (
            _HEX.match(ref)
            and commit.sha.startswith(ref.lower())
            and not await self._published(commit.sha)
        ):
            raise NotFoundError(
                f"{self.display_name}@{ref}: unknown revision: commit {commit.sha[:12]} "
                "is on none of the repository's branches or tags"
            )
        tree = (c["commit"].get("tree") or {}).get("sha")
        if isinstance(tree, str):
            # Kept to check archives against (see archive()).
            self._trees[commit.sha] = tree
            while len(self._trees) > 4096:
                self._trees.popitem(last=False)
        return commit

    async def read_file(self, commit: str, path: str, *, max_size: int) -> bytes | None:
        """The blob at ``path`` via the contents API, checked against the blob id the
        same answer names (a short or altered read is asked again, then a 502: it must
        never become a ``.mod``); cached by (commit, path), bounded in bytes."""
        key = (self.client.api_url, self.owner, self.repo, commit, path)
        if key in self._files:
            return self._files.get(key)
        what = f"{self.display_name}/{path}@{commit[:12]}"
        data: bytes | None = None
        attempts = self.client.retry.attempts
        for attempt in range(1, attempts + 1):
            try:
                doc = await self.client.get_json(
                    f"{self._base}/contents/{quote(path, safe='/')}",
                    params={"ref": commit},
                    what=what,
                )
            except NotFoundError:
                break
            if not isinstance(doc, dict) or doc.get("type") not in ("file", "symlink"):
                break  # a directory (a list) or a submodule: no file there
            try:
                sha, size = str(doc["sha"]), int(doc["size"])
            except (KeyError, TypeError, ValueError):
                log.warning("%s: contents answer without sha or size (attempt %d)", what, attempt)
                continue
            if size > max_size:
                raise GoneError(f"{what} is larger than {max_size} bytes")
            content = doc.get("content")
            if (
                doc.get("encoding") == "base64"
                and isinstance(content, str)
                and (content or not size)
            ):
                try:
                    raw = base64.b64decode(content)
                except (binascii.Error, ValueError):
                    raw = b""
            else:
                # Files over 1 MB come without content: their blob, checked the same way.
                raw = await self._blob(sha, what)
            if git_blob_id(raw) == sha:
                data = raw
                break
            log.warning("%s: bytes do not match blob %s (attempt %d)", what, sha[:12], attempt)
        else:
            raise UpstreamError(
                f"{what}: {self.client.host} sent bytes that are not the file's (their git "
                f"blob id differs from the one it names) {attempts} times; gosub does not "
                "serve them. Try again later"
            )
        self._files.put(key, data)
        return data

    async def is_ancestor(self, ancestor: str, commit: str) -> bool:
        """Compare API: ``ancestor...commit`` is identical or ahead."""
        key = (ancestor, commit)
        if key not in self._ancestry:
            data = await self.client.get_json(
                f"{self._base}/compare/{quote(ancestor, safe='/')}...{quote(commit, safe='')}",
                params={"per_page": "1"},
                what=f"ancestry of {commit[:12]} in {self.display_name}",
                expect=dict,
            )
            self._ancestry[key] = data.get("status") in ("identical", "ahead")
            while len(self._ancestry) > 4096:  # bounded like every per-source memory
                self._ancestry.popitem(last=False)
        return self._ancestry[key]

    def prefetch_archive(self, commit: str) -> None:
        """Start downloading ``commit``'s tarball in the background (once), for the
        :meth:`archive` that follows: a cold download then waits for its go.mod and its
        tarball together rather than one after the other. The download counts as that
        archive's first attempt (its failure is handled as one); at most
        ``_MAX_PREFETCH`` wait on disk in the whole process, the oldest removed unused.
        Nothing is started when code hosts are off limits for this request."""
        key = self._prefetch_key(commit)
        if key in _PREFETCHED or not upstream.allowed():
            return
        root = Path(tempfile.mkdtemp(prefix="gosub-prefetch-", dir=self.spool_dir))
        dest = root / "archive.tar.gz"
        what = f"archive of {self.display_name}@{commit[:12]}"

        async def download() -> Path:
            await self.client.download(
                f"{self._base}/tarball/{commit}", dest, what=what, max_bytes=self.max_archive_bytes
            )
            return dest

        task = asyncio.get_running_loop().create_task(download(), context=deadline.detached())
        # Retrieved here so a failure nobody waits for is not logged as lost.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        _PREFETCHED[key] = (root, task)
        while len(_PREFETCHED) > _MAX_PREFETCH:
            _, (old_root, old_task) = _PREFETCHED.popitem(last=False)
            _discard(old_root, old_task)

    def _prefetch_key(self, commit: str) -> tuple[object, str, str]:
        return (self.client, self._base, commit)

    async def read_prefetched(
        self, commit: str, paths: Sequence[str], *, max_size: int
    ) -> dict[str, bytes | None] | None:
        """Files of ``commit`` (``None``: not in its tree) from its prefetched tarball,
        when there is one and it is provably the commit's tree (its entries rebuild the
        commit's tree id, so every file is its blob and a missing one is not there);
        else ``None``, and the caller reads them alone. Costs no request."""
        found = _PREFETCHED.get(self._prefetch_key(commit))
        tree = self._trees.get(commit)
        if found is None or tree is None or not upstream.allowed():
            return None
        root, task = found
        try:
            tarball = await asyncio.shield(task)
        except Exception:
            return None  # the archive's own attempt reports it

        def scan() -> dict[str, bytes | None] | None:
            scratch = Path(tempfile.mkdtemp(prefix="scan-", dir=root))
            try:
                with tarball.open("rb") as fh:
                    # No subdirectory is kept (no path starts with NUL): only the extras.
                    ex = extract_subdir(
                        fh, scratch, "\0", extras=paths, max_bytes=self.max_archive_bytes
                    )
                if ex.tree_sha is None or ex.tree_sha != tree:
                    return None
                out: dict[str, bytes | None] = {}
                for path in paths:
                    entry = ex.extras.get(path)
                    if entry is None:
                        out[path] = None
                        continue
                    if entry.kind != "file" or entry.size > max_size:
                        return None  # read alone, for read_file's own answer
                    with entry.open() as data:
                        out[path] = data.read()
                return out
            finally:
                shutil.rmtree(scratch, ignore_errors=True)

        try:
            files = await anyio.to_thread.run_sync(scan)
        except (ArchiveFormatError, ArchiveTooLargeError, OSError) as exc:
            log.info(
                "%s@%s: prefetched archive not usable: %s", self.display_name, commit[:12], exc
            )
            return None
        return files

    async def _take_prefetched(self, commit: str, tar_path: Path) -> bool:
        """Move a prefetched tarball of ``commit`` to ``tar_path``: ``True`` when there
        was one (its download's error, if it failed, is raised), ``False`` when none
        or when this request may not use what code hosts send (it is left for others)."""
        if not upstream.allowed():
            return False
        found = _PREFETCHED.pop(self._prefetch_key(commit), None)
        if found is None:
            return False
        root, task = found
        try:
            path = await task
            await anyio.to_thread.run_sync(path.replace, tar_path)
        finally:
            _discard(root, task)
        return True

    @asynccontextmanager
    async def archive(
        self, commit: str, subdir: str, *, extras: Sequence[str] = ()
    ) -> AsyncIterator[Archive]:
        """Tarball of ``commit`` (one API request and one download), checked against the
        commit's tree; when it differs (export-ignore, export-subst, LFS objects), the
        files it altered or left out are patched from their raw blobs with Go's
        conversions applied."""
        root = Path(tempfile.mkdtemp(prefix="gosub-", dir=self.spool_dir))
        arch = Archive(root=root)
        try:
            tar_path = root / "archive.tar.gz"
            what = f"archive of {self.display_name}@{commit[:12]}"
            ex = await self._fetch_archive(tar_path, root / "files", commit, subdir, extras, what)
            arch.files = ex.files
            exact = ex.tree_sha is not None and ex.tree_sha == self._trees.get(commit)
            if exact:
                # The tarball is the commit's tree byte for byte: no file left out or
                # altered, every .gitattributes present.
                attrs = gitattributes.Attributes.from_files(ex.attributes)
                arch.blobs = dict(ex.blob_shas)
            else:
                attrs = await self._patch_archive(arch, ex, commit, subdir, extras)
            for extra in extras:
                arch.extras[extra] = await self._extra(ex, extra, commit, attrs, exact)
            yield arch
        finally:
            arch.close()

    async def _fetch_archive(
        self,
        tar_path: Path,
        files_dir: Path,
        commit: str,
        subdir: str,
        extras: Sequence[str],
        what: str,
    ) -> Extracted:
        """Download and extract, retrying (bounded) a failed or corrupt download; the
        first attempt takes the prefetched tarball when there is one."""

        async def download(attempt: int) -> None:
            if attempt > 1 or not await self._take_prefetched(commit, tar_path):
                await self.client.download(
                    f"{self._base}/tarball/{commit}",
                    tar_path,
                    what=what,
                    max_bytes=self.max_archive_bytes,
                )

        def extract() -> Extracted:
            with tar_path.open("rb") as fh:
                return extract_subdir(
                    fh, files_dir, subdir, extras=extras, max_bytes=self.max_archive_bytes
                )

        ex = await http.download_and_extract(
            download,
            extract,
            what=what,
            retry=self.client.retry,
            before_retry=lambda: shutil.rmtree(files_dir, ignore_errors=True),
        )
        tar_path.unlink(missing_ok=True)
        return ex

    async def _extra(
        self,
        ex: Extracted,
        path: str,
        commit: str,
        attrs: gitattributes.Attributes,
        exact: bool,
    ) -> bytes | None:
        """The raw blob of an extra path: the archive's copy when it is known to be the
        blob (an exact archive, or no attribute applies), else the contents API."""
        found = ex.extras.get(path)
        if found is not None and (exact or not attrs.lookup(path)):

            def read() -> bytes:
                with found.open() as fh:
                    return fh.read()

            return await anyio.to_thread.run_sync(read)
        return await self.read_file(commit, path, max_size=self.max_archive_bytes)

    async def _tree_entries(self, commit: str, subdir: str) -> list[dict[str, Any]]:
        """The commit's tree listing: every entry of the repository (one request), or,
        when GitHub truncates that, the subdirectory's entries plus each ancestor
        directory's own (one request per level). Paths are repository-relative."""
        what = f"file list of {self.display_name}@{commit[:12]}"
        path = f"{self._base}/git/trees/{quote(commit, safe='')}"
        tree = await self.client.get_json(path, params={"recursive": "1"}, what=what, expect=dict)
        if not tree.get("truncated"):
            return list(tree.get("tree", []))
        if not subdir:
            raise UpstreamError(
                f"{self.display_name}: the repository's file list is too large for "
                "GitHub's tree API, and its archive differs from the commit's tree "
                "(export-ignore, export-subst or LFS), so gosub cannot rebuild it exactly"
            )
        sub = await self.client.get_json(
            f"{self._base}/git/trees/{quote(f'{commit}:{subdir}', safe='/:')}",
            params={"recursive": "1"},
            what=what,
            expect=dict,
        )
        if sub.get("truncated"):
            raise UpstreamError(
                f"{self.display_name}: the file list of {subdir} is too large for GitHub's "
                "tree API, and the archive differs from the commit's tree (export-ignore, "
                "export-subst or LFS), so gosub cannot rebuild it exactly"
            )
        entries = [{**e, "path": f"{subdir}/{e['path']}"} for e in sub.get("tree", [])]
        parts = subdir.split("/")
        for depth in range(len(parts)):
            d = "/".join(parts[:depth])
            level = await self.client.get_json(
                f"{self._base}/git/trees/{quote(f'{commit}:{d}' if d else commit, safe='/:')}",
                what=what,
                expect=dict,
            )
            for e in level.get("tree", []):
                if e.get("path") == ".gitattributes":
                    entries.append({**e, "path": f"{d}/.gitattributes" if d else e["path"]})
        return entries

    async def _blob(self, sha: str, what: str) -> bytes:
        """The raw blob ``sha``, checked: its git blob id must be ``sha`` (asked again on
        a mismatch, then a 502 naming the file: wrong bytes are never used)."""
        attempts = self.client.retry.attempts
        for attempt in range(1, attempts + 1):
            data = await self.client.get_raw(
                f"{self._base}/git/blobs/{sha}",
                params={},
                what=what,
                max_size=self.max_archive_bytes,
            )
            if git_blob_id(data) == sha:
                return data
            log.warning("%s: blob %s came back altered (attempt %d)", what, sha[:12], attempt)
        raise UpstreamError(
            f"{what}: {self.client.host} sent bytes that are not blob {sha[:12]} {attempts} "
            "times; gosub does not serve them. Try again later"
        )

    async def _patch_archive(
        self, arch: Archive, ex: Extracted, commit: str, subdir: str, extras: Sequence[str]
    ) -> gitattributes.Attributes:
        """Make the archive what Go's ``git archive`` gives, from the tree listing:
        read the .gitattributes the tarball left out (export-ignore'd ones), then take
        from their blobs the files GitHub's archive left out or altered. Returns the
        complete attributes."""
        entries = await self._tree_entries(commit, subdir)
        attr_files = dict(ex.attributes)
        for e in entries:
            p = str(e.get("path", ""))
            if (
                e.get("type") == "blob"
                and (p == ".gitattributes" or p.endswith("/.gitattributes"))
                and p not in attr_files
                and applies_to(p, subdir, extras)
            ):
                if int(e.get("size", 0)) > MAX_GITATTRIBUTES:
                    raise GoneError(f"{self.display_name}/{p} is larger than {MAX_GITATTRIBUTES}")
                attr_files[p] = await self._blob(
                    str(e["sha"]), f"{self.display_name}/{p}@{commit[:12]}"
                )
        attrs = gitattributes.Attributes.from_files(attr_files)
        by_path = {f.path: i for i, f in enumerate(arch.files)}
        prefix = subdir + "/" if subdir else ""
        blob_dir = arch.root / "blobs"
        blob_dir.mkdir(exist_ok=True)
        patched = 0
        for entry in entries:
            full = str(entry.get("path", ""))
            if entry.get("type") != "blob" or not full.startswith(prefix):
                continue  # trees and submodules (gitlinks) are not files in the zip
            rel = full[len(prefix) :]
            sha = str(entry["sha"])
            if ex.blob_shas.get(rel) == sha:
                arch.blobs[rel] = sha
            if not (
                attrs.altered_by_github_archive(full)
                or rel not in by_path
                # Bytes that are not the blob with no conversion to explain it: GitHub
                # put something else there (an LFS object instead of its pointer).
                or (ex.blob_shas.get(rel) != sha and not _converts(attrs.lookup(full, go=True)))
            ):
                continue
            mode = str(entry.get("mode", ""))
            if mode == "120000":
                item = ArchiveFile(rel, "symlink", int(entry.get("size", 0)), None)
            else:
                raw = await self._blob(sha, f"{self.display_name}/{full}@{commit[:12]}")
                try:
                    data = gitattributes.convert_for_go_archive(
                        raw, attrs.lookup(full, go=True), sha, full
                    )
                except gitattributes.UnsupportedAttributeError as exc:
                    raise GoneError(f"{self.display_name}/{full}: {exc}") from exc
                if data == raw:
                    arch.blobs[rel] = sha
                else:
                    arch.blobs.pop(rel, None)
                patched += 1
                local = blob_dir / f"{patched:08d}"
                await anyio.Path(local).write_bytes(data)
                item = ArchiveFile(rel, "file", len(data), local)
            if rel in by_path:
                arch.files[by_path[rel]] = item
            else:
                by_path[rel] = len(arch.files)
                arch.files.append(item)
        return attrs
