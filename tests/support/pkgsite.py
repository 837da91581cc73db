"""The real pkgsite (golang.org/x/pkgsite, built by ``.ci/go-tools`` into ``.tools/bin``
with its migrations, static and third_party files in ``.tools/share/pkgsite``): the
standalone ``pkgsite -proxy``, and the full site's worker and frontend over PostgreSQL.

:func:`find_pkgsite` says why it cannot run here (for :func:`tests.support.ci.missing`).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from tests.support.postgres import Postgres, free_port

ROOT = Path(__file__).resolve().parent.parent.parent
TOOLS = Path(os.environ.get("GOSUB_TOOLS", ROOT / ".tools"))
BIN = TOOLS / "bin"
SHARE = TOOLS / "share" / "pkgsite"
DB_NAME = "discovery-db"
# Needs the pgvector extension (not packaged here); its column is used only with
# GO_DISCOVERY_ENABLE_VECTOR_SEARCH=true.
SKIPPED_MIGRATIONS = ("000158_add_pgvector",)


def find_pkgsite() -> str:
    """ "" when pkgsite's binaries and files are there, else what is missing."""
    need = [BIN / "pkgsite", BIN / "pkgsite-frontend", BIN / "pkgsite-worker"]
    need += [SHARE / "migrations", SHARE / "static", SHARE / "third_party"]
    gone = [str(p) for p in need if not p.exists()]
    if gone:
        return f"pkgsite is not built ({', '.join(gone)} missing): run .ci/go-tools"
    return ""


class Process:
    """A pkgsite binary run in its own session, its output in a log file."""

    def __init__(
        self, name: str, argv: Sequence[str | Path], env: Mapping[str, str], ready_url: str
    ) -> None:
        self.name = name
        self.ready_url = ready_url
        self.log = Path(tempfile.mkstemp(prefix=f"gosub-{name}-", suffix=".log")[1])
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [str(a) for a in argv],
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=str(SHARE),
            )

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.proc.returncode}:\n{self.tail()}")
            try:
                httpx.get(self.ready_url, timeout=5)
                return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer {self.ready_url}:\n{self.tail()}")

    def tail(self, n: int = 60) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def standalone(goproxy: str) -> tuple[Process, str]:
    """``pkgsite -proxy`` reading modules from ``goproxy``; (process, base URL)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = Process(
        "pkgsite",
        [BIN / "pkgsite", "-proxy", "-http", f"127.0.0.1:{port}", "-static", SHARE / "static"],
        {"GOPROXY": goproxy, "GOFLAGS": "-mod=mod"},
        url + "/",
    )
    proc.wait_ready()
    return proc, url


def migrate(pg: Postgres) -> None:
    """Create pkgsite's database and apply its migrations in order (psql, one session)."""
    pg.psql(
        "postgres",
        "-c",
        f"CREATE DATABASE \"{DB_NAME}\" TEMPLATE=template0 LC_COLLATE='C' LC_CTYPE='C'",
    )
    files = sorted(
        p
        for p in (SHARE / "migrations").glob("*.up.sql")
        if not p.name.startswith(SKIPPED_MIGRATIONS)
    )
    script = Path(tempfile.mkstemp(prefix="gosub-migrate-", suffix=".sql")[1])
    try:
        script.write_text("".join(p.read_text() + "\n;\n" for p in files))
        pg.psql(DB_NAME, "-f", script)
    finally:
        script.unlink()


def _db_env(pg: Postgres) -> dict[str, str]:
    return {
        "GO_DISCOVERY_DATABASE_HOST": pg.host,
        "GO_DISCOVERY_DATABASE_PORT": str(pg.port),
        "GO_DISCOVERY_DATABASE_USER": pg.user,
        "GO_DISCOVERY_DATABASE_PASSWORD": pg.password,
        "GO_DISCOVERY_DATABASE_NAME": DB_NAME,
        "GO_DISCOVERY_DATABASE_SSL": "disable",
    }


def worker(pg: Postgres, proxy: str, index: str) -> tuple[Process, str]:
    """``cmd/worker`` with its own index and proxy; (process, base URL). It listens on
    all interfaces: PORT is its only address setting."""
    port = free_port()
    env = {
        **_db_env(pg),
        "GO_MODULE_PROXY_URL": proxy,
        "GO_MODULE_INDEX_URL": index,
        "PORT": str(port),
        "DEBUG_PORT": str(free_port()),
    }
    argv = [
        BIN / "pkgsite-worker",
        "-static",
        SHARE / "static",
        "-bypass_license_check",
        # As a deployment runs it: poll the index and process what it found, every second.
        "-poll_index_period",
        "1s",
        "-enqueue_period",
        "1s",
    ]
    proc = Process("worker", argv, env, f"http://127.0.0.1:{port}/healthz")
    proc.wait_ready()
    return proc, f"http://127.0.0.1:{port}"


def frontend(pg: Postgres, proxy: str) -> tuple[Process, str]:
    """``cmd/frontend`` on 127.0.0.1 (its -host flag), reading the database."""
    port = free_port()
    env = {**_db_env(pg), "GO_MODULE_PROXY_URL": proxy, "DEBUG_PORT": str(free_port())}
    argv = [
        BIN / "pkgsite-frontend",
        "-static",
        SHARE / "static",
        "-third_party",
        SHARE / "third_party",
        "-bypass_license_check",
        "-proxy_url",
        proxy,
        "-host",
        f"127.0.0.1:{port}",
    ]
    proc = Process("frontend", argv, env, f"http://127.0.0.1:{port}/")
    proc.wait_ready()
    return proc, f"http://127.0.0.1:{port}"


def page_text(html: str) -> str:
    """Rough visible text of a page (tags dropped, whitespace collapsed)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
