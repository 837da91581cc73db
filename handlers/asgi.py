"""ASGI entry point for any ASGI server: ``uvicorn handlers.asgi:app``.

Configured like ``gosub serve``: the TOML file named by ``GOSUB_CONFIG`` (see
:mod:`gosub.settings`), ``GITHUB_TOKEN`` and ``GITHUB_API_URL``; with no file, the shared
URL-configured proxy at ``/``.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from gosub.errors import ConfigError
from gosub.settings import build_app, load_settings


def create_app() -> ASGIApp:
    """Build the app from the environment, failing with one readable line."""
    try:
        return build_app(load_settings())
    except ConfigError as exc:
        raise SystemExit(f"gosub: {exc}") from None


app = create_app()
