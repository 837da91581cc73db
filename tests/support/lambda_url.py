"""A Lambda Function URL on loopback: a real HTTP server that turns each request into a
payload format 2.0 event the way AWS documents it and invokes a handler.

- ``rawPath`` is the path as sent (percent-encoding kept); ``requestContext.http.path``
  is its percent-decoded form; ``rawQueryString`` is the query as sent.
- Header names are lowercased and repeated headers joined with commas; cookies move from
  the ``cookie`` header to ``cookies``; ``queryStringParameters``, ``cookies`` and
  ``body`` are left out when empty, as AWS does.
- A body is passed as text when its content type is textual and it is UTF-8, else
  base64 with ``isBase64Encoded``.
- The answer is translated back: ``statusCode``, ``headers``, ``multiValueHeaders``,
  ``cookies`` (one ``Set-Cookie`` each) and a base64 body decoded; 3xx ``Location``
  headers pass through unchanged; a return value without ``statusCode`` is a 200 JSON
  body (AWS's inferred format). A handler exception or a response over the 6 MB
  invocation payload limit (measured on the JSON, after base64) is a 502, as on AWS.
- The handler runs on one worker thread, one invocation at a time, like one Lambda
  execution environment; that thread has its own event loop, which mangum keeps
  between invocations.

What it does not do: HTTPS, IAM auth, CORS, response streaming. ``x-forwarded-proto``
says ``http`` and ``host`` is the emulator's own (so absolute URLs an app builds work
here); ``requestContext.domainName`` is the Function URL domain AWS would send.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from tests.support.httpserver import serve_on_loopback, url_of

LambdaHandler = Callable[[dict[str, Any], Any], Any]

# Invocation payloads are limited to 6 MB each way; AWS's error cites 6,291,556 bytes.
MAX_PAYLOAD = 6_291_556
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_TEXT_TYPES_EXACT = ("application/x-www-form-urlencoded",)
# Hop-by-hop and framing headers: the emulator's own HTTP layer owns them.
_SKIP_RESPONSE = {"content-length", "transfer-encoding", "connection", "keep-alive"}


@dataclass
class LambdaContext:
    """The parts of the Lambda context object handlers commonly read."""

    function_name: str = "gosub"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:gosub"
    deadline: float = field(default_factory=lambda: time.monotonic() + 60)

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the invocation's timeout."""
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def _is_text(content_type: str) -> bool:
    ct = content_type.lower()
    return any(t in ct for t in _TEXT_TYPES) or ct.split(";")[0].strip() in _TEXT_TYPES_EXACT


def _new_loop() -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())


