"""S3Store's error paths, which a healthy server does not produce: timeouts, 5xx, a
download cut short, local file failures, and the one-client-only rule. A fake client
raises what botocore raises."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any, cast

import anyio
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.response import StreamingBody

from gosub.errors import UpstreamError, UpstreamTimeoutError
from gosub.store import s3 as s3store
from gosub.store.s3 import S3Store, content_type


def client_error(status: int, code: str, message: str = "", op: str = "GetObject") -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, op)


class FakeClient:
    """Answers each S3 operation with a scripted result or exception."""

    def __init__(self, **results: Any) -> None:
        self.results = results
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, op: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls.append((op, kwargs))
            result = self.results[op]
            if isinstance(result, BaseException):
                raise result
            return result(**kwargs) if callable(result) else result

        return call


def test_content_type() -> None:
    assert content_type("ns/m/@v/v1.0.0.zip") == "application/zip"
    assert content_type("ns/m/@v/v1.0.0.info") == "application/json"
    assert content_type("ns/m/@v/v1.0.0.mod") == "text/plain; charset=utf-8"
    assert content_type("ns/m/@v/list") == "text/plain; charset=utf-8"
    assert content_type("ns/list.d/@v/other") == "application/octet-stream"


async def test_absent_variants_are_none() -> None:
    for exc in (client_error(404, "NoSuchKey"), client_error(404, "404", op="HeadObject")):
        store = S3Store("b", client=FakeClient(get_object=exc, head_object=exc))
        assert await store.get("k") is None
        assert await store.size("k") is None


async def test_server_errors_are_upstream_errors() -> None:
    exc = client_error(500, "InternalError", "We encountered an internal error.")
    store = S3Store("bkt", prefix="pre/", client=FakeClient(get_object=exc, head_object=exc))
    with pytest.raises(UpstreamError) as info:
        await store.get("ns/m/@v/v1.0.0.info")
    assert info.value.status == 502
    assert str(info.value) == (
        "the module cache could not read s3://bkt/pre/ns/m/@v/v1.0.0.info: "
        "InternalError (HTTP 500): We encountered an internal error."
    )
    assert isinstance(info.value.__cause__, ClientError)


async def test_forbidden_is_an_error_not_absent() -> None:
    # S3 answers 403 for a missing key to callers without s3:ListBucket: a
    # misconfiguration to report, not a cache miss to hide.
    exc = client_error(403, "403", op="HeadObject")
    store = S3Store("b", client=FakeClient(head_object=exc))
    with pytest.raises(UpstreamError, match=r"403 \(HTTP 403\)"):
        await store.size("k")


async def test_timeouts_are_upstream_timeouts() -> None:
    exc = ReadTimeoutError(endpoint_url="https://s3.example/b/k")
    store = S3Store("b", client=FakeClient(put_object=exc, get_object=exc))
    with pytest.raises(UpstreamTimeoutError) as info:
        await store.put("k", b"x")
    assert info.value.status == 504
    assert "s3://b/k" in str(info.value)


async def test_timeout_while_streaming_removes_dest(tmp_path: Path) -> None:
    # botocore's ReadTimeoutError is also an OSError: it must still become a gosub error.
    class TimingOut(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            raise ReadTimeoutError(endpoint_url="http://s3/b/k")

    body = StreamingBody(cast(Any, TimingOut()), 10)
    store = S3Store("b", client=FakeClient(get_object={"Body": body}))
    dest = tmp_path / "dest"
    with pytest.raises(UpstreamTimeoutError):
        await store.get_file("k", dest)
    assert not dest.exists()


async def test_connection_errors_are_upstream_errors(tmp_path: Path) -> None:
    exc = EndpointConnectionError(endpoint_url="http://127.0.0.1:1/b/k")
    store = S3Store("b", client=FakeClient(put_object=exc))
    src = tmp_path / "src"
    src.write_bytes(b"data")
    with pytest.raises(UpstreamError, match="EndpointConnectionError"):
        await store.put_file("k", src)


async def test_truncated_download_removes_dest(tmp_path: Path) -> None:
    """The server promised 10 bytes and the connection ended after 4: get_file raises
    and leaves no partial file that could pass for the object."""
    body = StreamingBody(io.BytesIO(b"abcd"), 10)
    store = S3Store("b", client=FakeClient(get_object={"Body": body}))
    dest = tmp_path / "dest"
    with pytest.raises(UpstreamError, match="IncompleteReadError"):
        await store.get_file("k", dest)
    assert not dest.exists()


async def test_truncated_get_raises() -> None:
    body = StreamingBody(io.BytesIO(b"abcd"), 10)
    store = S3Store("b", client=FakeClient(get_object={"Body": body}))
    with pytest.raises(UpstreamError, match="IncompleteReadError"):
        await store.get("k")


async def test_absent_get_file_leaves_dest_alone(tmp_path: Path) -> None:
    store = S3Store("b", client=FakeClient(get_object=client_error(404, "NoSuchKey")))
    dest = tmp_path / "dest"
    assert await store.get_file("k", dest) is False
    assert not dest.exists()


async def test_local_failures_are_not_s3_errors(tmp_path: Path) -> None:
    body = StreamingBody(io.BytesIO(b"abcd"), 4)
    store = S3Store("b", client=FakeClient(get_object={"Body": body}))
    with pytest.raises(FileNotFoundError):
        await store.get_file("k", tmp_path / "no-such-dir" / "dest")
    assert body._raw_stream.closed  # type: ignore[attr-defined]
    with pytest.raises(FileNotFoundError):
        await store.put_file("k", tmp_path / "no-such-file")


async def test_put_file_streams_the_open_file(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def put_object(**kwargs: Any) -> dict[str, Any]:
        body = kwargs["Body"]
        seen.update(kwargs, is_file=hasattr(body, "read"), data=body.read())
        return {}

    client = FakeClient(put_object=put_object)
    src = tmp_path / "v1.0.0.zip"
    src.write_bytes(b"zip bytes")
    await S3Store("b", prefix="p/", client=client).put_file("ns/m/@v/v1.0.0.zip", src)
    assert seen["is_file"] and seen["data"] == b"zip bytes"
    assert seen["Key"] == "p/ns/m/@v/v1.0.0.zip"
    assert seen["ContentType"] == "application/zip"


async def test_one_client_for_concurrent_first_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    lock = threading.Lock()

    def make_client(**kwargs: Any) -> FakeClient:
        time.sleep(0.05)  # slow, like loading botocore's models
        with lock:
            made.append(1)
        return FakeClient(head_object={"ContentLength": 3})

    monkeypatch.setattr(s3store, "make_client", make_client)
    store = S3Store("b", endpoint_url="http://127.0.0.1:1")
    sizes: list[int | None] = []

    async def one() -> None:
        sizes.append(await store.size("k"))

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(one)
    assert sizes == [3] * 10
    assert len(made) == 1


def test_make_client_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    client = s3store.make_client(region="eu-west-1", credentials=("AKID", "SECRET"))
    cfg: Any = client.meta.config
    assert cfg.connect_timeout == 5
    assert cfg.read_timeout == 60
    assert cfg.retries == {"mode": "standard", "total_max_attempts": 3}
    assert cfg.signature_version == "s3v4"
    # On AWS, presigned URLs name the regional endpoint, not the global one (which
    # redirects, or fails in opt-in regions).
    assert cfg.s3 == {"addressing_style": "virtual"}
    for region in ("eu-west-1", "af-south-1"):
        client = s3store.make_client(region=region, credentials=("AKID", "SECRET"))
        url = client.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "k"})
        assert url.startswith(f"https://bkt.s3.{region}.amazonaws.com/k?")

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://localhost:9000")
    client = s3store.make_client(region="us-east-1", credentials=("AKID", "SECRET"))
    assert cast(Any, client.meta.config).s3 == {"addressing_style": "path"}
    url = client.generate_presigned_url("get_object", Params={"Bucket": "bkt", "Key": "k"})
    assert url.startswith("http://localhost:9000/bkt/k?")


def test_prefix_gets_its_slash() -> None:
    assert S3Store("b").prefix == ""
    assert S3Store("b", prefix="gosub").prefix == "gosub/"
    assert S3Store("b", prefix="a/b/").prefix == "a/b/"


def test_bad_bucket() -> None:
    with pytest.raises(ValueError):
        S3Store("")
