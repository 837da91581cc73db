"""A stand-in for GitLab's REST API v4: a real HTTP server on 127.0.0.1 answering the
endpoints gosub uses from real git repositories, counting requests per endpoint.

Projects are addressed as GitLab does, by URL-encoded path (``/api/v4/projects/acme%2Fmono``,
nested groups allowed); a project path maps to ``ROOT/PATH`` or, through ``projects``, to
any repository below ROOT. JSON shapes, status codes and headers follow docs.gitlab.com
(tags peeled with their commit, ``committed_date`` in the committer's offset, tree
entries with ``mode`` ``040000`` for trees, ``Link``/``X-Next-Page`` pagination, weak
ETags answered with 304, RateLimit-* headers). Archives are ``git archive`` output as
GitLab builds them: in-tree .gitattributes honoured (export-ignore and export-subst
included), ``path=`` limiting the archive to a subdirectory, and the top folder named
``PROJECT-SHA-SHA[-DIR-WITH-DASHES]`` (the API appends the SHA to the ref it was given).

Fault switches as in the GitHub stand-in: :meth:`GitLabStandin.fail` (any status and
body), :meth:`GitLabStandin.tamper` (a 200 whose bytes are altered, Content-Length
matching) and :meth:`GitLabStandin.stall`."""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import json
import re
import subprocess
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.support.faults import FaultSwitches
from tests.support.git import neutral_git_env
from tests.support.httpserver import serve_on_loopback, url_of

_HEX = re.compile(r"^[0-9a-f]{4,40}$")
_PROJECT = re.compile(r"^[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)+$")


class _NotFound(Exception):
    def __init__(self, what: str = "Not Found") -> None:
        super().__init__(what)
        self.what = what


Answer = tuple[str, int, dict[str, str], bytes]


