"""AWS Lambda entry point: ``handler`` (mangum over the same app ``gosub serve`` runs).

The app is built lazily on the first invocation and reused while the function is warm
(mangum runs with ``lifespan="off"``: its lifespan would start and stop the app around
every invocation). HTTP API v2 and Function URL events carry the undecoded path in
``rawPath``; mangum only passes the decoded one, which loses the difference between ``+``
and ``%2B`` (and ``;``, ``&``) inside gosub URL configs, so a small handler subclass hands
``rawPath`` over as ``raw_path``. For REST API (v1), HTTP API payload 1.0 and ALB events
mangum passes one ``path`` and no raw path: there gosub URL configs whose values hold
``+``, ``%``, ``;`` or ``&`` can be misread (a ``+`` in a tag prefix is a clear 400), so
front gosub with a Function URL (or an HTTP API with payload 2.0).

Environment, besides what ``gosub serve`` reads (see :mod:`gosub.settings`):

- ``GOSUB_GITHUB_TOKEN_PARAM``: the name of an SSM parameter (SecureString) holding the
  GitHub token, read with ``GetParameter(WithDecryption=True)``;
- ``GOSUB_GITHUB_TOKEN_SECRET``: else a Secrets Manager secret: a plain token or JSON
  ``{"GITHUB_TOKEN": ...}`` / ``{"token": ...}``; either takes precedence over a
  ``GITHUB_TOKEN`` in the environment;
- ``GOSUB_CACHE_DIR`` defaults to ``/tmp/gosub-cache`` (the only writable place),
  ``GOSUB_ZIP_CACHE_BYTES`` to 256 MiB and ``GOSUB_REQUEST_TIMEOUT`` to 5 s less than
  the time the first invocation has left (see :func:`lambda_env`).

The token is read once per cold start, kept with the app and never logged; it never
enters ``os.environ``. When the lookup fails, that invocation is answered with a 503
(``Retry-After``, ``Cache-Control: no-store``) naming the parameter and the reason, and
the next invocation tries again. boto3 is imported only when one of the two variables is
set: importing it costs more than the rest of gosub.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast

from mangum import Mangum
from mangum.handlers.api_gateway import HTTPGateway
from mangum.types import ASGI, Receive, Scope, Send

from gosub.errors import ConfigError
from gosub.settings import build_app, load_settings
from gosub.web.watch import Watcher

log = logging.getLogger("gosub.lambda")

LAMBDA_CACHE_DIR = "/tmp/gosub-cache"
LAMBDA_ZIP_CACHE_BYTES = 256 << 20
TOKEN_PARAM_ENV = "GOSUB_GITHUB_TOKEN_PARAM"
TOKEN_SECRET_ENV = "GOSUB_GITHUB_TOKEN_SECRET"
RETRY_AFTER_SECONDS = 10
_SECRET_KEYS = ("GITHUB_TOKEN", "token")


class RawPathHTTPGateway(HTTPGateway):
    """mangum's HTTP API handler, plus ``raw_path`` from a 2.0 event's ``rawPath``."""

    @property
    def scope(self) -> Scope:
        scope = super().scope
        raw = self.event.get("rawPath")
        if self.event.get("version") == "2.0" and isinstance(raw, str) and raw.startswith("/"):
            scope["raw_path"] = raw.encode("utf-8")
        return scope


class TokenUnavailable(Exception):
    """The GitHub token could not be read. ``source`` names where it was looked for;
    ``reason`` is short and safe to show to clients (an error code, never the token);
    ``detail`` is the full story, for the log."""

    def __init__(self, source: str, reason: str, detail: str = "") -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
        self.detail = detail or reason


def lambda_env(environ: Mapping[str, str], context: Any = None) -> dict[str, str]:
    """A copy of ``environ`` with Lambda's defaults: the disk cache in /tmp, a zip spool
    that leaves room in /tmp's default 512 MB, and a request time limit inside the
    function's own timeout (so a slow build ends in gosub's 504 with a reason rather
    than in Lambda killing the invocation)."""
    env = dict(environ)
    env.setdefault("GOSUB_CACHE_DIR", LAMBDA_CACHE_DIR)
    env.setdefault("GOSUB_ZIP_CACHE_BYTES", str(LAMBDA_ZIP_CACHE_BYTES))
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if "GOSUB_REQUEST_TIMEOUT" not in env and callable(remaining):
        # On the first invocation the remaining time is about the function's timeout.
        env["GOSUB_REQUEST_TIMEOUT"] = str(max(1.0, remaining() / 1000 - 5))
    return env


def _token_from_secret(source: str, text: str | None) -> str:
    if text is None:
        raise TokenUnavailable(source, "the secret has no SecretString")
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            raise TokenUnavailable(source, "the secret is not valid JSON") from None
        for key in _SECRET_KEYS:
            value = data.get(key) if isinstance(data, dict) else None
            if isinstance(value, str) and value.strip():
                return value.strip()
        raise TokenUnavailable(
            source, f"the secret's JSON has no {' or '.join(_SECRET_KEYS)} string"
        )
    if not stripped:
        raise TokenUnavailable(source, "the secret is empty")
    return stripped


@contextmanager
def _botocore_quiet() -> Iterator[None]:
    """botocore logs response bodies at DEBUG, and this response body is the token:
    keep its loggers at INFO or above for the lookup."""
    logger = logging.getLogger("botocore")
    level = logger.level
    if logger.getEffectiveLevel() < logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(level)


def github_token(env: Mapping[str, str]) -> str | None:
    """The GitHub token from SSM (``GOSUB_GITHUB_TOKEN_PARAM``) or Secrets Manager
    (``GOSUB_GITHUB_TOKEN_SECRET``); ``None`` when neither is set. Raises
    :class:`TokenUnavailable` when the lookup fails."""
    param = env.get(TOKEN_PARAM_ENV, "")
    secret = env.get(TOKEN_SECRET_ENV, "")
    if not param and not secret:
        return None
    source = f"SSM parameter {param}" if param else f"Secrets Manager secret {secret}"
    # Imported here: boto3 and botocore take longer to import than the rest of gosub,
    # and deployments that pass GITHUB_TOKEN directly never need them.
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    # Fail fast: a hung lookup would hold the invocation until the function's timeout.
    config = Config(
        connect_timeout=3, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}
    )
    try:
        with _botocore_quiet():
            if param:
                ssm = boto3.client("ssm", config=config)
                got = ssm.get_parameter(Name=param, WithDecryption=True)
                value: str = got["Parameter"]["Value"]
                if not value.strip():
                    raise TokenUnavailable(source, "the parameter is empty")
                return value.strip()
            sm = boto3.client("secretsmanager", config=config)
            text = sm.get_secret_value(SecretId=secret).get("SecretString")
            return _token_from_secret(source, text)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code") or "ClientError"
        raise TokenUnavailable(source, code, f"{code}: {error.get('Message', '')}") from None
    except BotoCoreError as exc:
        # Network, credentials and region problems; the message holds no secret.
        raise TokenUnavailable(source, type(exc).__name__, str(exc)) from None


def _unavailable(exc: TokenUnavailable) -> ASGI:
    """A one-response ASGI app: 503, naming the token's source and the reason."""
    return _one_response(
        503,
        f"service unavailable: gosub could not read its GitHub token from the {exc.source} "
        f"({exc.reason}); retrying on the next request\n",
    )


