"""A throwaway PostgreSQL cluster for tests (Debian's ``postgresql`` package): ``initdb``
into a temporary directory, ``postgres`` on 127.0.0.1 and a free port, ``fsync=off``.

PostgreSQL refuses to run as root; when the tests run as root the cluster is owned by and
run as the ``postgres`` system user (``runuser``). :func:`find_postgres` says why it cannot
run here (for :func:`tests.support.ci.missing`).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

PASSWORD = "gosub-test"
USER = "gosub"


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def find_postgres() -> tuple[Path | None, str]:
    """(bin directory, "") or (None, why not)."""
    bindir = _bindir()
    if bindir is None:
        return None, "PostgreSQL is not installed (apt-get install postgresql)"
    if shutil.which("psql") is None and not (bindir / "psql").exists():
        return None, "psql is not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return None, "running as root and there is no 'postgres' user to run the server as"
        if shutil.which("runuser") is None:
            return None, "running as root without runuser"
    return bindir, ""


def free_port() -> int:
    """A free loopback port below 32768 (outside Linux's ephemeral range)."""
    for _ in range(200):
        with socket.socket() as s:
            port = 20000 + int.from_bytes(os.urandom(2), "big") % 12000
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


class Postgres:
    """One cluster with database ``name`` owned by :data:`USER` (password auth on TCP)."""

    def __init__(self) -> None:
        bindir, why = find_postgres()
        if bindir is None:
            raise RuntimeError(why)
        self.bindir = bindir
        self.port = free_port()
        self.host = "127.0.0.1"
        self.user = USER
        self.password = PASSWORD
        self.dir = Path(tempfile.mkdtemp(prefix="gosub-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._as: list[str] = []
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            pg = pwd.getpwnam("postgres")
            os.chown(self.dir, pg.pw_uid, pg.pw_gid)

    def _run(self, *args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._as, *map(str, args)],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
            **kwargs,  # type: ignore[call-overload]
        )

    def start(self) -> None:
        pwfile = self.dir / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self._as:
            pg = pwd.getpwnam("postgres")
            os.chown(pwfile, pg.pw_uid, pg.pw_gid)
        self._run(
            self.bindir / "initdb",
            "-D",
            self.data,
            "-U",
            USER,
            "--pwfile",
            pwfile,
            "-A",
            "scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C",
        )
        log = open(self.log, "wb")  # noqa: SIM115 - kept open for the server's life
        self._proc = subprocess.Popen(
            [
                *self._as,
                str(self.bindir / "postgres"),
                "-D",
                str(self.data),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-k",
                str(self.dir),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited:\n{self.log.read_text()[-2000:]}")
            try:
                self.psql("postgres", "-c", "select 1")
                return
            except subprocess.CalledProcessError:
                time.sleep(0.2)
        raise RuntimeError(f"postgres did not start:\n{self.log.read_text()[-2000:]}")

    def env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.password}

    def psql(self, db: str, *args: str | Path) -> str:
        """Run psql against ``db`` (as the test user, over TCP); returns stdout."""
        proc = subprocess.run(
            [
                shutil.which("psql") or str(self.bindir / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                db,
                *map(str, args),
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
            env=self.env(),
        )
        return proc.stdout

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._run(self.bindir / "pg_ctl", "-D", self.data, "stop", "-m", "fast", "-w")
                self._proc.wait(timeout=20)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                os.killpg(self._proc.pid, 9)  # our own session (start_new_session)
                self._proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Postgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
