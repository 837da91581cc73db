"""The Lambda handler, called with real-shaped events of every source mangum knows:
Function URL / HTTP API payload 2.0, HTTP API payload 1.0, REST API (v1) and ALB (with and
without multi-value headers); the GitHub token from SSM and Secrets Manager (a moto
server on loopback); and the real go command through a Function URL emulator.

Event shapes follow the AWS documentation's examples (Lambda "Invoking function URLs",
API Gateway "payload format version", "Set up Lambda proxy integrations", ELB "Lambda
functions as targets"). What each source does to the path: 2.0 events carry ``rawPath``
(as sent) and ``requestContext.http.path`` (decoded); the others carry one ``path``,
built here decoded.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from starlette.types import ASGIApp

import handlers.aws_lambda as aws
from gosub import GoproxyConfig, gosub_encode
from gosub.settings import build_app, load_settings
from gosub.web import Shared
from tests.repos import SCENARIOS
from tests.support.ghapi import GitHubStandin
from tests.support.git import GitRepo
from tests.support.golang import GoRunner
from tests.support.lambda_url import FunctionUrlEmulator

ROOT = Path(__file__).resolve().parent.parent
OWNER = "lambdatest"  # this file's repositories live under ROOT/lambdatest/
TOKEN = "ghp_lambdaTestToken0123456789abcdefABCDEF"
LIB = "github.com/lambdatest/lib:d=go&p=lib-;"  # nothing percent-encoded: safe anywhere
LIB_BASE = f"/{LIB}/example.test/llib/@v/"

# -- events, as AWS documents them ---------------------------------------------------------


def event_v2(raw_path: str, method: str = "GET", query: str = "") -> dict[str, Any]:
    """Function URL (and HTTP API) payload format 2.0."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": {
            "host": "abc.lambda-url.eu-west-1.on.aws",
            "user-agent": "Go-http-client/1.1",
            "accept-encoding": "gzip",
            "x-amzn-trace-id": "Root=1-6741a2b0-0123456789abcdef01234567",
            "x-forwarded-for": "192.0.2.1",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abc",
            "domainName": "abc.lambda-url.eu-west-1.on.aws",
            "domainPrefix": "abc",
            "http": {
                "method": method,
                "path": unquote(raw_path),  # AWS decodes it here
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "Go-http-client/1.1",
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1795424400000,
        },
        "isBase64Encoded": False,
    }


def event_v1_http(path: str, method: str = "GET") -> dict[str, Any]:
    """HTTP API payload format 1.0: REST-like, plus ``version``."""
    return {
        "version": "1.0",
        "resource": "$default",
        "path": unquote(path),
        "httpMethod": method,
        "headers": {"host": "abc.execute-api.eu-west-1.amazonaws.com", "user-agent": "Go"},
        "multiValueHeaders": {
            "host": ["abc.execute-api.eu-west-1.amazonaws.com"],
            "user-agent": ["Go"],
        },
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc",
            "extendedRequestId": "request-id",
            "httpMethod": method,
            "identity": {"sourceIp": "192.0.2.1", "userAgent": "Go"},
            "path": unquote(path),
            "protocol": "HTTP/1.1",
            "requestId": "id=",
            "requestTime": "23/Nov/2026:09:00:00 +0000",
            "requestTimeEpoch": 1795424400000,
            "resourceId": None,
            "resourcePath": "$default",
            "stage": "$default",
        },
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
    }