def _misconfigured(exc: ConfigError) -> ASGI:
    """A one-response ASGI app: 500, saying which setting is wrong (no traceback)."""
    return _one_response(
        500,
        f"gosub is misconfigured: {exc}; fix the function's environment (GOSUB_* variables)\n",
    )


def _one_response(status: int, text: str) -> ASGI:
    body = text.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"cache-control", b"no-store"),
        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
        (b"content-length", str(len(body)).encode()),
    ]

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )

    return app


def _mangum(app: ASGI) -> Mangum:
    return Mangum(app, lifespan="off", custom_handlers=[RawPathHTTPGateway])


_warm: Mangum | None = None


def reset() -> None:
    """Forget the warm app: the next invocation reads the token and builds it again
    (a cold start; for tests)."""
    global _warm
    _warm = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda function: any mangum event source (Function URL, HTTP API 1.0/2.0,
    REST API, ALB) in, the matching response shape out."""
    global _warm
    if _warm is None:
        env = lambda_env(os.environ, context)
        try:
            token = github_token(env)
        except TokenUnavailable as exc:
            log.warning("cannot read the GitHub token from the %s: %s", exc.source, exc.detail)
            # mangum still shapes the answer, so every event source gets its own format.
            return _mangum(_unavailable(exc))(event, context)
        if token is not None:
            env["GITHUB_TOKEN"] = token
        try:
            app = build_app(load_settings(env), env)
        except ConfigError as exc:
            log.error("gosub is misconfigured: %s", exc)
            return _mangum(_misconfigured(exc))(event, context)
        _warm = _mangum(cast(ASGI, app))
    return _warm(event, context)


_watch: tuple[asyncio.AbstractEventLoop, Watcher | None] | None = None


def _find_watcher(app: Any) -> Any:
    """The watch inside build_app's layers (OpsApp, then the watch, ...), or None."""
    for _ in range(8):
        if hasattr(app, "watcher"):
            return app.watcher
        app = getattr(app, "app", None)
    return None


def watch_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The scheduled watch pass (serverless.yml's ``watch`` function, on an EventBridge
    schedule): re-list the watched modules (``[[module]]`` entries and the shared configs
    served lately, which the store remembers) so that new tags reach ``/index``. Returns
    how many versions were new to this instance; a token or config failure raises, so
    the invocation shows as failed."""
    global _watch
    if _watch is None:
        env = lambda_env(os.environ, context)
        token = github_token(env)
        if token is not None:
            env["GITHUB_TOKEN"] = token
        app = build_app(load_settings(env), env)
        # One loop for the instance's life: the code-host clients stay bound to it.
        _watch = (asyncio.new_event_loop(), _find_watcher(app))
    loop, watcher = _watch
    if watcher is None:
        log.warning("watch pass: no persistent store (cache_bucket or cache_dir): nothing to do")
        return {"new": 0, "watched": 0}
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    budget = max(1.0, remaining() / 1000 - 5) if callable(remaining) else None
    watched = len(loop.run_until_complete(watcher.watched()))
    new = loop.run_until_complete(asyncio.wait_for(watcher.run_once(), budget))
    log.info("watch pass: %d module(s), %d new version(s)", watched, new)
    return {"new": new, "watched": watched}


__all__ = [
    "LAMBDA_CACHE_DIR",
    "RawPathHTTPGateway",
    "TokenUnavailable",
    "github_token",
    "handler",
    "lambda_env",
    "reset",
    "watch_handler",
]
