"""The Lambda handler with a real-shaped Function URL (payload 2.0) event."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from gosub import GoproxyConfig, gosub_encode
from tests.support.ghapi import GitHubStandin
from tests.support.git import GitRepo


def _event(raw_path: str) -> dict[str, Any]:
    """A Function URL event as AWS documents it (payload format 2.0)."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": {"host": "abc.lambda-url.eu-west-1.on.aws", "user-agent": "Go-http-client/1.1"},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abc",
            "domainName": "abc.lambda-url.eu-west-1.on.aws",
            "http": {
                "method": "GET",
                "path": unquote(raw_path),  # AWS decodes it here
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "Go-http-client/1.1",
            },
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1795424400000,
        },
        "isBase64Encoded": False,
    }


def test_function_url_event_uses_the_raw_path(
    standin: GitHubStandin, repos_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitRepo(repos_root / "acme" / "plus")
    repo.write("go.mod", "module example.test/plus\n")
    repo.commit("one", date="2024-01-01T00:00:00Z")
    repo.tag("go+1.0.0")
    monkeypatch.setenv("GITHUB_API_URL", standin.api_url)
    monkeypatch.setenv("GOSUB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GOSUB_CONFIG", raising=False)
    import handlers.aws_lambda as aws

    aws = importlib.reload(aws)
    encoded = gosub_encode(GoproxyConfig(url="https://github.com/acme/plus", tag_prefix="go+"))
    assert "go%2B" in encoded  # decoded once, '+' would read as a space
    base = f"/{encoded}/example.test/plus/@v/"
    listed = aws.handler(_event(base + "list"), None)
    assert listed["statusCode"] == 200 and listed["body"] == "v1.0.0\n"
    info = aws.handler(_event(base + "v1.0.0.info"), None)
    assert json.loads(info["body"])["Version"] == "v1.0.0"
    z = aws.handler(_event(base + "v1.0.0.zip"), None)
    assert z["statusCode"] == 200 and z["isBase64Encoded"] is True
    assert z["headers"]["content-type"] == "application/zip"
