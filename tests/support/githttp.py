"""Real git smart HTTP on loopback: ``git http-backend`` (which git ships) behind a small
CGI bridge, serving every repository under a root directory.

Switches for the tests: ``auth`` (Basic credentials the server requires), ``stall_fetch``
(a fetch request hangs until the client gives up, while ref listings still answer), and
``allow_filter`` (``uploadpack.allowFilter``, so partial clones are really partial).
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.support.git import neutral_git_env
from tests.support.httpserver import serve_on_loopback, url_of

HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


def http_backend() -> str:
    """The git-http-backend program (``git --exec-path``/git-http-backend)."""
    if os.path.exists(HTTP_BACKEND):
        return HTTP_BACKEND
    exec_path = subprocess.run(
        ["git", "--exec-path"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return os.path.join(exec_path, "git-http-backend")


class GitHttpServer:
    """``http://127.0.0.1:PORT/OWNER/REPO`` is the repository at ``root/OWNER/REPO``."""

    def __init__(self, root: Path, *, allow_filter: bool = True) -> None:
        self.root = root
        self.allow_filter = allow_filter
        self.auth: tuple[str, str] | None = None
        self.stall_fetch = False
        self.requests: list[str] = []  # "METHOD PATH" of each request, for assertions
        self._release = threading.Event()
        self._server = serve_on_loopback({"GET": self._handle, "POST": self._handle})

    @property
    def url(self) -> str:
        """The base URL."""
        return url_of(self._server)

    def stop(self) -> None:
        """Release stalled requests and shut down."""
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        path, _, query = h.path.partition("?")
        self.requests.append(f"{h.command} {path}")
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = _read_chunked(h)
        if self.auth is not None and not self._authorized(h.headers.get("Authorization")):
            h.send_response(401)
            h.send_header("WWW-Authenticate", 'Basic realm="git"')
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        if self.stall_fetch and h.command == "POST" and b"command=fetch" in body:
            self._release.wait(30)
            h.close_connection = True
            return
        env = neutral_git_env(
            {
                "GIT_PROJECT_ROOT": str(self.root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": h.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": h.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "REMOTE_ADDR": "127.0.0.1",
                "GIT_CONFIG_COUNT": "1",
                "GIT_CONFIG_KEY_0": "uploadpack.allowFilter",
                "GIT_CONFIG_VALUE_0": "true" if self.allow_filter else "false",
            }
        )
        for header, var in (
            ("Git-Protocol", "HTTP_GIT_PROTOCOL"),
            ("Content-Encoding", "HTTP_CONTENT_ENCODING"),
        ):
            if h.headers.get(header):
                env[var] = h.headers[header]
        proc = subprocess.run([http_backend()], input=body, env=env, capture_output=True)
        sep = b"\r\n\r\n" if b"\r\n\r\n" in proc.stdout else b"\n\n"
        head, _, payload = proc.stdout.partition(sep)
        status = 200
        headers: list[tuple[str, str]] = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name.strip(), value.strip()))
        h.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "transfer-encoding"):
                h.send_header(name, value)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)

    def _authorized(self, header: str | None) -> bool:
        assert self.auth is not None
        expected = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
        return header == f"Basic {expected}"


def _read_chunked(h: BaseHTTPRequestHandler) -> bytes:
    out = bytearray()
    while True:
        size = int(h.rfile.readline().strip().split(b";")[0], 16)
        if size == 0:
            h.rfile.readline()
            return bytes(out)
        out += h.rfile.read(size)
        h.rfile.readline()