class GitLabStandin(FaultSwitches):
    """The stand-in server. ``counts`` holds requests per endpoint name: project, tags,
    commit, commit-refs, merge_base, files-raw, files, tree, blobs, archive."""

    def __init__(
        self,
        repos_root: Path,
        *,
        projects: dict[str, str] | None = None,
        private: set[str] | None = None,
        token: str | None = None,
        archive_path: bool = True,
    ) -> None:
        self.root = repos_root
        # False plays a GitLab before 14.4, whose archive endpoint ignores ``path=``.
        self.archive_path = archive_path
        # GitLab project path → repository path below root (default: the same path).
        self.projects = projects or {}
        self.private = private or set()  # project paths visible only with a token
        self.token = token  # when set, the only PRIVATE-TOKEN accepted
        self.counts: Counter[str] = Counter()
        # (path, query, carried a PRIVATE-TOKEN) of every request
        self.requests: list[tuple[str, str, bool]] = []
        # (endpoint, status sent) → count: 304s are revalidations
        self.statuses: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()
        self._init_faults()
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""
        self.api_url = ""

    # -- control ----------------------------------------------------------------------

    def start(self) -> None:
        """Listen on a free loopback port in a daemon thread."""
        self._server = serve_on_loopback({"GET": self._handle})
        self.base_url = url_of(self._server)
        self.api_url = self.base_url + "/api/v4"

    def stop(self) -> None:
        """Shut the server down."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        """Forget counts, requests and injected faults."""
        with self._lock:
            self.counts.clear()
            self.requests.clear()
            self.statuses.clear()
            self._clear_faults()

    def api_requests(self) -> int:
        """Requests counted, 304s and 404s included."""
        return sum(self.counts.values())

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
            raise _NotFound()
        return proc.stdout.decode("utf-8", "surrogateescape") if text else proc.stdout

    def _rev(self, repo: Path, ref: str) -> str:
        if not ref or ref.startswith("-"):
            raise _NotFound("Commit Not Found")
        try:
            out = self._git(repo, "rev-parse", "--verify", "--quiet", ref + "^{commit}")
        except _NotFound:
            raise _NotFound("Commit Not Found") from None
        return str(out).strip()

    def _commit_json(self, repo: Path, sha: str) -> dict[str, Any]:
        out = self._git(repo, "show", "-s", "--format=%H%n%cI%n%aI%n%P%n%an%n%ae%n%B", sha)
        h, ct, at, parents, name, email, *msg = out.split("\n")
        message = "\n".join(msg).strip() + "\n"

        return {
            "id": h,
            "short_id": h[:8],
            "created_at": _gitlab_time(ct),
            "parent_ids": parents.split(),
            "title": message.split("\n", 1)[0],
            "message": message,
            "author_name": name,
            "author_email": email,
            "authored_date": _gitlab_time(at),
            "committer_name": name,
            "committer_email": email,
            "committed_date": _gitlab_time(ct),
            "trailers": {},
            "extended_trailers": {},
            "web_url": f"{self.base_url}/-/commit/{h}",
        }

    def _tags(self, repo: Path) -> list[dict[str, Any]]:
        # One for-each-ref for all tags (a commit lookup each would be slow for many).
        out = self._git(
            repo,
            "for-each-ref",
            "--format=%(refname:strip=2)%00%(objectname)%00%(objecttype)%00%(*objectname)"
            "%00%(committerdate:iso-strict)%00%(*committerdate:iso-strict)%00%(subject)",
            "refs/tags/",
        )
        tags = []
        for line in out.splitlines():
            name, target, kind, peeled, date, peeled_date, subject = line.split("\0")
            commit, when = (peeled, peeled_date) if kind == "tag" else (target, date)
            tags.append(
                {
                    "name": name,
                    "message": subject if kind == "tag" else "",
                    "target": target,
                    "commit": {
                        "id": commit,
                        "short_id": commit[:8],
                        "created_at": _gitlab_time(when),
                        "committed_date": _gitlab_time(when),
                    },
                    "release": None,
                    "protected": False,
                    "created_at": None,
                }
            )
        return tags

    def _listing(self, repo: Path, sha: str, path: str, recursive: bool) -> list[dict[str, Any]]:
        treeish = f"{sha}:{path}" if path else f"{sha}^{{tree}}"
        try:
            kind = self._git(repo, "cat-file", "-t", treeish).strip()
        except _NotFound:
            raise _NotFound("Tree Not Found") from None
        if kind != "tree":
            raise _NotFound("Tree Not Found")
        args = (
            ["ls-tree", "-z", treeish] if not recursive else ["ls-tree", "-z", "-r", "-t", treeish]
        )
        out = self._git(repo, *args)
        entries = []
        for rec in out.split("\0"):
            if not rec:
                continue
            meta, _, rel = rec.partition("\t")
            mode, kind, oid = meta.split()
            full = f"{path}/{rel}" if path else rel
            entries.append(
                {
                    "id": oid,
                    "name": rel.rpartition("/")[2],
                    "type": kind,
                    "path": full,
                    "mode": mode,
                }
            )
        return entries

    # -- HTTP ---------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        query = parse_qs(url.query, keep_blank_values=True)
        token = h.headers.get("private-token")
        try:
            endpoint, status, headers, body = self._route(url.path, query, token)
        except _NotFound as exc:
            endpoint, status, headers = "notfound", 404, {}
            body = json.dumps({"message": f"404 {exc.what}"}).encode()
        with self._lock:
            self.counts[endpoint] += 1
            self.requests.append((url.path, url.query, token is not None))
            status, headers, body, stall = self._apply_faults(endpoint, status, headers, body)
        if stall:
            time.sleep(stall)
        if (
            status == 200
            and "ETag" in headers
            and h.headers.get("if-none-match") == headers["ETag"]
        ):
            status, body = 304, b""
        with self._lock:
            self.statuses[(endpoint, status)] += 1
        h.send_response(status)
        headers = {
            "Content-Type": "application/json",
            "RateLimit-Limit": "2000",
            "RateLimit-Observed": "1",
            "RateLimit-Remaining": "1999",
            "RateLimit-Reset": str(int(time.time()) + 60),
            **headers,
        }
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        # A client that stops reading (a size limit) closes the connection early.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            h.wfile.write(body)

    def _json(self, data: Any, *, etag: bool = True) -> tuple[int, dict[str, str], bytes]:
        body = json.dumps(data).encode()
        headers = {}
        if etag:
            headers["ETag"] = 'W/"' + hashlib.md5(body).hexdigest() + '"'
        return 200, headers, body

    def _paged(
        self, path: str, q: dict[str, list[str]], items: list[Any], *, default: int = 20
    ) -> tuple[int, dict[str, str], bytes]:
        per = max(1, min(int(_one(q, "per_page") or default), 100))
        page = max(1, int(_one(q, "page") or "1"))
        status, headers, body = self._json(items[(page - 1) * per : page * per])
        total_pages = max(1, -(-len(items) // per))
        headers.update(
            {
                "X-Page": str(page),
                "X-Per-Page": str(per),
                "X-Total": str(len(items)),
                "X-Total-Pages": str(total_pages),
                "X-Next-Page": str(page + 1) if page < total_pages else "",
                "X-Prev-Page": str(page - 1) if page > 1 else "",
            }
        )

        def link(n: int) -> str:
            params = [(k, v) for k, vs in q.items() if k != "page" for v in vs]
            return f"{self.base_url}{path}?{urlencode([*params, ('page', str(n))])}"

        links = [f'<{link(1)}>; rel="first"', f'<{link(total_pages)}>; rel="last"']
        if page < total_pages:
            links.insert(0, f'<{link(page + 1)}>; rel="next"')
        if page > 1:
            links.insert(0, f'<{link(page - 1)}>; rel="prev"')
        headers["Link"] = ", ".join(links)
        return status, headers, body

    def _route(self, raw_path: str, q: dict[str, list[str]], token: str | None) -> Answer:
        prefix = "/api/v4/projects/"
        if not raw_path.startswith(prefix):
            raise _NotFound()
        segments = raw_path[len(prefix) :].split("/")
        project = unquote(segments[0])
        rest = [unquote(s) for s in segments[1:]]
        if self.token is not None and token is not None and token != self.token:
            return "unauthorized", 401, {}, b'{"message":"401 Unauthorized"}'
        repo = self._repo(project)
        is_private = project in self.private
        if is_private and token is None:
            raise _NotFound("Project Not Found")  # GitLab hides private projects
        if not rest:
            data = {
                "id": abs(hash(project)) % 100000,
                "path": project.rpartition("/")[2],
                "path_with_namespace": project,
                "visibility": "private" if is_private else "public",
                "default_branch": "main",
                "web_url": f"{self.base_url}/{project}",
            }
            return ("project", *self._json(data))
        if rest[0] != "repository" or len(rest) < 2:
            raise _NotFound()
        what, args = rest[1], rest[2:]
        if what == "tags" and not args:
            tags = self._tags(repo)
            search = _one(q, "search")
            if search and search.startswith("^"):
                tags = [t for t in tags if t["name"].upper().startswith(search[1:].upper())]
            elif search and search.endswith("$"):
                tags = [t for t in tags if t["name"].upper().endswith(search[:-1].upper())]
            elif search:
                tags = [t for t in tags if search.upper() in t["name"].upper()]
            reverse = (_one(q, "sort") or "desc") == "desc"
            if (_one(q, "order_by") or "updated") == "name":
                tags.sort(key=lambda t: t["name"], reverse=reverse)
            else:
                tags.sort(key=lambda t: t["commit"]["committed_date"], reverse=reverse)
            return ("tags", *self._paged(raw_path, q, tags))
        if what == "commits" and len(args) == 1:
            sha = self._rev(repo, args[0])
            return ("commit", *self._json(self._commit_json(repo, sha)))
        if what == "commits" and len(args) == 2 and args[1] == "refs":
            sha = self._rev(repo, args[0])
            kind = _one(q, "type") or "all"
            refs: list[dict[str, str]] = []
            if kind in ("branch", "all"):
                out = self._git(repo, "branch", "--format=%(refname:strip=2)", "--contains", sha)
                refs += [{"type": "branch", "name": n} for n in out.split()]
            if kind in ("tag", "all"):
                out = self._git(repo, "tag", "--contains", sha)
                refs += [{"type": "tag", "name": n} for n in out.split()]
            return ("commit-refs", *self._paged(raw_path, q, refs))
        if what == "merge_base" and not args:
            revs = q.get("refs[]", [])
            if len(revs) < 2:
                return "merge_base", 400, {}, b'{"message":"Provide at least 2 refs"}'
            shas = [self._rev(repo, r) for r in revs]
            try:
                base = self._git(repo, "merge-base", *shas).strip()
            except _NotFound:
                raise _NotFound("Merge Base Not Found") from None
            return ("merge_base", *self._json(self._commit_json(repo, base)))
        if what == "files" and args:
            file = args[0]
            raw = len(args) == 2 and args[1] == "raw"
            if len(args) > (2 if raw else 1):
                raise _NotFound()
            sha = self._rev(repo, _one(q, "ref") or "HEAD")
            try:
                kind = self._git(repo, "cat-file", "-t", f"{sha}:{file}").strip()
            except _NotFound:
                raise _NotFound("File Not Found") from None
            if kind != "blob":
                raise _NotFound("File Not Found")
            data = self._git(repo, "cat-file", "blob", f"{sha}:{file}", text=False)
            if raw:
                return "files-raw", 200, {"Content-Type": "text/plain; charset=utf-8"}, data
            blob = self._git(repo, "rev-parse", f"{sha}:{file}").strip()
            doc = {
                "file_name": file.rpartition("/")[2],
                "file_path": file,
                "size": len(data),
                "encoding": "base64",
                "content": base64.b64encode(data).decode(),
                "content_sha256": hashlib.sha256(data).hexdigest(),
                "ref": _one(q, "ref"),
                "blob_id": blob,
                "commit_id": sha,
                "last_commit_id": sha,
            }
            return ("files", *self._json(doc))
        if what == "tree" and not args:
            sha = self._rev(repo, _one(q, "ref") or "HEAD")
            path = (_one(q, "path") or "").strip("/")
            recursive = (_one(q, "recursive") or "false") == "true"
            entries = self._listing(repo, sha, path, recursive)
            return ("tree", *self._paged(raw_path, q, entries))
        if what == "blobs" and len(args) == 2 and args[1] == "raw":
            if not _HEX.match(args[0]):
                raise _NotFound("Blob Not Found")
            try:
                data = self._git(repo, "cat-file", "blob", args[0], text=False)
            except _NotFound:
                raise _NotFound("Blob Not Found") from None
            return "blobs", 200, {"Content-Type": "application/octet-stream"}, data
        if what in ("archive", "archive.tar.gz") and not args:
            ref = _one(q, "sha") or "HEAD"
            sha = self._rev(repo, ref)
            path = (_one(q, "path") or "").strip("/") if self.archive_path else ""
            name = project.rpartition("/")[2]
            top = f"{name}-{ref.replace('/', '-')}-{sha}"
            if path:
                top += "-" + path.replace("/", "-")
            cmd = ["archive", "--format=tar", f"--prefix={top}/", sha]
            if path:
                cmd += ["--", path]
            try:
                tar = self._git(repo, *cmd, text=False)
            except _NotFound:
                raise _NotFound("File Not Found") from None  # GitLab's answer to any failure
            headers = {
                "Content-Type": "application/octet-stream",
                "Content-Disposition": f'attachment; filename="{top}.tar.gz"',
            }
            return "archive", 200, headers, gzip.compress(tar, 6)
        raise _NotFound()

    def _repo(self, project: str) -> Path:
        rel = self.projects.get(project, project)
        repo = self.root / rel
        if not _PROJECT.match(project) or ".." in rel.split("/") or not repo.is_dir():
            raise _NotFound("Project Not Found")
        return repo


def _one(q: dict[str, list[str]], key: str) -> str | None:
    values = q.get(key)
    return values[-1] if values else None


def _gitlab_time(iso: str) -> str:
    """GitLab writes milliseconds and the committer's offset: 2024-01-02T03:04:05.000+07:00."""
    iso = iso.replace("Z", "+00:00")
    return iso[:19] + ".000" + iso[19:]