def event_rest(path: str, method: str = "GET") -> dict[str, Any]:
    """REST API (v1) Lambda proxy integration on ``/{proxy+}``, stage ``prod``."""
    decoded = unquote(path)
    return {
        "resource": "/{proxy+}",
        "path": decoded,
        "httpMethod": method,
        "headers": {
            "Accept": "*/*",
            "Host": "abc.execute-api.eu-west-1.amazonaws.com",
            "User-Agent": "Go-http-client/1.1",
            "X-Forwarded-For": "192.0.2.1",
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https",
        },
        "multiValueHeaders": {
            "Accept": ["*/*"],
            "Host": ["abc.execute-api.eu-west-1.amazonaws.com"],
            "User-Agent": ["Go-http-client/1.1"],
            "X-Forwarded-For": ["192.0.2.1"],
            "X-Forwarded-Port": ["443"],
            "X-Forwarded-Proto": ["https"],
        },
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": decoded.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc",
            "extendedRequestId": "BQGojGkBoAMFrEA=",
            "httpMethod": method,
            "identity": {"sourceIp": "192.0.2.1", "userAgent": "Go-http-client/1.1"},
            "path": "/prod" + decoded,
            "protocol": "HTTP/1.1",
            "requestId": "41b45ea3-70b5-11e6-b7bd-69b5aaebc7d9",
            "requestTime": "23/Nov/2026:09:00:00 +0000",
            "requestTimeEpoch": 1795424400000,
            "resourceId": "us4z18",
            "resourcePath": "/{proxy+}",
            "stage": "prod",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def event_alb(path: str, method: str = "GET", *, multi: bool = False) -> dict[str, Any]:
    """ALB target group event; ``multi``: the multi-value headers attribute is on."""
    headers = {
        "accept-encoding": "gzip",
        "host": "gosub-123578498.eu-west-1.elb.amazonaws.com",
        "user-agent": "Go-http-client/1.1",
        "x-amzn-trace-id": "Root=1-5c536348-3d683b8b04734faae651f476",
        "x-forwarded-for": "192.0.2.1",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    event: dict[str, Any] = {
        "requestContext": {
            "elb": {
                "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:"
                "targetgroup/gosub/49e9d65c45c6791a"
            }
        },
        "httpMethod": method,
        "path": unquote(path),
        "body": "",
        "isBase64Encoded": False,
    }
    if multi:
        event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
        event["multiValueQueryStringParameters"] = {}
    else:
        event["headers"] = headers
        event["queryStringParameters"] = {}
    return event


def headers_of(resp: dict[str, Any]) -> dict[str, str]:
    """Response headers, lowercased, from ``headers`` or ``multiValueHeaders``."""
    out = {k.lower(): v for k, v in (resp.get("headers") or {}).items()}
    for k, values in (resp.get("multiValueHeaders") or {}).items():
        out.setdefault(k.lower(), values[0])
    return out


def body_of(resp: dict[str, Any]) -> bytes:
    """The response body as bytes (base64 undone)."""
    body = resp.get("body") or ""
    return base64.b64decode(body) if resp.get("isBase64Encoded") else body.encode()


def asgi_get(app: ASGIApp, path: str) -> httpx.Response:
    """GET ``path`` from ``app`` directly (no Lambda), on a thread of its own: asyncio.run
    would leave this thread without the event loop mangum keeps using."""
    out: list[httpx.Response] = []

    async def get() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gosub.test") as c:
            out.append(await c.get(path))

    t = threading.Thread(target=asyncio.run, args=(get(),))
    t.start()
    t.join(30)
    return out[0]


# -- repositories, the GitHub stand-in, moto ----------------------------------------------


class RecordingStandin(GitHubStandin):
    """The GitHub stand-in, also recording each request's Authorization header, so a
    test can see exactly which token reached GitHub."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.auth: list[str | None] = []
        self._auth_lock = threading.Lock()

    def _handle(self, h: BaseHTTPRequestHandler, *, codeload: bool = False) -> None:
        with self._auth_lock:
            self.auth.append(h.headers.get("authorization"))
        super()._handle(h, codeload=codeload)


@pytest.fixture(scope="module")
def gh(repos_root: Path) -> Iterator[RecordingStandin]:
    """This file's repositories under lambdatest/, served by a recording stand-in on
    which lambdatest/secret is private."""
    lib = GitRepo(repos_root / OWNER / "lib")
    lib.write("go/go.mod", "module example.test/llib\n\ngo 1.21\n")
    lib.write("go/lib.go", "package llib\n\nconst V = 1\n")
    lib.write("README.md", "outside the module\n")
    lib.commit("one", date="2024-01-01T00:00:00Z")
    lib.tag("lib-1.0.0")
    lib.write("go/lib.go", "package llib\n\nconst V = 2\n")
    lib.commit("two", date="2024-02-01T00:00:00Z")
    lib.tag("lib-1.1.0")
    plus = GitRepo(repos_root / OWNER / "plus")
    plus.write("go.mod", "module example.test/lplus\n")
    plus.commit("one", date="2024-01-01T00:00:00Z")
    plus.tag("go+1.0.0")
    odd = GitRepo(repos_root / OWNER / "odd")
    odd.write("we;ird&dir=+%/go.mod", "module example.test/lodd\n")
    odd.write("we;ird&dir=+%/odd.go", "package lodd\n")
    odd.commit("odd", date="2024-01-01T00:00:00Z")
    odd.tag("p=1&q+1.0.0;s")
    secret = GitRepo(repos_root / OWNER / "secret")
    secret.write("go.mod", "module example.test/lsecret\n")
    secret.commit("one", date="2024-01-01T00:00:00Z")
    secret.tag("v1.0.0")
    server = RecordingStandin(repos_root, private={f"{OWNER}/secret"})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def lam(gh: RecordingStandin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The handler module, cold, with an environment pointing at the stand-in."""
    for var in (
        "GITHUB_TOKEN",
        "GOSUB_CONFIG",
        "GOSUB_OWNERS",
        aws.TOKEN_PARAM_ENV,
        aws.TOKEN_SECRET_ENV,
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GITHUB_API_URL", gh.api_url)
    monkeypatch.setenv("GOSUB_CACHE_DIR", str(tmp_path / "cache"))
    aws.reset()
    yield aws
    aws.reset()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto server (SSM, Secrets Manager) on loopback."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def on_aws(moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 pointed at moto with dummy credentials (and no user config)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    return moto_url


@pytest.fixture
def private_ok(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment allowed to serve private repositories (the token's own)."""
    config = tmp_path / "gosub.toml"
    config.write_text("[server]\nallow_private = true\n")
    monkeypatch.setenv("GOSUB_CONFIG", str(config))


SECRET_LIST = f"/github.com/{OWNER}/secret;/example.test/lsecret/@v/list"

# -- cold start ---------------------------------------------------------------------------


def test_import_does_not_load_boto3() -> None:
    """Cold-start budget: boto3/botocore load only when a token parameter is set."""
    code = (
        "import sys, handlers.aws_lambda; "
        "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOSUB_GITHUB", "PYTHON"))}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_cache_dir_defaults_to_tmp() -> None:
    assert aws.lambda_env({})["GOSUB_CACHE_DIR"] == "/tmp/gosub-cache"
    assert aws.lambda_env({"GOSUB_CACHE_DIR": ""})["GOSUB_CACHE_DIR"] == ""  # disabled
    assert load_settings(aws.lambda_env({})).cache_dir == "/tmp/gosub-cache"


def test_lambda_limits_fit_the_function() -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 120_000

    settings = load_settings(aws.lambda_env({}, Context()))
    assert settings.request_timeout == 115  # gosub's 504 comes before Lambda's kill
    assert settings.zip_cache_bytes == 256 << 20  # room left in /tmp's 512 MB
    given = aws.lambda_env({"GOSUB_REQUEST_TIMEOUT": "20"}, Context())
    assert load_settings(given).request_timeout == 20


def test_app_is_built_once_and_reused_while_warm(lam: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = lam.github_token

    def counting(env: Any) -> str | None:
        calls.append(1)
        return real(env)  # type: ignore[no-any-return]

    monkeypatch.setattr(lam, "github_token", counting)
    assert lam.handler(event_v2(LIB_BASE + "list"), None)["statusCode"] == 200
    warm = lam._warm
    assert lam.handler(event_v2(LIB_BASE + "v1.0.0.info"), None)["statusCode"] == 200
    assert lam._warm is warm and calls == [1]


# -- Function URL / HTTP API payload 2.0 ----------------------------------------------------


def test_text_responses(lam: Any) -> None:
    listed = lam.handler(event_v2(LIB_BASE + "list"), None)
    assert listed["statusCode"] == 200 and listed["isBase64Encoded"] is False
    assert listed["body"] == "v1.0.0\nv1.1.0\n"
    assert listed["headers"]["content-type"].startswith("text/plain")
    info = lam.handler(event_v2(LIB_BASE + "v1.1.0.info"), None)
    assert info["statusCode"] == 200 and info["isBase64Encoded"] is False
    assert info["headers"]["content-type"].startswith("application/json")
    assert json.loads(info["body"])["Version"] == "v1.1.0"
    mod = lam.handler(event_v2(LIB_BASE + "v1.1.0.mod"), None)
    assert body_of(mod) == b"module example.test/llib\n\ngo 1.21\n"


def test_zip_is_base64_and_equals_the_asgi_zip(lam: Any) -> None:
    resp = lam.handler(event_v2(LIB_BASE + "v1.0.0.zip"), None)
    assert resp["statusCode"] == 200 and resp["isBase64Encoded"] is True
    assert resp["headers"]["content-type"] == "application/zip"
    data = body_of(resp)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        assert sorted(names) == [
            "example.test/llib@v1.0.0/go.mod",
            "example.test/llib@v1.0.0/lib.go",
        ]
        assert z.read("example.test/llib@v1.0.0/lib.go") == b"package llib\n\nconst V = 1\n"
    # The same app served plainly (as `gosub serve` does) sends the same bytes.
    env = aws.lambda_env(os.environ)
    plain = asgi_get(build_app(load_settings(env), env), LIB_BASE + "v1.0.0.zip")
    assert plain.status_code == 200 and plain.content == data


def test_head_zip_has_no_body_and_the_right_length(lam: Any) -> None:
    size = len(body_of(lam.handler(event_v2(LIB_BASE + "v1.1.0.zip"), None)))
    head = lam.handler(event_v2(LIB_BASE + "v1.1.0.zip", method="HEAD"), None)
    assert head["statusCode"] == 200 and head["body"] == ""
    assert head["headers"]["content-length"] == str(size)
    assert head["headers"]["content-type"] == "application/zip"


def test_raw_path_keeps_plus_percent_and_semicolon(lam: Any) -> None:
    """2.0 events carry rawPath: values holding ; & = + % : round-trip."""
    config = GoproxyConfig(
        url=f"https://github.com/{OWNER}/odd",
        directory="we;ird&dir=+%",
        tag_prefix="p=1&q+",
        tag_suffix=";s",
    )
    encoded = gosub_encode(config)
    assert "%2B" in encoded and "%25" in encoded and "%3B" in encoded
    base = f"/{encoded}/example.test/lodd/@v/"
    assert lam.handler(event_v2(base + "list"), None)["body"] == "v1.0.0\n"
    info = lam.handler(event_v2(base + "v1.0.0.info"), None)
    assert json.loads(info["body"])["Version"] == "v1.0.0"
    with zipfile.ZipFile(
        io.BytesIO(body_of(lam.handler(event_v2(base + "v1.0.0.zip"), None)))
    ) as z:
        assert sorted(z.namelist()) == [
            "example.test/lodd@v1.0.0/go.mod",
            "example.test/lodd@v1.0.0/odd.go",
        ]


def test_not_found_is_readable_text(lam: Any) -> None:
    for path in (LIB_BASE + "v9.9.9.info", "/nonsense/x/@v/list"):
        resp = lam.handler(event_v2(path), None)
        assert resp["statusCode"] == 404 and resp["isBase64Encoded"] is False
        assert resp["headers"]["content-type"].startswith("text/plain")
        assert resp["body"].startswith("not found: ")
    resp = lam.handler(event_v2("/nonsense/x/@v/list"), None)
    assert "github.com/OWNER/REPO" in resp["body"]


# -- HTTP API 1.0, REST API, ALB: the path arrives decoded ---------------------------------


def event_alb_multi(path: str, method: str = "GET") -> dict[str, Any]:
    """ALB with the multi-value headers attribute on."""
    return event_alb(path, method, multi=True)


EventMaker = Callable[..., dict[str, Any]]
SOURCES: dict[str, EventMaker] = {
    "http-api-1.0": event_v1_http,
    "rest": event_rest,
    "alb": event_alb,
    "alb-multi": event_alb_multi,
}


@pytest.mark.parametrize("source", SOURCES)
def test_plain_config_over_decoded_path_sources(lam: Any, source: str) -> None:
    make = SOURCES[source]
    listed = lam.handler(make(LIB_BASE + "list"), None)
    assert listed["statusCode"] == 200 and listed["isBase64Encoded"] is False
    assert listed["body"] == "v1.0.0\nv1.1.0\n"
    assert headers_of(listed)["content-type"].startswith("text/plain")
    info = lam.handler(make(LIB_BASE + "v1.0.0.info"), None)
    assert json.loads(info["body"])["Version"] == "v1.0.0"
    z = lam.handler(make(LIB_BASE + "v1.0.0.zip"), None)
    assert z["statusCode"] == 200 and z["isBase64Encoded"] is True
    assert headers_of(z)["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(body_of(z))) as archive:
        assert all(n.startswith("example.test/llib@v1.0.0/") for n in archive.namelist())
    head = lam.handler(make(LIB_BASE + "v1.0.0.zip", "HEAD"), None)
    assert head["body"] == "" and headers_of(head)["content-length"] == str(len(body_of(z)))
    missing = lam.handler(make(LIB_BASE + "v9.9.9.info"), None)
    assert missing["statusCode"] == 404 and body_of(missing).startswith(b"not found: ")
    # Each source gets its own response shape.
    if source == "alb-multi":
        assert "headers" not in z and "multiValueHeaders" in z
    elif source == "alb":
        assert "headers" in z and "multiValueHeaders" not in z
    else:
        assert "headers" in z and "multiValueHeaders" in z


@pytest.mark.parametrize("source", ["v2", "rest", "alb"])
def test_plus_in_a_tag_prefix(lam: Any, source: str) -> None:
    """p=go%2B (tag prefix "go+"). 2.0 events keep rawPath, so it works; REST and ALB
    give only the decoded path, where "+" then reads as a form-encoded space: a clear
    400 naming the field, never a 500 or another repository's tags."""
    encoded = gosub_encode(GoproxyConfig(url=f"https://github.com/{OWNER}/plus", tag_prefix="go+"))
    assert encoded.endswith(":p=go%2B;")
    path = f"/{encoded}/example.test/lplus/@v/list"
    makers: dict[str, EventMaker] = {"v2": event_v2, "rest": event_rest, "alb": event_alb}
    make = makers[source]
    resp = lam.handler(make(path), None)
    if source == "v2":
        assert resp["statusCode"] == 200 and resp["body"] == "v1.0.0\n"
        return
    assert resp["statusCode"] == 400 and resp["isBase64Encoded"] is False
    assert headers_of(resp)["content-type"].startswith("text/plain")
    assert "bad gosub config" in resp["body"] and "tag_prefix 'go '" in resp["body"]


# -- the GitHub token ---------------------------------------------------------------------


def test_without_a_token_the_private_repository_is_hidden(
    lam: Any, gh: RecordingStandin, private_ok: None
) -> None:
    gh.auth.clear()
    resp = lam.handler(event_v2(SECRET_LIST), None)
    assert resp["statusCode"] == 404
    assert gh.auth and not any(gh.auth)


def test_token_from_ssm(
    lam: Any,
    gh: RecordingStandin,
    on_aws: str,
    private_ok: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = "/gosub/test/github-token"
    boto3.client("ssm").put_parameter(Name=name, Value=TOKEN, Type="SecureString", Overwrite=True)
    monkeypatch.setenv(aws.TOKEN_PARAM_ENV, name)
    gh.auth.clear()
    caplog.set_level(logging.DEBUG)
    resp = lam.handler(event_v2(SECRET_LIST), None)
    assert resp["statusCode"] == 200 and resp["body"] == "v1.0.0\n"
    assert gh.auth and set(gh.auth) == {f"Bearer {TOKEN}"}
    assert "GITHUB_TOKEN" not in os.environ
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    "secret",
    [TOKEN, f"{TOKEN}\n", json.dumps({"GITHUB_TOKEN": TOKEN}), json.dumps({"token": TOKEN})],
    ids=["plain", "newline", "GITHUB_TOKEN", "token"],
)
def test_token_from_secrets_manager(
    lam: Any,
    gh: RecordingStandin,
    on_aws: str,
    private_ok: None,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    secret: str,
) -> None:
    name = f"gosub/test/{request.node.callspec.id}"
    sm = boto3.client("secretsmanager")
    try:
        sm.create_secret(Name=name, SecretString=secret)
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=name, SecretString=secret)
    monkeypatch.setenv(aws.TOKEN_SECRET_ENV, name)
    gh.auth.clear()
    resp = lam.handler(event_v2(SECRET_LIST), None)
    assert resp["statusCode"] == 200 and resp["body"] == "v1.0.0\n"
    assert gh.auth and set(gh.auth) == {f"Bearer {TOKEN}"}


def assert_unavailable(resp: dict[str, Any], *needles: str) -> None:
    assert resp["statusCode"] == 503 and resp["isBase64Encoded"] is False
    h = headers_of(resp)
    assert h["content-type"].startswith("text/plain")
    assert h["cache-control"] == "no-store" and int(h["retry-after"]) > 0
    for needle in needles:
        assert needle in resp["body"], resp["body"]
    assert TOKEN not in resp["body"]


def test_missing_parameter_is_a_503_then_retried(
    lam: Any,
    on_aws: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = "/gosub/test/not-yet"
    ssm = boto3.client("ssm")
    ssm.delete_parameters(Names=[name])
    monkeypatch.setenv(aws.TOKEN_PARAM_ENV, name)
    caplog.set_level(logging.WARNING, logger="gosub.lambda")
    makers: list[EventMaker] = [event_v2, event_rest, event_alb_multi]
    for make in makers:
        assert_unavailable(lam.handler(make(LIB_BASE + "list"), None), name, "ParameterNotFound")
    head = lam.handler(event_v2(LIB_BASE + "list", method="HEAD"), None)
    assert head["statusCode"] == 503 and head["body"] == ""
    assert name in caplog.text and lam._warm is None
    # The next invocation looks again.
    ssm.put_parameter(Name=name, Value=TOKEN, Type="SecureString")
    try:
        resp = lam.handler(event_v2(LIB_BASE + "list"), None)
        assert resp["statusCode"] == 200 and resp["body"] == "v1.0.0\nv1.1.0\n"
    finally:
        ssm.delete_parameters(Names=[name])
    assert TOKEN not in caplog.text


def test_secret_without_a_token_is_a_503(
    lam: Any, on_aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "gosub/test/wrong-shape"
    sm = boto3.client("secretsmanager")
    with contextlib.suppress(sm.exceptions.ResourceExistsException):
        sm.create_secret(Name=name, SecretString=json.dumps({"password": TOKEN}))
    monkeypatch.setenv(aws.TOKEN_SECRET_ENV, name)
    resp = lam.handler(event_v2(LIB_BASE + "list"), None)
    assert_unavailable(resp, f"Secrets Manager secret {name}", "GITHUB_TOKEN or token")


def test_unreachable_ssm_is_a_503(lam: Any, on_aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A port nothing listens on: connection refused, at once.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv(aws.TOKEN_PARAM_ENV, "/gosub/test/github-token")
    resp = lam.handler(event_v2(LIB_BASE + "list"), None)
    assert_unavailable(resp, "/gosub/test/github-token", "EndpointConnectionError")


# -- through a Function URL, with the real go command --------------------------------------


@pytest.fixture
def function_url(lam: Any) -> Iterator[FunctionUrlEmulator]:
    """The handler behind a Function URL emulator (cold: built on its worker thread)."""
    emulator = FunctionUrlEmulator(lam.handler)
    emulator.start()
    yield emulator
    emulator.stop()


def test_emulator_event_shape_and_response_translation() -> None:
    seen: list[dict[str, Any]] = []
    responses = iter(
        [
            {
                "statusCode": 201,
                "headers": {"content-type": "application/octet-stream"},
                "multiValueHeaders": {"x-multi": ["a", "b"]},
                "cookies": ["c1=1; Path=/", "c2=2"],
                "body": base64.b64encode(b"\x00\xffbinary").decode(),
                "isBase64Encoded": True,
            },
            {"statusCode": 307, "headers": {"location": "http://127.0.0.1:1/b?X-Sig=a%2Fb"}},
            {"any": "json"},
        ]
    )

    def fake(event: dict[str, Any], context: Any) -> Any:
        seen.append(event)
        assert context.get_remaining_time_in_millis() > 0
        return next(responses)

    emulator = FunctionUrlEmulator(fake)
    url = emulator.start()
    try:
        with httpx.Client(base_url=url) as client:
            r = client.post(
                "/a%2Bb/c%3Bd+e?x=1&x=2&y=%2F",
                content=b"\x00\x01",
                headers={"Content-Type": "application/octet-stream", "Cookie": "k=v; k2=v2"},
            )
            assert r.status_code == 201 and r.content == b"\x00\xffbinary"
            assert r.headers.get_list("x-multi") == ["a", "b"]
            assert r.headers.get_list("set-cookie") == ["c1=1; Path=/", "c2=2"]
        # Module-level calls: no cookie jar carrying c1 and c2 along.
        r = httpx.get(url + "/redirect")
        assert r.status_code == 307
        assert r.headers["location"] == "http://127.0.0.1:1/b?X-Sig=a%2Fb"
        r = httpx.get(url + "/inferred")
        assert r.status_code == 200 and r.json() == {"any": "json"}
    finally:
        emulator.stop()
    e = seen[0]
    assert e["version"] == "2.0" and e["routeKey"] == "$default"
    assert e["rawPath"] == "/a%2Bb/c%3Bd+e"
    assert e["requestContext"]["http"]["path"] == "/a+b/c;d+e"
    assert e["requestContext"]["http"]["method"] == "POST"
    assert e["rawQueryString"] == "x=1&x=2&y=%2F"
    assert e["queryStringParameters"] == {"x": "1,2", "y": "/"}
    assert e["cookies"] == ["k=v", "k2=v2"] and "cookie" not in e["headers"]
    assert all(k == k.lower() for k in e["headers"])
    assert e["isBase64Encoded"] is True and base64.b64decode(e["body"]) == b"\x00\x01"
    assert "cookies" not in seen[1] and "body" not in seen[1]
    assert "queryStringParameters" not in seen[1]


def test_go_through_the_function_url(
    function_url: FunctionUrlEmulator,
    standin: GitHubStandin,
    gosub_server: tuple[str, Shared],
    tmp_path: Path,
    gocache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """go list -m -versions and go mod download through the Function URL, with a gosub
    URL config; the h1: sums equal gosub's served by uvicorn."""
    monkeypatch.setenv("GITHUB_API_URL", standin.api_url)  # read at the cold start
    mono = SCENARIOS["mono"]
    encoded = gosub_encode(mono.config())
    assert "%2F" in encoded
    proxy = f"{function_url.url}/{encoded}/"
    go = GoRunner(tmp_path / "g1", gocache=gocache)
    assert go.list_versions(mono.module, goproxy=proxy) == [
        "v1.0.0",
        "v1.1.0",
        "v1.2.0-rc.1",
        "v1.2.0",
    ]
    via_lambda = go.mod_download(mono.module, "v1.1.0", goproxy=proxy)
    assert not via_lambda.get("Error"), via_lambda
    via_uvicorn = GoRunner(tmp_path / "g2", gocache=gocache).mod_download(
        mono.module, "v1.1.0", goproxy=f"{gosub_server[0]}/mono/"
    )
    assert via_lambda["Sum"] == via_uvicorn["Sum"]
    assert via_lambda["GoModSum"] == via_uvicorn["GoModSum"]
    # What the function saw: the path as sent, and AWS's decoded copy.
    zip_events = [e for e in function_url.events if e["rawPath"].endswith(".zip")]
    assert zip_events and f"/{encoded}/" in zip_events[0]["rawPath"]
    assert zip_events[0]["requestContext"]["http"]["path"] == unquote(zip_events[0]["rawPath"])


def test_a_bad_setting_is_a_readable_500_not_a_traceback(
    lam: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOSUB_PORT", "eighty")
    resp = lam.handler(event_v2(LIB_BASE + "list"), None)
    assert resp["statusCode"] == 500
    assert "misconfigured" in resp["body"] and "port must be a number" in resp["body"]
    assert resp["headers"]["cache-control"] == "no-store"
    monkeypatch.delenv("GOSUB_PORT")
    assert lam.handler(event_v2(LIB_BASE + "list"), None)["statusCode"] == 200
