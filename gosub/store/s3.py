"""The persistent cache tier on S3 (or any S3-compatible store): :class:`S3Store`.

It implements :class:`gosub.store.Store`. Keys are the store's keys under an optional
prefix, so the bucket (below the prefix and a namespace) is laid out as a static GOPROXY.

boto3 is imported only when a store is built, never when :mod:`gosub` is imported: it
costs a few hundred milliseconds of Lambda cold start and a server without S3 never needs
it. Every boto3 call runs in a worker thread (``anyio.to_thread.run_sync``) because boto3
is blocking; one client, created on first use, is shared by all threads (boto3 clients
are thread-safe, their creation is not, hence the lock).

The endpoint comes from ``endpoint_url`` or, as boto3 reads them itself, from the
``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` environment variables; with a custom
endpoint (SeaweedFS, MinIO, moto, R2) path-style addressing is used, which all of them
accept, instead of virtual-host style, which needs a wildcard DNS name per bucket.

An absent object is ``None`` / ``False``; every other failure (access denied, no such
bucket, a timeout, an unreachable endpoint) raises :class:`~gosub.errors.UpstreamError`
(:class:`~gosub.errors.UpstreamTimeoutError` for timeouts), naming the bucket and key.
For a missing key S3 answers 404 only to callers allowed ``s3:ListBucket`` on the
bucket, and 403 to the others: the role running gosub needs that permission, or every
cache miss is an error.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import anyio.to_thread

from gosub.errors import UpstreamError, UpstreamTimeoutError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Content types by file name, so that presigned URLs and static hosting of the bucket
# serve what a GOPROXY serves (S3 returns the type given at upload time).
_TEXT = "text/plain; charset=utf-8"
_CONTENT_TYPES = {".zip": "application/zip", ".info": "application/json", ".mod": _TEXT}

# Error codes that mean "no such object". HeadObject has no body, so botocore reports its
# 404 with the bare status as the code.
_ABSENT = frozenset({"404", "NoSuchKey", "NotFound"})

# Copy size for streaming a download to disk: big enough for throughput, small enough
# that a 500 MB zip never sits in memory.
_CHUNK = 1 << 20


def content_type(key: str) -> str:
    """The Content-Type stored with ``key``, chosen by its last path element."""
    name = key.rsplit("/", 1)[-1]
    if name == "list":
        return _TEXT
    return _CONTENT_TYPES.get(os.path.splitext(name)[1], "application/octet-stream")


class S3Store:
    """The persistent tier in an S3 bucket (see the module docstring).

    ``bucket`` and ``prefix`` say where objects go: the object for key ``K`` is
    ``prefix + K``, a ``/`` being added to a prefix without one (``"gosub"`` and
    ``"gosub/"`` both put objects under ``gosub/``). ``client`` is a ready boto3 S3
    client (tests, or callers sharing one); otherwise one is created on first use from
    ``endpoint_url``, ``region`` and boto3's usual credential and configuration chain.

    Writes are atomic: S3 shows an object only once a PutObject has received the whole
    body, so a crashed or failed upload leaves the previous object (or none), never a
    truncated one.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        client: Any | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("S3Store needs a bucket name")
        self.bucket = bucket
        # "gosub" + "3f2a.../..." would glue the prefix onto the namespace.
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.endpoint_url = endpoint_url
        self.region = region
        self._client: S3Client | None = client
        self._lock = threading.Lock()

    # -- the Store protocol -----------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        """The object's bytes, or ``None`` when absent."""
        return await anyio.to_thread.run_sync(self._get, self._object_key(key))

    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` with one PutObject (atomic; overwriting is allowed)."""
        await anyio.to_thread.run_sync(self._put, self._object_key(key), data)

    async def size(self, key: str) -> int | None:
        """The object's size (HeadObject), or ``None`` when absent."""
        return await anyio.to_thread.run_sync(self._size, self._object_key(key))

    async def get_file(self, key: str, dest: Path) -> bool:
        """Download the object into ``dest``; ``False`` (and ``dest`` untouched) when
        absent. ``True`` means ``dest`` holds the whole object; on any error ``dest`` is
        removed before the error propagates, so no partial file passes for a copy."""
        return await anyio.to_thread.run_sync(self._get_file, self._object_key(key), dest)

    async def put_file(self, key: str, src: Path) -> None:
        """Store the contents of the local file ``src`` (streamed, not read into memory)
        with one PutObject, which is atomic."""
        await anyio.to_thread.run_sync(self._put_file, self._object_key(key), src)

    def local_path(self, key: str) -> Path | None:
        """Always ``None``: objects are not on local disk."""
        return None

    async def url_for(self, key: str, *, expires: int = 900) -> str | None:
        """A presigned GET URL for the object, valid for ``expires`` seconds.

        Presigning is computed locally, without a request to S3, and does not check that
        the object exists. It still runs in a worker thread: the first call may create the
        client, and resolving credentials can mean an HTTP request (ECS/EC2 credential
        endpoints, refreshing temporary credentials)."""
        return await anyio.to_thread.run_sync(self._presign, self._object_key(key), expires)

    async def list_after(self, prefix: str, start_after: str, limit: int) -> list[str]:
        """ListObjectsV2 below ``prefix`` with ``StartAfter`` (pages of 1,000 until
        ``limit``); keys are returned without the store's own prefix."""
        return await anyio.to_thread.run_sync(self._list_after, prefix, start_after, limit)

    async def walk_after(self, start_after: str, limit: int) -> list[str]:
        """Every key of the store (all folders, in key order) after ``start_after``, at
        most ``limit``: a page of a walk through the whole bucket prefix (an export)."""
        return await anyio.to_thread.run_sync(self._list_after, "", start_after, limit, True)

    # -- blocking implementations (worker threads) ------------------------------------

    def _list_after(
        self, prefix: str, start_after: str, limit: int, recursive: bool = False
    ) -> list[str]:
        client = self.client()
        full = self._object_key(prefix.rstrip("/")) + "/" if prefix else self.prefix
        after = self.prefix + start_after if start_after else ""
        keys: list[str] = []
        token: str | None = None
        try:
            while len(keys) < limit:
                args: dict[str, Any] = {
                    "Bucket": self.bucket,
                    "Prefix": full,
                    "MaxKeys": min(1000, limit - len(keys)),
                }
                if not recursive:
                    args["Delimiter"] = "/"
                if token:
                    args["ContinuationToken"] = token
                elif after:
                    args["StartAfter"] = after
                page = client.list_objects_v2(**args)
                keys.extend(o["Key"][len(self.prefix) :] for o in page.get("Contents", []))
                token = page.get("NextContinuationToken")
                if not page.get("IsTruncated") or not token:
                    break
        except Exception as exc:
            if _is_boto_error(exc):
                self._fail("list", full, exc)
            raise
        return sorted(k for k in keys if k > start_after)[:limit]

    def _object_key(self, key: str) -> str:
        # The same rule as DiskStore, so a key is valid for both tiers; "." and ".."
        # segments would also be collapsed by some HTTP stacks and S3-compatible servers.
        if any(p in ("", ".", "..") for p in key.split("/")):
            raise ValueError(f"bad store key {key!r}")
        return self.prefix + key

    def _get(self, key: str) -> bytes | None:
        client = self.client()
        try:
            body = client.get_object(Bucket=self.bucket, Key=key)["Body"]
            # Not "with body": StreamingBody.__enter__ returns the raw urllib3 response,
            # whose read() skips the length check. StreamingBody.read() compares the
            # bytes with Content-Length: a connection cut short raises instead of
            # returning truncated bytes.
            try:
                return body.read()
            finally:
                body.close()
        except Exception as exc:
            if _is_absent(exc):
                return None
            if _is_boto_error(exc):
                self._fail("read", key, exc)
            raise

    def _put(self, key: str, data: bytes) -> None:
        client = self.client()
        try:
            client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type(key))
        except Exception as exc:
            if _is_boto_error(exc):
                self._fail("write", key, exc)
            raise

    def _size(self, key: str) -> int | None:
        client = self.client()
        try:
            return client.head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        except Exception as exc:
            if _is_absent(exc):
                return None
            if _is_boto_error(exc):
                self._fail("check", key, exc)
            raise

    def _get_file(self, key: str, dest: Path) -> bool:
        client = self.client()
        # A plain GetObject streamed to disk rather than download_file: s3transfer's
        # ranged, multi-threaded download buys nothing for files of at most 500 MB read
        # by one request handler, and costs a HeadObject plus threads per call.
        try:
            body = client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except Exception as exc:
            if _is_absent(exc):
                return False
            if _is_boto_error(exc):
                self._fail("read", key, exc)
            raise
        try:
            with open(dest, "wb") as fh:
                # iter_chunks ends with StreamingBody's length check (IncompleteReadError
                # if the connection was cut short).
                for chunk in body.iter_chunks(_CHUNK):
                    fh.write(chunk)
        except BaseException as exc:
            dest.unlink(missing_ok=True)
            if _is_boto_error(exc):
                self._fail("read", key, exc)
            raise  # a local failure (disk full, dest unwritable): not S3's
        finally:
            body.close()
        return True

    def _put_file(self, key: str, src: Path) -> None:
        client = self.client()
        # One PutObject with the open file as the body, rather than upload_file's
        # multipart upload (also atomic: the object appears only at
        # CompleteMultipartUpload). botocore streams a file body from disk (hashing and
        # checksumming it in chunks, then rewinding it; rewinding again for a retry), so
        # memory stays flat. A single request needs no CreateMultipartUpload/Complete
        # round trips or extra threads, and a process killed mid-upload leaves nothing
        # behind, where an unfinished multipart upload keeps its parts (billed) until
        # aborted by a lifecycle rule. Go module zips are at most 500 MB, far below
        # PutObject's 5 GB limit.
        try:
            with open(src, "rb") as fh:
                client.put_object(
                    Bucket=self.bucket, Key=key, Body=fh, ContentType=content_type(key)
                )
        except Exception as exc:
            if _is_boto_error(exc):
                self._fail("write", key, exc)
            raise  # reading the local file failed: not S3's

    def _presign(self, key: str, expires: int) -> str:
        url: str = self.client().generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires
        )
        return url

    # -- the client -------------------------------------------------------------------

    def client(self) -> S3Client:
        """The boto3 S3 client, created on first use (blocking: call it from a worker
        thread)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = make_client(endpoint_url=self.endpoint_url, region=self.region)
        return self._client

    def _fail(self, action: str, key: str, exc: BaseException) -> NoReturn:
        """Raise the gosub error for a failed S3 call. The message names the bucket, the
        key and S3's error code and message (never credentials: botocore's messages
        carry none) and is what a go user reads in the 502/504 body."""
        where = f"s3://{self.bucket}/{key}"
        timeout, detail = _describe(exc)
        message = f"the module cache could not {action} {where}: {detail}"
        if timeout:
            raise UpstreamTimeoutError(message) from exc
        raise UpstreamError(message) from exc


def make_client(
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    credentials: tuple[str, str] | None = None,
) -> S3Client:
    """A boto3 S3 client with gosub's settings: short connect and bounded read timeouts,
    standard-mode retries (3 attempts in all, with backoff), SigV4, path-style
    addressing when a custom endpoint is configured (argument or environment) and
    regional virtual-host addressing on AWS.

    Credentials come from boto3's chain (environment, Lambda role, profiles) unless
    ``credentials`` gives an access key and secret."""
    import boto3.session
    from botocore.config import Config

    custom_endpoint = bool(
        endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    )
    config = Config(
        signature_version="s3v4",
        connect_timeout=5,
        # The longest silence allowed on an open connection: generous, since S3 may
        # take a while to answer after the last byte of a large upload.
        read_timeout=60,
        retries={"mode": "standard", "total_max_attempts": 3},
        # anyio's worker pool runs up to 40 threads; urllib3 discards (and warns about)
        # connections beyond the pool size, so keep enough for concurrent requests.
        max_pool_connections=32,
        # On AWS, "virtual" rather than botocore's default "auto": with "auto",
        # presigned URLs name the global endpoint (bucket.s3.amazonaws.com) whatever the
        # region, which S3 answers with a redirect or, in opt-in regions, an error;
        # "virtual" gives bucket.s3.REGION.amazonaws.com (and path style for bucket
        # names with dots, whose virtual-host names the TLS certificate doesn't cover).
        s3={"addressing_style": "path" if custom_endpoint else "virtual"},
    )
    # A session of our own: boto3's default session is shared module state and not
    # safe to create from several threads at once.
    session = boto3.session.Session()
    key_id, secret = credentials or (None, None)
    client: S3Client = session.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        config=config,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )
    return client


def _is_boto_error(exc: BaseException) -> bool:
    # Checked by class, not by "except OSError": botocore's timeout and connection
    # errors derive from OSError too (through its vendored requests exceptions).
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, BotoCoreError | ClientError)


def _is_absent(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    return exc.response.get("Error", {}).get("Code") in _ABSENT


def _describe(exc: BaseException) -> tuple[bool, str]:
    """Whether ``exc`` is a timeout, and a one-line description of it."""
    from botocore.exceptions import (
        ClientError,
        ConnectTimeoutError,
        ReadTimeoutError,
    )

    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = err.get("Code") or "error"
        text = err.get("Message") or ""
        detail = f"{code} (HTTP {status})" if status else code
        return False, f"{detail}: {text}" if text else detail
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return True, f"timed out ({exc})"
    return False, f"{type(exc).__name__}: {exc}"