class FunctionUrlEmulator:
    """Serve ``handler`` as a Function URL on 127.0.0.1. ``events`` holds every event
    sent (newest last); ``url`` is the base URL once started."""

    def __init__(
        self,
        handler: LambdaHandler,
        *,
        url_id: str = "gosubtesturl0123456789abcdef0123",
        region: str = "eu-west-1",
        timeout: float = 60.0,
        max_payload: int = MAX_PAYLOAD,
    ) -> None:
        self.handler = handler
        self.url_id = url_id
        self.domain = f"{url_id}.lambda-url.{region}.on.aws"
        self.timeout = timeout
        self.max_payload = max_payload
        self.events: list[dict[str, Any]] = []
        self.url = ""
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        # One worker: a Lambda execution environment serves one invocation at a time.
        self._worker = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="lambda", initializer=_new_loop
        )

    def start(self) -> str:
        """Listen on a free loopback port; return the base URL (no trailing slash)."""
        methods = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
        self._server = serve_on_loopback(dict.fromkeys(methods, self._handle))
        self.url = url_of(self._server)
        return self.url

    def stop(self) -> None:
        """Stop serving and let the worker finish."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        self._worker.shutdown(wait=True)

    # -- request -> event ---------------------------------------------------------------

    def event_for(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str = "127.0.0.1",
    ) -> dict[str, Any]:
        """The payload 2.0 event AWS sends for this request (``target`` as on the
        request line: path and query, still encoded)."""
        raw_path, _, raw_query = target.partition("?")
        merged: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in headers:
            key = name.lower()
            if key == "cookie":
                cookies += [c.strip() for c in value.split(";") if c.strip()]
                continue
            merged[key] = f"{merged[key]},{value}" if key in merged else value
        merged.setdefault("x-forwarded-proto", "http")
        merged.setdefault("x-forwarded-for", source_ip)
        merged.setdefault(
            "x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
        )
        now = datetime.now(UTC)
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": raw_path,
            "rawQueryString": raw_query,
            "headers": merged,
            "requestContext": {
                "accountId": "anonymous",
                "apiId": self.url_id,
                "domainName": self.domain,
                "domainPrefix": self.url_id,
                "http": {
                    "method": method,
                    "path": unquote(raw_path),
                    "protocol": "HTTP/1.1",
                    "sourceIp": source_ip,
                    "userAgent": merged.get("user-agent", ""),
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": "$default",
                "stage": "$default",
                "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(now.timestamp() * 1000),
            },
            "isBase64Encoded": False,
        }
        if cookies:
            event["cookies"] = cookies
        if raw_query:
            params: dict[str, str] = {}
            for k, v in parse_qsl(raw_query, keep_blank_values=True):
                params[k] = f"{params[k]},{v}" if k in params else v
            event["queryStringParameters"] = params
        if body:
            if _is_text(merged.get("content-type", "")):
                with contextlib.suppress(UnicodeDecodeError):
                    event["body"] = body.decode("utf-8")
            if "body" not in event:
                event["body"] = base64.b64encode(body).decode("ascii")
                event["isBase64Encoded"] = True
        return event

    # -- invocation ---------------------------------------------------------------------

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run the handler on the worker thread and return what it returned."""
        with self._lock:
            self.events.append(event)
        future = self._worker.submit(self.handler, event, LambdaContext())
        return future.result(timeout=self.timeout)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("content-length") or 0)
        body = h.rfile.read(length) if length else b""
        event = self.event_for(
            h.command, h.path, list(h.headers.items()), body, h.client_address[0]
        )
        if len(json.dumps(event)) > self.max_payload:
            self._send(
                h,
                413,
                [("content-type", "application/json")],
                b'{"message":"Request must be smaller than 6291456 bytes for the '
                b'InvokeFunction operation"}',
            )
            return
        try:
            result = self.invoke(event)
        except Exception as exc:  # the function errored: AWS answers 502
            self._send(
                h,
                502,
                [("content-type", "text/plain")],
                f"Internal Server Error ({type(exc).__name__})".encode(),
            )
            return
        if len(json.dumps(result)) > self.max_payload:
            self._send(
                h,
                502,
                [("content-type", "application/json")],
                b'{"message":"Response payload size exceeded maximum allowed payload size '
                b'(6291556 bytes)."}',
            )
            return
        status, headers, payload = self.translate(result)
        self._send(h, status, headers, payload)

    @staticmethod
    def translate(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
        """A handler's return value as (status, headers, body), the way Function URLs
        read payload format 2.0 responses."""
        if not (isinstance(result, dict) and "statusCode" in result):
            return 200, [("content-type", "application/json")], json.dumps(result).encode()
        headers: list[tuple[str, str]] = []
        for k, v in (result.get("headers") or {}).items():
            headers.append((k, str(v)))
        for k, values in (result.get("multiValueHeaders") or {}).items():
            headers += [(k, str(v)) for v in values]
        headers += [("set-cookie", c) for c in result.get("cookies") or []]
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        return int(result["statusCode"]), headers, payload

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        h.send_response(status)
        declared = None
        for k, v in headers:
            if k.lower() == "content-length":
                declared = v
            if k.lower() not in _SKIP_RESPONSE:
                h.send_header(k, v)
        # HEAD: no body, but the length the GET would have (mangum keeps the app's header).
        if h.command == "HEAD":
            h.send_header("Content-Length", declared if declared is not None else str(len(body)))
            h.end_headers()
            return
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


__all__ = ["MAX_PAYLOAD", "FunctionUrlEmulator", "LambdaContext"]
