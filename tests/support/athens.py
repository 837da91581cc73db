"""The real Athens (github.com/gomods/athens, built pinned by ``.ci/go-tools`` into
``.tools/bin/athens``) on loopback with disk storage, for the tests that check gosub's
Athens layout against Athens itself. Without the binary the test skips, or fails under
CI (:func:`tests.support.ci.missing`)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

from tests.support.ci import missing
from tests.support.golang import go_binary

ROOT = Path(__file__).resolve().parents[2]


def athens_binary() -> str:
    """The Athens proxy binary, or skip (fail under CI)."""
    cand = ROOT / ".tools" / "bin" / "athens"
    if cand.is_file() and os.access(cand, os.X_OK):
        return str(cand)
    found = shutil.which("athens")
    if found:
        return found
    missing("no Athens binary: run .ci/go-tools (builds it into .tools/bin/athens)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Athens:
    """Athens with disk storage at ``storage``. ``upstream`` (a GOPROXY URL) is what its
    ``go mod download`` fetches from; without it Athens runs fully offline
    (``ATHENS_DOWNLOAD_MODE=none``: a miss is a 404)."""

    def __init__(self, storage: Path, *, upstream: str | None = None) -> None:
        self.storage = storage
        self.upstream = upstream
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="athens-run-")
        self.log = Path(self._dir.name) / "athens.log"

    def __enter__(self) -> Athens:
        binary = athens_binary()
        port = _free_port()
        work = Path(self._dir.name)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(work),
            "ATHENS_STORAGE_TYPE": "disk",
            "ATHENS_DISK_STORAGE_ROOT": str(self.storage),
            "ATHENS_PORT": f"127.0.0.1:{port}",
            "ATHENS_SHUTDOWN_TIMEOUT": "1",
            "GO_BINARY_PATH": go_binary(),
            "ATHENS_GOGET_DIR": str(work / "goget"),
        }
        (work / "goget").mkdir()
        if self.upstream is None:
            env["ATHENS_NETWORK_MODE"] = "offline"
            env["ATHENS_DOWNLOAD_MODE"] = "none"
        else:
            env["ATHENS_NETWORK_MODE"] = "strict"
            env["ATHENS_DOWNLOAD_MODE"] = "sync"
            env["ATHENS_GO_BINARY_ENV_VARS"] = ";".join(
                [
                    f"GOPROXY={self.upstream}",
                    "GOSUMDB=off",
                    "GONOSUMDB=*",
                    "GOFLAGS=-modcacherw",
                    "GOTOOLCHAIN=local",
                    f"GOCACHE={work / 'gocache'}",
                ]
            )
        self.storage.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self._proc = subprocess.Popen(
                [binary], cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"Athens did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._dir.cleanup()
