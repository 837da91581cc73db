"""AWS Lambda entry point: ``handler`` (mangum over the same app ``gosub serve`` runs).

The app is built lazily on the first invocation and reused while the function is warm.
HTTP API v2 and Function URL events carry the undecoded path in ``rawPath``; mangum only
passes the decoded one, which loses the difference between ``+`` and ``%2B`` (and ``;``,
``&``) inside gosub URL configs, so a small handler subclass hands ``rawPath`` over as
``raw_path``. On Lambda the disk cache defaults to /tmp (the only writable place).
"""

from __future__ import annotations

import os
from typing import Any, cast

from mangum import Mangum
from mangum.handlers.api_gateway import HTTPGateway
from mangum.types import ASGI, Scope

from gosub.settings import build_app, load_settings


class RawPathHTTPGateway(HTTPGateway):
    """mangum's HTTP API handler, plus ``raw_path`` from a 2.0 event's ``rawPath``."""

    @property
    def scope(self) -> Scope:
        scope = super().scope
        raw = self.event.get("rawPath")
        if self.event.get("version") == "2.0" and isinstance(raw, str) and raw.startswith("/"):
            scope["raw_path"] = raw.encode("utf-8")
        return scope


_mangum: Mangum | None = None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda function."""
    global _mangum
    if _mangum is None:
        env = dict(os.environ)
        if "GOSUB_CACHE_DIR" not in env:
            env["GOSUB_CACHE_DIR"] = "/tmp/gosub-cache"
        _mangum = Mangum(
            cast(ASGI, build_app(load_settings(env), env)),
            lifespan="off",
            custom_handlers=[RawPathHTTPGateway],
        )
    return _mangum(event, context)
