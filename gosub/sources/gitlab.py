"""The GitLab REST (v4) client and the GitLab implementation of :class:`gosub.sources.base.Source`.

Knows HTTP and GitLab, nothing of Go. A project is addressed by its URL-encoded path
(``/projects/group%2Fsub%2Fproject``: nested groups work), on gitlab.com or a self-managed
host (``https://HOST/api/v4``). Endpoints (docs.gitlab.com/api/), chosen for the request
budget of a cold ``go mod download`` of one version:

- tag names and their commits: ``GET /repository/tags?search=^PREFIX&per_page=100``
  (tags come peeled; revalidated with If-None-Match);
- commit + time:  ``GET /repository/commits/:ref`` (peels tags, resolves branches and
  abbreviated SHAs; ``committed_date``); for a SHA also ``/commits/:sha/refs?per_page=1``,
  since GitLab answers for any commit it stores but Go fetches only advertised refs;
- one file:       ``GET /repository/files/:path?ref=SHA`` (the content and its blob id,
  checked against each other);
- the files:      ``GET /repository/tree?path=DIR&ref=SHA`` (DIR's entries and their ids,
  hence the id DIR's tree must have), then ``GET /repository/archive.tar.gz?sha=SHA&path=DIR``,
  an archive of the subdirectory only, streamed to disk. When the archive rebuilds to
  DIR's tree id it is the commit's files byte for byte; otherwise (export-ignore,
  export-subst, LFS) or when GitLab refuses the archive (gitlab.com allows 5 a minute),
  the files come from the recursive tree listing and ``/repository/blobs/:sha/raw``, each
  blob checked against its id.

The token (``GITLAB_TOKEN``) is sent as ``PRIVATE-TOKEN`` to the API's own origin only:
redirects are followed by hand, so it never reaches another host.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import anyio
import anyio.to_thread
import httpx

from gosub import metrics, upstream
from gosub.errors import (
    GoneError,
    NotFoundError,
    RateLimitedError,
    UpstreamError,
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
    Extracted,
    extract_subdir,
)

# Helpers of the GitHub source that are not GitHub's: candidates for a shared module.
from gosub.sources.github import _converts, _parse_time, _retry_after
from gosub.sources.http import redact

log = logging.getLogger("gosub.sources.gitlab")

DEFAULT_API_URL = "https://gitlab.com/api/v4"
USER_AGENT = "gosub (+https://github.com/gosub)"
_REDIRECTS = {301, 302, 303, 307, 308}
_HEX = frozenset("0123456789abcdef")
# Blobs fetched at once when an archive is rebuilt from the tree.
_BLOB_CONCURRENCY = 8
Params = Mapping[str, str] | Sequence[tuple[str, str]]


def _endpoint(url: str) -> str:
    """A metrics label for a GitLab API URL: ``tags``, ``commits``, ``files``,
    ``archive.tar.gz``, ``tree``, ``blobs``..."""
    parts = url.split("?", 1)[0].split("/projects/", 1)[-1].split("/")
    rest = parts[1:]
    if not rest:
        return "project"
    return rest[1] if rest[0] == "repository" and len(rest) > 1 else rest[0]


def api_url_for(host: str) -> str:
    """The REST API of a GitLab host: gitlab.com's, or a self-managed ``https://HOST/api/v4``
    (a GitLab under a relative URL root needs its API URL given instead)."""
    return DEFAULT_API_URL if host == "gitlab.com" else f"https://{host}/api/v4"


class GitLabClient:
    """A thin GitLab REST client: auth, retries, rate-limit errors, ETags, downloads.

    One client (one connection pool) serves every project of one GitLab host.
    """

    def __init__(
        self,
        *,
        api_url: str = DEFAULT_API_URL,
        token: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        revalidated: Revalidated | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._origin = _origin(httpx.URL(self.api_url))
        self._token = token or None
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._http = httpx.AsyncClient(
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=False,
        )
        # (API, request) → (ETag, JSON body, next page URL): shared, bounded in bytes
        self._etags = revalidated if revalidated is not None else Revalidated()
        # The RateLimit-* headers of the last answer that had them.
        self._rate: dict[str, str] = {}
        # Until when (monotonic) the archive endpoint said it is rate limited.
        self._archive_limited_until = 0.0

    @classmethod
    def from_env(
        cls,
        host: str = "gitlab.com",
        env: Mapping[str, str] | None = None,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        revalidated: Revalidated | None = None,
    ) -> GitLabClient:
        """The client for GitLab ``host``, configured from ``env`` (default
        ``os.environ``): ``GITLAB_API_URL`` is the API of the GitLab the token belongs
        to (default gitlab.com's), ``GITLAB_TOKEN`` its token. Another host gets its own
        ``https://HOST/api/v4`` and no token: a token is never sent to a host it was not
        made for."""
        env = os.environ if env is None else env
        configured = (env.get("GITLAB_API_URL") or DEFAULT_API_URL).rstrip("/")
        if httpx.URL(configured).host == host.split(":", 1)[0]:
            return cls(
                api_url=configured,
                token=env.get("GITLAB_TOKEN") or None,
                timeout=timeout,
                retry=retry,
                revalidated=revalidated,
            )
        return cls(api_url=api_url_for(host), timeout=timeout, retry=retry, revalidated=revalidated)

    @property
    def has_token(self) -> bool:
        """Whether requests are authenticated (the token itself is never exposed)."""
        return self._token is not None

    @property
    def host(self) -> str:
        """The web host projects live on, for messages and URLs (with a port, if any)."""
        url = httpx.URL(self.api_url)
        return url.host if url.port is None else f"{url.host}:{url.port}"

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def rate_limit_status(self) -> dict[str, Any] | None:
        """GitLab's RateLimit-* figures from the last answer carrying them, or None
        (GitLab has no endpoint to ask; never contains the token)."""
        if not self._rate:
            return None
        out: dict[str, Any] = {}
        for key, value in self._rate.items():
            name = key.removeprefix("ratelimit-")
            out[name] = int(value) if value.isdigit() else value
        return out

    def archive_limited(self) -> bool:
        """Whether the archive endpoint answered 429 and its Retry-After has not passed."""
        return time.monotonic() < self._archive_limited_until

    def archive_retry_after(self) -> int:
        """Seconds until archives may be asked again (0 when they may)."""
        return max(0, int(self._archive_limited_until - time.monotonic() + 0.999))

    def note_archive_limited(self, retry_after: int | None) -> None:
        """Remember an archive rate limit (a minute when GitLab did not say how long)."""
        wait = retry_after if retry_after is not None else 60
        self._archive_limited_until = time.monotonic() + max(1, min(wait, 3600))

    # -- requests -------------------------------------------------------------------

    def _headers(self, url: httpx.URL, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if self._token and _origin(url) == self._origin:
            headers["PRIVATE-TOKEN"] = self._token
        return headers

    async def _once(
        self,
        url: str,
        params: Params | None,
        headers: Mapping[str, str] | None,
        what: str,
        *,
        max_bytes: int,
        dest: Path | None,
    ) -> tuple[httpx.Response, bytes]:
        """One GET, redirects followed by hand (the token only to the API's origin).
        The body is read (at most ``max_bytes``) or, for a 200 with ``dest``, streamed
        there."""
        target = httpx.URL(url, params=params) if params else httpx.URL(url)
        for _ in range(4):
            request = self._http.build_request(
                "GET",
                target,
                headers=self._headers(target, headers),
                timeout=self._attempt_timeout(what),
            )
            resp = await self._http.send(request, stream=True)
            try:
                if resp.status_code in _REDIRECTS and "location" in resp.headers:
                    target = target.join(resp.headers["location"])
                    continue
                self._note_rate(resp)
                if resp.status_code == 200 and dest is not None:
                    await _stream_to(resp, dest, what=what, max_bytes=max_bytes)
                    return resp, b""
                body = bytearray()
                async for chunk in resp.aiter_bytes(1 << 16):
                    body += chunk
                    if len(body) > max_bytes:
                        raise GoneError(f"{what} is larger than {max_bytes} bytes")
                return resp, bytes(body)
            finally:
                await resp.aclose()
        raise UpstreamError(f"{self.host} redirected too often ({what})")

    def _attempt_timeout(self, what: str) -> httpx.Timeout:
        return http.attempt_timeout(self.timeout, self.host, what)

    async def _send(
        self,
        path: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        what: str,
        max_bytes: int = 64 << 20,
        dest: Path | None = None,
        attempts: int | None = None,
    ) -> tuple[httpx.Response, bytes]:
        """GET ``path`` (relative to the API URL, or an absolute URL of it) with bounded
        retries inside the request's deadline; returns the response and body for 200
        and 304 and raises the matching :mod:`gosub.errors` error otherwise. A rate
        limit that lifts within :data:`SHORT_RETRY_AFTER` seconds is waited for once."""
        upstream.check(what)
        url = path if path.startswith(("http://", "https://")) else self.api_url + path

        async def once() -> tuple[httpx.Response, bytes]:
            resp, body = await self._once(
                url, params, headers, what, max_bytes=max_bytes, dest=dest
            )
            metrics.upstream_request(self.host, _endpoint(url), resp.status_code)
            return resp, body

        return await http.send(
            once,
            lambda resp, body: self._error(resp, body, what),
            host=self.host,
            path=redact(path),
            what=what,
            retry=self.retry,
            attempts=attempts,
        )

    def _note_rate(self, resp: httpx.Response) -> None:
        rate = {k: v for k, v in resp.headers.items() if k.lower().startswith("ratelimit-")}
        if rate:
            self._rate = {k.lower(): v for k, v in rate.items()}

    def _error(self, resp: httpx.Response, body: bytes, what: str) -> Exception:
        """Translate a GitLab error response into a gosub error."""
        status = resp.status_code
        message = ""
        try:
            doc = json.loads(body)
            if isinstance(doc, dict):
                message = str(doc.get("message") or doc.get("error") or "")
        except (json.JSONDecodeError, UnicodeDecodeError):
            message = ""
        retry_after = _retry_after(resp)
        reset = resp.headers.get("ratelimit-reset")
        if status == 429 and retry_after is None and reset and reset.isdigit():
            retry_after = max(0, int(reset) - int(time.time()))
        return http.api_error(
            status,
            host=self.host,
            what=what,
            message=message,
            rate_limited=status == 429,
            retry_after=retry_after,
            has_token=self.has_token,
            token_var="GITLAB_TOKEN",
            more_quota="authenticated requests get more quota",
        )

    async def get_json(
        self,
        path: str,
        *,
        params: Params | None = None,
        what: str,
        expect: type | tuple[type, ...] = (dict, list),
    ) -> Any:
        """GET a JSON document of type ``expect``; a 200 whose body is not one is asked
        again once, then reported (502)."""
        for attempt in (1, 2):
            _, body = await self._send(path, params=params, what=what)
            try:
                return self._json(body, what, expect)
            except UpstreamError as exc:
                if attempt == 2:
                    raise
                log.warning("%s; asking again", exc.message)
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, body: bytes, what: str, expect: type | tuple[type, ...]) -> Any:
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UpstreamError(f"{self.host} sent invalid JSON ({what})") from exc
        if not isinstance(data, expect):
            raise UpstreamError(f"{self.host} sent an unexpected answer ({what})")
        return data

    async def get_paginated(
        self, path: str, *, params: Mapping[str, str], what: str, revalidate: bool = False
    ) -> list[Any]:
        """Every page of a JSON list (``Link: rel="next"``), each page revalidated with
        If-None-Match when ``revalidate`` (lists that change: tags)."""
        items: list[Any] = []
        page, nxt = await self._page(path, params, what, revalidate)
        while True:
            items.extend(page)
            if not nxt:
                return items
            if not nxt.startswith(self.api_url + "/"):
                raise UpstreamError(f"{self.host} sent a pagination link to another host")
            page, nxt = await self._page(nxt, None, what, revalidate)

    async def _page(
        self, path: str, params: Mapping[str, str] | None, what: str, revalidate: bool
    ) -> tuple[Any, str | None]:
        key = path + ("?" + urlencode(sorted(params.items())) if params else "")
        for attempt in (1, 2):
            cached = self._etags.get((self.api_url, key)) if revalidate else None
            headers = {"If-None-Match": cached[0]} if cached else None
            resp, body = await self._send(path, params=params, headers=headers, what=what)
            if resp.status_code == 304 and cached is not None:
                return cached[1], cached[2]
            if resp.status_code == 304:
                raise UpstreamError(
                    f"{self.host} answered 304 to an unconditional request ({what})"
                )
            try:
                data = self._json(body, what, list)
                break
            except UpstreamError as exc:
                if attempt == 2:
                    raise
                log.warning("%s; asking again", exc.message)
        nxt = resp.links.get("next", {}).get("url")
        etag = resp.headers.get("etag")
        if revalidate and etag:
            self._etags.put((self.api_url, key), etag, data, nxt, len(body))
        return data, nxt

    async def get_raw(
        self, path: str, *, params: Params | None = None, what: str, max_size: int
    ) -> bytes:
        """GET raw bytes, refusing more than ``max_size`` (:class:`GoneError`)."""
        _, body = await self._send(path, params=params, what=what, max_bytes=max_size)
        return body

    async def download(
        self, path: str, params: Params, dest: Path, *, what: str, max_bytes: int
    ) -> None:
        """Stream ``path`` to ``dest`` (one attempt; the caller retries, since a corrupt
        archive is only detected when it is read)."""
        upstream.check(what)
        await self._send(
            path,
            params=params,
            headers={"Accept": "*/*"},
            what=what,
            max_bytes=max_bytes,
            dest=dest,
            attempts=1,
        )


async def _stream_to(resp: httpx.Response, dest: Path, *, what: str, max_bytes: int) -> None:
    """Write a 200's body to ``dest``; a short or oversized body is an error, never a
    silently partial file."""
    expected = resp.headers.get("content-length")
    written = 0
    async with await anyio.open_file(dest, "wb") as fh:
        async for chunk in resp.aiter_raw(1 << 20):
            written += len(chunk)
            if written > max_bytes:
                raise GoneError(
                    f"{what}: the repository archive is larger than {max_bytes} bytes, "
                    "gosub's limit"
                )
            await fh.write(chunk)
    if expected is not None and expected.isdigit() and int(expected) != written:
        raise UpstreamError(f"{what}: the archive download was cut short")


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _is_hex(ref: str) -> bool:
    return 4 <= len(ref) <= 40 and set(ref.lower()) <= _HEX


def _tree_id(entries: Sequence[Mapping[str, Any]]) -> str:
    """The git object id of a tree, from its entries as GitLab's tree listing gives them
    (``mode`` with a leading 0 for trees, ``id``, ``name``, ``type``); git's entry order
    (a tree sorts as if its name ended in "/")."""
    items: list[tuple[bytes, bytes]] = []
    for e in entries:
        name = str(e["name"]).encode("utf-8", "surrogateescape")
        mode = str(e["mode"]).lstrip("0").encode()
        record = mode + b" " + name + b"\0" + bytes.fromhex(str(e["id"]))
        items.append((name + b"/" if e.get("type") == "tree" else name, record))
    body = b"".join(record for _, record in sorted(items))
    return hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()


def _wrap_tree_id(tree_id: str, subdir: str) -> str:
    """The root tree id of an archive limited to ``subdir`` whose tree is ``tree_id``:
    each ancestor directory holds only the next one."""
    sha = bytes.fromhex(tree_id)
    for name in reversed(subdir.split("/") if subdir else []):
        body = b"40000 " + name.encode("utf-8", "surrogateescape") + b"\0" + sha
        sha = hashlib.sha1(b"tree %d\0" % len(body) + body).digest()
    return sha.hex()


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first error of a task group's failure (the one a caller expects)."""
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


def _ancestors(subdir: str) -> list[str]:
    """The directories above ``subdir`` ("" for the root), outermost first."""
    if not subdir:
        return []
    parts = subdir.split("/")
    return ["/".join(parts[:i]) for i in range(len(parts))]


class GitLabSource:
    """One GitLab project as a :class:`gosub.sources.base.Source`.

    Caches what is addressed by commit SHA (files, listings, ancestry, reachability)
    within the process, bounded in entries; tags and branches are asked each time,
    revalidated with ETags.
    """

    def __init__(
        self,
        client: GitLabClient,
        project: str,
        *,
        max_archive_bytes: int = 2 << 30,
        max_blob_files: int = 1000,
        spool_dir: str | None = None,
        url: str | None = None,
        files: FileCache | None = None,
    ) -> None:
        self.client = client
        self.project = project.strip("/")
        # Without an archive (rate limited), at most this many files are fetched as blobs.
        self.max_blob_files = max_blob_files
        self.url = url or f"https://{client.host}/{self.project}"
        self.max_archive_bytes = max_archive_bytes
        self.spool_dir = spool_dir
        self._base = f"/projects/{quote(self.project, safe='')}"
        # Shared by every source of the process (bounded in bytes there).
        self._files = files if files is not None else FileCache(32 << 20)
        self._ancestry: OrderedDict[tuple[str, str], bool] = OrderedDict()
        self._reachable: OrderedDict[str, bool] = OrderedDict()

    @property
    def display_name(self) -> str:
        """``host/group/.../project``."""
        return f"{self.client.host}/{self.project}"

    async def is_public(self) -> bool:
        """Whether the project's visibility is public (``GET /projects/:id``); a project
        the token cannot see is reported as not found."""
        data = await self.client.get_json(self._base, what=self.display_name, expect=dict)
        return bool(data.get("visibility") == "public")

    async def rate_limit(self) -> dict[str, Any] | None:
        """The RateLimit-* figures GitLab last sent, or None."""
        return self.client.rate_limit_status()

    async def _tags(self, prefix: str) -> list[dict[str, Any]]:
        """The tags starting with ``prefix``: GitLab's search narrows them (``^`` for a
        prefix, case-insensitive), the exact test is here."""
        params = {"per_page": "100", "order_by": "name", "sort": "asc"}
        if prefix:
            params["search"] = "^" + prefix
        data = await self.client.get_paginated(
            f"{self._base}/repository/tags",
            params=params,
            what=f"tags of {self.display_name}",
            revalidate=True,
        )
        return [
            t
            for t in data
            if isinstance(t, dict)
            and isinstance(t.get("name"), str)
            and t["name"].startswith(prefix)
        ]

    async def list_tags(self, prefix: str) -> list[str]:
        """Tag names starting with ``prefix`` (one request per 100 tags, revalidated)."""
        return [t["name"] for t in await self._tags(prefix)]

    async def tag_commits(self, prefix: str) -> dict[str, str]:
        """Matching tags mapped to their commits: GitLab lists tags already peeled."""
        out: dict[str, str] = {}
        for t in await self._tags(prefix):
            sha = (t.get("commit") or {}).get("id")
            if isinstance(sha, str):
                out[t["name"]] = sha
        return out

    async def resolve(self, ref: str) -> Commit:
        """One request (``commits/:ref``), and one more for a SHA to check that a branch
        or tag of the project contains it."""
        what = f"{self.display_name}@{ref}"
        data = await self.client.get_json(
            f"{self._base}/repository/commits/{quote(ref, safe='')}",
            params={"stats": "false"},
            what=what,
            expect=dict,
        )
        try:
            commit = Commit(sha=str(data["id"]), time=_parse_time(str(data["committed_date"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamError(f"unexpected commit data from {self.client.host}") from exc
        if _is_hex(ref) and commit.sha.startswith(ref.lower()):
            await self._check_reachable(commit.sha, ref)
        return commit

    async def _check_reachable(self, sha: str, ref: str) -> None:
        """A commit asked for by SHA must be on a branch or tag (one request, the
        first ref only; remembered)."""
        if self._reachable.get(sha):
            return
        refs = await self.client.get_json(
            f"{self._base}/repository/commits/{sha}/refs",
            params={"type": "all", "per_page": "1"},
            what=f"refs containing {sha[:12]} in {self.display_name}",
            expect=list,
        )
        if not refs:
            raise NotFoundError(
                f"{self.display_name}@{ref}: commit {sha[:12]} is on no branch or tag of "
                "the repository"
            )
        self._reachable[sha] = True
        while len(self._reachable) > 4096:
            self._reachable.popitem(last=False)

    async def read_file(self, commit: str, path: str, *, max_size: int) -> bytes | None:
        """The blob at ``path`` via ``files/:path`` (JSON: the content and the blob id
        it must hash to; a cut or altered answer is asked again, then a 502: it must
        never become a ``.mod``); cached by (commit, path), bounded in bytes."""
        key = ("gitlab", self.client.api_url, self.project, commit, path)
        if key in self._files:
            return self._files.get(key)
        data = await self._read_checked(commit, path, max_size=max_size)
        self._files.put(key, data)
        return data

    async def _read_checked(self, commit: str, path: str, *, max_size: int) -> bytes | None:
        what = f"{self.display_name}/{path}@{commit[:12]}"
        attempts = self.client.retry.attempts
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self.client.retry.delay(attempt - 1))
            try:
                body = await self.client.get_raw(
                    f"{self._base}/repository/files/{quote(path, safe='')}",
                    params={"ref": commit},
                    what=what,
                    # base64 is 4/3 of the bytes, plus the answer's other fields
                    max_size=max_size * 4 // 3 + 64 * 1024,
                )
            except GoneError:
                raise GoneError(f"{what} is larger than {max_size} bytes") from None
            except NotFoundError:
                return None  # no such file, or a directory
            try:
                doc = json.loads(body)
                sha, size = str(doc["blob_id"]), int(doc["size"])
            except (ValueError, KeyError, TypeError):
                log.warning("%s: unreadable files answer (attempt %d)", what, attempt)
                continue
            if size > max_size:
                raise GoneError(f"{what} is larger than {max_size} bytes")
            content = doc.get("content")
            try:
                raw = base64.b64decode(content if isinstance(content, str) else "")
            except (binascii.Error, ValueError):
                raw = b""
            if size and not raw and len(sha) == 40 and _is_hex(sha):
                # An answer without its content: the blob, checked the same way.
                raw = await self._blob(sha, path, commit, max_size=max_size)
            if git_blob_id(raw) == sha:
                return raw
            log.warning("%s: bytes do not match blob %s (attempt %d)", what, sha[:12], attempt)
        raise UpstreamError(
            f"{what}: {self.client.host} sent bytes that are not the file's (their git blob "
            f"id differs from the one it names) {attempts} times; gosub does not serve them. "
            "Try again later"
        )

    async def is_ancestor(self, ancestor: str, commit: str) -> bool:
        """Merge base of the two is ``ancestor`` (``repository/merge_base``)."""
        key = (ancestor, commit)
        if key not in self._ancestry:
            a = ancestor
            if not (len(a) == 40 and _is_hex(a)):
                a = (await self.resolve(ancestor)).sha
            if a == commit:
                result = True
            else:
                try:
                    data = await self.client.get_json(
                        f"{self._base}/repository/merge_base",
                        params=[("refs[]", a), ("refs[]", commit)],
                        what=f"ancestry of {commit[:12]} in {self.display_name}",
                        expect=dict,
                    )
                except NotFoundError:
                    result = False  # unrelated histories: no merge base
                else:
                    result = data.get("id") == a
            self._ancestry[key] = result
            while len(self._ancestry) > 4096:
                self._ancestry.popitem(last=False)
        return self._ancestry[key]

    # -- archives ---------------------------------------------------------------------

    async def _listing(
        self, commit: str, directory: str, *, recursive: bool = False
    ) -> list[dict[str, Any]]:
        """The entries of ``directory`` at ``commit`` (``repository/tree``, all pages)."""
        params = {"ref": commit, "per_page": "100"}
        if directory:
            params["path"] = directory
        if recursive:
            params["recursive"] = "true"
        entries = await self.client.get_paginated(
            f"{self._base}/repository/tree",
            params=params,
            what=f"file list of {self.display_name}/{directory}@{commit[:12]}",
        )
        out = []
        for e in entries:
            if not (
                isinstance(e, dict)
                and isinstance(e.get("id"), str)
                and len(e["id"]) == 40
                and _is_hex(e["id"])
                and isinstance(e.get("path"), str)
                and isinstance(e.get("name"), str)
                and isinstance(e.get("mode"), str)
            ):
                raise UpstreamError(f"unexpected tree listing from {self.client.host}")
            out.append(e)
        return out

    @asynccontextmanager
    async def archive(
        self, commit: str, subdir: str, *, extras: Sequence[str] = ()
    ) -> AsyncIterator[Archive]:
        """The subdirectory's archive (one listing, one download), checked against the
        subdirectory's tree id; when it differs, or GitLab rate-limits archives, the
        files come from the tree listing and their blobs, with Go's conversions applied.
        ``extras`` are read alone (``files/:path``, checked against their blob ids).

        The archive applies the .gitattributes of the subdirectory's ancestors too (git
        archive reads attributes from the whole tree, with a pathspec and in a bare
        repository alike), so an archive that is its tree's blobs had nothing to
        convert."""
        root = Path(tempfile.mkdtemp(prefix="gosub-", dir=self.spool_dir))
        arch = Archive(root=root)
        try:
            ex: Extracted | None = None
            expected: str | None = None
            if not self.client.archive_limited():
                top = await self._listing(commit, subdir)
                expected = _wrap_tree_id(_tree_id(top), subdir)
                links = {str(e["path"]): str(e["id"]) for e in top if e.get("type") == "commit"}
                try:
                    ex = await self._fetch_archive(root, commit, subdir, links)
                except RateLimitedError as exc:
                    self.client.note_archive_limited(exc.retry_after)
                    log.info("%s: archives rate limited; rebuilding from the tree", exc.message)
            if ex is not None and ex.tree_sha == expected:
                # The archive is the subdirectory's tree byte for byte.
                arch.files = ex.files
                arch.blobs = dict(ex.blob_shas)
            else:
                await self._rebuild(arch, ex, commit, subdir)
            for extra in extras:
                arch.extras[extra] = await self.read_file(
                    commit, extra, max_size=self.max_archive_bytes
                )
            yield arch
        finally:
            arch.close()

    async def _fetch_archive(
        self, root: Path, commit: str, subdir: str, gitlinks: Mapping[str, str]
    ) -> Extracted:
        """Download and extract, retrying (bounded) a failed or corrupt download; a
        rate limit is raised at once."""
        what = f"archive of {self.display_name}@{commit[:12]}"
        tar_path, files_dir = root / "archive.tar.gz", root / "files"
        params = {"sha": commit, "include_lfs_blobs": "false"}
        if subdir:
            params["path"] = subdir

        async def download(attempt: int) -> None:
            await self.client.download(
                f"{self._base}/repository/archive.tar.gz",
                params,
                tar_path,
                what=what,
                max_bytes=self.max_archive_bytes,
            )

        def extract() -> Extracted:
            with tar_path.open("rb") as fh:
                return extract_subdir(
                    fh, files_dir, subdir, max_bytes=self.max_archive_bytes, gitlinks=gitlinks
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

    async def _rebuild(self, arch: Archive, ex: Extracted | None, commit: str, subdir: str) -> None:
        """Make ``arch`` what Go's ``git archive`` gives, from the recursive tree
        listing: every .gitattributes that applies (the archive's copy where it is the
        blob, else the blob), then each file the archive left out, altered or does not
        have (all of them without an archive) from its blob. Files the listing does not
        name are dropped."""
        prefix = subdir + "/" if subdir else ""
        entries = await self._listing(commit, subdir, recursive=True)
        if ex is None:
            files_in = sum(1 for e in entries if e.get("type") == "blob")
            if files_in > self.max_blob_files:
                # Thousands of blob requests would only trade one limit for another.
                wait = self.client.archive_retry_after()
                raise RateLimitedError(
                    f"{self.client.host} rate limits archives for {wait} s, and "
                    f"{self.display_name}/{subdir} has {files_in} files, too many to "
                    f"fetch one by one (gosub's limit: {self.max_blob_files})",
                    retry_after=wait,
                )
        archived = {f.path: f for f in ex.files} if ex is not None else {}
        archived_ids = ex.blob_shas if ex is not None else {}
        attr_files: dict[str, bytes] = {}
        fetched: dict[str, bytes] = {}  # blob id → bytes, of .gitattributes asked for
        for d in _ancestors(subdir):
            path = f"{d}/.gitattributes" if d else ".gitattributes"
            data = await self._file_blob(commit, path)
            if data is not None:
                attr_files[path] = data
        for e in entries:
            full = str(e["path"])
            if e.get("type") != "blob" or not (
                full == ".gitattributes" or full.endswith("/.gitattributes")
            ):
                continue
            rel = full[len(prefix) :]
            if ex is not None and archived_ids.get(rel) == e["id"]:
                with archived[rel].open() as fh:
                    attr_files[full] = fh.read()
            else:
                fetched[str(e["id"])] = attr_files[full] = await self._blob(
                    str(e["id"]), full, commit, max_size=MAX_GITATTRIBUTES
                )
        attrs = gitattributes.Attributes.from_files(attr_files)

        files: list[ArchiveFile | None] = []
        todo: list[tuple[int, str, str]] = []  # (index in files, repository path, blob id)
        for e in entries:
            full = str(e["path"])
            if e.get("type") != "blob" or not full.startswith(prefix):
                continue  # trees and submodules (gitlinks) are not files in the zip
            rel, sha = full[len(prefix) :], str(e["id"])
            got = archived.get(rel)
            if e["mode"] == "120000":
                size = got.size if got is not None and got.kind == "symlink" else 0
                files.append(ArchiveFile(rel, "symlink", size, None))
                continue
            if (
                got is not None
                and got.kind == "file"
                and not attrs.altered_by_github_archive(full)
                # The blob itself, or converted as Go's archive converts it too.
                and (archived_ids.get(rel) == sha or _converts(attrs.lookup(full, go=True)))
            ):
                if archived_ids.get(rel) == sha:
                    arch.blobs[rel] = sha
                files.append(got)
                continue
            todo.append((len(files), full, sha))
            files.append(None)

        blob_dir = arch.root / "blobs"
        blob_dir.mkdir(exist_ok=True)
        limiter = anyio.CapacityLimiter(_BLOB_CONCURRENCY)
        total = 0

        async def fetch(index: int, full: str, sha: str) -> None:
            nonlocal total
            raw = fetched.get(sha)
            if raw is None:
                async with limiter:
                    raw = await self._blob(sha, full, commit, max_size=self.max_archive_bytes)
            total += len(raw)
            if total > self.max_archive_bytes:
                raise GoneError(
                    f"{self.display_name}@{commit[:12]}: the files to package exceed "
                    f"{self.max_archive_bytes} bytes"
                )
            try:
                data = gitattributes.convert_for_go_archive(
                    raw, attrs.lookup(full, go=True), sha, full
                )
            except gitattributes.UnsupportedAttributeError as exc:
                raise GoneError(f"{self.display_name}/{full}: {exc}") from exc
            local = blob_dir / f"{index:08d}"
            await anyio.Path(local).write_bytes(data)
            rel = full[len(prefix) :]
            files[index] = ArchiveFile(rel, "file", len(data), local)
            if data == raw:
                arch.blobs[rel] = sha

        try:
            async with anyio.create_task_group() as tg:
                for index, full, sha in todo:
                    tg.start_soon(fetch, index, full, sha)
        except BaseExceptionGroup as group:
            raise _first(group) from None
        arch.files = [f for f in files if f is not None]
        if todo:
            log.info(
                "%s@%s: %d files rebuilt from blobs",
                self.display_name,
                commit[:12],
                len(todo),
            )

    async def _blob(self, sha: str, path: str, commit: str, *, max_size: int) -> bytes:
        """A raw blob (``repository/blobs/:sha/raw``) whose bytes are checked against
        its id; wrong bytes are asked again (bounded), then an error naming the file."""
        what = f"{self.display_name}/{path}@{commit[:12]}"
        policy = self.client.retry
        for attempt in range(1, policy.attempts + 1):
            if attempt > 1:
                await asyncio.sleep(policy.delay(attempt - 1))
            data = await self.client.get_raw(
                f"{self._base}/repository/blobs/{sha}/raw", what=what, max_size=max_size
            )
            if git_blob_id(data) == sha:
                return data
            log.warning("%s: bytes are not blob %s (attempt %d)", what, sha[:12], attempt)
        raise UpstreamError(
            f"{what}: {self.client.host} sent bytes that are not blob {sha[:12]} "
            f"({policy.attempts} attempts); not served"
        )

    async def _file_blob(self, commit: str, path: str) -> bytes | None:
        """A .gitattributes read alone, checked against its blob id; None when none."""
        return await self.read_file(commit, path, max_size=MAX_GITATTRIBUTES)
