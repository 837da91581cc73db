"""A stand-in for the GitHub REST API: a real HTTP server on 127.0.0.1 answering the
endpoints gosub uses from real git repositories (``ROOT/OWNER/REPO``), counting requests
per endpoint. JSON shapes, status codes and headers follow docs.github.com; archives are
``git archive`` output built the way GitHub builds them (in-tree .gitattributes honoured,
export-ignore and export-subst included), served from a second origin (a codeload server
on another port), as github.com serves them from codeload.github.com.

Fault switches play what a real server rarely does on cue: :meth:`GitHubStandin.fail`
(any status and body), :meth:`GitHubStandin.tamper` (a 200 whose bytes are altered or cut,
with a Content-Length that matches, so only a content check can tell),
:meth:`GitHubStandin.stall` (an answer that comes after a delay) and
:meth:`GitHubStandin.redirect_reads` (file reads redirected to the second origin).
:attr:`GitHubStandin.exchanges` records every request with its headers and the status
answered."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.faults import FaultSwitches
from tests.support.git import neutral_git_env
from tests.support.httpserver import serve_on_loopback, url_of

_HEX = re.compile(r"^[0-9a-f]{4,40}$")
# The temporary token the archive redirect carries for authenticated requests; it must
# never reach a log or a response.
ARCHIVE_TOKEN = "GHSAT0AAAAATEMPORARYARCHIVETOKEN"


@dataclass(frozen=True)
class Exchange:
    """One request either origin answered: which origin (``"api"`` or ``"codeload"``),
    the endpoint name, method, path with query, the request's headers (names in lower
    case) and the status sent back (after injected faults and ETag revalidation)."""

    origin: str
    endpoint: str
    method: str
    path: str
    headers: dict[str, str]
    status: int


class _NotFound(Exception):
    pass


class GitHubStandin(FaultSwitches):
    """The stand-in server. ``counts`` holds requests per endpoint name."""

    def __init__(
        self, repos_root: Path, *, api_prefix: str = "", private: set[str] | None = None
    ) -> None:
        self.root = repos_root
        # "owner/repo" names that are private: visible only to requests with a token.
        self.private = private or set()
        self.api_prefix = api_prefix.rstrip("/")
        self.counts: Counter[str] = Counter()
        # What every answer reports as left of the hourly rate limit (of 5000).
        self.remaining = 4999
        # (method, path, carried credentials) of the API origin's requests, and of the
        # archive origin's.
        self.requests: list[tuple[str, str, bool]] = []
        self.archive_requests: list[tuple[str, str, bool]] = []
        # Every request of both origins with its headers and the status answered.
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._init_faults()
        self._redirect_reads = False
        self._server: ThreadingHTTPServer | None = None
        self._codeload: ThreadingHTTPServer | None = None
        self.api_url = ""
        self.codeload_url = ""

    # -- control ----------------------------------------------------------------------

    def start(self) -> None:
        """Listen on a free loopback port in a daemon thread."""
        self._server = serve_on_loopback({"GET": self._handle})
        self._codeload = serve_on_loopback({"GET": self._handle_codeload})
        self.base_url = url_of(self._server)
        self.api_url = self.base_url + self.api_prefix
        self.codeload_url = url_of(self._codeload)

    def stop(self) -> None:
        """Shut the servers down."""
        for server in (self._server, self._codeload):
            if server:
                server.shutdown()
                server.server_close()

    def reset(self) -> None:
        """Forget counts, requests and injected faults."""
        with self._lock:
            self.counts.clear()
            self.remaining = 4999
            self.requests.clear()
            self.archive_requests.clear()
            self.exchanges.clear()
            self._clear_faults()
            self._redirect_reads = False

    def redirect_reads(self) -> None:
        """Until :meth:`reset`, answer every file read (contents and blobs, raw or JSON)
        with a 302 to the second origin, which gives the answer the API would have given
        (endpoint "redirected", without the private-repository check: the redirect is the
        authorisation). GitHub documents that any API request may be redirected, and
        serves raw files from another host (raw.githubusercontent.com)."""
        with self._lock:
            self._redirect_reads = True

    def exchanges_of(self, endpoint: str) -> list[Exchange]:
        """The recorded exchanges of one endpoint, in order."""
        with self._lock:
            return [e for e in self.exchanges if e.endpoint == endpoint]

    # -- git --------------------------------------------------------------------------

    def _git(self, repo: Path, *args: str, text: bool = True) -> Any:
        proc = subprocess.run(
            [
                "git",
                "--git-dir",
                str(repo / ".git") if (repo / ".git").exists() else str(repo),
                *args,
            ],
            env=neutral_git_env(),
            capture_output=True,
        )
        if proc.returncode != 0:
            raise _NotFound(proc.stderr.decode(errors="replace"))
        return proc.stdout.decode("utf-8", "surrogateescape") if text else proc.stdout

    def _rev(self, repo: Path, ref: str) -> str:
        if not ref or ref.startswith("-"):
            raise _NotFound(ref)
        return str(self._git(repo, "rev-parse", "--verify", "--quiet", ref + "^{commit}").strip())

    def _commit_json(self, repo: Path, sha: str) -> dict[str, Any]:
        out = self._git(repo, "show", "-s", "--format=%H%n%ct%n%at%n%T%n%P%n%B", sha)
        h, ct, at, tree, parents, *msg = out.split("\n")

        def iso(ts: str) -> str:
            return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        return {
            "sha": h,
            "commit": {
                "author": {"name": "Gosub Test", "email": "test@example.test", "date": iso(at)},
                "committer": {"name": "Gosub Test", "email": "test@example.test", "date": iso(ct)},
                "message": "\n".join(msg).strip(),
                "tree": {"sha": tree},
            },
            "parents": [{"sha": p} for p in parents.split()],
        }

    def _default_branch(self, repo: Path) -> str:
        try:
            return str(self._git(repo, "symbolic-ref", "--short", "HEAD").strip())
        except _NotFound:  # a detached HEAD
            return "main"

    def _tag_refs(self, repo: Path, prefix: str) -> list[dict[str, Any]]:
        return self._refs(repo, "tags", prefix)

    def _refs(self, repo: Path, kind: str, prefix: str) -> list[dict[str, Any]]:
        out = self._git(
            repo, "for-each-ref", "--format=%(refname) %(objectname) %(objecttype)", f"refs/{kind}/"
        )
        refs = []
        for line in out.splitlines():
            ref, sha, obj = line.rsplit(" ", 2)
            if ref.startswith(f"refs/{kind}/" + prefix):
                refs.append({"ref": ref, "object": {"sha": sha, "type": obj}})
        return sorted(refs, key=lambda r: r["ref"])

    def _peeled_tags(self, repo: Path) -> list[dict[str, Any]]:
        out = self._git(
            repo,
            "for-each-ref",
            "--format=%(refname:strip=2) %(objectname) %(*objectname)",
            "refs/tags/",
        )
        tags = []
        for line in out.splitlines():
            parts = line.rsplit(" ", 2)
            name, sha, peeled = parts[0], parts[1], parts[2] if len(parts) > 2 else ""
            tags.append({"name": name, "commit": {"sha": peeled or sha}})
        return sorted(tags, key=lambda t: t["name"], reverse=True)

    # -- HTTP ---------------------------------------------------------------------------

    def _handle_codeload(self, h: BaseHTTPRequestHandler) -> None:
        self._handle(h, codeload=True)

    def _handle(self, h: BaseHTTPRequestHandler, *, codeload: bool = False) -> None:
        url = urlsplit(h.path)
        path = url.path
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            if codeload and path.startswith("/_redirected/"):
                inner = path[len("/_redirected") :]
                _, status, headers, body = self._route(h, inner, query, redirected=True)
                endpoint = "redirected"
            elif codeload:
                endpoint, status, headers, body = self._route_codeload(path)
            else:
                endpoint, status, headers, body = self._route(h, path, query)
        except _NotFound:
            endpoint, status, headers, body = "notfound", 404, {}, b'{"message":"Not Found"}'
        with self._lock:
            self.counts[endpoint] += 1
            log = self.archive_requests if codeload else self.requests
            log.append((h.command, h.path, "authorization" in h.headers))
            status, headers, body, stall = self._apply_faults(endpoint, status, headers, body)
        if stall:
            time.sleep(stall)
        if (
            status == 200
            and "etag" in headers
            and h.headers.get("if-none-match") == headers["etag"]
        ):
            status, body = 304, b""
        with self._lock:
            self.exchanges.append(
                Exchange(
                    "codeload" if codeload else "api",
                    endpoint,
                    h.command,
                    h.path,
                    {k.lower(): v for k, v in h.headers.items()},
                    status,
                )
            )
        # Injected headers (a rate limit's) replace the defaults, not add to them.
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": str(self.remaining),
            **headers,
        }
        try:
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True  # the client gave up (a stall past its timeout)

    def _json(self, data: Any, *, etag: bool = True) -> tuple[int, dict[str, str], bytes]:
        body = json.dumps(data).encode()
        headers = {}
        if etag:
            headers["etag"] = 'W/"' + hashlib.sha256(body).hexdigest()[:40] + '"'
        return 200, headers, body

    def _route_codeload(self, path: str) -> tuple[str, int, dict[str, str], bytes]:
        m = re.match(r"^/_codeload/([^/]+)/([^/]+)/legacy\.tar\.gz/([0-9a-f]{40})$", path)
        if not m:
            raise _NotFound(path)
        owner, name, sha = m.groups()
        repo = self._repo(owner, name)
        tar = self._git(
            repo,
            "archive",
            "--format=tar",
            f"--prefix={owner}-{name}-{sha[:7]}/",
            sha,
            text=False,
        )
        return "codeload", 200, {"Content-Type": "application/x-gzip"}, gzip.compress(tar, 6)

    def _route(
        self,
        h: BaseHTTPRequestHandler,
        path: str,
        q: dict[str, str],
        *,
        redirected: bool = False,
    ) -> tuple[str, int, dict[str, str], bytes]:
        if not path.startswith(self.api_prefix + "/"):
            raise _NotFound(path)
        path = path[len(self.api_prefix) :]
        if path == "/rate_limit":
            core = {"limit": 5000, "remaining": 4999, "reset": 0, "used": 1}
            return (
                "rate_limit",
                *self._json({"resources": {"core": core}, "rate": core}, etag=False),
            )
        m = re.match(r"^/repos/([^/]+)/([^/]+)(/.*)?$", path)
        if not m:
            raise _NotFound(path)
        owner, name, rest = m.group(1), m.group(2), unquote(m.group(3) or "")
        repo = self._repo(owner, name)
        is_private = f"{owner}/{name}" in self.private
        if is_private and "authorization" not in h.headers and not redirected:
            raise _NotFound(f"{owner}/{name}")  # GitHub hides private repositories
        accept = h.headers.get("accept", "")
        if rest == "":
            data = {
                "full_name": f"{owner}/{name}",
                "private": is_private,
                "visibility": "private" if is_private else "public",
                "default_branch": self._default_branch(repo),
            }
            return ("repo", *self._json(data))
        raw = "raw" in accept
        if (
            self._redirect_reads
            and not redirected
            and rest.startswith(("/contents/", "/git/blobs/"))
        ):
            endpoint = "contents" if rest.startswith("/contents/") else "blobs"
            return endpoint, 302, {"Location": f"{self.codeload_url}/_redirected{h.path}"}, b""
        if rest.startswith("/git/matching-refs/tags/") or rest == "/git/matching-refs/tags":
            prefix = rest[len("/git/matching-refs/tags/") :]
            return ("matching-refs", *self._json(self._tag_refs(repo, prefix)))
        if rest.startswith("/git/matching-refs/heads"):
            prefix = rest[len("/git/matching-refs/heads/") :]
            return ("matching-refs-heads", *self._json(self._refs(repo, "heads", prefix)))
        if rest == "/tags":
            tags = self._peeled_tags(repo)
            per = min(int(q.get("per_page", "30")), 100)
            page = int(q.get("page", "1"))
            status, headers, body = self._json(tags[(page - 1) * per : page * per])
            if page * per < len(tags):
                nxt = f"{self.api_url}/repos/{owner}/{name}/tags?per_page={per}&page={page + 1}"
                headers["Link"] = f'<{nxt}>; rel="next"'
            return "tags", status, headers, body
        if rest == "/commits":
            ref = q.get("sha") or "HEAD"
            try:
                sha = self._rev(repo, ref)
            except _NotFound:
                body = json.dumps({"message": f"No commit found for SHA: {ref}"}).encode()
                return "commits", 404, {}, body
            return ("commits", *self._json([self._commit_json(repo, sha)]))
        if rest.startswith("/contents/"):
            file = rest[len("/contents/") :]
            sha = self._rev(repo, q.get("ref") or "HEAD")
            kind = self._git(repo, "cat-file", "-t", f"{sha}:{file}").strip()
            if kind == "tree" and not raw:
                return ("contents", *self._json([], etag=False))  # a directory listing
            if kind != "blob":
                raise _NotFound(file)
            data = self._git(repo, "cat-file", "blob", f"{sha}:{file}", text=False)
            if raw:
                return "contents", 200, {"Content-Type": "application/octet-stream"}, data
            blob = self._git(repo, "rev-parse", f"{sha}:{file}").strip()
            big = len(data) > 1 << 20  # GitHub leaves out the content of files over 1 MB
            b64 = base64.encodebytes(data).decode() if not big else ""
            doc = {
                "type": "file",
                "name": file.rsplit("/", 1)[-1],
                "path": file,
                "sha": blob,
                "size": len(data),
                "encoding": "none" if big else "base64",
                "content": b64,
            }
            return ("contents", *self._json(doc))
        if rest.startswith("/compare/"):
            base, _, head = rest[len("/compare/") :].partition("...")
            b, hd = self._rev(repo, base), self._rev(repo, head)
            counts = self._git(repo, "rev-list", "--left-right", "--count", f"{b}...{hd}").split()
            behind, ahead = int(counts[0]), int(counts[1])
            status = (
                "identical"
                if b == hd
                else "ahead"
                if behind == 0
                else "behind"
                if ahead == 0
                else "diverged"
            )
            mb = self._git(repo, "merge-base", b, hd).strip()
            data = {
                "status": status,
                "ahead_by": ahead,
                "behind_by": behind,
                "total_commits": ahead,
                "merge_base_commit": {"sha": mb},
                "base_commit": {"sha": b},
                "commits": [],
            }
            return ("compare", *self._json(data, etag=False))
        if rest.startswith("/tarball/"):
            sha = self._rev(repo, rest[len("/tarball/") :])
            loc = f"{self.codeload_url}/_codeload/{owner}/{name}/legacy.tar.gz/{sha}"
            if "authorization" in h.headers:
                # As GitHub does for private repositories: a short-lived token in the URL.
                loc += "?token=" + ARCHIVE_TOKEN
            return "tarball", 302, {"Location": loc}, b""
        if rest.startswith("/git/trees/"):
            treeish = rest[len("/git/trees/") :]
            if treeish.startswith("-"):
                raise _NotFound(treeish)
            args = ["ls-tree", "-z", "-l", "--full-tree"]
            if "recursive" in q:
                args += ["-r", "-t"]
            out = self._git(repo, *args, treeish)
            entries = []
            for rec in out.split("\0"):
                if not rec:
                    continue
                meta, _, p = rec.partition("\t")
                mode, kind, sha, size = meta.split()
                e: dict[str, Any] = {"path": p, "mode": mode, "type": kind, "sha": sha}
                if kind == "blob":
                    e["size"] = int(size)
                entries.append(e)
            return ("trees", *self._json({"sha": treeish, "tree": entries, "truncated": False}))
        if rest.startswith("/git/blobs/"):
            sha = rest[len("/git/blobs/") :]
            if not _HEX.match(sha):
                raise _NotFound(sha)
            data = self._git(repo, "cat-file", "blob", sha, text=False)
            if raw:
                return "blobs", 200, {"Content-Type": "application/octet-stream"}, data
            return (
                "blobs",
                *self._json(
                    {
                        "sha": sha,
                        "size": len(data),
                        "encoding": "base64",
                        "content": base64.b64encode(data).decode(),
                    }
                ),
            )
        raise _NotFound(rest)

    def _repo(self, owner: str, name: str) -> Path:
        repo = self.root / owner / name
        if not re.match(r"^[A-Za-z0-9._-]+$", owner + name) or not repo.is_dir():
            raise _NotFound(f"{owner}/{name}")
        return repo
