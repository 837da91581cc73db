"""The S3 tier end to end, against a real S3-compatible server (SeaweedFS): several gosub
instances share one bucket (the second asks GitHub nothing), and on Lambda zips too big
to answer inline are a 307 to a presigned URL that the real go command follows."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import handlers.aws_lambda as aws
from gosub import gosub_encode
from gosub.store import namespace
from gosub.web import Shared, goproxy, make_shared
from tests.conftest import FAST_RETRY, UvicornThread
from tests.repos import SCENARIOS
from tests.support.ghapi import GitHubStandin
from tests.support.golang import GoRunner
from tests.support.lambda_url import FunctionUrlEmulator
from tests.support.s3server import SeaweedS3

MONO = SCENARIOS["mono"]
ROOTMOD = SCENARIOS["rootmod"]


def test_instances_share_the_bucket(
    standin: GitHubStandin, seaweed: SeaweedS3, tmp_path: Path, gocache: Path
) -> None:
    prefix = f"shared-{secrets.token_hex(4)}/"
    sums = []
    for i in range(2):
        shared = make_shared(
            {"GITHUB_API_URL": standin.api_url},
            retry=FAST_RETRY,
            store=seaweed.make_store(prefix=prefix),
        )
        server = UvicornThread(goproxy("/", MONO.config(), shared=shared))
        url = server.start()
        try:
            standin.reset()
            got = GoRunner(tmp_path / f"go{i}", gocache=gocache).mod_download(
                MONO.module, "v1.1.0", goproxy=url + "/"
            )
            assert not got.get("Error"), got
            sums.append((got["Sum"], got["GoModSum"]))
            if i == 1:  # a new instance: everything from the bucket
                assert sum(standin.counts.values()) == 0, standin.counts
        finally:
            server.stop()
            shared.zips.close()
    assert sums[0] == sums[1]
    # The bucket is laid out as a static GOPROXY under the config's namespace.
    ns = namespace(MONO.config().identity)
    listing = seaweed.client().list_objects_v2(Bucket=seaweed.bucket, Prefix=prefix)
    keys = {o["Key"][len(prefix) :] for o in listing.get("Contents", [])}
    assert {f"{ns}/example.test/mono/@v/v1.1.0.{ext}" for ext in ("info", "mod", "zip")} <= keys


@pytest.fixture
def lambda_with_bucket(
    standin: GitHubStandin, seaweed: SeaweedS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FunctionUrlEmulator]:
    """The Lambda handler as serverless.yml configures it (S3 cache bucket, big zips
    redirected), behind a Function URL emulator."""
    for var in ("GITHUB_TOKEN", "GOSUB_CONFIG", aws.TOKEN_PARAM_ENV, aws.TOKEN_SECRET_ENV):
        monkeypatch.delenv(var, raising=False)
    for k, v in seaweed.env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("GITHUB_API_URL", standin.api_url)
    monkeypatch.setenv("GOSUB_CACHE_DIR", str(tmp_path / "tmp-cache"))
    monkeypatch.setenv("GOSUB_CACHE_BUCKET", seaweed.bucket)
    monkeypatch.setenv("GOSUB_CACHE_PREFIX", f"lambda-{secrets.token_hex(4)}/")
    # Lambda's real limit is about 4 MB; a small one lets small test modules cross it.
    monkeypatch.setenv("GOSUB_INLINE_MAX_BYTES", "1000")
    aws.reset()
    emulator = FunctionUrlEmulator(aws.handler)
    emulator.start()
    yield emulator
    emulator.stop()
    aws.reset()


def _proxy(emulator: FunctionUrlEmulator, config: Any) -> str:
    return f"{emulator.url}/{gosub_encode(config)}/"


def test_big_zips_redirect_to_the_bucket_and_go_follows(
    lambda_with_bucket: FunctionUrlEmulator,
    gosub_server: tuple[str, Shared],
    standin: GitHubStandin,
    tmp_path: Path,
    gocache: Path,
) -> None:
    emulator = lambda_with_bucket
    big = _proxy(emulator, MONO.config()) + "example.test/mono/@v/v1.1.0.zip"
    r = httpx.get(big, timeout=60)
    assert r.status_code == 307 and r.headers["cache-control"] == "no-store"
    location = r.headers["location"]
    assert "X-Amz-Signature=" in location and "v1.1.0.zip" in location
    blob = httpx.get(location, timeout=60)
    assert blob.status_code == 200 and len(blob.content) > 1000
    small = _proxy(emulator, ROOTMOD.config()) + "example.test/rootmod/@v/v1.0.0.zip"
    inline = httpx.get(small, timeout=60)
    assert inline.status_code == 200 and len(inline.content) <= 1000
    assert inline.headers["content-type"] == "application/zip"

    # The go command follows the redirect; the sums are gosub's over plain HTTP.
    for s, version in ((MONO, "v1.1.0"), (MONO, "v1.2.0"), (ROOTMOD, "v1.0.0")):
        via_lambda = GoRunner(tmp_path / f"l-{s.name}-{version}", gocache=gocache).mod_download(
            s.module, version, goproxy=_proxy(emulator, s.config())
        )
        assert not via_lambda.get("Error"), via_lambda
        direct = GoRunner(tmp_path / f"u-{s.name}-{version}", gocache=gocache).mod_download(
            s.module, version, goproxy=f"{gosub_server[0]}/{s.name}/"
        )
        assert (via_lambda["Sum"], via_lambda["GoModSum"]) == (direct["Sum"], direct["GoModSum"])

    # A new instance (cold start) serves it all from the bucket: no GitHub requests.
    aws.reset()
    standin.reset()
    again = GoRunner(tmp_path / "cold", gocache=gocache).mod_download(
        MONO.module, "v1.2.0", goproxy=_proxy(emulator, MONO.config())
    )
    assert not again.get("Error") and sum(standin.counts.values()) == 0, standin.counts


async def test_redirects_ask_the_bucket_once_per_zip(
    standin: GitHubStandin, seaweed: SeaweedS3
) -> None:
    """A warm instance remembers a stored zip's size: later redirects cost no S3 request."""
    from gosub.store.s3 import S3Store

    class Counting(S3Store):
        sizes = 0

        async def size(self, key: str) -> int | None:
            Counting.sizes += 1
            return await super().size(key)

    store = Counting(
        seaweed.bucket, prefix=f"count-{secrets.token_hex(4)}/", client=seaweed.store_client()
    )
    shared = make_shared(
        {"GITHUB_API_URL": standin.api_url}, retry=FAST_RETRY, store=store, inline_max_bytes=1000
    )
    app = goproxy("/", MONO.config(), shared=shared)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for _ in range(3):
            r = await c.get("/example.test/mono/@v/v1.1.0.zip")
            assert r.status_code == 307
    assert Counting.sizes == 1
    await shared.aclose()
